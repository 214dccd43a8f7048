import HubCore

/// Reads CSV records (RFC 4180) one at a time from a ``ByteReader``.
///
/// - Cells may be quoted; inside quotes, `""` is a quote and delimiters, CR and LF are text.
/// - Records end with LF, CRLF or a lone CR; the last one may have no line end.
/// - A quote inside an unquoted cell is kept as text (`5" screen`), as spreadsheets write it.
/// - An unterminated quoted cell, or text after a closing quote (`"ab"c`), is a
///   ``FileSyntaxError`` naming the line where the record starts.
/// - Cells are decoded as UTF-8; the indices of cells that are not valid UTF-8 are reported
///   (their text holds U+FFFD where the bytes were invalid), and so is a record of more than
///   `maxRecordBytes` bytes, whose cells are then not kept (the record is parsed to its end
///   without holding it).
///
/// A UTF-8 byte order mark is the caller's business (see ``FileTableStore``).
struct CSVParser: Sendable {
    /// The delimiter byte (`,`, `;`, a tab…).
    let delimiter: UInt8
    /// The most bytes a record's cells may hold.
    var maxRecordBytes = Int.max

    /// One record's cells and what is wrong with them.
    struct Record {
        var cells: [String]
        /// The indices of the cells that are not valid UTF-8.
        var invalidUTF8: [Int] = []
        /// True when the record was larger than `maxRecordBytes` (then `cells` is empty).
        var oversize = false
    }

    private static let quote = UInt8(ascii: "\"")
    private static let cr: UInt8 = 0x0D
    private static let lf: UInt8 = 0x0A

    /// Reads the next record's cells, or returns nil at the end of the input.
    func readRecord(_ reader: inout ByteReader) throws -> Record? {
        guard try !reader.isAtEnd() else { return nil }
        let startLine = reader.line
        var record = Record(cells: [])
        var cell: [UInt8] = []
        cell.reserveCapacity(64)
        var size = 0

        func append(_ byte: UInt8) {
            size += 1
            if size > maxRecordBytes {
                if !record.oversize { record.oversize = true; record.cells = []; record.invalidUTF8 = [] }
                return
            }
            cell.append(byte)
        }

        /// The rest of an unquoted cell, read in one go up to its delimiter or line end.
        func appendRun() throws(FileIOError) {
            let room = record.oversize ? 0 : max(0, maxRecordBytes - size)
            size += try reader.readRun(into: &cell, until: delimiter, Self.cr, room: room)
            if size > maxRecordBytes, !record.oversize { record.oversize = true; record.cells = []; record.invalidUTF8 = [] }
        }

        func endCell() {
            defer { cell.removeAll(keepingCapacity: true) }
            if record.oversize { return }
            // HubCore's check, then a plain decode: `String(validating:)` is generic, and looks
            // up type metadata for every cell.
            if cell.withUnsafeBytes({ UTF8Validation.firstInvalidOffset($0) }) == nil {
                record.cells.append(String(decoding: cell, as: UTF8.self))
            } else {
                record.invalidUTF8.append(record.cells.count)
                record.cells.append(String(decoding: cell, as: UTF8.self))
            }
        }

        while true {
            // At the start of a cell.
            guard let first = try reader.next() else { endCell(); return record }
            if first == Self.quote {
                // A quoted cell: read to the closing quote.
                while true {
                    guard let byte = try reader.next() else {
                        throw FileSyntaxError(line: startLine, message: "a quoted cell is not closed (missing \")")
                    }
                    if byte == Self.quote {
                        if try reader.peek() == Self.quote {
                            _ = try reader.next()
                            append(Self.quote)
                        } else {
                            break
                        }
                    } else {
                        append(byte)
                    }
                }
                // After the closing quote: a delimiter, a line end or the end.
                guard let after = try reader.next() else { endCell(); return record }
                if after == delimiter { endCell(); continue }
                if after == Self.lf { endCell(); return record }
                if after == Self.cr {
                    if try reader.peek() == Self.lf { _ = try reader.next() }
                    endCell()
                    return record
                }
                throw FileSyntaxError(line: reader.line,
                                      message: "unexpected text after a closing quote (a quote inside a quoted cell must be doubled)")
            }
            // An unquoted cell.
            var byte = first
            while true {
                if byte == delimiter { endCell(); break }
                if byte == Self.lf { endCell(); return record }
                if byte == Self.cr {
                    if try reader.peek() == Self.lf { _ = try reader.next() }
                    endCell()
                    return record
                }
                append(byte)
                try appendRun()
                guard let next = try reader.next() else { endCell(); return record }
                byte = next
            }
        }
    }
}
