import Foundation
import GRDB
import HubCore

/// An ``ObjectBinding`` resolved against the live schema: the table, its ID and cursor columns,
/// and the columns a read selects.
///
/// Every identifier that reaches SQL comes from here, so a name the schema does not have can
/// never reach a statement.
struct SQLiteObject: Sendable {
    let table: SQLiteTable
    let id: SQLiteColumn
    let cursor: SQLiteColumn?
    /// The distinct columns a read selects: the ID first, then the cursor (if any), then fields.
    let selected: [SQLiteColumn]
    /// Each record key (spelled as the binding spells it) and the index of its column in `selected`.
    let keys: [(key: String, index: Int)]

    /// The selected columns as SQL: `"id", "name", …`.
    var selectList: SQLiteSQL { "\(selected.map(\.identifier))" }

    /// Resolves `binding`, or throws an error naming what is missing: `.missingObject` for a
    /// table that does not exist, `.configuration` for missing columns.
    static func resolve(_ binding: ObjectBinding, in db: Database, system: SystemName) throws -> SQLiteObject {
        switch try resolution(binding, in: db) {
        case .success(let object):
            return object
        case .failure(let problems):
            throw SpokeError(problems.tableMissing ? .missingObject : .configuration, system: system, object: binding.object,
                             message: problems.problems.joined(separator: "; "))
        }
    }

    /// The problems `check` reports for `binding`: a missing table or missing columns, and an ID
    /// column that does not identify one row.
    static func problems(_ binding: ObjectBinding, in db: Database) throws -> [String] {
        switch try resolution(binding, in: db) {
        case .failure(let problems):
            return problems.problems
        case .success(let object):
            guard !object.table.isView, !object.id.isRowID else { return [] }
            if try object.table.hasUniqueKey(object.id.name, in: db) { return [] }
            return ["column '\(object.id.name)' of table '\(object.table.name)' is neither the primary key nor "
                    + "unique, so one ID may stand for several rows"]
        }
    }

    /// What may slow the object's reads down without stopping them: a cursor column that no
    /// index starts with, so that every page of an incremental read scans and sorts the whole
    /// table (a full read of N rows then costs N pages × N rows).
    static func warnings(_ binding: ObjectBinding, in db: Database) throws -> [String] {
        guard case .success(let object) = try resolution(binding, in: db), let cursor = object.cursor, !object.table.isView,
            try !object.table.hasIndex(startingWith: cursor.name, in: db)
        else { return [] }
        let table = object.table.name
        func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        let index = String((table + "_" + cursor.name).unicodeScalars.map {
            CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "_"
        })
        return ["no index of table '\(table)' starts with its cursor column '\(cursor.name)': every page of an "
                + "incremental read scans and sorts the whole table, so reading it whole takes time in the square of its "
                + "size (about 0.1 s a page at a million rows); create one, e.g. CREATE INDEX \(index) "
                + "ON \(quoted(table)) (\(quoted(cursor.name)), \(quoted(object.id.name)))"]
    }

    struct Problems: Error {
        var problems: [String]
        var tableMissing = false
    }

    private static func resolution(_ binding: ObjectBinding, in db: Database) throws -> Result<SQLiteObject, Problems> {
        let table: SQLiteTable
        switch try SQLiteTable.load(named: binding.object, in: db) {
        case .success(let t): table = t
        case .failure(let missing): return .failure(Problems(problems: [missing.message], tableMissing: true))
        }
        var problems: [String] = []
        var selected: [SQLiteColumn] = []
        var keys: [(key: String, index: Int)] = []
        func add(_ key: String, role: String) -> SQLiteColumn? {
            guard let column = table.column(named: key, in: db) else {
                problems.append(table.missingColumn(key, role: role))
                return nil
            }
            let index = selected.firstIndex { $0.name == column.name } ?? {
                selected.append(column)
                return selected.count - 1
            }()
            if !keys.contains(where: { $0.key == key }) { keys.append((key, index)) }
            return column
        }
        let id = add(binding.idField, role: "ID column")
        let cursor = binding.cursorField.flatMap { add($0, role: "cursor column") }
        var reported: Set<String> = []
        for field in binding.fields where reported.insert(field).inserted { _ = add(field, role: "column") }
        guard let id, problems.isEmpty else { return .failure(Problems(problems: problems)) }
        return .success(SQLiteObject(table: table, id: id, cursor: cursor, selected: selected, keys: keys))
    }

    /// The columns `fields` name, or a configuration error listing the names the table lacks.
    func columns(for fields: some Sequence<String>, in db: Database, system: SystemName) throws -> [String: SQLiteColumn] {
        var found: [String: SQLiteColumn] = [:]
        var missing: [String] = []
        for name in fields where found[name] == nil {
            if let column = table.column(named: name, in: db) { found[name] = column } else { missing.append(name) }
        }
        guard missing.isEmpty else {
            throw SpokeError(.configuration, system: system, object: table.name,
                             message: missing.sorted().map { table.missingColumn($0, role: "column") }.joined(separator: "; "))
        }
        return found
    }

    /// A selected row as a record, or as an invalid record when a column holds text that is not
    /// valid UTF-8; nil when its ID is NULL.
    func record(from row: SQLiteRow) -> ReadRow? {
        guard let id = ExternalID(row[0]) else { return nil }
        if let bad = row.invalidUTF8.first {
            return .invalid(InvalidRecord(id: id, pointer: "id \(id)",
                                          message: "column '\(selected[bad].name)' holds text that is not valid UTF-8"))
        }
        var fields: [String: Value] = [:]
        fields.reserveCapacity(keys.count)
        for (key, index) in keys { fields[key] = Value(row[index]) }
        return .record(SpokeRecord(id: id, fields: fields))
    }

    /// A row read: a record, or one that cannot be read.
    enum ReadRow {
        case record(SpokeRecord)
        case invalid(InvalidRecord)
    }

    /// The records of `rows`, and the rows that cannot be read.
    func records(from rows: some Sequence<SQLiteRow>) -> (records: [SpokeRecord], invalid: [InvalidRecord]) {
        var records: [SpokeRecord] = []
        var invalid: [InvalidRecord] = []
        for row in rows {
            switch record(from: row) {
            case .record(let record)?: records.append(record)
            case .invalid(let problem)?: invalid.append(problem)
            case nil: break
            }
        }
        return (records, invalid)
    }
}
