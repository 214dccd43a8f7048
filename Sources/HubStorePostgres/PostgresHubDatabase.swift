import Foundation
import GRDB
import HubCore
import HubStore
import PostgresNIO
import SpokePostgres
import Synchronization

/// The hub in a PostgreSQL database: one connection for the sync's transactions, one at a time,
/// and a second one, opened when first needed, for the workers' coordination (claims, lease
/// renewals): a heartbeat sent during a page waits only for the unit's row that page holds, and
/// is applied the moment it commits, not after this process's next page.
///
/// ``HubStore``'s API is synchronous, PostgresNIO's is not: each statement is sent on the
/// connection's event loop and the calling thread waits for its answer (`EventLoopFuture.wait`),
/// except writes whose count nobody reads, which are pipelined (see ``PostgresHubExecutor``).
/// Waiting on an event-loop thread would deadlock, so a call from one is refused with an error
/// instead. Each connection's transactions are serialised by a lock (``PostgresHubSession``), so
/// the store can be shared between threads like the SQLite one; a broken connection is reopened
/// by the next transaction.
public final class PostgresHubDatabase: HubDatabase, Sendable {
    private let main: PostgresHubSession
    private let coordination: PostgresHubSession
    let settings: PostgresSettings
    /// Whether opening created the hub (no schema step had been applied); set only by `init`.
    private let createdFlag = Mutex(false)
    /// True when opening created the hub (no schema step had been applied).
    public var created: Bool { createdFlag.withLock { $0 } }
    static let logger = Logger(label: "hubctl.hub.postgres")

    /// Connects to the hub's database (the schema named in `settings`, created if missing) and
    /// brings its schema up to date.
    /// - Throws: ``HubFromNewerHubctl`` for a hub a newer hubctl upgraded (nothing is written).
    public init(settings: PostgresSettings, applicationName: String = "hubctl-hub") throws {
        self.settings = settings
        main = PostgresHubSession(settings: settings, applicationName: applicationName)
        coordination = PostgresHubSession(settings: settings, applicationName: applicationName)
        try write { _ in }
        let created = try HubStore.migrate(self)
        createdFlag.withLock { $0 = created }
    }

    /// `user@host:port/database` and the schema: never the password.
    public var location: String { "postgres://\(settings)" + (settings.schema == "public" ? "" : "?schema=\(settings.schema)") }

    public func write<T>(_ body: (any HubSQLExecutor) throws -> T) throws -> T {
        try main.transaction("BEGIN ISOLATION LEVEL READ COMMITTED", body)
    }

    public func read<T>(_ body: (any HubSQLExecutor) throws -> T) throws -> T {
        try main.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", body)
    }

    public func coordinate<T>(_ body: (any HubSQLExecutor) throws -> T) throws -> T {
        try coordination.transaction("BEGIN ISOLATION LEVEL READ COMMITTED", body)
    }

    /// `hubctl_work_` and a hash of the hub's database and schema: the workers of one hub share
    /// it, those of another hub on the same server do not hear them.
    public var workChannel: String? {
        let hash = IDPartition.fnv1a("\(settings.database)/\(settings.schema)".utf8)
        return "hubctl_work_" + String(hash, radix: 16)
    }

    /// Listens for the workers' notifications on a connection of its own (`hubctl-hub-listen` in
    /// `pg_stat_activity`), reconnecting after a backoff; `notified` is called for each, and each
    /// time it is listening (first, and after a dropped connection, when some may have been lost).
    public func listenForWork(_ notified: @escaping @Sendable () async -> Void) -> Task<Void, Never>? {
        guard let channel = workChannel else { return nil }
        let listener = PostgresChangeListener(system: "hub", settings: settings, channel: channel,
                                              applicationName: "hubctl-hub-listen", logger: Self.logger)
        return Task {
            await listener.run { event in
                switch event {
                case .notification, .listening: await notified()
                case .dropped: break
                }
            }
        }
    }

    /// Closes the connections (a later transaction reopens them).
    public func close() {
        main.close()
        coordination.close()
    }

    /// True when the database holds a hub in `settings.schema` (its migration table); connects
    /// without creating anything, for commands that must not create a hub (a dry run).
    public static func exists(settings: PostgresSettings, applicationName: String = "hubctl-hub") throws -> Bool {
        let connection = try connect(settings, applicationName: applicationName, id: 0)
        defer { _ = try? connection.close().wait() }
        let executor = PostgresHubExecutor.unbatched(connection)
        let found: Int64? = try executor.value(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'hub_migration'",
            HubArguments([settings.schema]))
        return (found ?? 0) > 0
    }

    /// A new connection to the hub's database, its errors worded for the hub.
    static func connect(_ settings: PostgresSettings, applicationName: String, id: Int) throws -> PostgresConnection {
        try PostgresHubExecutor.refuseOnEventLoop()
        let configuration = try settings.connectionConfiguration(applicationName: applicationName)
        do {
            return try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: id, logger: logger
            ).wait()
        } catch {
            throw HubStoreError("cannot open the PostgreSQL hub: "
                                + PostgresErrors.connectionError(error, system: "hub", settings: settings).message
                                    .replacingOccurrences(of: "connection.", with: "hub.url's "))
        }
    }

    /// Creates the hub's schema unless it exists. Two processes starting on a new hub at once
    /// (workers) can both try: PostgreSQL's `IF NOT EXISTS` does not keep the second from
    /// failing on the catalog's unique index, so a failure is ignored once the schema is there.
    static func createSchema(_ quoted: String, named name: String, on connection: PostgresConnection) throws {
        func executor() -> PostgresHubExecutor {
            PostgresHubExecutor.unbatched(connection)
        }
        do {
            try executor().executeScript("CREATE SCHEMA IF NOT EXISTS \(quoted)")
        } catch {
            // A new executor: the first keeps its failure.
            let found: Int64? = try executor().value("SELECT count(*) FROM pg_namespace WHERE nspname = $1", HubArguments([name]))
            guard (found ?? 0) > 0 else { throw error }
        }
    }
}
