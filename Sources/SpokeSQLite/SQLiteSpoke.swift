import Foundation
import GRDB
import HubCore

/// A spoke over a SQLite database file: each bound object is a table (or a view, for reads).
///
/// - `object` is the table name and `idField` its key column: an `INTEGER PRIMARY KEY` (or the
///   hidden `rowid`), whose value SQLite assigns on create, or any other unique column, which
///   takes the create's hub key unless the column has a `DEFAULT` or the create sets it.
/// - With a `cursorField`, reads are incremental, in (cursor, ID) order. The next run starts
///   after the last (cursor, ID) read, less the binding's lookback window (``KeysetRun``): rows
///   sharing one cursor value are not read again once the window has passed, while a row
///   committed late below the position, or changed again within one timestamp, is. `clock`
///   times the window. Rows whose cursor is NULL are read only by a full read (a `nil` cursor), first;
///   give the column a `DEFAULT` or a trigger if new rows must reach the hub without one.
/// - Without a `cursorField`, reads are a full scan by ID; the last page's `next` is nil.
/// - Writes of one batch run in one transaction, each record in its own savepoint: a record the
///   database rejects (NOT NULL, UNIQUE, CHECK, a trigger's `RAISE`) is `.failed` and the rest
///   of the batch is applied.
///
/// Every table and column name is checked against the live schema before it is used and reaches
/// SQL only quoted (``SQLiteSQL``); every value is bound as a statement argument, text with its
/// length, so text holding a NUL is stored and read whole. Text that is not valid UTF-8 makes its
/// row invalid (reported in ``SpokePage/invalid``). The database is opened with a 5 second busy
/// timeout, so a person's `sqlite3` shell holding a lock for a moment does not fail a run. The
/// file is never created: a missing file, like a missing table, is a
/// ``SpokeError/Kind/missingObject`` error.
///
/// For example:
/// ```swift
/// let crm = try SQLiteSpoke(system: "crm", path: "crm.db")
/// let contacts = ObjectBinding(entity: "customer", object: "contacts", idField: "contact_id",
///                              cursorField: "modified_at", fields: ["email_address", "phone"])
/// let page = try await crm.read(contacts, after: nil, limit: 500)
/// ```
public struct SQLiteSpoke: Spoke {
    public let system: SystemName
    /// The database file.
    public let path: String
    public var capabilities: SpokeCapabilities {
        SpokeCapabilities(incrementalReads: true, tombstones: false, batchWrites: true)
    }

    let connection: SQLiteConnection
    /// Times the lookback window of incremental reads.
    let clock: WallClock

    /// Creates a spoke over the SQLite database at `path`; the file is opened on first use.
    /// - Throws: ``SpokeError`` (`.configuration`) when `path` is empty.
    public init(system: SystemName, path: String, clock: WallClock = .system) throws {
        guard !path.isEmpty else {
            throw SpokeError(.configuration, system: system, message: "the SQLite database path is empty")
        }
        self.system = system
        self.path = path
        self.clock = clock
        self.connection = SQLiteConnection(system: system, path: path)
    }

    /// Checks that the file opens and that each table and column exists; warns of a cursor
    /// column no index starts with.
    public func check(_ objects: [ObjectBinding]) async throws -> [SpokeCheckResult] {
        try await reading(nil) { db in
            try objects.map {
                SpokeCheckResult(object: $0.object, problems: try SQLiteObject.problems($0, in: db),
                                 warnings: try SQLiteObject.warnings($0, in: db))
            }
        }
    }

    /// Runs `body` in a read transaction, turning database errors into ``SpokeError``s.
    func reading<T: Sendable>(_ object: String?, _ body: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await connection.queue().read(body)
        } catch {
            throw spokeError(error, object: object)
        }
    }

    /// Runs `body` in a write transaction, turning database errors into ``SpokeError``s.
    func writing<T: Sendable>(_ object: String?, _ body: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await connection.queue().write(body)
        } catch {
            throw spokeError(error, object: object)
        }
    }

    /// A ``SpokeError`` for a failure talking to the database. Statement arguments (record
    /// values) are never part of the message.
    func spokeError(_ error: any Error, object: String?) -> any Error {
        if error is SpokeError || error is CancellationError { return error }
        guard let error = error as? DatabaseError else {
            return SpokeError(.unavailable, system: system, object: object, message: "\(error)")
        }
        let detail = error.message ?? "SQLite error \(error.resultCode.rawValue)"
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return SpokeError(.unavailable, system: system, object: object,
                              message: "the database '\(path)' stayed locked by another connection for 5 seconds; try again when it is free")
        case .SQLITE_NOTADB:
            return SpokeError(.configuration, system: system, object: object, message: "'\(path)' is not a SQLite database")
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
            return SpokeError(.configuration, system: system, object: object, message: "cannot open the database '\(path)': \(detail)")
        case .SQLITE_READONLY:
            return SpokeError(.unavailable, system: system, object: object, message: "the database '\(path)' is read-only: \(detail)")
        case .SQLITE_CORRUPT:
            return SpokeError(.malformed, system: system, object: object, message: "the database '\(path)' is corrupt: \(detail)")
        case .SQLITE_ERROR:
            return SpokeError(.configuration, system: system, object: object, message: detail)
        default:
            return SpokeError(.unavailable, system: system, object: object, message: detail)
        }
    }

    /// The read position a stored cursor encodes, or a configuration error.
    func position(_ cursor: HubCore.Cursor?, _ object: ObjectBinding) throws -> SQLiteReadPosition {
        do {
            return try SQLiteReadPosition(cursor)
        } catch {
            throw SpokeError(.configuration, system: system, object: object.object,
                             message: "the stored cursor is not an SQLite read position; reset the cursor to read from the start")
        }
    }
}

/// The spoke's connection, opened on first use: a `DatabaseQueue` (which leaves the file's
/// journal mode alone) with a busy timeout. The lock guards the lazily opened queue.
final class SQLiteConnection: @unchecked Sendable {
    let system: SystemName
    let path: String
    private let lock = NSLock()
    private var opened: DatabaseQueue?
    /// Bindings resolved against the schema, with the schema version they were resolved at.
    private var resolved: [ObjectBinding: (version: Int64, object: SQLiteObject)] = [:]

    init(system: SystemName, path: String) {
        self.system = system
        self.path = path
    }

    /// The open queue; opens the file the first time.
    /// - Throws: ``SpokeError`` (`.missingObject`) when the file does not exist.
    func queue() throws -> DatabaseQueue {
        lock.lock()
        defer { lock.unlock() }
        if let opened { return opened }
        // GRDB would create a missing file; a missing system database is a mistake to report.
        guard FileManager.default.fileExists(atPath: path) else {
            throw SpokeError(.missingObject, system: system,
                             message: "the SQLite database file '\(path)' does not exist")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.label = "hubctl.spoke.\(system)"
        configuration.prepareDatabase { db in db.add(function: SQLiteSpoke.partitionFunction) }
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        opened = queue
        return queue
    }

    /// `binding` resolved against the schema `db` reads (``SQLiteObject/resolve(_:in:system:)``),
    /// loaded again only when the database's schema version has moved since the last time:
    /// SQLite changes it with every change to any table, so a page of a long read reads one
    /// pragma instead of loading the table's columns.
    func object(_ binding: ObjectBinding, in db: Database) throws -> SQLiteObject {
        let rows = try SQLiteSQL.rows(db, "SELECT schema_version FROM pragma_schema_version()")
        guard case .int64(let version)? = rows.first?[0].storage else {
            return try SQLiteObject.resolve(binding, in: db, system: system)
        }
        let cached = lock.withLock { resolved[binding] }
        if let cached, cached.version == version { return cached.object }
        let object = try SQLiteObject.resolve(binding, in: db, system: system)
        lock.withLock { resolved[binding] = (version, object) }
        return object
    }
}
