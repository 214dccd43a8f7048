import GRDB
import HubCore

/// How SQLite converts values stored in a column: its type affinity.
///
/// Derived from the declared type by SQLite's own rules
/// (<https://www.sqlite.org/datatype3.html#determination_of_column_affinity>).
enum SQLiteAffinity: Sendable, Hashable {
    case integer, text, blob, real, numeric

    init(declaredType: String) {
        let type = declaredType.uppercased()
        if type.contains("INT") {
            self = .integer
        } else if type.contains("CHAR") || type.contains("CLOB") || type.contains("TEXT") {
            self = .text
        } else if type.isEmpty || type.contains("BLOB") {
            self = .blob
        } else if type.contains("REAL") || type.contains("FLOA") || type.contains("DOUB") {
            self = .real
        } else {
            self = .numeric
        }
    }
}

/// One column of a table, as the live schema describes it.
struct SQLiteColumn: Sendable {
    let identifier: SQLIdentifier
    let affinity: SQLiteAffinity
    /// True when SQLite assigns the value itself: an `INTEGER PRIMARY KEY` or the hidden rowid.
    let isRowID: Bool
    /// True when the column has a `DEFAULT`.
    let hasDefault: Bool
    /// The type the schema declares (may be empty).
    let declaredType: String
    let isNotNull: Bool
    /// True when the column is (part of) the primary key.
    var isPrimaryKey = false

    var name: String { identifier.name }

    /// The column as `discover` and schema drift detection describe it.
    var discovered: DiscoveredField {
        DiscoveredField(name: name, nativeType: declaredType.isEmpty ? "(untyped)" : declaredType,
                        kind: SQLiteSpoke.kind(declaredType: declaredType), isKey: isPrimaryKey, nullable: !isNotNull)
    }
}

/// A table or view of the system database, read from the live schema.
///
/// The schema is read with SQLite's table-valued pragma functions (`pragma_table_info(?)`,
/// `pragma_index_list(?)`) and the table name as a bound argument: a name is never spliced into
/// a pragma, so a table called `a"); --` cannot make SQLite describe table `a`.
struct SQLiteTable: Sendable {
    let identifier: SQLIdentifier
    let isView: Bool
    let columns: [SQLiteColumn]
    /// The primary key's columns, in key order (empty for a view or a table keyed by its rowid alone).
    let primaryKey: [String]

    var name: String { identifier.name }

    /// The table's columns as `discover` and schema drift detection describe them: what each
    /// read has loaded already, so a page carries its schema at no extra cost.
    var discovered: DiscoveredObject { DiscoveredObject(name: name, fields: columns.map(\.discovered)) }

    /// hubctl's own table in a system database (see ``SQLiteCreateKeys``).
    static let ownTables: Set<String> = [SQLiteCreateKeys.table]

    /// The tables and views of the database (SQLite's own tables left out), by name.
    static func objects(in db: Database) throws -> [(name: String, isView: Bool)] {
        try SQLiteSQL.rows(db, """
            SELECT name, type FROM sqlite_master
            WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
            ORDER BY name
            """).compactMap {
            guard case .string(let name) = $0[0].storage else { return nil }
            return (name, $0[1] == "view".databaseValue)
        }
    }

    /// Loads the table named `name` (compared as SQLite does, ignoring ASCII case), or returns
    /// nil with the names of the tables and views that do exist.
    static func load(named name: String, in db: Database) throws -> Result<SQLiteTable, TableNotFound> {
        let objects = try objects(in: db)
        guard let found = objects.first(where: { $0.name == name })
            ?? objects.first(where: { $0.name.asciiLowercased == name.asciiLowercased })
        else {
            return .failure(TableNotFound(name: name, existing: objects.map(\.name).filter { !ownTables.contains($0) }))
        }
        return .success(try load(found.name, isView: found.isView, in: db))
    }

    /// Reads the columns and key of the table or view `name` (as the schema spells it).
    static func load(_ name: String, isView: Bool, in db: Database) throws -> SQLiteTable {
        let info = try SQLiteSQL.rows(db, #"SELECT name, type, dflt_value, pk, "notnull" FROM pragma_table_info(?, 'main') ORDER BY cid"#,
                                      [name.databaseValue])
        var primaryKey: [(name: String, position: Int64)] = []
        var declared: [(name: String, type: String, hasDefault: Bool, notNull: Bool)] = []
        for row in info {
            guard case .string(let column) = row[0].storage else { continue }
            let type = String.fromDatabaseValue(row[1]) ?? ""
            declared.append((column, type, !row[2].isNull, Int64.fromDatabaseValue(row[4]) == 1))
            if let position = Int64.fromDatabaseValue(row[3]), position > 0 { primaryKey.append((column, position)) }
        }
        let key = primaryKey.sorted { $0.position < $1.position }.map(\.name)
        // An INTEGER PRIMARY KEY (that exact type) of a rowid table is the rowid.
        var rowIDColumn: String?
        if !isView, key.count == 1, let column = declared.first(where: { $0.name == key[0] }),
           column.type.uppercased() == "INTEGER", try hasRowID(name, in: db)
        {
            rowIDColumn = column.name
        }
        let columns = declared.map { column in
            SQLiteColumn(identifier: SQLIdentifier(column.name), affinity: SQLiteAffinity(declaredType: column.type),
                         isRowID: column.name == rowIDColumn, hasDefault: column.hasDefault,
                         declaredType: column.type, isNotNull: column.notNull, isPrimaryKey: key.contains(column.name))
        }
        return SQLiteTable(identifier: SQLIdentifier(name), isView: isView, columns: columns, primaryKey: key)
    }

    /// False for a `WITHOUT ROWID` table.
    static func hasRowID(_ name: String, in db: Database) throws -> Bool {
        if let list = try? SQLiteSQL.rows(db, "SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?",
                                          [name.databaseValue]),
           let row = list.first
        {
            return Int64.fromDatabaseValue(row[0]) != 1
        }
        // SQLite before 3.37 has no table_list: a rowid table can select its rowid (unless a
        // column is named so, which then is what the table has anyway).
        return SQLiteSQL.compiles(db, "SELECT rowid FROM \(SQLIdentifier(name)) LIMIT 0")
    }

    /// True when `column` alone identifies a row: it is the primary key, or has a unique index
    /// that is not partial.
    func hasUniqueKey(_ column: String, in db: Database) throws -> Bool {
        if primaryKey.count == 1, primaryKey[0].asciiLowercased == column.asciiLowercased { return true }
        let indexes = try SQLiteSQL.rows(db, #"SELECT name FROM pragma_index_list(?, 'main') WHERE "unique" = 1 AND partial = 0"#,
                                         [name.databaseValue])
        for index in indexes {
            let parts = try SQLiteSQL.rows(db, "SELECT name FROM pragma_index_info(?, 'main') ORDER BY seqno", [index[0]])
            if parts.count == 1, String.fromDatabaseValue(parts[0][0])?.asciiLowercased == column.asciiLowercased { return true }
        }
        return false
    }

    /// True when an index of the table (its primary key included) has `column` as its first
    /// column, so that reads in that column's order walk the index instead of sorting.
    func hasIndex(startingWith column: String, in db: Database) throws -> Bool {
        if primaryKey.first?.asciiLowercased == column.asciiLowercased { return true }
        for index in try SQLiteSQL.rows(db, "SELECT name FROM pragma_index_list(?, 'main')", [name.databaseValue]) {
            let first = try SQLiteSQL.rows(db, "SELECT name FROM pragma_index_info(?, 'main') WHERE seqno = 0", [index[0]])
            if let name = first.first.flatMap({ String.fromDatabaseValue($0[0]) }), name.asciiLowercased == column.asciiLowercased {
                return true
            }
        }
        return false
    }

    /// The column named `name`, compared as SQLite does (exact spelling first, then ignoring
    /// ASCII case). `rowid`, `_rowid_` and `oid` name the hidden rowid when no column has that name.
    func column(named name: String, in db: Database) -> SQLiteColumn? {
        if let exact = columns.first(where: { $0.name == name }) { return exact }
        let folded = name.asciiLowercased
        if let column = columns.first(where: { $0.name.asciiLowercased == folded }) { return column }
        guard !isView, ["rowid", "_rowid_", "oid"].contains(folded) else { return nil }
        // WITHOUT ROWID tables have no rowid: preparing a statement that reads it fails.
        guard SQLiteSQL.compiles(db, "SELECT \(SQLIdentifier(name)) FROM \(identifier) LIMIT 0") else { return nil }
        return SQLiteColumn(identifier: SQLIdentifier(name), affinity: .integer, isRowID: true, hasDefault: false,
                            declaredType: "INTEGER", isNotNull: true)
    }

    /// Describes a column that does not exist, listing the columns that do.
    func missingColumn(_ name: String, role: String) -> String {
        var message = "table '\(self.name)' has no \(role) '\(name)'"
        if let guess = Suggest.closest(to: name, in: columns.map(\.name)) { message += "; did you mean '\(guess)'?" }
        return message + " (its columns: \(columns.map(\.name).joined(separator: ", ")))"
    }
}

/// A table name that is not in the database, with the names that are.
struct TableNotFound: Error {
    let name: String
    let existing: [String]

    var message: String {
        let list = existing.isEmpty ? "the database has no tables" : "it has: \(existing.joined(separator: ", "))"
        let guess = Suggest.closest(to: name, in: existing).map { "did you mean '\($0)'? " } ?? ""
        return "table '\(name)' does not exist; \(guess)\(list)"
    }
}

extension String {
    /// The string with ASCII letters lowercased, as SQLite compares identifiers.
    var asciiLowercased: String {
        String(decoding: utf8.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}
