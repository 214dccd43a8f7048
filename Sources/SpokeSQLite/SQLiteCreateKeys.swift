import GRDB
import HubCore

/// The keys of the records hubctl created in a SQLite system, in a table of the system's own
/// database (`hubctl_create_keys`), written in the same transaction as each created row.
///
/// This is what makes creates crash-safe: if hubctl stops after the system committed a create
/// but before the hub recorded it, the next run finds the record by its key instead of creating
/// it twice; and a create sent twice answers with the first record.
enum SQLiteCreateKeys {
    static let table = "hubctl_create_keys"

    static func tableExists(_ db: Database) throws -> Bool {
        try !SQLiteSQL.rows(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'hubctl_create_keys'").isEmpty
    }

    /// Creates the table and its index by ID if needed (once per batch that creates records).
    /// Without the index, dropping the older keys of each new row's ID (``record(key:id:object:in:)``)
    /// scans every key of the object: an initial load of N rows would cost N²/2 key reads.
    static func prepare(_ db: Database) throws {
        try SQLiteSQL.execute(db, """
            CREATE TABLE IF NOT EXISTS hubctl_create_keys (
                object TEXT NOT NULL, key TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (object, key)
            ) WITHOUT ROWID
            """)
        try SQLiteSQL.execute(db, "CREATE INDEX IF NOT EXISTS hubctl_create_keys_by_id ON hubctl_create_keys (object, id)")
    }

    /// True when the row `id` is in the object's table.
    static func exists(_ id: ExternalID, object: SQLiteObject, in db: Database) throws -> Bool {
        let sql: SQLiteSQL = "SELECT 1 FROM \(object.table.identifier) WHERE \(object.id.identifier) = ? LIMIT 1"
        return try !SQLiteSQL.rows(db, sql, [object.id.databaseValue(for: id)]).isEmpty
    }

    /// Records the key of a new row (the table must exist). Keys of earlier rows with the same
    /// ID are dropped: those rows were deleted and SQLite gave their rowid to this one, so the
    /// old keys must not find it.
    static func record(key: String, id: ExternalID, object: SQLiteObject, in db: Database) throws {
        try SQLiteSQL.execute(db, "DELETE FROM hubctl_create_keys WHERE object = ? AND id = ? AND key <> ?",
                              [object.table.name.databaseValue, id.rawValue.databaseValue, key.databaseValue])
        try SQLiteSQL.execute(db, "INSERT OR REPLACE INTO hubctl_create_keys (object, key, id) VALUES (?, ?, ?)",
                              [object.table.name.databaseValue, key.databaseValue, id.rawValue.databaseValue])
    }

    /// The IDs of the keys whose records exist.
    static func lookup(keys: [String], object: SQLiteObject, in db: Database) throws -> [String: ExternalID] {
        guard try tableExists(db) else { return [:] }
        var out: [String: ExternalID] = [:]
        for start in stride(from: 0, to: keys.count, by: 400) {
            let chunk = Array(keys[start..<min(start + 400, keys.count)])
            let sql: SQLiteSQL = "SELECT key, id FROM hubctl_create_keys WHERE object = ? AND key IN (\(placeholders: chunk.count))"
            let rows = try SQLiteSQL.rows(db, sql, [object.table.name.databaseValue] + chunk.map(\.databaseValue))
            for row in rows {
                guard let key = String.fromDatabaseValue(row[0]), let id = ExternalID(row[1]) else { continue }
                // Only records that still exist: one deleted since is not "already created".
                if try exists(id, object: object, in: db) { out[key] = id }
            }
        }
        return out
    }
}
