import GRDB

/// Runs the hub's SQL inside one transaction: the seam between ``HubTransaction`` (which knows
/// the hub's tables) and the database that holds them (SQLite through GRDB, or PostgreSQL).
///
/// Statements are written in SQLite's dialect with `?` placeholders; an executor for another
/// database translates them through its ``HubDialect``. Rows come back as GRDB `Row`s, read by
/// column name, whatever the database.
public protocol HubSQLExecutor {
    /// How this database spells what SQLite and PostgreSQL spell differently.
    var dialect: HubDialect { get }
    /// Runs one statement; returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: HubArguments) throws -> Int
    /// Runs one statement whose count the caller does not read. An executor may send it without
    /// waiting for its answer: its error then surfaces at the transaction's next statement that
    /// returns something, or at its commit (the transaction fails either way).
    func executeDeferred(_ sql: String, _ arguments: HubArguments) throws
    /// The rows of one query.
    func rows(_ sql: String, _ arguments: HubArguments) throws -> [Row]
    /// Calls `body` with each row of one query, without collecting them.
    func forEachRow(_ sql: String, _ arguments: HubArguments, _ body: (Row) throws -> Void) throws
    /// The first column of the first row of one query (nil when there is no row or it is null).
    func value<T: DatabaseValueConvertible>(_ sql: String, _ arguments: HubArguments) throws -> T?
    /// Runs one `INSERT` into a table with an `id` key; returns the new row's `id`.
    func insertReturningID(_ sql: String, _ arguments: HubArguments) throws -> Int64
    /// Runs several statements without arguments (a migration).
    func executeScript(_ sql: String) throws
}

extension HubSQLExecutor {
    /// Runs the statement at once (an executor that can send statements ahead overrides this).
    public func executeDeferred(_ sql: String, _ arguments: HubArguments) throws {
        _ = try execute(sql, arguments)
    }
}

/// A hub database other than the built-in SQLite file (PostgreSQL, in HubStorePostgres):
/// transactions that hand out a ``HubSQLExecutor``. The schema is brought up to date when it opens.
public protocol HubDatabase: Sendable {
    /// Where the hub is, for people (a URL without its password).
    var location: String { get }
    /// Runs `body` in one read-write transaction: it commits when `body` returns, and rolls back
    /// when it throws.
    func write<T>(_ body: (any HubSQLExecutor) throws -> T) throws -> T
    /// Runs `body` with a consistent read-only view.
    func read<T>(_ body: (any HubSQLExecutor) throws -> T) throws -> T
    /// Runs `body` in one read-write transaction of the workers' coordination (claims, lease
    /// renewals), which must not wait behind this process's own sync work: a database whose
    /// ``write(_:)`` runs one transaction at a time gives it a connection of its own.
    func coordinate<T>(_ body: (any HubSQLExecutor) throws -> T) throws -> T
    /// The notification channel on which the workers of this hub announce that units may have
    /// become claimable (a unit done or skipped, a round started); nil when the database has none.
    var workChannel: String? { get }
    /// Listens on ``workChannel`` until the returned task is cancelled, calling `notified` for
    /// every notification and each time it starts listening (notifications sent before, or while
    /// a connection was down, are lost); nil when the database has no notifications.
    func listenForWork(_ notified: @escaping @Sendable () async -> Void) -> Task<Void, Never>?
}

extension HubDatabase {
    public func coordinate<T>(_ body: (any HubSQLExecutor) throws -> T) throws -> T { try write(body) }
    public var workChannel: String? { nil }
    public func listenForWork(_ notified: @escaping @Sendable () async -> Void) -> Task<Void, Never>? { nil }
}
