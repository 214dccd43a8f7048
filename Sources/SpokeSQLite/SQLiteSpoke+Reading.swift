import GRDB
import HubCore

extension SQLiteSpoke {
    /// Reads one page by keyset pagination (see ``SQLiteReadPosition`` for the cursor).
    ///
    /// With a `cursorField`, a read from `nil` returns the rows whose cursor is NULL first (by
    /// ID), then every other row by (cursor, ID); the last page's `next` restarts the next run at
    /// the highest cursor value, inclusive. Without one, rows come by ID and the last page's
    /// `next` is nil. Rows whose ID is NULL cannot be addressed and are never read.
    public func read(_ object: ObjectBinding, after cursor: HubCore.Cursor?, limit: Int) async throws -> SpokePage {
        let limit = max(1, limit)
        let position = try position(cursor, object)
        let system = system
        return try await reading(object.object) { db in
            let resolved = try SQLiteObject.resolve(object, in: db, system: system)
            if resolved.cursor != nil {
                var page = try Self.readIncremental(resolved, from: position, limit: limit, in: db)
                page.schema = resolved.table.discovered
                return page
            }
            let after: DatabaseValue?
            if case .scan(let id) = position { after = id } else { after = nil }  // other positions: start over
            let rows = try Self.selectByID(resolved, columns: resolved.selectList, after: after, limit: limit + 1, in: db)
            let records = rows.prefix(limit).compactMap(resolved.record(from:))
            let isLast = rows.count <= limit
            let next = isLast ? nil : SQLiteReadPosition.scan(after: rows[limit - 1][0] as DatabaseValue).cursor
            return SpokePage(records: records, next: next, isLast: isLast, schema: resolved.table.discovered)
        }
    }

    /// Lists IDs by keyset pagination on the ID column; the last page's `next` is nil.
    public func scanIDs(_ object: ObjectBinding, after cursor: HubCore.Cursor?, limit: Int) async throws -> IDPage {
        let limit = max(1, limit)
        let position = try position(cursor, object)
        let system = system
        return try await reading(object.object) { db in
            let resolved = try SQLiteObject.resolve(object, in: db, system: system)
            let after: DatabaseValue?
            if case .scan(let id) = position { after = id } else { after = nil }
            let rows = try Self.selectByID(resolved, columns: resolved.id.identifier.quoted, after: after,
                                           limit: limit + 1, in: db)
            let ids = rows.prefix(limit).compactMap { ExternalID($0[0] as DatabaseValue) }
            let isLast = rows.count <= limit
            let next = isLast ? nil : SQLiteReadPosition.scan(after: rows[limit - 1][0] as DatabaseValue).cursor
            return IDPage(ids: ids, next: next, isLast: isLast)
        }
    }

    /// The number of rows with an ID (`SELECT count(*)`, which reads the smallest index).
    public func count(_ object: ObjectBinding) async throws -> Int? {
        let system = system
        return try await reading(object.object) { db in
            let resolved = try SQLiteObject.resolve(object, in: db, system: system)
            return try Int.fetchOne(db, sql: "SELECT count(\(resolved.id.identifier.quoted)) FROM \(resolved.table.identifier.quoted)")
        }
    }

    /// Fetches records by ID, in chunks that stay under SQLite's bound-variable limit.
    public func fetch(_ object: ObjectBinding, ids: [ExternalID]) async throws -> [SpokeRecord] {
        guard !ids.isEmpty else { return [] }
        let system = system
        var seen: Set<ExternalID> = []
        let unique = ids.filter { seen.insert($0).inserted }
        return try await reading(object.object) { db in
            let resolved = try SQLiteObject.resolve(object, in: db, system: system)
            var records: [SpokeRecord] = []
            var start = 0
            while start < unique.count {
                let chunk = unique[start..<min(start + Self.fetchChunk, unique.count)]
                start += chunk.count
                let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                let sql = "SELECT \(resolved.selectList) FROM \(resolved.table.identifier.quoted) "
                    + "WHERE \(resolved.id.identifier.quoted) IN (\(placeholders))"
                let arguments = StatementArguments(chunk.map { resolved.id.databaseValue(for: $0) })
                let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
                while let row = try rows.next() {
                    if let record = resolved.record(from: row) { records.append(record) }
                }
            }
            return records
        }
    }

    /// IDs per `IN (…)` query: well under SQLite's default limit of 32,766 variables.
    static let fetchChunk = 500

    /// `SELECT columns … WHERE id > after ORDER BY id LIMIT limit`.
    static func selectByID(_ object: SQLiteObject, columns: String, after: DatabaseValue?, limit: Int,
                           in db: Database) throws -> [Row] {
        let id = object.id.identifier.quoted
        var sql = "SELECT \(columns) FROM \(object.table.identifier.quoted) WHERE \(id) IS NOT NULL"
        var arguments: [DatabaseValue] = []
        if let after {
            sql += " AND \(id) > ?"
            arguments.append(after)
        }
        sql += " ORDER BY \(id) LIMIT ?"
        arguments.append(limit.databaseValue)
        return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(arguments))
    }

    /// One page of an incremental read: NULL-cursor rows (full reads only), then (cursor, ID) order.
    static func readIncremental(_ object: SQLiteObject, from position: SQLiteReadPosition, limit: Int,
                                in db: Database) throws -> SpokePage {
        guard let cursorColumn = object.cursor else { preconditionFailure("incremental read without a cursor column") }
        let table = object.table.identifier.quoted
        let id = object.id.identifier.quoted
        let cursor = cursorColumn.identifier.quoted
        // Index of the cursor column among the selected columns.
        let cursorIndex = object.selected.firstIndex { $0.name == cursorColumn.name }!

        var records: [SpokeRecord] = []
        var lastNullID: DatabaseValue?
        let condition: String
        let conditionArguments: [DatabaseValue]
        // Where the next run starts if this run reads no row with a cursor value.
        let fallbackSince: DatabaseValue

        switch position {
        case .start, .scan, .nulls:
            // A full read: rows whose cursor is NULL first, by ID.
            var sql = "SELECT \(object.selectList) FROM \(table) WHERE \(cursor) IS NULL AND \(id) IS NOT NULL"
            var arguments: [DatabaseValue] = []
            if case .nulls(let after) = position {
                sql += " AND \(id) > ?"
                arguments.append(after)
                lastNullID = after
            }
            sql += " ORDER BY \(id) LIMIT ?"
            arguments.append((limit + 1).databaseValue)
            let rows = try Row.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(arguments))
            records = rows.prefix(limit).compactMap(object.record(from:))
            if rows.count > limit {
                return SpokePage(records: records, next: SQLiteReadPosition.nulls(after: rows[limit - 1][0]).cursor,
                                 isLast: false)
            }
            if let last = rows.last { lastNullID = last[0] as DatabaseValue }
            condition = "\(cursor) IS NOT NULL"
            conditionArguments = []
            fallbackSince = .null
        case .values(let value, let after):
            // A row-value comparison, so SQLite walks an index on (cursor, id) instead of scanning.
            condition = "(\(cursor), \(id)) > (?, ?)"
            conditionArguments = [value, after]
            fallbackSince = value
        case .since(let value):
            condition = value.isNull ? "\(cursor) IS NOT NULL" : "\(cursor) >= ?"
            conditionArguments = value.isNull ? [] : [value]
            fallbackSince = value
        }

        let remaining = limit - records.count
        let sql = "SELECT \(object.selectList) FROM \(table) WHERE \(condition) AND \(id) IS NOT NULL "
            + "ORDER BY \(cursor), \(id) LIMIT ?"
        let rows = try Row.fetchAll(db.cachedStatement(sql: sql),
                                    arguments: StatementArguments(conditionArguments + [(remaining + 1).databaseValue]))
        records += rows.prefix(remaining).compactMap(object.record(from:))
        if rows.count > remaining {
            let next: SQLiteReadPosition
            if remaining == 0, let lastNullID {
                next = .nulls(after: lastNullID)
            } else {
                let last = rows[remaining - 1]
                next = .values(after: last[cursorIndex], id: last[0])
            }
            return SpokePage(records: records, next: next.cursor, isLast: false)
        }
        let since = rows.last.map { $0[cursorIndex] as DatabaseValue } ?? fallbackSince
        return SpokePage(records: records, next: SQLiteReadPosition.since(since).cursor, isLast: true)
    }
}
