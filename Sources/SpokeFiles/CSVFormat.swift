import HubCore

/// CSV as a ``FileTableFormat``: a header row names the columns, every cell reads as a string,
/// an empty cell reads as null.
///
/// CSV cannot tell null from an empty string: both are an empty cell, and both read back as
/// null. Rows with fewer cells than the header read the missing cells as null; a row with more
/// cells, or a header that names a column twice, is malformed. Columns without a name (from
/// trailing delimiters) are not read. With the formula guard on, text values are written and
/// read through ``FormulaGuard``.
struct CSVFormat: FileTableFormat {
    let parser: CSVParser
    let writer: CSVWriter
    let options: FileOptions

    init(delimiter: UInt8, options: FileOptions = FileOptions()) {
        parser = CSVParser(delimiter: delimiter, maxRecordBytes: options.maxRecordBytes)
        writer = CSVWriter(delimiter: delimiter)
        self.options = options
    }

    /// The header: column names in file order, and where each is.
    struct Layout: Sendable {
        var columns: [String]
        var index: [String: Int]

        init(_ columns: [String]) {
            self.columns = columns
            index = Dictionary(columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }

        mutating func append(_ column: String) {
            index[column] = columns.count
            columns.append(column)
        }
    }

    struct Row {
        var cells: [String]
        /// The line the row starts on, for error messages.
        var line: Int
        /// Why the row cannot be read, if it cannot.
        var problem: String? = nil
    }

    var nestedPaths: Bool { false }

    func readLayout(_ reader: inout ByteReader) throws -> Layout? {
        let line = reader.line
        guard let header = try parser.readRecord(&reader) else { return nil }
        if header.oversize {
            throw FileSyntaxError(line: line, message: "the header is larger than \(FileOptions.describe(bytes: options.maxRecordBytes))")
        }
        if let bad = header.invalidUTF8.first, options.invalidUTF8 == .reject {
            throw FileSyntaxError(line: line, message: "the header's column \(bad + 1) is not valid UTF-8")
        }
        // Column names are cells too: a guard hubctl wrote in front of a name is read off.
        let names = options.formulaGuard ? header.cells.map(FormulaGuard.unguarded) : header.cells
        var seen: Set<String> = []
        // Unnamed columns (trailing delimiters in a spreadsheet export) may repeat; they are not read.
        for name in names where !name.isEmpty && !seen.insert(name).inserted {
            throw FileSyntaxError(line: line, message: "the header names the column '\(name)' twice")
        }
        return Layout(names)
    }

    func newLayout(for binding: ObjectBinding) -> Layout {
        var layout = Layout([])
        for name in [binding.idField] + binding.fields where layout.index[name] == nil { layout.append(name) }
        return layout
    }

    func readRow(_ reader: inout ByteReader, layout: Layout) throws -> Row? {
        let line = reader.line
        guard let record = try parser.readRecord(&reader) else { return nil }
        if record.oversize { return Row(cells: [], line: line, problem: options.oversizeMessage) }
        let cells = record.cells
        if cells.count > layout.columns.count && !cells[layout.columns.count...].allSatisfy(\.isEmpty) {
            return Row(cells: cells, line: line,
                       problem: "the row has \(cells.count) cells but the header has \(layout.columns.count) columns")
        }
        if !record.invalidUTF8.isEmpty, options.invalidUTF8 == .reject {
            let names = record.invalidUTF8.map { $0 < layout.columns.count && !layout.columns[$0].isEmpty
                ? "'\(layout.columns[$0])'" : "\($0 + 1)" }
            return Row(cells: cells, line: line,
                       problem: "column \(names.joined(separator: ", ")) is not valid UTF-8 (the system's \"invalid_utf8\": "
                           + "\"replace\" reads it with U+FFFD instead)")
        }
        return Row(cells: cells, line: line)
    }

    func isBlank(_ row: Row) -> Bool { row.problem == nil && row.cells.allSatisfy(\.isEmpty) }

    func problem(of row: Row) -> String? { row.problem }

    func columnOrder(_ layout: Layout) -> [String]? { layout.columns.filter { !$0.isEmpty } }

    /// The value of a cell's text: null when empty, the text without hubctl's formula guard otherwise.
    func value(ofCell text: String) -> Value {
        if text.isEmpty { return .null }
        return .string(options.formulaGuard ? FormulaGuard.unguarded(text) : text)
    }

    /// The cell text of a value: text guarded against formulas (when the guard is on).
    func cellText(_ value: Value) -> String {
        if options.formulaGuard, case .string(let s) = value { return FormulaGuard.guarded(s) }
        return CSVWriter.text(value)
    }

    func fields(of row: Row, layout: Layout) -> [String: Value] {
        var fields: [String: Value] = [:]
        fields.reserveCapacity(layout.columns.count)
        for (index, column) in layout.columns.enumerated() where !column.isEmpty {
            fields[column] = index < row.cells.count ? value(ofCell: row.cells[index]) : .null
        }
        return fields
    }

    func value(of row: Row, field: String, layout: Layout) -> Value? {
        guard let index = layout.index[field] else { return nil }
        return index < row.cells.count ? value(ofCell: row.cells[index]) : .null
    }

    func grow(_ layout: inout Layout, for fieldNames: [String]) -> Bool {
        var changed = false
        for name in fieldNames where layout.index[name] == nil {
            layout.append(name)
            changed = true
        }
        return changed
    }

    func makeRow(_ fields: [String: Value], layout: Layout) -> Row {
        Row(cells: layout.columns.map { fields[$0].map(cellText) ?? "" }, line: 0)
    }

    func update(_ row: inout Row, with fields: [String: Value], binding: ObjectBinding, layout: Layout) {
        for (name, value) in fields where name != binding.idField {
            guard let index = layout.index[name] else { continue }
            if row.cells.count <= index { row.cells += Array(repeating: "", count: index + 1 - row.cells.count) }
            row.cells[index] = cellText(value)
        }
    }

    func encode(_ row: Row, layout: Layout, to out: inout [UInt8]) {
        writer.write(row.cells, to: &out)
    }

    func encodeLayout(_ layout: Layout, to out: inout [UInt8]) -> Bool {
        writer.write(options.formulaGuard ? layout.columns.map(FormulaGuard.guarded) : layout.columns, to: &out)
        return true
    }

    /// The header's named columns: CSV cells are untyped text (`any`).
    func schema(_ layout: Layout, records: [SpokeRecord], binding: ObjectBinding) -> DiscoveredObject {
        DiscoveredObject(name: binding.object, fields: layout.columns.filter { !$0.isEmpty }.map {
            Self.field($0, isKey: $0 == binding.idField)
        })
    }

    /// A CSV column as `discover` lists it.
    static func field(_ name: String, isKey: Bool) -> DiscoveredField {
        DiscoveredField(name: name, nativeType: "text", kind: .any, isKey: isKey)
    }

    func problems(_ layout: Layout, binding: ObjectBinding, hasRows: Bool) -> [String] {
        guard hasRows, layout.index[binding.idField] == nil else { return [] }
        return ["the header has no ID column '\(binding.idField)' (its columns: \(layout.columns.joined(separator: ", ")))"]
    }
}
