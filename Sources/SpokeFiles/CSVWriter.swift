import HubCore

/// Writes CSV records (RFC 4180): cells that need it are quoted, quotes inside are doubled.
struct CSVWriter: Sendable {
    let delimiter: UInt8

    /// Appends one record (without a line end) to `out`.
    func write(_ cells: [String], to out: inout [UInt8]) {
        for (index, cell) in cells.enumerated() {
            if index > 0 { out.append(delimiter) }
            write(cell, to: &out)
        }
    }

    /// Appends one cell, quoted when it holds the delimiter, a quote, CR or LF, or starts or ends
    /// with a space or tab (which some tools would trim).
    func write(_ cell: String, to out: inout [UInt8]) {
        let bytes = cell.utf8
        guard needsQuotes(bytes) else { out.append(contentsOf: bytes); return }
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

    private func needsQuotes(_ bytes: String.UTF8View) -> Bool {
        guard let first = bytes.first, let last = bytes.last else { return false }
        if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return true }
        return bytes.contains { $0 == delimiter || $0 == UInt8(ascii: "\"") || $0 == 0x0D || $0 == 0x0A }
    }

    /// The text of a value in a cell: null → empty, numbers and booleans as text, objects and
    /// arrays as JSON.
    static func text(_ value: Value) -> String {
        switch value {
        case .null: return ""
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double, .array, .object: return JSONWriter.string(value)
        }
    }
}
