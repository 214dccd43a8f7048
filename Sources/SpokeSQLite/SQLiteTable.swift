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
    /// The declared type (`TEXT`, `VARCHAR(20)`, empty when untyped).
    var declaredType = ""
    /// True for a `NOT NULL` column.
    var notNull = false
    /// True when the column is (part of) the primary key.
    var isPrimaryKey = false

    var name: String { identifier.name }

    /// The column as `discover` and schema drift detection describe it.
    var discovered: DiscoveredField {
        DiscoveredField(name: name, nativeType: declaredType.isEmpty ? "(untyped)" : declaredType,
                        kind: SQLiteSpoke.kind(declaredType: declaredType), isKey: isPrimaryKey, nullable: !notNull)
    }
}

/// A table or view of the system database, read from the live schema (`PRAGMA table_info`).
struct SQLiteTable: Sendable {
    let identifier: SQLIdentifier
    let isView: Bool
    let columns: [SQLiteColumn]

    var name: String { identifier.name }

    /// The table's columns as `discover` and schema drift detection describe them: what each
    /// read has loaded already, so a page carries its schema at no extra cost.
    var discovered: DiscoveredObject { DiscoveredObject(name: name, fields: columns.map(\.discovered)) }

    /// Loads the table named `name` (compared as SQLite does, ignoring ASCII case), or returns
    /// nil with the names of the tables and views that do exist.
    static func load(named name: String, in db: Database) throws -> Result<SQLiteTable, TableNotFound> {
        let objects = try Row.fetchAll(db, sql: """
            SELECT name, type FROM sqlite_master
            WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
            ORDER BY name
            """).map { (name: $0["name"] as String, isView: ($0["type"] as String) == "view") }
        guard let found = objects.first(where: { $0.name == name })
            ?? objects.first(where: { $0.name.asciiLowercased == name.asciiLowercased })
        else {
            return .failure(TableNotFound(name: name, existing: objects.map(\.name)))
        }
        let primaryKey = found.isView ? nil : try db.primaryKey(found.name)
        let rowIDColumn = primaryKey?.rowIDColumn
        let columns = try db.columns(in: found.name).map { info in
            SQLiteColumn(identifier: SQLIdentifier(info.name), affinity: SQLiteAffinity(declaredType: info.type),
                         isRowID: info.name == rowIDColumn, hasDefault: info.defaultValueSQL != nil,
                         declaredType: info.type, notNull: info.isNotNull,
                         isPrimaryKey: primaryKey?.columns.contains(info.name) ?? false)
        }
        return .success(SQLiteTable(identifier: SQLIdentifier(found.name), isView: found.isView, columns: columns))
    }

    /// The column named `name`, compared as SQLite does (exact spelling first, then ignoring
    /// ASCII case). `rowid`, `_rowid_` and `oid` name the hidden rowid when no column has that name.
    func column(named name: String, in db: Database) -> SQLiteColumn? {
        if let exact = columns.first(where: { $0.name == name }) { return exact }
        let folded = name.asciiLowercased
        if let column = columns.first(where: { $0.name.asciiLowercased == folded }) { return column }
        guard !isView, ["rowid", "_rowid_", "oid"].contains(folded) else { return nil }
        // WITHOUT ROWID tables have no rowid: preparing a statement that reads it fails.
        let probe = "SELECT \(SQLIdentifier(name).quoted) FROM \(identifier.quoted) LIMIT 0"
        guard (try? db.makeStatement(sql: probe)) != nil else { return nil }
        return SQLiteColumn(identifier: SQLIdentifier(name), affinity: .integer, isRowID: true, hasDefault: false)
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
