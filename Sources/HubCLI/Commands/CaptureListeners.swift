import Foundation
import HubCore
import HubService
import HubTopology
import Logging
import SpokePostgres

/// The change listeners of `hubctl run`: one per postgres system whose topology says
/// `"capture": {"notify": true}`, each waking the runner through a debouncer of its own.
enum CaptureListeners {
    /// One background task per listening system (none when no system asks for one).
    static func make(topology: Topology, runner: ContinuousRunner, logger: Logger) throws -> [@Sendable () async -> Void] {
        var tasks: [@Sendable () async -> Void] = []
        for system in topology.systems where system.adapter == .postgres && system.capture?.notify == true {
            let settings: PostgresSettings
            do {
                settings = try PostgresSettings.parse(system.connection)
            } catch {
                throw SpokeError(.configuration, system: system.name, message: error.message)
            }
            let name = system.name, debounce = system.capture?.debounce ?? 0.1
            let metrics = runner.metrics
            let debouncer = WakeDebouncer(sleep: { try await Task.sleep(nanoseconds: UInt64($0 * 1e9)) }) { system, at in
                await runner.wake(system, trigger: "pg_notify", at: at)
            }
            let listener = PostgresChangeListener(system: name, settings: settings)
            var log = logger
            log[metadataKey: "system"] = .string(name.rawValue)
            let systemLogger = log
            tasks.append {
                await listener.run { event in
                    switch event {
                    case .listening(let reconnected, let installed):
                        systemLogger.info("listening for changes on channel \(PostgresChangeCapture.channel)",
                                          metadata: ["event": "capture.listening", "reconnected": .stringConvertible(reconnected)])
                        if !installed {
                            systemLogger.warning("change capture is not installed in schema '\(settings.schema)', so no change will notify; run `hubctl capture install \(name)`",
                                                 metadata: ["event": "capture.not_installed"])
                        }
                        // Notifications sent while the connection was down are lost: read now.
                        if reconnected { await runner.wake(name, trigger: "pg_reconnect", at: Date()) }
                    case .notification:
                        metrics.notification(system: name)
                        await debouncer.trigger(name, at: Date(), debounce: debounce)
                    case .dropped(let message, let retryIn):
                        metrics.listenerDropped(system: name)
                        systemLogger.warning("change listener lost its connection: \(message); trying again in \(DurationText.text(retryIn))",
                                             metadata: ["event": "capture.dropped"])
                    }
                }
            }
        }
        return tasks
    }
}
