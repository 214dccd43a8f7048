import HubCore
import PostgresNIO

/// A spoke over PostgreSQL tables: each bound object is a table (or a view, for reads) in a
/// schema (`customers`, or `billing.customers`).
///
/// - The ID column is the primary key or any unique column. On create, the server's value is
///   read back (`RETURNING`) where the column has a default (serial, identity, `gen_random_uuid()`);
///   otherwise the create's hub key becomes the ID and the insert is an upsert on it
///   (`ON CONFLICT (id) DO UPDATE`), so sending the same create twice leaves one row.
/// - With a `cursorField`, reads are incremental by keyset in (cursor, ID) order: the next run
///   starts after the last (cursor, ID) read, less the binding's lookback window (``KeysetRun``,
///   timed on the server's `clock_timestamp()`), so rows sharing one cursor value are not read
///   again once the window has passed; without a cursor, a full scan by ID. With
///   `readsChangeLog`, reads go through the change log instead, gap-safely.
/// - A batch of writes is one transaction: consecutive creates go in multi-row `INSERT`s, then
///   updates and deletes; if PostgreSQL refuses a record (NUL in text, a value too long, NOT
///   NULL, UNIQUE, CHECK or FOREIGN KEY), the batch is applied again with one savepoint per
///   record, so that record is `.failed` with PostgreSQL's message and the rest are applied.
///
/// Every table and column name is checked against `information_schema` and quoted by
/// ``SQLIdentifier``; every value is a statement parameter. Values read back as JSON-shaped
/// values: integers, numbers, booleans, text, dates (`2024-05-01`), timestamps in UTC
/// (`2024-05-01T10:00:00.123+00:00`), `json`/`jsonb` as JSON, `uuid` as text.
///
/// For example:
/// ```swift
/// let billing = try PostgresSpoke(system: "billing", settings: .parse(["url": "postgres://hubctl@db/billing"]))
/// let page = try await billing.read(ObjectBinding(entity: "customer", object: "customers",
///                                                 cursorField: "updated_at", fields: ["email"]),
///                                   after: nil, limit: 500)
/// ```
public struct PostgresSpoke: Spoke {
    public let system: SystemName
    public let settings: PostgresSettings
    /// Reads go through the change log of `hubctl capture install` (the system has `capture`
    /// in its topology); a table without it is read as without capture.
    public let readsChangeLog: Bool
    public var capabilities: SpokeCapabilities {
        SpokeCapabilities(incrementalReads: true, tombstones: false, batchWrites: true)
    }

    let session: PostgresSession
    let notices = PostgresNotices()
    /// Times the lookback window instead of the server's clock (tests); nil: the server's.
    let clock: WallClock?

    public init(system: SystemName, settings: PostgresSettings, readsChangeLog: Bool = false, clock: WallClock? = nil) {
        self.system = system
        self.settings = settings
        self.readsChangeLog = readsChangeLog
        self.clock = clock
        self.session = PostgresSession(system: system, settings: settings)
    }

    /// With the change log, every table's reads are incremental, cursor column or not.
    public func readsIncrementally(_ object: ObjectBinding) -> Bool {
        readsChangeLog || object.cursorField != nil
    }

    /// Closes the connection; the spoke reconnects if it is used again.
    public func close() async { await session.close() }

    /// Connects (reachable, authenticated) and checks each table and column.
    public func check(_ objects: [ObjectBinding]) async throws -> [SpokeCheckResult] {
        try await session.run { connection, logger in
            var results: [SpokeCheckResult] = []
            for binding in objects {
                switch try await PostgresTable.load(binding.object, defaultSchema: settings.schema, on: connection, logger: logger) {
                case .failure(let missing):
                    results.append(SpokeCheckResult(object: binding.object, problems: [missing.message]))
                case .success(let table):
                    switch PostgresObject.resolve(binding, in: table) {
                    case .failure(let p):
                        results.append(SpokeCheckResult(object: binding.object, problems: p.problems))
                    case .success(let object):
                        var problems: [String] = []
                        if !table.isView, !table.uniqueColumns.contains(object.id.name) {
                            problems.append("column '\(object.id.name)' of table '\(table.schema).\(table.name)' is neither "
                                            + "the primary key nor unique, so one ID may stand for several rows")
                        }
                        var warnings: [String] = []
                        if let cursor = object.cursor, !table.isView,
                            try await !table.hasIndex(startingWith: cursor.name, on: connection, logger: logger)
                        {
                            warnings.append(table.unindexedCursorWarning(cursor.name, id: object.id.name))
                        }
                        results.append(SpokeCheckResult(object: binding.object, problems: problems, warnings: warnings))
                    }
                }
            }
            return results
        }
    }

    /// Every table and view of the schema (and of the schemas bound objects name), with their columns.
    public func discover(_ objects: [ObjectBinding]) async throws -> SpokeSchema {
        try await session.run { connection, logger in
            var names = try await PostgresTable.tableNames(schema: settings.schema, on: connection, logger: logger)
            for binding in objects where !names.contains(binding.object) && binding.object.contains(".") {
                names.append(binding.object)
            }
            var out: [DiscoveredObject] = []
            for name in names {
                guard case .success(let table) = try await PostgresTable.load(
                    name, defaultSchema: settings.schema, on: connection, logger: logger) else { continue }
                out.append(table.discovered(as: table.schema == settings.schema ? table.name : "\(table.schema).\(table.name)"))
            }
            return SpokeSchema(objects: out)
        }
    }

    /// Runs `body` with the resolved object, turning failures into ``SpokeError``s.
    func withObject<T: Sendable>(_ binding: ObjectBinding,
                                 _ body: @Sendable (PostgresObject, PostgresConnection, Logger) async throws -> T) async throws -> T {
        let system = system, schema = settings.schema
        do {
            return try await session.run { connection, logger in
                let table: PostgresTable
                switch try await PostgresTable.load(binding.object, defaultSchema: schema, on: connection, logger: logger) {
                case .success(let t): table = t
                case .failure(let missing):
                    throw SpokeError(.configuration, system: system, object: binding.object, message: missing.message)
                }
                switch PostgresObject.resolve(binding, in: table) {
                case .success(let object):
                    return try await body(object, connection, logger)
                case .failure(let p):
                    throw SpokeError(.configuration, system: system, object: binding.object,
                                     message: p.problems.joined(separator: "; "))
                }
            }
        } catch {
            throw PostgresErrors.statementError(error, system: system, object: binding.object)
        }
    }

    func position(_ cursor: Cursor?, _ binding: ObjectBinding) throws -> PostgresReadPosition {
        // A change-log position left from when the system had `capture`: read from the start.
        if PostgresChangeLogPosition(cursor) != nil { return .start }
        guard let position = PostgresReadPosition(cursor) else {
            throw SpokeError(.configuration, system: system, object: binding.object,
                             message: "the stored cursor is not a PostgreSQL read position; reset the cursor to read from the start")
        }
        return position
    }
}
