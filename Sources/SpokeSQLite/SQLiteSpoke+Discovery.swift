import GRDB
import HubCore

extension SQLiteSpoke {
    /// Every table and view of the database with its columns. SQLite types are loose: a column's
    /// kind comes from its declared type (`BOOLEAN`, `DATETIME`, `JSON`…) or else its affinity,
    /// and an untyped column holds `any`.
    public func discover(_ objects: [ObjectBinding]) async throws -> SpokeSchema {
        try await reading(nil) { db in
            let names = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master
                WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
                ORDER BY name
                """)
            return SpokeSchema(objects: try names.compactMap { name in
                guard case .success(let table) = try SQLiteTable.load(named: name, in: db) else { return nil }
                return table.discovered
            })
        }
    }

    static func kind(declaredType: String) -> ValueKind {
        let type = declaredType.uppercased()
        if type.contains("BOOL") { return .boolean }
        if type.contains("DATETIME") || type.contains("TIMESTAMP") { return .datetime }
        if type.contains("DATE") { return .date }
        if type.contains("JSON") { return .json }
        switch SQLiteAffinity(declaredType: declaredType) {
        case .integer: return .integer
        case .real, .numeric: return .number
        case .text: return .text
        case .blob: return type.isEmpty ? .any : .binary
        }
    }
}
