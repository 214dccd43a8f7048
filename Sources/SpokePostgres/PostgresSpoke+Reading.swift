import HubCore
import PostgresNIO

extension PostgresSpoke {
    /// Reads one page by keyset pagination (see ``PostgresReadPosition`` for the cursor).
    ///
    /// With a `cursorField`, a read from `nil` returns the rows whose cursor is NULL first (by
    /// ID), then every other row by (cursor, ID); the last page's `next` restarts the next run
    /// after the last (cursor, ID) read, less the binding's lookback window (``KeysetRun``).
    /// Without one, rows come by ID and the last page's `next` is nil. A system with change
    /// capture reads through its change log instead (PostgresSpoke+ChangeLogReading.swift).
    public func read(_ binding: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> SpokePage {
        if readsChangeLog { return try await readThroughChangeLog(binding, after: cursor, limit: limit) }
        return try await readByColumn(binding, after: cursor, limit: limit)
    }

    /// The read without capture.
    func readByColumn(_ binding: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> SpokePage {
        let limit = max(1, limit)
        let position = try position(cursor, binding)
        let clock = clock
        return try await withObject(binding) { object, connection, logger in
            // The columns the lookup before every read loaded: the page's schema, at no extra query.
            let schema = object.table.discovered(as: binding.object)
            if object.cursor != nil {
                let now: () async throws -> Int64 = {
                    if let clock { clock.microseconds } else { try await Self.serverMicroseconds(connection, logger) }
                }
                var page = try await Self.readIncremental(object, from: position, limit: limit, lookback: binding.cursorLookback,
                                                          now: now, connection, logger)
                page.schema = schema
                return page
            }
            var page = try await Self.scanPage(object, from: position, limit: limit, connection, logger)
            page.schema = schema
            return page
        }
    }

    /// One page of a full read by ID after `position` (other positions: from the start), of one
    /// part's rows when a `partition` is given.
    static func scanPage(_ object: PostgresObject, from position: PostgresReadPosition, limit: Int, partition: IDPartition? = nil,
                         _ connection: PostgresConnection, _ logger: Logger) async throws -> SpokePage {
        let after: String?
        if case .scan(let id) = position { after = id } else { after = nil }
        let rows = try await selectByID(object, columns: object.selectList, after: after, limit: limit + 1, partition: partition,
                                        connection, logger)
        let records = rows.prefix(limit).compactMap(object.record(from:))
        let isLast = rows.count <= limit
        let next = isLast ? nil : rows[limit - 1][0].flatMap { PostgresReadPosition.scan(after: $0).cursor }
        return SpokePage(records: records, next: next, isLast: isLast)
    }

    /// A table read without a cursor and without change capture can be read in parts.
    public func readsPartitions(_ binding: ObjectBinding) -> Bool { binding.cursorField == nil && !readsChangeLog }

    /// Reads one page of `partition`: the rows whose ID's hash (the server's `hashtext` of the
    /// ID as text) falls in its bucket, by ID as a full read.
    public func read(_ binding: ObjectBinding, partition: IDPartition, after cursor: Cursor?, limit: Int) async throws -> SpokePage {
        guard readsPartitions(binding) else {
            throw SpokeError(.configuration, system: system, object: binding.object,
                             message: "a table read by its cursor or through change capture is read whole; "
                                 + "remove \"partitions\" from its mapping")
        }
        let limit = max(1, limit)
        let position = try position(cursor, binding)
        return try await withObject(binding) { object, connection, logger in
            var page = try await Self.scanPage(object, from: position, limit: limit, partition: partition, connection, logger)
            page.schema = object.table.discovered(as: binding.object)
            return page
        }
    }

    /// Lists IDs by keyset pagination on the ID column; the last page's `next` is nil.
    public func scanIDs(_ binding: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> IDPage {
        let limit = max(1, limit)
        let position = try position(cursor, binding)
        return try await withObject(binding) { object, connection, logger in
            let after: String?
            if case .scan(let id) = position { after = id } else { after = nil }
            let rows = try await Self.selectByID(object, columns: object.idSelectList, after: after,
                                                 limit: limit + 1, connection, logger)
            let ids = rows.prefix(limit).compactMap { $0[0].map(ExternalID.init) }
            let isLast = rows.count <= limit
            let next = isLast ? nil : rows[limit - 1][0].flatMap { PostgresReadPosition.scan(after: $0).cursor }
            return IDPage(ids: ids, next: next, isLast: isLast)
        }
    }

    /// How many rows the table holds (`count(*)`), so the engine can skip an ID scan when no
    /// linked row can be missing.
    public func count(_ binding: ObjectBinding) async throws -> Int? {
        try await withObject(binding) { object, connection, logger in
            let rows = try await connection.textRows(PostgresStatement("SELECT count(*)::text FROM \(object.table.qualified)"),
                                                     logger: logger)
            return rows.first?.first.flatMap { $0.flatMap { Int($0) } }
        }
    }

    /// The rows created earlier with these keys (see ``PostgresCreateKeys``): found by ID where
    /// the hub's key is the ID, through the key table where the server assigns IDs.
    public func lookupCreated(_ binding: ObjectBinding, keys: [String]) async throws -> [String: ExternalID]? {
        guard !keys.isEmpty else { return [:] }
        return try await withObject(binding) { object, connection, logger in
            if object.id.hasDefault {
                return try await PostgresCreateKeys(beside: object).lookup(keys, object: object, connection, logger)
            }
            let candidates = keys.filter { object.canHold(ExternalID($0)) }
            var found: [String: ExternalID] = [:]
            for start in stride(from: 0, to: candidates.count, by: 500) {
                var statement = PostgresStatement("SELECT \(object.idSelectList) FROM \(object.table.qualified) WHERE ")
                statement.append("\(object.id.identifier.quoted) IN ")
                statement.bindList(candidates[start..<min(start + 500, candidates.count)].map { Optional($0) })
                for row in try await connection.textRows(statement, logger: logger) {
                    if let id = row[0] { found[id] = ExternalID(id) }
                }
            }
            return found
        }
    }

    /// Fetches records by ID, 500 at a time.
    public func fetch(_ binding: ObjectBinding, ids: [ExternalID]) async throws -> [SpokeRecord] {
        guard !ids.isEmpty else { return [] }
        var seen: Set<ExternalID> = []
        let requested = ids.filter { seen.insert($0).inserted }
        return try await withObject(binding) { object, connection, logger in
            // An ID the key column cannot hold (text for an integer key) names no row.
            let unique = requested.filter(object.canHold)
            guard !unique.isEmpty else { return [] }
            var records: [SpokeRecord] = []
            for start in stride(from: 0, to: unique.count, by: 500) {
                let chunk = unique[start..<min(start + 500, unique.count)]
                var statement = PostgresStatement("SELECT \(object.selectList) FROM \(object.table.qualified) WHERE ")
                statement.append("\(object.id.identifier.quoted) IN ")
                statement.bindList(chunk.map { Optional($0.rawValue) })
                records += try await connection.textRows(statement, logger: logger).compactMap(object.record(from:))
            }
            return records
        }
    }

    /// `SELECT columns … WHERE id > after ORDER BY id LIMIT limit`, of one part's rows when a
    /// `partition` is given (`hashtext` of the ID's text, cast to bigint so that its absolute
    /// value cannot overflow).
    static func selectByID(_ object: PostgresObject, columns: String, after: String?, limit: Int, partition: IDPartition? = nil,
                           _ connection: PostgresConnection, _ logger: Logger) async throws -> [[String?]] {
        let id = object.id.identifier.quoted
        var statement = PostgresStatement("SELECT \(columns) FROM \(object.table.qualified) WHERE \(id) IS NOT NULL")
        if let partition {
            statement.append(" AND abs(hashtext(\(id)::text)::bigint) % ")
            statement.bind(String(partition.count))
            statement.append("::bigint = ")
            statement.bind(String(partition.bucket))
            statement.append("::bigint")
        }
        if let after {
            statement.append(" AND \(id) > ")
            statement.bind(after)
        }
        statement.append(" ORDER BY \(id) LIMIT ")
        statement.bind(String(limit))
        return try await connection.textRows(statement, logger: logger)
    }

    /// One page of an incremental read: NULL-cursor rows (full reads only), then (cursor, ID)
    /// order after the run's keyset start (``KeysetRun``); `now` reads the clock the lookback
    /// window is measured on (the server's `clock_timestamp()` unless a clock was injected).
    static func readIncremental(_ object: PostgresObject, from position: PostgresReadPosition, limit: Int,
                                lookback: Double, now: () async throws -> Int64,
                                _ connection: PostgresConnection, _ logger: Logger) async throws -> SpokePage {
        guard let cursorColumn = object.cursor else { preconditionFailure("incremental read without a cursor column") }
        let table = object.table.qualified
        let id = object.id.identifier.quoted
        let cursor = cursorColumn.identifier.quoted

        var records: [SpokeRecord] = []
        var lastNullID: String?
        var statement = PostgresStatement("SELECT \(object.selectList) FROM \(table) WHERE ")
        let run: PostgresReadPosition.Run
        // The last key this run read before this page (nil: none yet).
        var lastKey: PostgresReadPosition.Run.Key?

        switch position {
        case .start, .scan, .nulls:
            var nulls = PostgresStatement("SELECT \(object.selectList) FROM \(table) WHERE \(cursor) IS NULL AND \(id) IS NOT NULL")
            if case .nulls(let after) = position {
                nulls.append(" AND \(id) > ")
                nulls.bind(after)
                lastNullID = after
            }
            nulls.append(" ORDER BY \(id) LIMIT ")
            nulls.bind(String(limit + 1))
            let rows = try await connection.textRows(nulls, logger: logger)
            records = rows.prefix(limit).compactMap(object.record(from:))
            if rows.count > limit, let last = rows[limit - 1][0] {
                return SpokePage(records: records, next: PostgresReadPosition.nulls(after: last).cursor, isLast: false)
            }
            if let last = rows.last?[0] { lastNullID = last }
            // Before the first query of the rows with a cursor value (each statement reads its
            // own snapshot): at or before that snapshot.
            run = PostgresReadPosition.Run(start: .all, readAt: try await now())
        case .values(let key, let state):
            run = state
            lastKey = key
        case .next(let state):
            run = state.beginning(lookback: lookback, at: try await now())
        }

        switch lastKey.map(PostgresReadPosition.Run.Start.after) ?? run.start {
        case .all:
            statement.append("\(cursor) IS NOT NULL")
        case .atLeast(let value):
            statement.append("\(cursor) >= ")
            statement.bind(value)
        case .after(let key):
            statement.append("(\(cursor) > ")
            statement.bind(key.value)
            statement.append(" OR (\(cursor) = ")
            statement.bind(key.value)
            statement.append(" AND \(id) > ")
            statement.bind(key.id)
            statement.append("))")
        }

        let remaining = limit - records.count
        statement.append(" AND \(id) IS NOT NULL ORDER BY \(cursor), \(id) LIMIT ")
        statement.bind(String(remaining + 1))
        let rows = try await connection.textRows(statement, logger: logger)
        records += rows.prefix(remaining).compactMap(object.record(from:))
        if rows.count > remaining {
            let next: PostgresReadPosition
            if remaining == 0, let lastNullID {
                next = .nulls(after: lastNullID)
            } else {
                let last = rows[remaining - 1]
                next = .values(after: .init(value: last[1] ?? "", id: last[0] ?? ""), run: run)
            }
            return SpokePage(records: records, next: next.cursor, isLast: false)
        }
        if let last = rows.last { lastKey = .init(value: last[1] ?? "", id: last[0] ?? "") }
        // After the last query: at or after the snapshot that read the last key.
        let finished = run.finished(last: lastKey, at: try await now())
        return SpokePage(records: records, next: PostgresReadPosition.next(finished).cursor, isLast: true)
    }

    /// The server's `clock_timestamp()` in microseconds since 1970.
    static func serverMicroseconds(_ connection: PostgresConnection, _ logger: Logger) async throws -> Int64 {
        let rows = try await connection.textRows(
            PostgresStatement("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::int8::text"), logger: logger)
        guard let text = rows.first?.first ?? nil, let micros = Int64(text) else {
            throw PostgresClockError()
        }
        return micros
    }
}

/// `clock_timestamp()` answered something that is not a time.
struct PostgresClockError: Error, CustomStringConvertible {
    var description: String { "the server's clock_timestamp() did not answer a time; check the connection's role and server" }
}
