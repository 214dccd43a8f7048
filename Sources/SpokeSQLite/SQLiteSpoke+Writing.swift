import GRDB
import HubCore

extension SQLiteSpoke {
    /// Applies a batch in one transaction, each write in its own savepoint.
    ///
    /// - A create inserts the given fields and returns the row's ID as the table holds it
    ///   (`RETURNING`): the rowid SQLite assigns to an `INTEGER PRIMARY KEY`, a column default,
    ///   the ID the fields set, or else the create's hub key. NULL values are left out for columns
    ///   with a `DEFAULT`, so the default applies.
    /// - An update sets only the given columns (never the ID column); no row → `.notFound`.
    /// - A delete succeeds whether or not the row still exists.
    /// - A record the database rejects (NOT NULL, UNIQUE, CHECK, foreign key, a trigger's `RAISE`,
    ///   a datatype mismatch) is `.failed` with SQLite's message, which names the constraint but
    ///   no values; the rest of the batch is applied.
    ///
    /// Text is bound with its length: a NUL inside it is stored, not cut off. A missing table is
    /// a `.missingObject` error, and a field that is not a column of the table fails the whole
    /// batch with a configuration error, before anything is written. Columns the writes do not mention, such as a cursor column a
    /// trigger maintains, are left alone.
    public func write(_ object: ObjectBinding, _ writes: [SpokeWrite]) async throws -> [SpokeWriteResult] {
        guard !writes.isEmpty else { return [] }
        let system = system
        let results = try await writing(object.object) { db in
            let resolved = try SQLiteObject.resolve(object, in: db, system: system)
            var names: Set<String> = []
            for write in writes {
                switch write {
                case .create(_, let fields), .update(_, let fields): names.formUnion(fields.keys)
                case .delete: break
                }
            }
            let columns = try resolved.columns(for: names, in: db, system: system)
            let keys = writes.compactMap { write -> String? in if case .create(let key, _) = write { key } else { nil } }
            // Creates whose key was already applied (a run stopped before recording the answer)
            // answer with the record they made: looked up once for the batch, not once per create.
            var created: [String: ExternalID] = [:]
            if !keys.isEmpty {
                try SQLiteCreateKeys.prepare(db)
                created = try SQLiteCreateKeys.lookup(keys: keys, object: resolved, in: db)
            }
            let writer = SQLiteBatchWriter(object: resolved, columns: columns, db: db)
            return try writes.map { write in
                guard case .create(let key, _) = write else { return try writer.apply(write) }
                if let id = created[key] { return .created(id) }
                let result = try writer.apply(write)
                if case .created(let id) = result { created[key] = id }
                return result
            }
        }
        try faultPoint(.sqliteAfterCommit)
        return results
    }

    /// Finds creates by key in the database's `hubctl_create_keys` table, which every create
    /// writes in the same transaction as its row.
    public func lookupCreated(_ object: ObjectBinding, keys: [String]) async throws -> [String: ExternalID]? {
        guard !keys.isEmpty else { return [:] }
        let system = system
        return try await reading(object.object) { db in
            let resolved = try SQLiteObject.resolve(object, in: db, system: system)
            return try SQLiteCreateKeys.lookup(keys: keys, object: resolved, in: db)
        }
    }
}

/// Applies the writes of one batch inside its transaction.
struct SQLiteBatchWriter {
    let object: SQLiteObject
    /// The column of every field name the batch uses.
    let columns: [String: SQLiteColumn]
    let db: Database

    var table: SQLIdentifier { object.table.identifier }
    var idColumn: SQLiteColumn { object.id }

    /// Applies one write in a savepoint; a record-level rejection rolls back only this write.
    func apply(_ write: SpokeWrite) throws -> SpokeWriteResult {
        var result = SpokeWriteResult.failed("not applied")
        do {
            try db.inSavepoint {
                switch write {
                case .create(let key, let fields): result = try create(key: key, fields: fields)
                case .update(let id, let fields): result = try update(id: id, fields: fields)
                case .delete(let id): result = try delete(id: id)
                }
                return .commit
            }
            return result
        } catch let error as DatabaseError where Self.isRecordLevel(error) {
            return .failed("rejected by SQLite: \(error.message ?? "constraint failed")")
        }
    }

    /// Errors that concern one record, not the database: constraints, type mismatches, oversized values.
    static func isRecordLevel(_ error: DatabaseError) -> Bool {
        [.SQLITE_CONSTRAINT, .SQLITE_MISMATCH, .SQLITE_TOOBIG, .SQLITE_RANGE].contains(error.resultCode)
    }

    /// Field values by column, in a stable column order (so statements are cached), without the
    /// ID column unless `includeID`; NULLs left out where `skipNullDefaults` and the column has a default.
    func assignments(_ fields: [String: Value], includeID: Bool, skipNullDefaults: Bool)
        -> [(column: SQLiteColumn, value: DatabaseValue)]
    {
        var out: [(column: SQLiteColumn, value: DatabaseValue)] = []
        for key in fields.keys.sorted() {
            guard let column = columns[key], let value = fields[key] else { continue }
            if column.name == idColumn.name && (!includeID || value.isNull) { continue }
            if skipNullDefaults && value.isNull && column.hasDefault { continue }
            if out.contains(where: { $0.column.name == column.name }) { continue }
            out.append((column, value.databaseValue))
        }
        return out
    }

    /// Inserts the record and records its key (the caller answers creates whose key was applied).
    func create(key: String, fields: [String: Value]) throws -> SpokeWriteResult {
        let result = try insert(key: key, fields: fields)
        if case .created(let id) = result { try SQLiteCreateKeys.record(key: key, id: id, object: object, in: db) }
        return result
    }

    func insert(key: String, fields: [String: Value]) throws -> SpokeWriteResult {
        var values = assignments(fields, includeID: true, skipNullDefaults: true)
        let setsID = values.contains { $0.column.name == idColumn.name }
        if !setsID && !idColumn.isRowID && !idColumn.hasDefault {
            // The system assigns no ID: the hub's key becomes the record's ID.
            values.append((idColumn, idColumn.databaseValue(for: ExternalID(key))))
        }
        let returning: SQLiteSQL = "RETURNING \(idColumn.identifier)"
        let sql: SQLiteSQL
        if values.isEmpty {
            sql = "INSERT INTO \(table) DEFAULT VALUES \(returning)"
        } else {
            sql = "INSERT INTO \(table) (\(values.map(\.column.identifier))) VALUES (\(placeholders: values.count)) \(returning)"
        }
        let row = try SQLiteSQL.rows(db, sql, values.map(\.value)).first
        guard let row, let id = ExternalID(row[0]) else {
            return .failed("the new row has no ID in column '\(idColumn.name)'")
        }
        return .created(id)
    }

    func update(id: ExternalID, fields: [String: Value]) throws -> SpokeWriteResult {
        let values = assignments(fields, includeID: false, skipNullDefaults: false)
        let idValue = idColumn.databaseValue(for: id)
        let where_: SQLiteSQL = "WHERE \(idColumn.identifier) = ?"
        if values.isEmpty {
            let exists = try !SQLiteSQL.rows(db, "SELECT 1 FROM \(table) \(where_) LIMIT 1", [idValue]).isEmpty
            return exists ? .updated : .notFound
        }
        let set = SQLiteSQL.joined(values.map { "\($0.column.identifier) = ?" }, separator: ", ")
        try SQLiteSQL.execute(db, "UPDATE \(table) SET \(set) \(where_)", values.map(\.value) + [idValue])
        return db.changesCount == 0 ? .notFound : .updated
    }

    func delete(id: ExternalID) throws -> SpokeWriteResult {
        try SQLiteSQL.execute(db, "DELETE FROM \(table) WHERE \(idColumn.identifier) = ?", [idColumn.databaseValue(for: id)])
        return .deleted
    }
}
