import Foundation
import HubCore
import Hummingbird
import Logging
import ServiceLifecycle

/// Runs `hubctl run`: the runner's loop (or one cycle) and the HTTP listener as services of one
/// group, stopped gracefully by SIGTERM or SIGINT: the cycle in progress stops after its current
/// page, the run lock is released, and the process exits 0.
public enum RunSession {
    /// Where the listener binds; nil: no listener.
    public struct Listen: Sendable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// Runs until stopped (or, with `once`, one cycle). Returns the cycle's outcome with `once`
    /// (nil when nothing was due), else nil.
    /// - Parameter background: tasks that run beside the loop (change listeners), cancelled
    ///   when the run stops; not started with `once`.
    public static func run(
        runner: ContinuousRunner, once: Bool, listen: Listen?, webhooks: WebhookReceiver?, logger: Logger,
        background: [@Sendable () async -> Void] = [],
        installRoutes: @escaping @Sendable (Router<BasicRequestContext>) -> Void = { _ in }
    ) async throws -> CycleOutcome? {
        let outcome = Locked<CycleOutcome?>(nil)
        let loop = LoopService(runner: runner, once: once, outcome: outcome)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let listen {
            let app = RunServer.make(
                host: listen.host, port: listen.port, metrics: runner.metrics, webhooks: webhooks, logger: logger,
                installRoutes: installRoutes,
                onListening: { port in
                    logger.info("listening on http://\(listen.host):\(port)",
                                metadata: ["event": "http.listening", "host": .string(listen.host), "port": .stringConvertible(port)])
                })
            services.append(.init(service: app))
        }
        if !once {
            services += background.map { .init(service: BackgroundService(body: $0)) }
        }
        // The loop last: a graceful shutdown stops services in reverse order, so the loop
        // finishes its page before the listener closes; when the loop ends, the group ends.
        services.append(.init(service: loop, successTerminationBehavior: .gracefullyShutdownGroup,
                              failureTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        return outcome.withLock { $0 }
    }
}

extension RunSession {
    /// Runs a worker (`hubctl run --worker`) until SIGTERM or SIGINT, which stop its unit after
    /// the current page, release its units and return; with `listen`, beside a listener serving
    /// `/metrics` and `/hooks/{system}`.
    public static func runWorker(_ worker: WorkerLoop, listen: Listen?, webhooks: WebhookReceiver?, metrics: RunMetrics,
                                 logger: Logger) async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let listen {
            let app = RunServer.make(
                host: listen.host, port: listen.port, metrics: metrics, webhooks: webhooks, logger: logger,
                onListening: { port in
                    logger.info("listening on http://\(listen.host):\(port)",
                                metadata: ["event": "http.listening", "host": .string(listen.host), "port": .stringConvertible(port)])
                })
            services.append(.init(service: app))
        }
        services.append(.init(service: WorkerService(worker: worker), successTerminationBehavior: .gracefullyShutdownGroup,
                              failureTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// A worker's loop as a service.
struct WorkerService: Service {
    let worker: WorkerLoop

    func run() async throws {
        let worker = self.worker
        try await withGracefulShutdownHandler {
            try await worker.run()
        } onGracefulShutdown: {
            worker.requestStop()
        }
    }
}

/// The runner's loop as a service.
struct LoopService: Service {
    let runner: ContinuousRunner
    let once: Bool
    let outcome: Locked<CycleOutcome?>

    func run() async throws {
        let runner = self.runner
        await withGracefulShutdownHandler {
            if once {
                let result = await runner.runOnce()
                outcome.withLock { $0 = result }
            } else {
                await runner.run()
            }
        } onGracefulShutdown: {
            runner.requestStop()
        }
    }
}

/// A task beside the loop (a change listener), cancelled when the run shuts down.
struct BackgroundService: Service {
    let body: @Sendable () async -> Void

    func run() async throws {
        let body = self.body
        await cancelWhenGracefulShutdown { await body() }
    }
}
