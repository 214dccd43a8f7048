import ArgumentParser
import Foundation
import HubCore
import HubDashboard
import HubSchedule
import HubService
import HubStore
import HubSync
import HubTopology
import Logging

/// `hubctl run`: keeps the topology in sync, each system on its schedule or when a webhook or a
/// PostgreSQL change notification wakes it.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Keep every system in sync: read each on its schedule or when a webhook wakes it, push to all.",
        discussion: """
            Each cycle reads the systems (and entities) that are due and pushes to every system. A system \
            without a "schedule" in the topology is read every 5 minutes (or --every). Failing systems are \
            retried with a doubling backoff. One cycle at a time holds the hub: while `sync-all` or another \
            run holds it, `run` waits and tries again; `run --once` exits 75.

            The listener (--listen, 127.0.0.1:9464 by default) serves GET /metrics, GET /healthz and \
            POST /hooks/{system}. A postgres system with "capture": {"notify": true} is read when its \
            change triggers notify (install them with `hubctl capture install SYSTEM`). SIGTERM or SIGINT stop after the current page and exit 0.

            With --worker, several processes share a PostgreSQL hub's syncing: each claims the pull or the \
            push of one system at a time, held by a lease (--lease) and fenced by a token; a round starts \
            when a system is due by its schedule (or woken) and reads only what is due, as a cycle does \
            (docs/scale-out.md).

            Exit codes (--once): 0 ok or nothing due; 3 partial; 1 failed; 75 another run holds the hub; 78 invalid \
            topology, or a HUBCTL_HUB file in a missing folder.
            """)

    @OptionGroup var options: TopologyOptions
    @OptionGroup var scheduleOptions: ScheduleOptions
    @Flag(help: "Run one cycle over the systems due now, then exit (for cron).") var once = false
    @Flag(help: "Share the work with the other `run --worker` processes on the same PostgreSQL hub (docs/scale-out.md).")
    var worker = false
    @Option(help: ArgumentHelp("With --worker: how long a claimed unit is held without a heartbeat (default 30s).",
                               valueName: "duration"))
    var lease: String?
    @Option(help: ArgumentHelp("Where the HTTP listener binds: HOST:PORT (port 0: any free port), or `off` (with --worker: off unless given).",
                               valueName: "host:port"))
    var listen: String?
    @Option(help: ArgumentHelp("Write the metrics to this file after every cycle (with --worker: every unit), for node_exporter's textfile collector.",
                               valueName: "path"))
    var metricsFile: String?
    @Option(help: ArgumentHelp("Log lines as `text` or `json` (default text; $HUBCTL_LOG_FORMAT).", valueName: "format"))
    var logFormat: String?
    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default info; $HUBCTL_LOG_LEVEL).",
                               valueName: "level"))
    var logLevel: String?

    func run() async throws {
        var console = Console()
        let topology = try options.load(console: console)
        console.redactor = topology.secrets
        let environment = ProcessInfo.processInfo.environment
        guard let format = LogFormat(rawValue: logFormat ?? environment["HUBCTL_LOG_FORMAT"] ?? "text") else {
            throw ValidationError("--log-format must be text or json")
        }
        guard let level = Logger.Level(rawValue: logLevel ?? environment["HUBCTL_LOG_LEVEL"] ?? "info") else {
            throw ValidationError("--log-level must be one of: trace, debug, info, notice, warning, error, critical")
        }
        let schedule = try scheduleOptions.schedule()
        let listenAddress = try parseListen()
        let redactor = topology.secrets
        let logger = Logger(label: "hubctl") { label in
            LineLogHandler(label: label, format: format, level: level, redactor: redactor)
        }
        if worker || lease != nil {
            try await runWorker(topology, schedule: schedule, logger: logger, console: console)
            return
        }
        let store: HubStore
        let engine: SyncEngine
        do {
            // Said in the log's format: with --log-format json, stderr holds only JSON lines.
            store = try topology.openHub { logger.notice("\($0)", metadata: ["event": "hub.created"]) }
            engine = try SyncRunner.engine(topology, store: store)
        } catch {
            throw topology.reportOpenFailure(error, console)
        }
        let runner = ContinuousRunner(planner: SchedulePlanner(topology: topology, defaultSchedule: schedule), store: store,
                                      logger: logger, metricsFile: metricsFile,
                                      progress: ProgressLine.onTerminal()?.callback) { options in
            try await engine.syncAll(options)
        }
        let debouncer = WakeDebouncer(sleep: { try await Task.sleep(nanoseconds: UInt64($0 * 1e9)) }) { system, at in
            await runner.wake(system, trigger: "webhook", at: at)
        }
        // Without a system taking webhooks, /hooks answers 404 and no delivery file is opened.
        let webhooks: WebhookReceiver?
        do {
            // Delivery IDs go to their file beside the hub, so a delivery never waits for a cycle's page.
            webhooks = topology.systems.contains(where: { $0.webhook != nil })
                ? try WebhookReceiver(topology: topology, store: store, metrics: runner.metrics, debouncer: debouncer, logger: logger)
                : nil
        } catch {
            console.error("\(error)")
            console.hint("check that the hub's folder is writable")
            throw ExitCode(1)
        }
        let dashboardRoutes = try DashboardCommand.routes(topology: topology, store: store, defaultSchedule: schedule, console: console,
                                                          loopback: listenAddress.flatMap { DashboardServer.Address(parsing: "\($0.host):\($0.port)")?.isLoopback } ?? true,
                                                          exempt: ["/hooks/", "/metrics", "/healthz"])
        let listeners: [@Sendable () async -> Void]
        do {
            listeners = try CaptureListeners.make(topology: topology, runner: runner, logger: logger)
        } catch {
            console.error("\(error)")
            throw ExitCode(.config)
        }
        let outcome: CycleOutcome?
        do {
            outcome = try await RunSession.run(runner: runner, once: once, listen: once ? nil : listenAddress,
                                               webhooks: webhooks, logger: logger, background: listeners,
                                               installRoutes: dashboardRoutes)
        } catch {
            console.error("hubctl run stopped: \(redactor.redact(String(describing: error)))")
            if let listenAddress {
                console.hint("if the address \(listenAddress.host):\(listenAddress.port) is in use, pass --listen HOST:PORT "
                             + "or --listen off")
            }
            throw ExitCode(1)
        }
        guard once else { return }
        guard let outcome else {
            logger.info("nothing is due", metadata: ["event": "cycle.nothing_due"])
            return
        }
        if outcome.result == "locked" {
            console.error(outcome.error ?? "another run holds this hub")
            console.hint("try again when it has finished; `hubctl run` (without --once) waits by itself")
        }
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }

    /// `run --worker`: claims units of the shared round until stopped.
    func runWorker(_ topology: Topology, schedule: Schedule, logger: Logger, console: Console) async throws {
        guard worker else { throw ValidationError("--lease goes with --worker") }
        guard !once else { throw ValidationError("--worker runs until stopped; use `hubctl run --once` without --worker for one cycle") }
        let leaseSeconds = try lease.map { text in
            guard let seconds = DurationText.seconds(text), seconds >= 1 else {
                throw ValidationError("--lease takes a duration of at least 1s, like 10s or 1m")
            }
            return seconds
        } ?? 30
        guard topology.hubURL != nil else {
            console.error("--worker needs a PostgreSQL hub: workers share the work through the hub's database, and this "
                          + "topology's hub is the SQLite file \(topology.hubLocation), which one process uses at a time")
            console.hint("give the topology's hub a \"url\" (docs/scale-out.md), or run `hubctl run` without --worker")
            throw ExitCode(.config)
        }
        let id = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        let store: HubStore
        let engine: SyncEngine
        do {
            // Named after the worker in pg_stat_activity.
            store = try topology.openHub(applicationName: String("hubctl-worker \(id)".prefix(63))) {
                logger.notice("\($0)", metadata: ["event": "hub.created"])
            }
            engine = try SyncRunner.engine(topology, store: store)
        } catch {
            throw topology.reportOpenFailure(error, console)
        }
        let loop = WorkerLoop(id: id, planner: SchedulePlanner(topology: topology, defaultSchedule: schedule), store: store,
                              settings: WorkerSettings(lease: leaseSeconds, poll: min(1, leaseSeconds / 3),
                                                       runLockStaleAfter: engine.lockTimeout),
                              logger: logger, metricsFile: metricsFile) { claim, options in
            try await engine.runUnit(claim, options)
        }
        // A worker listens only when asked (several may run on one machine): webhooks then
        // start the next round early, for every worker.
        let listenAddress = listen == nil ? nil : try parseListen()
        let metrics = loop.metrics
        let debouncer = WakeDebouncer(sleep: { try await Task.sleep(nanoseconds: UInt64($0 * 1e9)) }) { system, _ in
            loop.wake(system)
        }
        let webhooks: WebhookReceiver?
        do {
            webhooks = listenAddress != nil && topology.systems.contains(where: { $0.webhook != nil })
                ? try WebhookReceiver(topology: topology, store: store, metrics: metrics, debouncer: debouncer, logger: logger)
                : nil
        } catch {
            console.error("\(error)")
            throw ExitCode(1)
        }
        do {
            try await RunSession.runWorker(loop, listen: listenAddress, webhooks: webhooks, metrics: metrics, logger: logger)
        } catch let newer as HubFromNewerHubctl {
            // As at open (exit 1, what to run), said of a hub this worker had open.
            console.error("hubctl run --worker stopped: the hub \(topology.hubDescription) \(newer.whileOpen); "
                          + "its units were released and it claims no more")
            console.hint(topology.newerHubctlHint)
            throw ExitCode(.failure)
        } catch {
            console.error("hubctl run --worker stopped: \(topology.secrets.redact(String(describing: error)))")
            throw ExitCode(1)
        }
    }

    func parseListen() throws -> RunSession.Listen? {
        let text = listen ?? ProcessInfo.processInfo.environment["HUBCTL_LISTEN"] ?? "127.0.0.1:9464"
        if text == "off" { return nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { throw ValidationError("--listen takes HOST:PORT (like 127.0.0.1:9464) or off") }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return RunSession.Listen(host: host.isEmpty ? "127.0.0.1" : host, port: port)
    }
}
