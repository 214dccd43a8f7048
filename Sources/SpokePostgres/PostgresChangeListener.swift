import Foundation
import HubCore
import Logging
import PostgresNIO

/// Listens for a PostgreSQL system's change notifications (`LISTEN hubctl_changes`, sent by the
/// triggers `hubctl capture install` creates) on a connection of its own.
///
/// A dropped connection is opened again after a backoff (1 s, doubling up to a minute, back to
/// 1 s once listening). Notifications sent while it was down are lost, so every reconnection is
/// reported too: the caller wakes the system then, and the read from the stored position finds what changed.
/// The connection shows as `hubctl-listen` in `pg_stat_activity`.
public struct PostgresChangeListener: Sendable {
    /// What the listener reports to its caller.
    public enum Event: Sendable, Equatable {
        /// Listening; `reconnected` after a dropped connection (notifications may have been missed);
        /// `installed` false when the schema has no capture trigger function, so nothing will notify
        /// until `hubctl capture install` runs.
        case listening(reconnected: Bool, installed: Bool)
        /// A row of this table (`schema.table`) changed.
        case notification(table: String)
        /// The connection failed or dropped; the next attempt is in `retryIn` seconds.
        case dropped(message: String, retryIn: TimeInterval)
    }

    public let system: SystemName
    let settings: PostgresSettings
    let channel: String
    let maxBackoff: TimeInterval
    let applicationName: String
    let sleep: @Sendable (TimeInterval) async throws -> Void
    let logger: Logger

    /// - Parameters:
    ///   - applicationName: how the connection shows in `pg_stat_activity`.
    ///   - sleep: waits out a backoff (injected in tests).
    public init(system: SystemName, settings: PostgresSettings, channel: String = PostgresChangeCapture.channel,
                applicationName: String = "hubctl-listen", maxBackoff: TimeInterval = 60,
                sleep: @escaping @Sendable (TimeInterval) async throws -> Void = { try await Task.sleep(nanoseconds: UInt64(max(0, $0) * 1e9)) },
                logger: Logger = Logger(label: "hubctl.spoke.postgres.listen")) {
        self.system = system
        self.settings = settings
        self.channel = channel
        self.applicationName = applicationName
        self.maxBackoff = maxBackoff
        self.sleep = sleep
        self.logger = logger
    }

    /// Listens until the calling task is cancelled, reporting every event to `onEvent` in order.
    public func run(_ onEvent: @escaping @Sendable (Event) async -> Void) async {
        var backoff: TimeInterval = 1
        var attempts = 0
        var listened = false
        while !Task.isCancelled {
            attempts += 1
            var message = "the connection closed"
            do {
                let connection = try await PostgresSession.connect(system: system, settings: settings, id: attempts,
                                                                   applicationName: applicationName, logger: logger)
                do {
                    var check = PostgresStatement("""
                        SELECT count(*)::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = 
                        """)
                    check.bind(PostgresChangeCapture.function)
                    check.append(" AND n.nspname = ")
                    check.bind(settings.schema)
                    let installed = try await connection.textRows(check, logger: logger).first?.first == "1"
                    try await connection.listen(on: channel) { notifications in
                        await onEvent(.listening(reconnected: listened, installed: installed))
                        listened = true
                        backoff = 1
                        // Ends when the task is cancelled (nil) or the connection drops (nil or an error).
                        for try await notification in notifications {
                            await onEvent(.notification(table: notification.payload))
                        }
                    }
                } catch {
                    message = PostgresErrors.statementError(error, system: system, object: nil).localizedText
                }
                try? await connection.close()
            } catch {
                message = (error as? SpokeError)?.message ?? "\(error)"
            }
            if Task.isCancelled { return }
            await onEvent(.dropped(message: message, retryIn: backoff))
            do { try await sleep(backoff) } catch { return }
            backoff = min(maxBackoff, backoff * 2)
        }
    }
}

private extension Error {
    /// A SpokeError's message, or the error's description.
    var localizedText: String { (self as? SpokeError)?.message ?? "\(self)" }
}
