/// Reads CSV records (RFC 4180) one at a time from a ``ByteReader``.
///
/// - Cells may be quoted; inside quotes, `""` is a quote and delimiters, CR and LF are text.
/// - Records end with LF, CRLF or a lone CR; the last one may have no line end.
/// - A quote inside an unquoted cell is kept as text (`5" screen`), as spreadsheets write it.
/// - An unterminated quoted cell, or text after a closing quote (`"ab"c`), is a
///   ``FileSyntaxError`` naming the line where the record starts.
///
/// A UTF-8 byte order mark is the caller's business (see ``FileTableStore``); invalid UTF-8 in a
/// cell reads as U+FFFD.
struct CSVParser: Sendable {
    /// The delimiter byte (`,`, `;`, a tab…).
    let delimiter: UInt8

    private static let quote = UInt8(ascii: "\"")
    private static let cr: UInt8 = 0x0D
    private static let lf: UInt8 = 0x0A

    /// Reads the next record's cells, or returns nil at the end of the input.
    func readRecord(_ reader: inout ByteReader) throws -> [String]? {
        guard try !reader.isAtEnd() else { return nil }
        let startLine = reader.line
        var cells: [String] = []
        var cell: [UInt8] = []
        cell.reserveCapacity(64)

        func endCell() {
            cells.append(String(decoding: cell, as: UTF8.self))
            cell.removeAll(keepingCapacity: true)
        }

        while true {
            // At the start of a cell.
            guard let first = try reader.next() else { endCell(); return cells }
            if first == Self.quote {
                // A quoted cell: read to the closing quote.
                while true {
                    guard let byte = try reader.next() else {
                        throw FileSyntaxError(line: startLine, message: "a quoted cell is not closed (missing \")")
                    }
                    if byte == Self.quote {
                        if try reader.peek() == Self.quote {
                            _ = try reader.next()
                            cell.append(Self.quote)
                        } else {
                            break
                        }
                    } else {
                        cell.append(byte)
                    }
                }
                // After the closing quote: a delimiter, a line end or the end.
                guard let after = try reader.next() else { endCell(); return cells }
                if after == delimiter { endCell(); continue }
                if after == Self.lf { endCell(); return cells }
                if after == Self.cr {
                    if try reader.peek() == Self.lf { _ = try reader.next() }
                    endCell()
                    return cells
                }
                throw FileSyntaxError(line: reader.line,
                                      message: "unexpected text after a closing quote (a quote inside a quoted cell must be doubled)")
            }
            // An unquoted cell.
            var byte = first
            while true {
                if byte == delimiter { endCell(); break }
                if byte == Self.lf { endCell(); return cells }
                if byte == Self.cr {
                    if try reader.peek() == Self.lf { _ = try reader.next() }
                    endCell()
                    return cells
                }
                cell.append(byte)
                guard let next = try reader.next() else { endCell(); return cells }
                byte = next
            }
        }
    }
}
