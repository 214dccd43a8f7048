import Foundation
import HubCore
import PostgresNIO

/// One column of a table, as `information_schema.columns` describes it.
struct PostgresColumn: Sendable, Hashable {
    let identifier: SQLIdentifier
    /// `data_type`: `integer`, `timestamp with time zone`, `USER-DEFINED`, `ARRAY`…
    let dataType: String
    /// `udt_name`: `int4`, `timestamptz`, `citext`, the enum's name…
    let udtName: String
    let nullable: Bool
    /// True when the server fills the column on insert: a `DEFAULT`, a serial, an identity or
    /// a generated column.
    let hasDefault: Bool
    /// True for `GENERATED ALWAYS` columns, which an insert or update must not set.
    let isGenerated: Bool
    /// What kind of values the column holds (from `dataType`, worked out once: every cell read
    /// asks for it).
    let kind: ValueKind

    init(identifier: SQLIdentifier, dataType: String, udtName: String, nullable: Bool, hasDefault: Bool, isGenerated: Bool) {
        self.identifier = identifier
        self.dataType = dataType
        self.udtName = udtName
        self.nullable = nullable
        self.hasDefault = hasDefault
        self.isGenerated = isGenerated
        kind = Self.kind(of: dataType)
    }

    var name: String { identifier.name }

    /// The kind of values a column of type `dataType` holds.
    static func kind(of dataType: String) -> ValueKind {
        switch dataType {
        case "smallint", "integer", "bigint": return .integer
        case "numeric", "real", "double precision": return .number
        case "boolean": return .boolean
        case "date": return .date
        case "timestamp with time zone", "timestamp without time zone": return .datetime
        case "json", "jsonb", "ARRAY": return .json
        case "bytea": return .binary
        default: return .text
        }
    }

    /// The native type, as a person writes it: `integer`, `varchar`, `citext`.
    var nativeType: String { dataType == "USER-DEFINED" || dataType == "ARRAY" ? udtName : dataType }

    /// The select-list expression that reads this column as text: the text itself for text
    /// columns, JSON for everything else (so numbers stay numbers, timestamps read as RFC 3339 in
    /// UTC and JSON as JSON).
    var readExpression: String {
        switch kind {
        case .text: return "\(identifier.quoted)::text"
        case .json where dataType != "ARRAY": return "\(identifier.quoted)::text"
        default: return "to_json(\(identifier.quoted))::text"
        }
    }

    /// Turns a cell read with ``readExpression`` into a value.
    func value(fromText text: String?) -> Value { Self.value(fromText: text, kind: kind) }

    /// A cell of a column of `kind` read with its ``readExpression``, as a value.
    static func value(fromText text: String?, kind: ValueKind) -> Value {
        guard let text else { return .null }
        switch kind {
        case .text: return .string(text)
        default: return (try? JSONParser.parse(text)) ?? .string(text)
        }
    }

    /// The text to bind for `value` when writing this column, or nil for NULL.
    func parameter(for value: Value) -> String? {
        switch value {
        case .null: return nil
        case .string(let s):
            if kind == .json, dataType != "ARRAY" {
                // JSON text stays as it is; any other text is stored as a JSON string.
                if let parsed = try? JSONParser.parse(s), parsed.objectValue != nil || parsed.arrayValue != nil { return s }
                return JSONWriter.string(.string(s))
            }
            return s
        case .int(let i): return kind == .boolean ? (i == 0 ? "false" : "true") : String(i)
        case .double(let d):
            if kind == .integer, d == d.rounded(), abs(d) < 9.2e18 { return String(Int64(d)) }
            if kind == .json { return JSONWriter.string(value) }
            return d.isFinite ? JSONWriter.string(value) : (d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity"))
        case .bool(let b): return kind == .json ? JSONWriter.string(value) : (b ? "true" : "false")
        case .object, .array:
            if dataType == "ARRAY", case .array(let items) = value { return Self.arrayLiteral(items) }
            return JSONWriter.string(value)
        }
    }

    /// A PostgreSQL array literal (`{"a","b"}`): every element quoted, quotes and backslashes escaped.
    static func arrayLiteral(_ items: [Value]) -> String {
        let parts = items.map { item -> String in
            if item.isNull { return "NULL" }
            let text = item.displayText.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(text)\""
        }
        return "{" + parts.joined(separator: ",") + "}"
    }
}

/// A table or view of the database, loaded from `information_schema`.
struct PostgresTable: Sendable {
    let schema: String
    let name: String
    let isView: Bool
    let columns: [PostgresColumn]
    /// Columns that alone identify a row: the primary key and single-column unique indexes
    /// without a predicate (what `ON CONFLICT (column)` can use).
    let uniqueColumns: Set<String>

    /// `"schema"."table"`.
    var qualified: String { SQLIdentifier.qualified(schema, name) }

    /// The table's columns as `discover` and schema drift detection describe them, named `display`.
    func discovered(as display: String) -> DiscoveredObject {
        DiscoveredObject(name: display, fields: columns.map { c in
            DiscoveredField(name: c.name, nativeType: c.nativeType, kind: c.kind, isKey: uniqueColumns.contains(c.name),
                            nullable: c.nullable)
        })
    }

    /// The column called `name`: the exact spelling first, then ignoring case.
    func column(named name: String) -> PostgresColumn? {
        columns.first { $0.name == name } ?? columns.first { $0.name.lowercased() == name.lowercased() }
    }

    func missingColumn(_ name: String, role: String) -> String {
        var message = "table '\(schema).\(self.name)' has no \(role) '\(name)'"
        if let guess = Suggest.closest(to: name, in: columns.map(\.name)) { message += "; did you mean '\(guess)'?" }
        return message + " (its columns: \(columns.map(\.name).joined(separator: ", ")))"
    }

    /// Finds the table an `object` names: `table` in the default schema, or `schema.table`.
    static func load(_ object: String, defaultSchema: String, on connection: PostgresConnection,
                     logger: Logger) async throws -> Result<PostgresTable, TableNotFound> {
        var candidates = [(defaultSchema, object)]
        if let dot = object.firstIndex(of: ".") {
            candidates.append((String(object[..<dot]), String(object[object.index(after: dot)...])))
        }
        for (schema, name) in candidates {
            if let table = try await loadExact(schema: schema, name: name, on: connection, logger: logger) {
                return .success(table)
            }
        }
        let existing = try await tableNames(schema: defaultSchema, on: connection, logger: logger)
        return .failure(TableNotFound(name: object, schema: defaultSchema, existing: existing))
    }

    /// Tables and views of `schema`, by name.
    static func tableNames(schema: String, on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var statement = PostgresStatement("SELECT table_name::text FROM information_schema.tables WHERE table_schema = ")
        statement.bind(schema)
        statement.append(" ORDER BY table_name")
        return try await connection.textRows(statement, logger: logger).compactMap { $0[0] }
    }

    private static func loadExact(schema: String, name: String, on connection: PostgresConnection,
                                  logger: Logger) async throws -> PostgresTable? {
        var find = PostgresStatement("""
            SELECT table_schema::text, table_name::text, table_type::text FROM information_schema.tables
            WHERE table_schema = 
            """)
        find.bind(schema)
        find.append(" AND lower(table_name) = lower(")
        find.bind(name)
        find.append(") ORDER BY (table_name = ")
        find.bind(name)
        find.append(") DESC LIMIT 1")
        guard let row = try await connection.textRows(find, logger: logger).first,
              let foundSchema = row[0], let foundName = row[1] else { return nil }
        var columnsQuery = PostgresStatement("""
            SELECT column_name::text, data_type::text, udt_name::text, is_nullable::text,
                   (column_default IS NOT NULL OR is_identity = 'YES' OR is_generated = 'ALWAYS')::text,
                   (is_generated = 'ALWAYS' OR identity_generation = 'ALWAYS')::text
            FROM information_schema.columns WHERE table_schema = 
            """)
        columnsQuery.bind(foundSchema)
        columnsQuery.append(" AND table_name = ")
        columnsQuery.bind(foundName)
        columnsQuery.append(" ORDER BY ordinal_position")
        let columns = try await connection.textRows(columnsQuery, logger: logger).map { r in
            PostgresColumn(identifier: SQLIdentifier(r[0] ?? ""), dataType: r[1] ?? "", udtName: r[2] ?? "",
                           nullable: r[3] == "YES", hasDefault: r[4] == "true", isGenerated: r[5] == "true")
        }
        var uniqueQuery = PostgresStatement("""
            SELECT a.attname::text FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = to_regclass(
            """)
        uniqueQuery.bind(SQLIdentifier.qualified(foundSchema, foundName))
        uniqueQuery.append(")::oid AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL")
        let unique = try await connection.textRows(uniqueQuery, logger: logger).compactMap { $0[0] }
        return PostgresTable(schema: foundSchema, name: foundName, isView: row[2] == "VIEW", columns: columns,
                             uniqueColumns: Set(unique))
    }
}

extension PostgresTable {
    /// True when an index of the table without a predicate has `column` as its first column, so
    /// that reads in that column's order walk the index instead of sorting the table.
    func hasIndex(startingWith column: String, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        var query = PostgresStatement("""
            SELECT 1 FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indpred IS NULL AND i.indrelid = to_regclass(
            """)
        query.bind(qualified)
        query.append(")::oid AND a.attname = ")
        query.bind(column)
        query.append(" LIMIT 1")
        return try await !connection.textRows(query, logger: logger).isEmpty
    }

    /// The warning for a cursor column no index starts with, with the statement that settles it.
    func unindexedCursorWarning(_ cursor: String, id: String) -> String {
        let index = String((name + "_" + cursor).unicodeScalars.map { $0.isASCII && CharacterSet.alphanumerics.contains($0) ? Character($0) : "_" })
        return "no index of table '\(schema).\(name)' starts with its cursor column '\(cursor)': every page of an incremental "
            + "read scans and sorts the whole table, so reading it whole takes time in the square of its size; create one, "
            + "e.g. CREATE INDEX \(index) ON \(qualified) (\(SQLIdentifier(cursor).quoted), \(SQLIdentifier(id).quoted))"
    }
}

/// A table name that is not in the database, with the names that are.
struct TableNotFound: Error {
    let name: String
    let schema: String
    let existing: [String]

    var message: String {
        var message = "table '\(name)' does not exist in schema '\(schema)'"
        if let guess = Suggest.closest(to: name, in: existing) { message += "; did you mean '\(guess)'?" }
        return message + (existing.isEmpty ? " (the schema has no tables)" : " (it has: \(existing.joined(separator: ", ")))")
    }
}
