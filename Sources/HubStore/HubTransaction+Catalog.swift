import GRDB
import HubCore

/// One table of the hub as its database's catalog describes it.
struct HubTableShape: Sendable, Hashable {
    var name: String
    /// Every column, in the table's order.
    var columns: [String]
    /// The primary key's columns, in the key's order (empty: the table has none).
    var primaryKey: [String]
    /// The columns whose declared type is an integer.
    var integerColumns: Set<String> = []
}

/// The hub's own tables, read from the database's catalog rather than from a list kept by hand,
/// so a table added by a later migration is seen without anyone remembering to add it.
extension HubTransaction {
    /// Every table of the hub's schema (SQLite's internal `sqlite_*` tables excepted), by name.
    func catalogTables() throws -> [HubTableShape] {
        let names: [String] = switch dialect {
        case .sqlite:
            try rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
                .map { $0["name"] }
        case .postgres:
            try rows("""
                SELECT table_name::text AS name FROM information_schema.tables
                WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1
                """).map { $0["name"] }
        }
        return try names.map { name in
            let columns: [(name: String, pk: Int, type: String)] = switch dialect {
            case .sqlite:
                try rows("SELECT name, pk, type FROM pragma_table_info(?) ORDER BY cid", [name]).map { ($0["name"], $0["pk"], $0["type"]) }
            case .postgres:
                try rows("""
                    SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type,
                        coalesce((SELECT k.n FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                                  WHERE i.indrelid = a.attrelid AND i.indisprimary AND k.attnum = a.attnum), 0) AS pk
                    FROM pg_attribute a
                    WHERE a.attrelid = (quote_ident(current_schema()) || '.' || quote_ident(?))::regclass
                        AND a.attnum > 0 AND NOT a.attisdropped
                    ORDER BY a.attnum
                    """, [name]).map { ($0["name"], $0["pk"], $0["type"]) }
            }
            let key = columns.filter { $0.pk > 0 }.sorted { $0.pk < $1.pk }.map(\.name)
            return HubTableShape(name: name, columns: columns.map(\.name), primaryKey: key,
                                 integerColumns: Set(columns.filter { $0.type.uppercased().contains("INT") }.map(\.name)))
        }
    }

    /// The identifiers of the schema steps applied to this hub (GRDB's record on SQLite,
    /// `hub_migration` elsewhere).
    func appliedMigrations() throws -> Set<String> {
        let table = dialect == .sqlite ? "grdb_migrations" : "hub_migration"
        return Set(try rows("SELECT identifier FROM \(table)").map { $0["identifier"] as String })
    }

    /// The highest `id` this table has handed out: its identity sequence on PostgreSQL,
    /// `sqlite_sequence` for an `AUTOINCREMENT` table on SQLite, and at least its largest `id`.
    func highestID(of table: String) throws -> Int64 {
        let quoted = HubTableShape.quote(table)
        var highest = try value(Int64.self, "SELECT max(id) FROM \(quoted)") ?? 0
        switch dialect {
        case .sqlite:
            if try autoincrements(table), let seq = try value(Int64.self, "SELECT seq FROM sqlite_sequence WHERE name = ?", [table]) {
                highest = max(highest, seq)
            }
        case .postgres:
            if let sequence = try identitySequence(of: table),
                let row = try rows("SELECT last_value, is_called FROM \(sequence)").first, (row["is_called"] as Int64) != 0
            {
                highest = max(highest, row["last_value"] as Int64)
            }
        }
        return highest
    }

    /// Makes the next `id` this table hands out larger than `highest` (on SQLite, only an
    /// `AUTOINCREMENT` table keeps a counter; another takes its largest `id` plus one anyway).
    func raiseNextID(of table: String, past highest: Int64) throws {
        switch dialect {
        case .sqlite:
            guard try autoincrements(table), highest > 0 else { return }
            if try executeCounted("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", [highest, table]) == 0 {
                try execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", [table, highest])
            }
        case .postgres:
            guard let sequence = try identitySequence(of: table) else { return }
            // setval(…, false) means "the next value is this one", for a table that never had a row.
            if highest > 0 {
                _ = try rows("SELECT setval('\(sequence.replacingOccurrences(of: "'", with: "''"))', ?, true)", [highest])
            } else {
                _ = try rows("SELECT setval('\(sequence.replacingOccurrences(of: "'", with: "''"))', 1, false)")
            }
        }
    }

    private func autoincrements(_ table: String) throws -> Bool {
        try value(Int64.self, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'") == 1
            && (try value(String.self, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]) ?? "")
                .uppercased().contains("AUTOINCREMENT")
    }

    /// The quoted name of the sequence behind a PostgreSQL table's `id` identity, if it has one.
    private func identitySequence(of table: String) throws -> String? {
        try value(String.self, "SELECT pg_get_serial_sequence(quote_ident(current_schema()) || '.' || quote_ident(?), 'id')",
                  [table])
    }
}

extension HubTableShape {
    /// `name` as an SQL identifier, quoted the same way in SQLite and PostgreSQL.
    static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// True when the table has an integer `id` key that a database hands out.
    var hasIDKey: Bool { primaryKey == ["id"] && integerColumns.contains("id") }
}
