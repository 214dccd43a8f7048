import Foundation
import GRDB

/// Reading and editing the rows of the T3 systems by their own column names, as each system's
/// own users and tools would: SQL for the SQLite files, whole-file rewrites for CSV and JSON Lines.
extension ConvergenceWorld {
    enum Entity: String { case customer, order }

    /// A row: its system ID and its columns (values as text, JSON canonical, null as nil).
    struct Row: Equatable {
        var id: String
        var columns: [String: String?]
    }

    /// The system's table or file for an entity, its ID column and its key column.
    func object(_ system: System, _ entity: Entity) -> (name: String, id: String, key: String) {
        switch (system, entity) {
        case (.app, .customer): ("customers", "id", "email")
        case (.app, .order): ("orders", "id", "number")
        case (.billing, .customer): ("accounts", "id", "email")
        case (.billing, .order): ("invoices", "id", "number")
        case (.sheet, .customer): ("sheet/customers.csv", "ID", "Email")
        case (.sheet, .order): ("sheet/orders.csv", "ID", "Number")
        case (.export, .customer): ("export/customers.jsonl", "id", "email")
        case (.export, .order): ("export/orders.jsonl", "id", "number")
        }
    }

    /// The column of an order that refers to its customer.
    static func referenceColumn(_ system: System) -> String {
        switch system {
        case .app: "customer_id"
        case .billing: "account_id"
        case .sheet: "Customer"
        case .export: "customer"
        }
    }

    // MARK: - Reading

    func rows(_ system: System, _ entity: Entity) throws -> [Row] {
        let (name, idColumn, _) = object(system, entity)
        switch system {
        case .app, .billing:
            let columns = Self.columns(system, entity)
            return try Self.rows(dir + "/\(system.rawValue).db",
                                 "SELECT CAST(id AS TEXT) AS id, \(columns.joined(separator: ", ")) FROM \(name) ORDER BY id")
                .map { raw in
                    var columns = raw
                    let id = columns.removeValue(forKey: "id") ?? nil
                    if let prefs = columns["prefs"], let text = prefs { columns["prefs"] = Self.canonicalJSON(text: text) }
                    return Row(id: id ?? "", columns: columns)
                }
        case .sheet:
            let lines = try String(contentsOfFile: dir + "/" + name, encoding: .utf8).split(separator: "\n").map(String.init)
            guard let header = lines.first.map(Self.cells) else { return [] }
            return lines.dropFirst().map { line in
                let cells = Self.cells(line)
                var columns: [String: String?] = [:]
                for (i, column) in header.enumerated() {
                    let cell = i < cells.count ? cells[i] : ""
                    columns[column] = cell.isEmpty ? .some(nil) : cell
                }
                let id = columns.removeValue(forKey: idColumn) ?? nil
                return Row(id: id ?? "", columns: columns)
            }
        case .export:
            return try jsonObjects(dir + "/" + name).map { object in
                var columns: [String: String?] = [:]
                for (key, value) in object where key != idColumn { columns[key] = Self.text(value) }
                return Row(id: Self.text(object[idColumn] ?? NSNull()) ?? "", columns: columns)
            }
        }
    }

    /// The cells of one CSV line (the battery's values have no line breaks): quoted cells
    /// unquoted, `""` read as `"`.
    static func cells(_ line: String) -> [String] {
        var cells: [String] = [], cell = "", quoted = false, wasQuote = false
        for ch in line {
            if quoted {
                if ch == "\"" { quoted = false; wasQuote = true } else { cell.append(ch) }
            } else if ch == "\"" {
                if wasQuote { cell.append("\"") }
                quoted = true
                wasQuote = false
            } else if ch == "," {
                cells.append(cell); cell = ""; wasQuote = false
            } else {
                cell.append(ch); wasQuote = false
            }
        }
        cells.append(cell)
        return cells
    }

    /// A CSV cell, quoted when it must be (a comma, a quote, or spaces at either end).
    static func csvCell(_ value: String) -> String {
        let needs = value.contains(",") || value.contains("\"") || value.first?.isWhitespace == true || value.last?.isWhitespace == true
        return needs ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
    }

    /// The mapped columns of a SQLite table.
    static func columns(_ system: System, _ entity: Entity) -> [String] {
        switch (system, entity) {
        case (.app, .customer): ["email", "first_name", "last_name", "tier", "prefs"]
        case (.app, .order): ["number", "customer_id", "amount"]
        case (.billing, .customer): ["email", "full_name", "tier_code"]
        case (.billing, .order): ["number", "account_id", "amount"]
        default: []
        }
    }

    func jsonObjects(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line in
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
    }

    /// A JSON value as the battery compares it: text as is, numbers as integers where whole,
    /// objects and arrays as canonical JSON, null as nil.
    static func text(_ value: Any) -> String? {
        switch value {
        case is NSNull: return nil
        case let s as String: return s
        case let n as NSNumber:
            let d = n.doubleValue
            return d == d.rounded() ? String(Int64(d)) : String(d)
        default:
            guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return "?" }
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// JSON text re-serialised with sorted keys; text that is not JSON is returned as is.
    static func canonicalJSON(text: String) -> String {
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return text }
        return Self.text(value) ?? "null"
    }

    // MARK: - Editing

    /// Inserts a row (the ID is the system's own for SQLite, `fresh` for the files) and returns its ID.
    @discardableResult
    func insert(_ system: System, _ entity: Entity, _ values: [String: String?], fresh: String) throws -> String {
        let (name, idColumn, _) = object(system, entity)
        switch system {
        case .app, .billing:
            let columns = values.keys.sorted()
            let db = try DatabaseQueue(path: dir + "/\(system.rawValue).db")
            defer { try? db.close() }
            return try db.write { db in
                try db.execute(sql: "INSERT INTO \(name) (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))",
                               arguments: StatementArguments(columns.map { values[$0]! }))
                return String(db.lastInsertedRowID)
            }
        case .sheet:
            var rows = try self.rows(system, entity)
            rows.append(Row(id: fresh, columns: values))
            try writeCSV(name, idColumn, rows)
        case .export:
            var objects = try jsonObjects(dir + "/" + name)
            var object: [String: Any] = [idColumn: fresh]
            for (k, v) in values { object[k] = Self.jsonValue(k, v) }
            objects.append(object)
            try writeJSONL(name, objects)
        }
        return fresh
    }

    /// Sets columns of the row with this ID.
    func update(_ system: System, _ entity: Entity, id: String, _ values: [String: String?]) throws {
        let (name, idColumn, _) = object(system, entity)
        switch system {
        case .app, .billing:
            let columns = values.keys.sorted()
            try Self.execute(dir + "/\(system.rawValue).db",
                             "UPDATE \(name) SET \(columns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?",
                             StatementArguments(columns.map { values[$0]! } + [id]))
        case .sheet:
            var rows = try self.rows(system, entity)
            for i in rows.indices where rows[i].id == id {
                for (k, v) in values { rows[i].columns[k] = v }
            }
            try writeCSV(name, idColumn, rows)
        case .export:
            var objects = try jsonObjects(dir + "/" + name)
            for i in objects.indices where Self.text(objects[i][idColumn] ?? NSNull()) == id {
                for (k, v) in values { objects[i][k] = Self.jsonValue(k, v) }
            }
            try writeJSONL(name, objects)
        }
    }

    /// Deletes the row with this ID.
    func delete(_ system: System, _ entity: Entity, id: String) throws {
        let (name, idColumn, _) = object(system, entity)
        switch system {
        case .app, .billing:
            try Self.execute(dir + "/\(system.rawValue).db", "DELETE FROM \(name) WHERE id = ?", [id])
        case .sheet:
            try writeCSV(name, idColumn, try rows(system, entity).filter { $0.id != id })
        case .export:
            try writeJSONL(name, try jsonObjects(dir + "/" + name).filter { Self.text($0[idColumn] ?? NSNull()) != id })
        }
    }

    /// A column's value as the JSON Lines file holds it: `prefs` as an object, amounts as numbers.
    static func jsonValue(_ column: String, _ value: String?) -> Any {
        guard let value else { return NSNull() }
        if column == "prefs", let object = try? JSONSerialization.jsonObject(with: Data(value.utf8)) { return object }
        if column == "amount", let n = Int(value) { return n }
        return value
    }

    func writeCSV(_ name: String, _ idColumn: String, _ rows: [Row]) throws {
        let path = dir + "/" + name
        let header = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").first.map(String.init) ?? ""
        let columns = Self.cells(header)
        var text = header + "\n"
        for row in rows {
            text += columns.map { Self.csvCell($0 == idColumn ? row.id : ((row.columns[$0] ?? nil) ?? "")) }.joined(separator: ",") + "\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func writeJSONL(_ name: String, _ objects: [[String: Any]]) throws {
        var text = ""
        for object in objects {
            text += String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self) + "\n"
        }
        try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
    }

    /// Writes counted so far: SQLite rows inserted, updated or deleted, and the files' bytes.
    func writeState() throws -> [String] {
        var state: [String] = []
        for system in ["app", "billing"] {
            state.append(try Self.rows(dir + "/\(system).db", "SELECT n FROM write_count").first?["n"].flatMap { $0 } ?? "?")
        }
        for file in ["sheet/customers.csv", "sheet/orders.csv", "export/customers.jsonl", "export/orders.jsonl"] {
            state.append((try? String(contentsOfFile: dir + "/" + file, encoding: .utf8)) ?? "(missing)")
        }
        return state
    }
}
