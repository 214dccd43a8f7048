import HubCore

/// An ``ObjectBinding`` resolved against the live schema: the table, its ID and cursor columns,
/// and the columns a read selects. Every identifier that reaches SQL comes from here.
struct PostgresObject: Sendable {
    let table: PostgresTable
    let id: PostgresColumn
    let cursor: PostgresColumn?
    /// Each record key (as the binding spells it) and its column.
    let fields: [(key: String, column: PostgresColumn)]
    /// The record keys and their columns' kinds, in the order of `fields`: what turning a row
    /// into a record reads for every cell, without copying a column per cell.
    private let keys: [String]
    private let kinds: [ValueKind]

    init(table: PostgresTable, id: PostgresColumn, cursor: PostgresColumn?, fields: [(key: String, column: PostgresColumn)]) {
        self.table = table
        self.id = id
        self.cursor = cursor
        self.fields = fields
        keys = fields.map(\.key)
        kinds = fields.map(\.column.kind)
    }

    /// The select list: the ID as text, the cursor as text (if any), then every field. Each
    /// expression gets a positional alias (`AS c0`), so that `ORDER BY "id"` sorts by the
    /// column, not by an output column of the same name holding its text.
    var selectList: String {
        var parts = ["\(id.identifier.quoted)::text"]
        if let cursor { parts.append("\(cursor.identifier.quoted)::text") }
        parts += fields.map(\.column.readExpression)
        return parts.enumerated().map { "\($1) AS c\($0)" }.joined(separator: ", ")
    }

    /// The select list of an ID scan.
    var idSelectList: String { "\(id.identifier.quoted)::text AS c0" }

    /// Where the fields start in a selected row.
    var fieldOffset: Int { cursor == nil ? 1 : 2 }

    /// True when `id` can be a value of the ID column: an integer key needs digits, a uuid key a UUID.
    func canHold(_ id: ExternalID) -> Bool {
        switch self.id.kind {
        case .integer: return Int64(id.rawValue) != nil
        case .number: return Double(id.rawValue) != nil
        default:
            guard self.id.udtName == "uuid" else { return true }
            let hex = id.rawValue.filter { $0 != "-" }
            return hex.count == 32 && hex.allSatisfy(\.isHexDigit)
        }
    }

    /// Turns a selected row into a record, or nil when its ID is NULL.
    func record(from row: [String?]) -> SpokeRecord? {
        guard let id = row[0] else { return nil }
        var values: [String: Value] = [:]
        values.reserveCapacity(keys.count)
        let offset = fieldOffset
        for i in keys.indices { values[keys[i]] = PostgresColumn.value(fromText: row[offset + i], kind: kinds[i]) }
        return SpokeRecord(id: ExternalID(id), fields: values)
    }

    /// Resolves `binding` in `table`, or lists what is missing.
    static func resolve(_ binding: ObjectBinding, in table: PostgresTable) -> Result<PostgresObject, Problems> {
        var problems: [String] = []
        func column(_ name: String, _ role: String) -> PostgresColumn? {
            guard let c = table.column(named: name) else {
                problems.append(table.missingColumn(name, role: role))
                return nil
            }
            return c
        }
        let id = column(binding.idField, "ID column")
        let cursor = binding.cursorField.flatMap { column($0, "cursor column") }
        var fields: [(key: String, column: PostgresColumn)] = []
        for key in binding.fields where !fields.contains(where: { $0.key == key }) {
            if let c = column(key, "column") { fields.append((key, c)) }
        }
        guard let id, problems.isEmpty else { return .failure(Problems(problems: problems)) }
        return .success(PostgresObject(table: table, id: id, cursor: cursor, fields: fields))
    }

    struct Problems: Error { var problems: [String] }
}
