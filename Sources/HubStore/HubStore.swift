import Foundation
import GRDB
import HubCore

/// The hub database: canonical entities, their history, the ID cross-reference, cursors, push
/// marks, runs, conflicts and quarantine. The only place in hubctl that knows the hub's SQL.
///
/// By default one SQLite file in WAL mode with `synchronous = FULL`: a committed page of sync
/// work survives a crash of the process or the machine. Another database (PostgreSQL, from the
/// HubStorePostgres module) plugs in as a ``HubDatabase`` through ``init(database:)``. Work is
/// done in transactions through ``write(_:)``; each gives a ``HubTransaction`` with typed
/// operations, the same whatever the database.
///
/// For example:
/// ```swift
/// let store = try HubStore(path: "customer-360.hub.sqlite")
/// let link = try store.read { try $0.link(entity: "customer", system: "crm", externalID: "42") }
/// ```
public struct HubStore: Sendable {
    private enum Backend: Sendable {
        case sqlite(DatabaseQueue)
        case database(any HubDatabase)
    }

    private let backend: Backend
    /// The SQLite database file, or nil for an in-memory hub or another database.
    public let path: String?
    /// An in-memory hub's webhook delivery store (a hub file has one beside it).
    let memoryDeliveries: WebhookDeliveryStore?
    /// True when opening a SQLite hub file created its schema: the file was new, or empty.
    /// (A hub held by another database tells this through ``migrate(_:)``.)
    public let created: Bool

    /// A hub held by another database (its schema already brought up to date, see
    /// ``migrate(_:)``).
    public init(database: any HubDatabase) {
        self.backend = .database(database)
        self.path = nil
        memoryDeliveries = nil
        created = false
    }

    /// The other database holding the hub; nil for a SQLite hub.
    var database: (any HubDatabase)? {
        if case .database(let database) = backend { return database }
        return nil
    }

    /// True for a SQLite hub (a file or in memory).
    var isSQLite: Bool {
        if case .sqlite = backend { return true }
        return false
    }

    /// Where the hub is, for people: the SQLite file, or the other database's location
    /// (never with a password).
    public var location: String {
        switch backend {
        case .sqlite: path ?? ":memory:"
        case .database(let database): database.location
        }
    }

    /// The SQLite queue; throws for a hub held by another database.
    private func sqlite(_ operation: String) throws -> DatabaseQueue {
        guard case .sqlite(let queue) = backend else {
            throw HubStoreError("\(operation) needs a SQLite hub; this hub is \(location)")
        }
        return queue
    }

    /// Opens (creating if needed) the hub at `path` and brings its schema up to date.
    /// - Parameter creatingFolder: create the file's folder if it is missing (else that is an error).
    /// - Throws: ``HubFromNewerHubctl`` for a hub a newer hubctl upgraded, before writing anything.
    public init(path: String, creatingFolder: Bool = true) throws {
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            guard creatingFolder else { throw HubStoreError("the folder \(directory) of the hub \(path) does not exist") }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let queue = try DatabaseQueue(path: path, configuration: config)
        let applied = try queue.read { try Self.appliedSteps($0) }
        try Self.refuseNewer(applied, location: path)
        try queue.writeWithoutTransaction { db in
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            if mode?.lowercased() != "wal" {
                throw HubStoreError("the hub at \(path) cannot use WAL journaling (got \(mode ?? "nothing")); put it on a local disk")
            }
        }
        // A step that builds an index sorts every row of its table; SQLite spills that sort to
        // temporary files, kept on disk during migrations so that upgrading a large hub does not
        // hold the whole sort in memory (684 MB for 4M links with the files in memory).
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA temp_store = FILE") }
        try Self.migrator.migrate(queue)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA temp_store = MEMORY") }
        self.backend = .sqlite(queue)
        self.path = path
        memoryDeliveries = nil
        created = applied.isEmpty
    }

    /// Opens an existing hub for reading only: no migration, no journal change, nothing written
    /// (for commands that only look, such as `hubctl check`).
    /// - Throws: ``HubFromNewerHubctl`` for a hub a newer hubctl upgraded.
    public static func openReadOnly(path: String) throws -> HubStore {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(5)
        let queue = try DatabaseQueue(path: path, configuration: config)
        try refuseNewer(try queue.read { try appliedSteps($0) }, location: path)
        return HubStore(queue: queue, path: path)
    }

    private init(queue: DatabaseQueue, path: String?) {
        self.backend = .sqlite(queue)
        self.path = path
        memoryDeliveries = nil
        created = false
    }

    /// An empty hub in memory, for tests.
    public static func inMemory() throws -> HubStore { try HubStore(inMemory: ()) }

    private init(inMemory: Void) throws {
        let queue = try DatabaseQueue()
        try Self.migrator.migrate(queue)
        self.backend = .sqlite(queue)
        self.path = nil
        memoryDeliveries = try WebhookDeliveryStore.inMemory()
        created = false
    }

    /// Runs `body` in one write transaction: everything it does commits together or not at all.
    public func write<T>(_ body: (HubTransaction) throws -> T) throws -> T {
        switch backend {
        case .sqlite(let queue): try queue.write { db in try body(HubTransaction(SQLiteHubExecutor(db: db))) }
        case .database(let database):
            try database.write { sql in
                if let lock = sql.dialect.hubWriteLock { _ = try sql.rows(lock, []) }
                return try body(HubTransaction(sql))
            }
        }
    }

    /// Runs `body` in one transaction that coordinates processes (the run lock, work units):
    /// on another database it does not wait for the hub's writer (``HubDialect/hubWriteLock``),
    /// only for the rows it reads with ``HubDialect/forUpdate``, and runs on a connection of its
    /// own (``HubDatabase/coordinate(_:)``): a lease renewal waits for the unit's row while a
    /// page holds it, then goes ahead of this process's next page.
    func coordinate<T>(_ body: (HubTransaction) throws -> T) throws -> T {
        switch backend {
        case .sqlite: try immediateWrite(body)
        case .database(let database): try database.coordinate { try body(HubTransaction($0)) }
        }
    }

    /// Runs `body` in one transaction that takes the write lock before the first read
    /// (SQLite's `BEGIN IMMEDIATE`; on another database, `body` reads with
    /// ``HubDialect/forUpdate``), so two processes deciding from the same row cannot both win.
    func immediateWrite<T>(_ body: (HubTransaction) throws -> T) throws -> T {
        switch backend {
        case .sqlite(let queue):
            try queue.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(HubTransaction(SQLiteHubExecutor(db: db)))
                    return .commit
                }
                return result!
            }
        case .database(let database):
            try database.write { try body(HubTransaction($0)) }
        }
    }

    /// Runs `body` with a consistent read-only view of the hub.
    public func read<T>(_ body: (HubTransaction) throws -> T) throws -> T {
        switch backend {
        case .sqlite(let queue): try queue.read { db in try body(HubTransaction(SQLiteHubExecutor(db: db))) }
        case .database(let database): try database.read { try body(HubTransaction($0)) }
        }
    }

    /// The SQLite settings the hub runs with, for tests and `hubctl audit`.
    public func pragmas() throws -> (journalMode: String, synchronous: Int, integrity: String) {
        try sqlite("reading SQLite's settings").writeWithoutTransaction { db in
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? ""
            let sync = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            let integrity = try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? ""
            return (mode, sync, integrity)
        }
    }
}

/// A hub failure that is not a plain SQLite error.
public struct HubStoreError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension HubStore {
    /// Copies the hub into a new database file at `path` and opens it: SQLite's online backup of
    /// a SQLite hub; ``copy(to:options:)`` of another (one consistent read, without the run lock,
    /// verified table by table).
    public func copy(to path: String) throws -> HubStore {
        guard isSQLite else {
            let scratch = try HubStore(path: path)
            var options = HubCopyOptions()
            options.lockSource = false
            let report = try copy(to: scratch, options: options)
            if !report.matches {
                throw HubStoreError("the copy of the hub at \(path) does not match it (tables "
                                    + report.tables.filter { !$0.matches }.map(\.name).joined(separator: ", ") + ")")
            }
            return scratch
        }
        let target = try DatabaseQueue(path: path)
        try sqlite("copying the hub to a file").backup(to: target)
        try target.close()
        return try HubStore(path: path)
    }
}
