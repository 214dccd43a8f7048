import HubCore
import PostgresNIO

extension PostgresSpoke {
    /// Applies a batch in one transaction.
    ///
    /// First as a whole (consecutive creates in multi-row `INSERT`s); if PostgreSQL refuses a
    /// record, that attempt is rolled back and the batch is applied again with one savepoint per
    /// write, so only the refused records are `.failed` (with PostgreSQL's message and SQLSTATE,
    /// never the values) and the others are applied.
    ///
    /// - A create inserts the given columns and returns the row's ID: the server's value where
    ///   the ID column has a default, else the create's hub key (an upsert on the ID, so a repeated
    ///   create does not duplicate the row). NULLs are left out for columns with a default.
    /// - An update sets only the given columns (never the ID); no row → `.notFound`.
    /// - A delete succeeds whether or not the row still exists.
    ///
    /// A field that is not a column fails the whole batch with a configuration error before
    /// anything is written.
    public func write(_ binding: ObjectBinding, _ writes: [SpokeWrite]) async throws -> [SpokeWriteResult] {
        guard !writes.isEmpty else { return [] }
        let system = system
        return try await withObject(binding) { object, connection, logger in
            var names: Set<String> = []
            for write in writes {
                switch write {
                case .create(_, let fields), .update(_, let fields): names.formUnion(fields.keys)
                case .delete: break
                }
            }
            var columns: [String: PostgresColumn] = [:]
            var missing: [String] = []
            for name in names {
                if let c = object.table.column(named: name) { columns[name] = c } else { missing.append(name) }
            }
            guard missing.isEmpty else {
                throw SpokeError(.configuration, system: system, object: binding.object,
                                 message: missing.sorted().map { object.table.missingColumn($0, role: "column") }
                                    .joined(separator: "; "))
            }
            try await connection.execute("BEGIN", logger: logger)
            do {
                // Server-assigned IDs: the keys of new rows go in the key table (when the role may create it).
                var keys: PostgresCreateKeys?
                if object.id.hasDefault, writes.contains(where: { if case .create = $0 { true } else { false } }) {
                    let table = PostgresCreateKeys(beside: object)
                    if try await table.prepare(connection, logger) { keys = table }
                }
                let writer = PostgresBatchWriter(object: object, columns: columns, keys: keys, connection: connection,
                                                 logger: logger)
                try await connection.execute("SAVEPOINT hubctl_batch", logger: logger)
                var results: [SpokeWriteResult]
                do {
                    results = try await writer.applyTogether(writes)
                    try await connection.execute("RELEASE SAVEPOINT hubctl_batch", logger: logger)
                } catch where PostgresErrors.isRecordLevel(error) {
                    try await connection.execute("ROLLBACK TO SAVEPOINT hubctl_batch", logger: logger)
                    results = try await writer.applyOneByOne(writes)
                }
                try await connection.execute("COMMIT", logger: logger)
                return results
            } catch {
                try? await connection.execute("ROLLBACK", logger: logger)
                throw error
            }
        }
    }
}

/// Applies the writes of one batch inside its transaction.
struct PostgresBatchWriter {
    let object: PostgresObject
    /// The column of every field name the batch uses.
    let columns: [String: PostgresColumn]
    /// Where the keys of new rows are kept, when the server assigns their IDs.
    let keys: PostgresCreateKeys?
    let connection: PostgresConnection
    let logger: Logger

    var table: String { object.table.qualified }
    var idColumn: PostgresColumn { object.id }
    /// Parameters per multi-row `INSERT`, well under PostgreSQL's limit of 65,535.
    static let maxParameters = 20_000

    /// Applies every write without savepoints; a refused record throws (the caller rolls back).
    func applyTogether(_ writes: [SpokeWrite]) async throws -> [SpokeWriteResult] {
        var results: [SpokeWriteResult] = []
        results.reserveCapacity(writes.count)
        var index = 0
        while index < writes.count {
            // A run of creates with the same columns goes in one statement.
            if case .create(let key, let fields) = writes[index] {
                let shape = insertColumns(key: key, fields: fields)
                var rows = [(key: key, fields: fields)]
                var next = index + 1
                while next < writes.count, case .create(let k, let f) = writes[next],
                      insertColumns(key: k, fields: f).map(\.name) == shape.map(\.name),
                      (rows.count + 1) * max(1, shape.count) <= Self.maxParameters {
                    rows.append((k, f))
                    next += 1
                }
                results += try await insert(rows, columns: shape)
                index = next
                continue
            }
            results.append(try await apply(writes[index]))
            index += 1
        }
        return results
    }

    /// Applies each write in its own savepoint; a refused record is `.failed`, the rest go on.
    func applyOneByOne(_ writes: [SpokeWrite]) async throws -> [SpokeWriteResult] {
        var results: [SpokeWriteResult] = []
        for write in writes {
            try await connection.execute("SAVEPOINT hubctl_record", logger: logger)
            do {
                let result: SpokeWriteResult
                if case .create(let key, let fields) = write {
                    result = try await insert([(key, fields)], columns: insertColumns(key: key, fields: fields))[0]
                } else {
                    result = try await apply(write)
                }
                try await connection.execute("RELEASE SAVEPOINT hubctl_record", logger: logger)
                results.append(result)
            } catch where PostgresErrors.isRecordLevel(error) {
                try await connection.execute("ROLLBACK TO SAVEPOINT hubctl_record", logger: logger)
                results.append(.failed(PostgresErrors.rejection(error)))
            }
        }
        return results
    }

    func apply(_ write: SpokeWrite) async throws -> SpokeWriteResult {
        switch write {
        case .create(let key, let fields):
            return try await insert([(key, fields)], columns: insertColumns(key: key, fields: fields))[0]
        case .update(let id, let fields): return try await update(id: id, fields: fields)
        case .delete(let id): return try await delete(id: id)
        }
    }

    /// True when a create's hub key becomes the row's ID (the server assigns none).
    func keyIsID(_ fields: [String: Value]) -> Bool {
        !idColumn.hasDefault && !fields.contains { columns[$0.key]?.name == idColumn.name && !$0.value.isNull }
    }

    /// The columns an insert of these fields sets, in a stable order: the ID first when the key
    /// is the ID, then the fields' columns by name (NULLs left out where the column has a default).
    func insertColumns(key: String, fields: [String: Value]) -> [PostgresColumn] {
        var out: [PostgresColumn] = []
        if keyIsID(fields) { out.append(idColumn) }
        for name in fields.keys.sorted() {
            guard let column = columns[name], let value = fields[name], !column.isGenerated else { continue }
            if column.name == idColumn.name && value.isNull { continue }
            if value.isNull && column.hasDefault { continue }
            if out.contains(where: { $0.name == column.name }) { continue }
            out.append(column)
        }
        return out
    }

    /// Creates rows, answering a key created before (and still there) with its row instead of a
    /// second one, and recording the keys of the new rows.
    func insert(_ rows: [(key: String, fields: [String: Value])], columns shape: [PostgresColumn]) async throws
        -> [SpokeWriteResult]
    {
        guard let keys else { return try await insertRows(rows, columns: shape) }
        let known = try await keys.lookup(rows.map(\.key), object: object, connection, logger)
        let fresh = rows.filter { known[$0.key] == nil }
        let inserted = fresh.isEmpty ? [] : try await insertRows(fresh, columns: shape)
        var created: [(key: String, id: ExternalID)] = []
        for (row, result) in zip(fresh, inserted) {
            if case .created(let id) = result { created.append((row.key, id)) }
        }
        try await keys.record(created, object: object, connection, logger)
        var next = inserted.makeIterator()
        return rows.map { row in known[row.key].map { .created($0) } ?? next.next() ?? .failed("not inserted") }
    }

    /// One multi-row `INSERT … RETURNING id`; rows come back in the order of the VALUES list.
    func insertRows(_ rows: [(key: String, fields: [String: Value])], columns shape: [PostgresColumn]) async throws
        -> [SpokeWriteResult]
    {
        let id = idColumn.identifier.quoted
        var statement = PostgresStatement("INSERT INTO \(table) ")
        if shape.isEmpty {
            statement.append("DEFAULT VALUES")
        } else {
            statement.append("(" + shape.map(\.identifier.quoted).joined(separator: ", ") + ") VALUES ")
            for (i, row) in rows.enumerated() {
                if i > 0 { statement.append(", ") }
                statement.bindList(shape.map { column in
                    if column.name == idColumn.name, keyIsID(row.fields) { return row.key }
                    let value = row.fields.first { columns[$0.key]?.name == column.name }?.value ?? .null
                    return column.parameter(for: value)
                })
            }
        }
        // Where the hub key is the ID and the column is unique, a repeated create updates the same row.
        if let first = shape.first, first.name == idColumn.name, object.table.uniqueColumns.contains(idColumn.name) {
            let updates = shape.map { "\($0.identifier.quoted) = EXCLUDED.\($0.identifier.quoted)" }
            statement.append(" ON CONFLICT (\(id)) DO UPDATE SET " + updates.joined(separator: ", "))
        }
        statement.append(" RETURNING \(id)::text")
        let returned = try await connection.textRows(statement, logger: logger)
        return rows.indices.map { i in
            guard i < returned.count, let value = returned[i][0] else {
                return .failed("the new row has no ID in column '\(idColumn.name)'")
            }
            return .created(ExternalID(value))
        }
    }

    func update(id: ExternalID, fields: [String: Value]) async throws -> SpokeWriteResult {
        // An ID the key column cannot hold (text for an integer key) names no row.
        guard isValid(id) else { return .notFound }
        var assignments: [(PostgresColumn, Value)] = []
        for name in fields.keys.sorted() {
            guard let column = columns[name], column.name != idColumn.name, !column.isGenerated,
                  !assignments.contains(where: { $0.0.name == column.name }) else { continue }
            assignments.append((column, fields[name]!))
        }
        var statement: PostgresStatement
        if assignments.isEmpty {
            statement = PostgresStatement("SELECT 1 FROM \(table) WHERE \(idColumn.identifier.quoted) = ")
            statement.bind(id.rawValue)
        } else {
            statement = PostgresStatement("UPDATE \(table) SET ")
            for (i, (column, value)) in assignments.enumerated() {
                if i > 0 { statement.append(", ") }
                statement.append("\(column.identifier.quoted) = ")
                statement.bind(column.parameter(for: value))
            }
            statement.append(" WHERE \(idColumn.identifier.quoted) = ")
            statement.bind(id.rawValue)
            statement.append(" RETURNING 1")
        }
        return try await connection.textRows(statement, logger: logger).isEmpty ? .notFound : .updated
    }

    func delete(id: ExternalID) async throws -> SpokeWriteResult {
        guard isValid(id) else { return .deleted }
        var statement = PostgresStatement("DELETE FROM \(table) WHERE \(idColumn.identifier.quoted) = ")
        statement.bind(id.rawValue)
        try await connection.execute(statement, logger: logger)
        return .deleted
    }

    func isValid(_ id: ExternalID) -> Bool { object.canHold(id) }
}
