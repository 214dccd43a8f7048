import HubCore
import PostgresNIO

extension PostgresSpoke {
    /// Reads one page of a captured table through the change log (`hubctl_changes`), gap-safely
    /// by transaction snapshot (see ``PostgresChangeLogPosition`` for the cursor).
    ///
    /// - With no position, a full read by ID. The snapshot is taken **before** its first page,
    ///   and the next run reads every transaction that finished after it, so a row changed during
    ///   the scan is read again (the engine sees it unchanged) rather than missed.
    /// - From a snapshot `s1`, a run takes a new snapshot `s2` and reads the entries of the
    ///   transactions visible in `s2` but not in `s1`. A transaction still running at `s2` is in
    ///   neither, so its rows are read by the run after it commits, however long it stays open
    ///   and whatever committed after it. A page is up to `limit` changed row IDs (each once,
    ///   however often it changed), fetched by ID in their current state; an ID whose row is
    ///   gone is listed in `deleted`.
    /// - The first page of a run deletes the table's entries visible in `s1`: the engine hands
    ///   back only a position it has committed in the hub. A role without `DELETE` on the log
    ///   leaves them (said once in the log).
    /// - A `TRUNCATE` in the window makes the run a full read from a new snapshot.
    ///
    /// When the table has no capture trigger (or the schema no log), the read is the one
    /// without capture — by the cursor column, or in full — and the log says so once.
    func readThroughChangeLog(_ binding: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> SpokePage {
        let limit = max(1, limit)
        let position = PostgresChangeLogPosition(cursor)
        let log = PostgresChangeCapture(spoke: self).qualifiedLog, functionSchema = settings.schema
        let step: ChangeLogStep = try await withObject(binding) { object, connection, logger in
            let schema = object.table.discovered(as: binding.object)
            guard try await Self.isCaptured(object, log: log, functionSchema: functionSchema, connection, logger) else {
                await notices.once("fallback \(object.table.qualified)") {
                    logger.warning("""
                        change capture is configured for \(system), but \(object.table.qualified) has no hubctl capture \
                        trigger (or the schema no \(PostgresChangeCapture.logTable) table), so it is read \
                        \(binding.cursorField == nil ? "in full" : "by its cursor column") instead; run `hubctl capture install \(system)`
                        """, metadata: ["event": "capture.read_fallback", "system": "\(system)"])
                }
                guard binding.cursorField == nil else { return .byColumn }
                let after: String? = if case .full(nil, let id)? = position { id } else { nil }
                return .page(try await Self.fullPage(object, snapshot: nil, after: after, limit: limit, schema, connection, logger))
            }
            let reader = ChangeLogReader(object: object, log: log, connection: connection, logger: logger)
            switch position {
            case .full(let snapshot?, let after)?:
                return .page(try await Self.fullPage(object, snapshot: snapshot, after: after, limit: limit, schema, connection, logger))
            case .since(let from)?:
                do {
                    try await reader.prune(visibleIn: from)
                } catch let error where PostgresErrors.sqlState(error) != nil {
                    // PostgreSQL refused (no DELETE privilege): the read goes on; a broken connection throws.
                    await notices.once("prune \(log)") {
                        logger.warning("""
                            \(system): could not delete read entries from \(log) (\(PostgresErrors.serverMessage(error) ?? "refused")); \
                            they stay until the role in the connection may DELETE from it
                            """, metadata: ["event": "capture.prune_failed", "system": "\(system)"])
                    }
                }
                let to = try await reader.snapshot()
                if try await reader.truncated(from: from, to: to) {
                    return .page(try await Self.fullPage(object, snapshot: to, after: nil, limit: limit, schema, connection, logger))
                }
                return .changes(try await reader.changedIDs(from: from, to: to, after: 0, limit: limit), from: from, to: to, schema)
            case .window(let from, let to, let after)?:
                return .changes(try await reader.changedIDs(from: from, to: to, after: after, limit: limit), from: from, to: to, schema)
            case .full(nil, _)?, nil:
                // The snapshot comes first: whatever commits during the scan is read again next run.
                let snapshot = try await reader.snapshot()
                return .page(try await Self.fullPage(object, snapshot: snapshot, after: nil, limit: limit, schema, connection, logger))
            }
        }
        switch step {
        case .page(let page):
            return page
        case .byColumn:
            // A change-log position means nothing to the cursor-column read: it starts over.
            return try await readByColumn(binding, after: position == nil ? cursor : nil, limit: limit)
        case .changes(let changed, let from, let to, let schema):
            let ids = changed.prefix(limit).map(\.id)
            let records = try await fetch(binding, ids: ids)
            let found = Set(records.map(\.id))
            let isLast = changed.count <= limit
            let next: PostgresChangeLogPosition = isLast ? .since(to) : .window(from: from, to: to, after: changed[limit - 1].change)
            return SpokePage(records: records, deleted: ids.filter { !found.contains($0) }, next: next.cursor, isLast: isLast,
                             schema: schema)
        }
    }

    /// True when `object`'s table has an enabled row trigger calling the capture function, and
    /// the log table exists.
    static func isCaptured(_ object: PostgresObject, log: String, functionSchema: String, _ connection: PostgresConnection,
                           _ logger: Logger) async throws -> Bool {
        var statement = PostgresStatement("SELECT (to_regclass(")
        statement.bind(log)
        statement.append("""
            ) IS NOT NULL AND EXISTS (
              SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE t.tgrelid = 
            """)
        statement.bind(object.table.qualified)
        statement.append("::regclass AND p.proname = ")
        statement.bind(PostgresChangeCapture.function)
        statement.append(" AND n.nspname = ")
        statement.bind(functionSchema)
        statement.append(" AND (t.tgtype & 1) = 1 AND t.tgenabled <> 'D'))::text")
        return try await connection.textRows(statement, logger: logger).first?.first == "true"
    }

    /// One page of a full read by ID; the last page's `next` is where the change log takes over
    /// (`snapshot`), or a full read again when there is no log.
    static func fullPage(_ object: PostgresObject, snapshot: String?, after: String?, limit: Int, _ schema: DiscoveredObject,
                         _ connection: PostgresConnection, _ logger: Logger) async throws -> SpokePage {
        let rows = try await selectByID(object, columns: object.selectList, after: after, limit: limit + 1, connection, logger)
        let records = rows.prefix(limit).compactMap(object.record(from:))
        if rows.count > limit, let last = rows[limit - 1][0] {
            return SpokePage(records: records, next: PostgresChangeLogPosition.full(snapshot: snapshot, after: last).cursor,
                             isLast: false, schema: schema)
        }
        let next: PostgresChangeLogPosition = snapshot.map { .since($0) } ?? .full(snapshot: nil, after: nil)
        return SpokePage(records: records, next: next.cursor, isLast: true, schema: schema)
    }
}

/// What the change-log read decided on the connection; fetching by ID comes after.
enum ChangeLogStep: Sendable {
    case page(SpokePage)
    case byColumn
    case changes([ChangeLogReader.Changed], from: String, to: String, DiscoveredObject)
}

/// The change-log queries of one captured table, on one connection.
struct ChangeLogReader {
    let object: PostgresObject
    let log: String
    let connection: PostgresConnection
    let logger: Logger

    /// A row ID changed in a window, and its last entry there (the keyset of the window's pages).
    struct Changed: Sendable {
        var id: ExternalID
        var change: Int64
    }

    /// `schema.table`, as the trigger writes it.
    var tableName: String { "\(object.table.schema).\(object.table.name)" }

    /// The current snapshot, as text.
    func snapshot() async throws -> String {
        let rows = try await connection.textRows(PostgresStatement("SELECT pg_current_snapshot()::text"), logger: logger)
        return rows.first?.first.flatMap { $0 } ?? ""
    }

    /// Deletes the table's entries of transactions visible in `snapshot` (read, and committed in the hub).
    func prune(visibleIn snapshot: String) async throws {
        var statement = PostgresStatement("DELETE FROM \(log) WHERE table_name = ")
        statement.bind(tableName)
        statement.append(" AND txid < pg_snapshot_xmax(")
        statement.bind(snapshot)
        statement.append("::pg_snapshot) AND pg_visible_in_snapshot(txid, ")
        statement.bind(snapshot)
        statement.append("::pg_snapshot)")
        try await connection.execute(statement, logger: logger)
    }

    /// True when a transaction of the window truncated the table.
    func truncated(from: String, to: String) async throws -> Bool {
        var statement = PostgresStatement("SELECT EXISTS (SELECT 1 FROM \(log) WHERE op = 'TRUNCATE' AND ")
        window(&statement, from: from, to: to)
        statement.append(")::text")
        return try await connection.textRows(statement, logger: logger).first?.first == "true"
    }

    /// Up to `limit + 1` row IDs changed in the window after entry `after`, each once, in the
    /// order of their last entry: a page ends at an entry every row of the page is done by.
    ///
    /// Each row's last entry of the window is the one no later entry of the same row follows:
    /// an index scan from `after` with an anti-join on (table, row, id), which stops after
    /// `limit + 1` rows, so a page costs the same at the start of a large window as at its end.
    func changedIDs(from: String, to: String, after: Int64, limit: Int) async throws -> [Changed] {
        var statement = PostgresStatement("SELECT l.row_id, l.id::text FROM \(log) l WHERE l.row_id IS NOT NULL AND l.id > ")
        statement.bind(String(after))
        statement.append("::bigint AND ")
        window(&statement, alias: "l", from: from, to: to)
        statement.append(" AND NOT EXISTS (SELECT 1 FROM \(log) n WHERE n.row_id = l.row_id AND n.id > l.id AND ")
        window(&statement, alias: "n", from: from, to: to)
        statement.append(") ORDER BY l.id LIMIT ")
        statement.bind(String(limit + 1))
        return try await connection.textRows(statement, logger: logger).compactMap { row in
            guard let id = row[0], let change = row[1].flatMap({ Int64($0) }) else { return nil }
            return Changed(id: ExternalID(id), change: change)
        }
    }

    /// The table's entries of transactions visible in `to` but not in `from` (columns of `alias`).
    func window(_ statement: inout PostgresStatement, alias: String? = nil, from: String, to: String) {
        let column = { (name: String) in alias.map { "\($0).\(name)" } ?? name }
        statement.append("\(column("table_name")) = ")
        statement.bind(tableName)
        statement.append(" AND \(column("txid")) >= pg_snapshot_xmin(")
        statement.bind(from)
        statement.append("::pg_snapshot) AND \(column("txid")) < pg_snapshot_xmax(")
        statement.bind(to)
        statement.append("::pg_snapshot) AND pg_visible_in_snapshot(\(column("txid")), ")
        statement.bind(to)
        statement.append("::pg_snapshot) AND NOT pg_visible_in_snapshot(\(column("txid")), ")
        statement.bind(from)
        statement.append("::pg_snapshot)")
    }
}

/// Messages a spoke logs once per process (per spoke), not on every page.
actor PostgresNotices {
    private var said: Set<String> = []

    /// Runs `say` the first time `key` comes.
    func once(_ key: String, _ say: @Sendable () -> Void) {
        if said.insert(key).inserted { say() }
    }
}
