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
        try db.tableExists(table)
    }

    /// Creates the table if needed (once per batch that creates records).
    static func prepare(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS hubctl_create_keys (
                object TEXT NOT NULL, key TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (object, key)
            ) WITHOUT ROWID
            """)
    }

    /// The record created earlier with `key`, if it still exists (the table must exist).
    static func existing(key: String, object: SQLiteObject, in db: Database) throws -> ExternalID? {
        let found = try Row.fetchOne(db.cachedStatement(sql: "SELECT id FROM hubctl_create_keys WHERE object = ? AND key = ?"),
                                     arguments: [object.table.name, key])
        guard let found else { return nil }
        let id = ExternalID(found["id"] as String)
        let exists = try db.cachedStatement(
            sql: "SELECT 1 FROM \(object.table.identifier.quoted) WHERE \(object.id.identifier.quoted) = ? LIMIT 1")
        return try Row.fetchOne(exists, arguments: [object.id.databaseValue(for: id)]) != nil ? id : nil
    }

    /// Records the key of a new row (the table must exist).
    static func record(key: String, id: ExternalID, object: SQLiteObject, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO hubctl_create_keys (object, key, id) VALUES (?, ?, ?)")
            .execute(arguments: [object.table.name, key, id.rawValue])
    }

    /// The IDs of the keys whose records exist.
    static func lookup(keys: [String], object: SQLiteObject, in db: Database) throws -> [String: ExternalID] {
        guard try tableExists(db) else { return [:] }
        var out: [String: ExternalID] = [:]
        let exists = try db.cachedStatement(
            sql: "SELECT 1 FROM \(object.table.identifier.quoted) WHERE \(object.id.identifier.quoted) = ? LIMIT 1")
        for start in stride(from: 0, to: keys.count, by: 400) {
            let chunk = Array(keys[start..<min(start + 400, keys.count)])
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
            let sql = "SELECT key, id FROM hubctl_create_keys WHERE object = ? AND key IN (\(placeholders))"
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments([object.table.name] + chunk))
            for row in rows {
                let id = ExternalID(row["id"] as String)
                // Only records that still exist: one deleted since is not "already created".
                if try Row.fetchOne(exists, arguments: [object.id.databaseValue(for: id)]) != nil { out[row["key"]] = id }
            }
        }
        return out
    }
}
