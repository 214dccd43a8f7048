import GRDB
import HubCore

extension SQLiteSpoke {
    /// Reads one page by keyset pagination (see ``SQLiteReadPosition`` for the cursor).
    ///
    /// With a `cursorField`, a read from `nil` returns the rows whose cursor is NULL first (by
    /// ID), then every other row by (cursor, ID); the last page's `next` restarts the next run
    /// after the last (cursor, ID) read, less the binding's lookback window (``KeysetRun``,
    /// timed on the spoke's clock). Without one, rows come by ID and the last page's
    /// `next` is nil. Rows whose ID is NULL cannot be addressed and are never read; rows holding
    /// text that is not valid UTF-8 are reported in the page's `invalid`.
    public func read(_ object: ObjectBinding, after cursor: HubCore.Cursor?, limit: Int) async throws -> SpokePage {
        let limit = max(1, limit)
        let position = try position(cursor, object)
        let connection = connection, clock = clock
        return try await reading(object.object) { db in
            let resolved = try connection.object(object, in: db)
            if resolved.cursor != nil {
                var page = try Self.readIncremental(resolved, from: position, limit: limit, lookback: object.cursorLookback,
                                                    now: { clock.microseconds }, in: db)
                page.schema = resolved.table.discovered
                return page
            }
            return try Self.scanPage(resolved, from: position, limit: limit, in: db)
        }
    }

    /// One page of a full read by ID after `position` (other positions: from the start), of one
    /// part's rows when a `partition` is given.
    static func scanPage(_ object: SQLiteObject, from position: SQLiteReadPosition, limit: Int, partition: IDPartition? = nil,
                         in db: Database) throws -> SpokePage {
        let after: DatabaseValue?
        if case .scan(let id) = position { after = id } else { after = nil }
        let rows = try selectByID(object, columns: object.selectList, after: after, limit: limit + 1, partition: partition, in: db)
        let page = object.records(from: rows.prefix(limit))
        let isLast = rows.count <= limit
        let next = isLast ? nil : SQLiteReadPosition.scan(after: rows[limit - 1][0]).cursor
        return SpokePage(records: page.records, next: next, isLast: isLast, invalid: page.invalid, schema: object.table.discovered)
    }

    /// A table without a cursor can be read in parts (``read(_:partition:after:limit:)``).
    public func readsPartitions(_ object: ObjectBinding) -> Bool { object.cursorField == nil }

    /// Reads one page of `partition`: the rows whose ID's hash falls in its bucket (an integer's
    /// computed in SQL, any other ID's by ``partitionFunction``), by ID as a full read, so each
    /// part is read in the order of the ID's index.
    public func read(_ object: ObjectBinding, partition: IDPartition, after cursor: HubCore.Cursor?,
                     limit: Int) async throws -> SpokePage {
        guard readsPartitions(object) else {
            throw SpokeError(.configuration, system: system, object: object.object,
                             message: "a table read by its cursor is read whole; remove \"partitions\" from its mapping")
        }
        let limit = max(1, limit)
        let position = try position(cursor, object)
        let connection = connection
        return try await reading(object.object) { db in
            try Self.scanPage(try connection.object(object, in: db), from: position, limit: limit, partition: partition, in: db)
        }
    }

    /// `hubctl_partition(id, parts)`: the bucket (0 … parts − 1) of an ID, registered on the
    /// spoke's connection: FNV-1a of the ID as stored (an integer's decimal digits, a text's
    /// UTF-8, a blob's bytes), so a row's part depends on its ID alone.
    static let partitionFunction = DatabaseFunction("hubctl_partition", argumentCount: 2, pure: true) { values in
        guard let parts = Int64.fromDatabaseValue(values[1]), parts > 0 else { return nil }
        let hash: UInt64
        switch values[0].storage {
        case .null: return nil
        case .int64(let i): hash = IDPartition.fnv1a(String(i).utf8)
        case .double(let d): hash = IDPartition.fnv1a(String(d).utf8)
        case .string(let text): hash = IDPartition.fnv1a(text.utf8)
        case .blob(let data): hash = IDPartition.fnv1a(data)
        }
        return Int64(hash % UInt64(parts))
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
            let rows = try Self.selectByID(resolved, columns: "\(resolved.id.identifier)", after: after,
                                           limit: limit + 1, in: db)
            let ids = rows.prefix(limit).compactMap { ExternalID($0[0]) }
            let isLast = rows.count <= limit
            let next = isLast ? nil : SQLiteReadPosition.scan(after: rows[limit - 1][0]).cursor
            return IDPage(ids: ids, next: next, isLast: isLast)
        }
    }

    /// The number of rows with an ID (`SELECT count(*)`, which reads the smallest index).
    public func count(_ object: ObjectBinding) async throws -> Int? {
        let system = system
        return try await reading(object.object) { db in
            let resolved = try SQLiteObject.resolve(object, in: db, system: system)
            let rows = try SQLiteSQL.rows(db, "SELECT count(\(resolved.id.identifier)) FROM \(resolved.table.identifier)")
            return rows.first.flatMap { Int.fromDatabaseValue($0[0]) }
        }
    }

    /// Fetches records by ID, in chunks that stay under SQLite's bound-variable limit. A row
    /// holding text that is not valid UTF-8 is left out (reads report it).
    public func fetch(_ object: ObjectBinding, ids: [ExternalID]) async throws -> [SpokeRecord] {
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
                let sql: SQLiteSQL = "SELECT \(resolved.selectList) FROM \(resolved.table.identifier) "
                    + "WHERE \(resolved.id.identifier) IN (\(placeholders: chunk.count))"
                let rows = try SQLiteSQL.rows(db, sql, chunk.map { resolved.id.databaseValue(for: $0) })
                records += resolved.records(from: rows).records
            }
            return records
        }
    }

    /// IDs per `IN (…)` query: well under SQLite's default limit of 32,766 variables.
    static let fetchChunk = 500

    /// `SELECT columns … WHERE id > after ORDER BY id LIMIT limit`, of one part's rows when a
    /// `partition` is given.
    static func selectByID(_ object: SQLiteObject, columns: SQLiteSQL, after: DatabaseValue?, limit: Int,
                           partition: IDPartition? = nil, in db: Database) throws -> [SQLiteRow] {
        let id = object.id.identifier
        var sql: SQLiteSQL = "SELECT \(columns) FROM \(object.table.identifier) WHERE \(id) IS NOT NULL"
        var arguments: [DatabaseValue] = []
        if let partition {
            // An integer ID's bucket in SQL (a multiplicative hash of its low 31 bits, which
            // cannot overflow), other IDs' through the spoke's function: no call into Swift per
            // row of an integer key.
            sql = "\(sql) AND (CASE typeof(\(id)) WHEN 'integer' THEN (((\(id) & 2147483647) * 2654435761) % 4294967291) % ? "
                + "ELSE hubctl_partition(\(id), ?) END) = ?"
            arguments += [partition.count.databaseValue, partition.count.databaseValue, partition.bucket.databaseValue]
        }
        if let after {
            sql = "\(sql) AND \(id) > ?"
            arguments.append(after)
        }
        arguments.append(limit.databaseValue)
        return try SQLiteSQL.rows(db, "\(sql) ORDER BY \(id) LIMIT ?", arguments)
    }

    /// One page of an incremental read: NULL-cursor rows (full reads only), then (cursor, ID)
    /// order after the run's keyset start (``KeysetRun``); `now` reads the clock the lookback
    /// window is measured on.
    static func readIncremental(_ object: SQLiteObject, from position: SQLiteReadPosition, limit: Int,
                                lookback: Double, now: () -> Int64, in db: Database) throws -> SpokePage {
        guard let cursorColumn = object.cursor else { preconditionFailure("incremental read without a cursor column") }
        let table = object.table.identifier
        let id = object.id.identifier
        let cursor = cursorColumn.identifier
        // Index of the cursor column among the selected columns.
        let cursorIndex = object.selected.firstIndex { $0.name == cursorColumn.name }!

        // Before the first query, so at or before the snapshot every query of this page reads.
        let began = now()
        var records: [SpokeRecord] = []
        var invalid: [InvalidRecord] = []
        var lastNullID: DatabaseValue?
        let run: SQLiteReadPosition.Run
        // The last key this run read before this page (nil: none yet).
        var lastKey: SQLiteReadPosition.Run.Key?

        switch position {
        case .start, .scan, .nulls:
            // A full read: rows whose cursor is NULL first, by ID.
            var sql: SQLiteSQL = "SELECT \(object.selectList) FROM \(table) WHERE \(cursor) IS NULL AND \(id) IS NOT NULL"
            var arguments: [DatabaseValue] = []
            if case .nulls(let after) = position {
                sql = "\(sql) AND \(id) > ?"
                arguments.append(after)
                lastNullID = after
            }
            arguments.append((limit + 1).databaseValue)
            let rows = try SQLiteSQL.rows(db, "\(sql) ORDER BY \(id) LIMIT ?", arguments)
            (records, invalid) = object.records(from: rows.prefix(limit))
            if rows.count > limit {
                return SpokePage(records: records, next: SQLiteReadPosition.nulls(after: rows[limit - 1][0]).cursor,
                                 isLast: false, invalid: invalid)
            }
            if let last = rows.last { lastNullID = last[0] }
            run = SQLiteReadPosition.Run(start: .all, readAt: began)
        case .values(let key, let state):
            run = state
            lastKey = key
        case .next(let state):
            run = state.beginning(lookback: lookback, at: began)
        }

        let condition: SQLiteSQL
        let conditionArguments: [DatabaseValue]
        switch lastKey.map(SQLiteReadPosition.Run.Start.after) ?? run.start {
        case .all:
            condition = "\(cursor) IS NOT NULL"
            conditionArguments = []
        case .atLeast(let value):
            condition = "\(cursor) >= ?"
            conditionArguments = [value]
        case .after(let key):
            // A row-value comparison, so SQLite walks an index on (cursor, id) instead of scanning.
            condition = "(\(cursor), \(id)) > (?, ?)"
            conditionArguments = [key.value, key.id]
        }

        let remaining = limit - records.count - invalid.count
        let sql: SQLiteSQL = "SELECT \(object.selectList) FROM \(table) WHERE \(condition) AND \(id) IS NOT NULL "
            + "ORDER BY \(cursor), \(id) LIMIT ?"
        let rows = try SQLiteSQL.rows(db, sql, conditionArguments + [(remaining + 1).databaseValue])
        let more = object.records(from: rows.prefix(remaining))
        records += more.records
        invalid += more.invalid
        if rows.count > remaining {
            let next: SQLiteReadPosition
            if remaining == 0, let lastNullID {
                next = .nulls(after: lastNullID)
            } else {
                let last = rows[remaining - 1]
                next = .values(after: .init(value: last[cursorIndex], id: last[0]), run: run)
            }
            return SpokePage(records: records, next: next.cursor, isLast: false, invalid: invalid)
        }
        if let last = rows.last { lastKey = .init(value: last[cursorIndex], id: last[0]) }
        let finished = run.finished(last: lastKey, at: now())
        return SpokePage(records: records, next: SQLiteReadPosition.next(finished).cursor, isLast: true, invalid: invalid)
    }
}
