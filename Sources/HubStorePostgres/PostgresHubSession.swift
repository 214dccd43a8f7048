import Foundation
import HubCore
import HubStore
import PostgresNIO
import SpokePostgres

/// One connection to the PostgreSQL hub and the transactions run on it, one at a time.
///
/// Opened by its first transaction, with the hub's schema created if missing and made the
/// search path; a connection that broke is dropped and the next transaction opens a new one.
final class PostgresHubSession: @unchecked Sendable {
    // @unchecked: `connection`, `translations`, `batches` and `nextConnectionID` are only
    // touched with `lock` held.
    private let lock = NSLock()
    private var connection: PostgresConnection?
    private var translations: [String: PostgresHubStatement] = [:]
    /// Whether the open connection has the batch function (``PostgresHubBatch``).
    private var batches = false
    private var nextConnectionID = 0
    private let settings: PostgresSettings
    private let applicationName: String

    init(settings: PostgresSettings, applicationName: String) {
        self.settings = settings
        self.applicationName = applicationName
    }

    deinit {
        guard let connection else { return }
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// Runs `body` between `begin` and a commit (a rollback when it throws).
    func transaction<T>(_ begin: String, _ body: (any HubSQLExecutor) throws -> T) throws -> T {
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

    /// Closes the connection (a later transaction reopens it).
    func close() {
        lock.withLock {
            guard let connection else { return }
            self.connection = nil
            _ = try? connection.close().wait()
        }
    }

    /// The open connection, connecting first if needed (lock held).
    private func open() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        nextConnectionID += 1
        let connection = try PostgresHubDatabase.connect(settings, applicationName: applicationName, id: nextConnectionID)
        let schema = "\"" + settings.schema.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let executor = PostgresHubExecutor.unbatched(connection)
        do {
            if settings.schema != "public" { try PostgresHubDatabase.createSchema(schema, named: settings.schema, on: connection) }
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
            PostgresHubDatabase.logger.warning("the PostgreSQL hub sends writes one by one: \(error)")
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
