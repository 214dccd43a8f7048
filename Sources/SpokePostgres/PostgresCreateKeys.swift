import HubCore
import PostgresNIO

/// The keys of the records hubctl created in a PostgreSQL table whose IDs the server assigns
/// (serial, identity, a default), kept in `hubctl_create_keys` in the spoke's schema and written
/// in the same transaction as the rows.
///
/// This makes creates crash-safe: if hubctl stops after PostgreSQL committed a create but before
/// the hub recorded it, the next run finds the record by its key (``PostgresSpoke/lookupCreated(_:keys:)``)
/// instead of creating it twice, and a create sent again answers with the first record. Where the
/// hub's key is itself the ID, the table is not needed: the row is found by its ID. A role that
/// may not create the table still syncs; its unanswered creates are then parked by the engine.
struct PostgresCreateKeys: Sendable {
    /// `"schema"."hubctl_create_keys"`.
    let table: String

    /// The key table beside `object`'s table, in its schema.
    init(beside object: PostgresObject) { table = SQLIdentifier.qualified(object.table.schema, "hubctl_create_keys") }

    /// Creates the table if needed, inside the caller's transaction; false when the role may
    /// not create it or may not use the one another role made (the transaction goes on).
    func prepare(_ connection: PostgresConnection, _ logger: Logger) async throws -> Bool {
        try await connection.execute("SAVEPOINT hubctl_keys", logger: logger)
        do {
            try await connection.execute(
                "CREATE TABLE IF NOT EXISTS \(table) (object text NOT NULL, key text NOT NULL, id text NOT NULL, "
                    + "PRIMARY KEY (object, key))", logger: logger)
            try await connection.execute("RELEASE SAVEPOINT hubctl_keys", logger: logger)
            // The table may exist already, made by another role that never granted it to this one.
            var usable = PostgresStatement("SELECT has_table_privilege(")
            usable.bind(table)
            usable.append(", 'SELECT, INSERT, UPDATE')::text")
            return try await connection.textRows(usable, logger: logger).first?.first == "true"
        } catch let error where PostgresErrors.sqlState(error)?.hasPrefix("42") == true {
            try await connection.execute("ROLLBACK TO SAVEPOINT hubctl_keys", logger: logger)
            return false
        }
    }

    /// The IDs of the rows created earlier with these keys that still exist in `object`.
    func lookup(_ keys: [String], object: PostgresObject, _ connection: PostgresConnection,
                _ logger: Logger) async throws -> [String: ExternalID] {
        guard !keys.isEmpty else { return [:] }
        var exists = PostgresStatement("SELECT to_regclass(")
        exists.bind(table)
        exists.append(")::text")
        guard try await connection.textRows(exists, logger: logger).first?.first ?? nil != nil else { return [:] }
        var recorded: [String: ExternalID] = [:]
        for start in stride(from: 0, to: keys.count, by: 500) {
            var statement = PostgresStatement("SELECT key, id FROM \(table) WHERE object = ")
            statement.bind(object.table.name)
            statement.append(" AND key IN ")
            statement.bindList(keys[start..<min(start + 500, keys.count)].map { Optional($0) })
            for row in try await connection.textRows(statement, logger: logger) {
                if let key = row[0], let id = row[1] { recorded[key] = ExternalID(id) }
            }
        }
        // Only rows that still exist: one deleted since is not "already created".
        let ids = Array(Set(recorded.values)).filter(object.canHold)
        var existing: Set<String> = []
        for start in stride(from: 0, to: ids.count, by: 500) {
            var statement = PostgresStatement("SELECT \(object.idSelectList) FROM \(object.table.qualified) WHERE ")
            statement.append("\(object.id.identifier.quoted) IN ")
            statement.bindList(ids[start..<min(start + 500, ids.count)].map { Optional($0.rawValue) })
            for row in try await connection.textRows(statement, logger: logger) { if let id = row[0] { existing.insert(id) } }
        }
        return recorded.filter { existing.contains($0.value.rawValue) }
    }

    /// Records the keys of new rows.
    func record(_ created: [(key: String, id: ExternalID)], object: PostgresObject, _ connection: PostgresConnection,
                _ logger: Logger) async throws {
        guard !created.isEmpty else { return }
        var statement = PostgresStatement("INSERT INTO \(table) (object, key, id) VALUES ")
        for (i, c) in created.enumerated() {
            if i > 0 { statement.append(", ") }
            statement.bindList([object.table.name, c.key, c.id.rawValue])
        }
        statement.append(" ON CONFLICT (object, key) DO UPDATE SET id = EXCLUDED.id")
        try await connection.execute(statement, logger: logger)
    }
}
