import Foundation
import GRDB
import HubCore

/// The hub database: canonical entities, their history, the ID cross-reference, cursors, push
/// marks, runs, conflicts and quarantine. The only place in hubctl that knows the hub's SQL.
///
/// One SQLite file in WAL mode with `synchronous = FULL`: a committed page of sync work
/// survives a crash of the process or the machine. Work is done in transactions through
/// ``write(_:)``; each gives a ``HubTransaction`` with typed operations.
///
/// For example:
/// ```swift
/// let store = try HubStore(path: "customer-360.hub.sqlite")
/// let link = try store.read { try $0.link(entity: "customer", system: "crm", externalID: "42") }
/// ```
public struct HubStore: Sendable {
    private let writer: DatabaseQueue
    /// The database file, or nil for an in-memory hub.
    public let path: String?
    /// An in-memory hub's webhook delivery store (a hub file has one beside it).
    let memoryDeliveries: WebhookDeliveryStore?

    /// Opens (creating if needed) the hub at `path` and brings its schema up to date.
    public init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let queue = try DatabaseQueue(path: path, configuration: config)
        try queue.writeWithoutTransaction { db in
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            if mode?.lowercased() != "wal" {
                throw HubStoreError("the hub at \(path) cannot use WAL journaling (got \(mode ?? "nothing")); put it on a local disk")
            }
        }
        try Self.migrator.migrate(queue)
        self.writer = queue
        self.path = path
        memoryDeliveries = nil
    }

    /// Opens an existing hub for reading only: no migration, no journal change, nothing written
    /// (for commands that only look, such as `hubctl check`).
    public static func openReadOnly(path: String) throws -> HubStore {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(5)
        return HubStore(queue: try DatabaseQueue(path: path, configuration: config), path: path)
    }

    private init(queue: DatabaseQueue, path: String?) {
        self.writer = queue
        self.path = path
        memoryDeliveries = nil
    }

    /// An empty hub in memory, for tests.
    public static func inMemory() throws -> HubStore { try HubStore(inMemory: ()) }

    private init(inMemory: Void) throws {
        let queue = try DatabaseQueue()
        try Self.migrator.migrate(queue)
        self.writer = queue
        self.path = nil
        memoryDeliveries = try WebhookDeliveryStore.inMemory()
    }

    /// Runs `body` in one write transaction: everything it does commits together or not at all.
    public func write<T>(_ body: (HubTransaction) throws -> T) throws -> T {
        try writer.write { db in try body(HubTransaction(db)) }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction: the write lock is taken before the
    /// first read, so two processes deciding from the same row cannot both win.
    func immediateWrite<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }

    /// Runs `body` with a consistent read-only view of the hub.
    public func read<T>(_ body: (HubTransaction) throws -> T) throws -> T {
        try writer.read { db in try body(HubTransaction(db)) }
    }

    /// The SQLite settings the hub runs with, for tests and `hubctl audit`.
    public func pragmas() throws -> (journalMode: String, synchronous: Int, integrity: String) {
        try writer.writeWithoutTransaction { db in
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
    /// Copies the hub into a new database file at `path` (SQLite's online backup) and opens it.
    public func copy(to path: String) throws -> HubStore {
        let target = try DatabaseQueue(path: path)
        try writer.backup(to: target)
        try target.close()
        return try HubStore(path: path)
    }
}
