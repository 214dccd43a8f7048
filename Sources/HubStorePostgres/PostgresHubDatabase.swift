import Foundation
import GRDB
import HubCore
import HubStore
import PostgresNIO
import SpokePostgres

/// The hub in a PostgreSQL database: one connection, one transaction at a time.
///
/// ``HubStore``'s API is synchronous, PostgresNIO's is not: each statement is sent on the
/// connection's event loop and the calling thread waits for its answer (`EventLoopFuture.wait`),
/// except writes whose count nobody reads, which are pipelined (see ``PostgresHubExecutor``).
/// Waiting on an event-loop thread would deadlock, so a call from one is refused with an error
/// instead. Transactions are serialised by a lock, so the store can be shared between threads
/// like the SQLite one; a broken connection is reopened by the next transaction.
public final class PostgresHubDatabase: HubDatabase, @unchecked Sendable {
    // @unchecked: `connection` and `translations` are only touched with `lock` held.
    private let lock = NSLock()
    private var connection: PostgresConnection?
    private var translations: [String: PostgresHubStatement] = [:]
    /// Whether the open connection has the batch function (``PostgresHubBatch``).
    private var batches = false
    private var nextConnectionID = 0
    let settings: PostgresSettings
    let applicationName: String
    /// True when opening created the hub (no schema step had been applied); set only by `init`.
    public private(set) var created = false
    static let logger = Logger(label: "hubctl.hub.postgres")

    /// Connects to the hub's database (the schema named in `settings`, created if missing) and
    /// brings its schema up to date.
    /// - Throws: ``HubFromNewerHubctl`` for a hub a newer hubctl upgraded (nothing is written).
    public init(settings: PostgresSettings, applicationName: String = "hubctl-hub") throws {
        self.settings = settings
        self.applicationName = applicationName
        try write { _ in }
        created = try HubStore.migrate(self)
    }

    deinit {
        guard let connection else { return }
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// `user@host:port/database` and the schema: never the password.
    public var location: String { "postgres://\(settings)" + (settings.schema == "public" ? "" : "?schema=\(settings.schema)") }

    public func write<T>(_ body: (any HubSQLExecutor) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL READ COMMITTED", body)
    }

    public func read<T>(_ body: (any HubSQLExecutor) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", body)
    }

    /// Closes the connection (a later transaction reopens it).
    public func close() {
        lock.withLock {
            guard let connection else { return }
            self.connection = nil
            _ = try? connection.close().wait()
        }
    }

    private func transaction<T>(_ begin: String, _ body: (any HubSQLExecutor) throws -> T) throws -> T {
        try lock.withLock {
            let connection = try open()
            let executor = PostgresHubExecutor(connection: connection, batches: batches, translate: { self.translated($0) })
            try executor.executeScript(begin)
            let result: T
            do {
                result = try body(executor)
                try executor.commit()
            } catch {
                // A connection that cannot roll back (broken, or not yet noticed to be) is
                // dropped: the next transaction opens a new one.
                if connection.isClosed || !executor.rollback() {
                    self.connection = nil
                    connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
                }
                throw error
            }
            return result
        }
    }

    /// True when the database holds a hub in `settings.schema` (its migration table); connects
    /// without creating anything, for commands that must not create a hub (a dry run).
    public static func exists(settings: PostgresSettings, applicationName: String = "hubctl-hub") throws -> Bool {
        let connection = try connect(settings, applicationName: applicationName, id: 0)
        defer { _ = try? connection.close().wait() }
        let executor = PostgresHubExecutor(connection: connection, batches: false, translate: { PostgresHubStatement($0) })
        let found: Int64? = try executor.value(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'hub_migration'",
            HubArguments([settings.schema]))
        return (found ?? 0) > 0
    }

    /// A new connection to the hub's database, its errors worded for the hub.
    private static func connect(_ settings: PostgresSettings, applicationName: String, id: Int) throws -> PostgresConnection {
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
    private static func createSchema(_ quoted: String, named name: String, on connection: PostgresConnection) throws {
        func executor() -> PostgresHubExecutor {
            PostgresHubExecutor(connection: connection, batches: false, translate: { PostgresHubStatement($0) })
        }
        do {
            try executor().executeScript("CREATE SCHEMA IF NOT EXISTS \(quoted)")
        } catch {
            // A new executor: the first keeps its failure.
            let found: Int64? = try executor().value("SELECT count(*) FROM pg_namespace WHERE nspname = $1", HubArguments([name]))
            guard (found ?? 0) > 0 else { throw error }
        }
    }

    /// The open connection, connecting first if needed (lock held).
    private func open() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        nextConnectionID += 1
        let connection = try Self.connect(settings, applicationName: applicationName, id: nextConnectionID)
        let schema = "\"" + settings.schema.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let executor = PostgresHubExecutor(connection: connection, batches: false, translate: { PostgresHubStatement($0) })
        do {
            if settings.schema != "public" { try Self.createSchema(schema, named: settings.schema, on: connection) }
            try executor.executeScript("SET search_path TO \(schema)")
            // A process stopped inside a transaction (SIGSTOP, a debugger) must not hold the
            // hub's rows forever: the server ends such a session after a minute, which releases
            // its locks and refuses its late writes; a statement waiting for a lock gives up
            // after 90 s with an error instead of hanging.
            try executor.executeScript("SET idle_in_transaction_session_timeout = '60s'; SET lock_timeout = '90s'")
        } catch {
            _ = try? connection.close().wait()
            throw error
        }
        // Without the function (a role refused TEMPORARY), each write is sent alone.
        do {
            _ = try executor.execute(PostgresHubBatch.definition, HubArguments())
            batches = true
        } catch {
            batches = false
            Self.logger.warning("the PostgreSQL hub sends writes one by one: \(error)")
        }
        self.connection = connection
        return connection
    }

    /// `sql` in PostgreSQL's dialect, translated once per statement text (lock held).
    private func translated(_ sql: String) -> PostgresHubStatement {
        if let done = translations[sql] { return done }
        let done = PostgresHubStatement(HubDialect.postgres.translate(sql))
        translations[sql] = done
        return done
    }
}
