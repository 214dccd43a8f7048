import HubCore

/// JSON Lines as a ``FileTableFormat``: one JSON object per line, parsed with HubCore's
/// ``JSONParser``; blank lines are skipped.
///
/// Records may nest: dotted field names reach into nested objects, and an update is deep-merged
/// into the record (see `deepMerging`). Rewritten records are written as compact canonical JSON
/// (sorted keys); records a push does not touch keep their text.
struct JSONLFormat: FileTableFormat {
    struct Layout: Sendable {}

    struct Row {
        /// Nil for a blank line (or one that cannot be read).
        var object: [String: Value]?
        var line: Int
        /// Why the line cannot be read, if it cannot.
        var problem: String? = nil
    }

    var nestedPaths: Bool { true }

    func readLayout(_ reader: inout ByteReader) throws -> Layout? {
        try reader.isAtEnd() ? nil : Layout()
    }

    func newLayout(for binding: ObjectBinding) -> Layout { Layout() }

    func readRow(_ reader: inout ByteReader, layout: Layout) throws -> Row? {
        let line = reader.line
        var bytes: [UInt8] = []
        var sawAny = false
        while let byte = try reader.next() {
            sawAny = true
            if byte == 0x0A { break }
            bytes.append(byte)
        }
        guard sawAny else { return nil }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return Row(object: nil, line: line) }
        let value: Value
        do {
            value = try bytes.withUnsafeBufferPointer { try JSONParser.parse(bytes: $0) }
        } catch let error as JSONSyntaxError {
            return Row(object: nil, line: line, problem: "invalid JSON at column \(error.position.column): \(error.message)")
        }
        guard case .object(let object) = value else {
            let article = value.isNull ? "" : "aeiou".contains(value.typeName.first!) ? "an " : "a "
            return Row(object: nil, line: line, problem: "expected a JSON object, found \(article)\(value.typeName)")
        }
        return Row(object: object, line: line)
    }

    func isBlank(_ row: Row) -> Bool { row.object == nil && row.problem == nil }

    func problem(of row: Row) -> String? { row.problem }

    func fields(of row: Row, layout: Layout) -> [String: Value] { row.object ?? [:] }

    func value(of row: Row, field: String, layout: Layout) -> Value? { row.object?.value(atPath: field) }

    func grow(_ layout: inout Layout, for fieldNames: [String]) -> Bool { false }

    func makeRow(_ fields: [String: Value], layout: Layout) -> Row { Row(object: fields, line: 0) }

    func update(_ row: inout Row, with fields: [String: Value], idField: String, layout: Layout) {
        guard var object = row.object else { return }
        let id = object.value(atPath: idField)
        object = object.deepMerging(fields)
        if object.keys.contains(idField) || !idField.contains(".") {
            object[idField] = id
        } else if let id {
            object.setValue(id, atPath: idField)
        }
        row.object = object
    }

    func encode(_ row: Row, layout: Layout, to out: inout [UInt8]) {
        JSONWriter.write(.object(row.object ?? [:]), to: &out)
    }

    func encodeLayout(_ layout: Layout, to out: inout [UInt8]) -> Bool { false }

    /// The fields the page's records hold, as dotted paths, with the kinds of their values.
    func schema(_ layout: Layout, records: [SpokeRecord], binding: ObjectBinding) -> DiscoveredObject {
        DiscoveredObject.inferred(name: binding.object, from: records.map(\.fields), keys: [binding.idField])
    }

    func problems(_ layout: Layout, binding: ObjectBinding, hasRows: Bool) -> [String] { [] }
}
