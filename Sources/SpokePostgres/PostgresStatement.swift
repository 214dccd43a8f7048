import HubCore
import PostgresNIO

/// SQL text with its parameters: the only way the postgres spoke builds a statement.
///
/// Identifiers enter the text only through ``SQLIdentifier`` (made from names found in
/// `information_schema`); every value is appended with ``bind(_:)``, which adds a `$n`
/// placeholder and sends the value as a parameter, never as SQL text. Parameters are sent as
/// text of unspecified type, so PostgreSQL infers each one's type from where it stands (the
/// column it is compared with or inserted into) and parses it with that type's input function:
/// `'42'` becomes an integer, `'2024-05-01T10:00:00Z'` a timestamptz, and a value the column
/// cannot hold is refused by PostgreSQL as a data error for that record.
struct PostgresStatement: Sendable {
    private(set) var sql = ""
    private(set) var binds = PostgresBindings()
    private var count = 0

    init(_ sql: String = "") { self.sql = sql }

    /// Appends SQL text (keywords, quoted identifiers, placeholders made by `bind`).
    mutating func append(_ text: String) { sql += text }

    /// Appends a placeholder for `value` (nil binds NULL).
    mutating func bind(_ value: String?) {
        count += 1
        sql += "$\(count)"
        if let value { binds.append(UntypedText(value)) } else { binds.appendNull() }
    }

    /// Appends `(… , …)` with one placeholder per value.
    mutating func bindList(_ values: [String?]) {
        sql += "("
        for (i, v) in values.enumerated() {
            if i > 0 { sql += ", " }
            bind(v)
        }
        sql += ")"
    }

    var parameterCount: Int { count }

    /// The statement for PostgresNIO.
    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}

/// A parameter sent as text with no declared type (OID 0), so the server infers it.
struct UntypedText: PostgresDynamicTypeEncodable {
    let text: String
    init(_ text: String) { self.text = text }

    var psqlType: PostgresDataType { PostgresDataType(0) }
    var psqlFormat: PostgresFormat { .text }

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer,
                                                  context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeString(text)
    }
}

extension PostgresConnection {
    /// Runs a statement and returns every row as optional text cells (the spoke selects text).
    ///
    /// The rows are collected on the connection's event loop and handed over at once (a
    /// statement's rows are kept whole anyway: a page, an ID list, a catalog lookup), not passed
    /// one by one through an async sequence. A `text` or `varchar` cell's bytes are its UTF-8
    /// text in either wire format, read as PostgresNIO's `String` decoding reads them.
    func textRows(_ statement: PostgresStatement, logger: Logger) async throws -> [[String?]] {
        let collected: EventLoopFuture<PostgresQueryResult> = query(statement.query, logger: logger)
        let rows = try await collected.get().rows
        var out: [[String?]] = []
        out.reserveCapacity(rows.count)
        for row in rows {
            var cells: [String?] = []
            cells.reserveCapacity(row.count)
            for cell in row {
                guard cell.dataType == .text || cell.dataType == .varchar else {
                    cells.append(try cell.decode(String?.self))
                    continue
                }
                cells.append(cell.bytes.map { String(buffer: $0) })
            }
            out.append(cells)
        }
        return out
    }

    /// Runs a statement whose rows do not matter.
    func execute(_ statement: PostgresStatement, logger: Logger) async throws {
        for try await _ in try await query(statement.query, logger: logger) {}
    }

    /// Runs plain SQL without parameters (`BEGIN`, `SAVEPOINT s`).
    func execute(_ sql: String, logger: Logger) async throws {
        try await execute(PostgresStatement(sql), logger: logger)
    }
}
