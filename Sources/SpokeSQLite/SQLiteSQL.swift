import Foundation
import GRDB
import GRDBSQLite
import HubCore

/// SQL text for the SQLite spoke: literal text written in this module's source, identifiers
/// quoted by ``SQLIdentifier`` (double quotes, embedded quotes doubled), and placeholders.
///
/// It is the only way this module makes SQL: a literal is a `StaticString`, and interpolation
/// accepts identifiers, other `SQLiteSQL` and placeholder counts — never a `String` — so a name
/// from a topology or a database cannot reach SQL text unquoted. Values are always bound.
///
/// For example:
/// ```swift
/// let sql: SQLiteSQL = "SELECT \(columns) FROM \(table.identifier) WHERE \(id.identifier) IN (\(placeholders: 3))"
/// let rows = try SQLiteSQL.rows(db, sql, arguments)
/// ```
struct SQLiteSQL: ExpressibleByStringInterpolation, Sendable, CustomStringConvertible {
    /// The SQL text.
    private(set) var text: String

    init(stringLiteral value: StaticString) { text = value.description }

    init(stringInterpolation: Interpolation) { text = stringInterpolation.text }

    var description: String { text }

    struct Interpolation: StringInterpolationProtocol {
        var text = ""

        init(literalCapacity: Int, interpolationCount: Int) { text.reserveCapacity(literalCapacity + 16 * interpolationCount) }

        mutating func appendLiteral(_ literal: StaticString) { text += literal.description }

        /// A table or column name, quoted.
        mutating func appendInterpolation(_ identifier: SQLIdentifier) { text += identifier.quoted }

        /// Names, quoted and separated by commas.
        mutating func appendInterpolation(_ identifiers: [SQLIdentifier]) {
            text += identifiers.map(\.quoted).joined(separator: ", ")
        }

        /// Other SQL made the same way.
        mutating func appendInterpolation(_ sql: SQLiteSQL) { text += sql.text }

        /// `?, ?, ?`: `count` placeholders.
        mutating func appendInterpolation(placeholders count: Int) {
            text += Array(repeating: "?", count: count).joined(separator: ", ")
        }
    }

    static func + (lhs: SQLiteSQL, rhs: SQLiteSQL) -> SQLiteSQL {
        var sql = lhs
        sql.text += rhs.text
        return sql
    }

    /// The parts joined by `separator`.
    static func joined(_ parts: [SQLiteSQL], separator: StaticString) -> SQLiteSQL {
        var sql: SQLiteSQL = ""
        sql.text = parts.map(\.text).joined(separator: separator.description)
        return sql
    }
}

/// One row read by ``SQLiteSQL/rows(_:_:_:)``: every column's value exactly as SQLite holds it.
struct SQLiteRow: Sendable {
    var values: [DatabaseValue]
    /// The columns whose text is not valid UTF-8 (their value holds U+FFFD where it was invalid).
    var invalidUTF8: [Int] = []

    subscript(_ index: Int) -> DatabaseValue { values[index] }
}

extension SQLiteSQL {
    /// Runs a query and returns its rows. Text is read with its length, so a NUL inside it is
    /// kept and invalid UTF-8 is noticed (GRDB reads text as a C string, which stops at a NUL).
    static func rows(_ db: Database, _ sql: SQLiteSQL, _ arguments: [DatabaseValue] = []) throws -> [SQLiteRow] {
        let statement = try db.cachedStatement(sql: sql.text)
        try bind(arguments, to: statement)
        let raw = statement.sqliteStatement
        let columns = Int32(statement.columnCount)
        var out: [SQLiteRow] = []
        let cursor = try Row.fetchCursor(statement)
        while try cursor.next() != nil {
            var row = SQLiteRow(values: [])
            row.values.reserveCapacity(Int(columns))
            for index in 0..<columns {
                let (value, valid) = columnValue(raw, index)
                if !valid { row.invalidUTF8.append(Int(index)) }
                row.values.append(value)
            }
            out.append(row)
        }
        return out
    }

    /// Runs a statement that returns no rows.
    static func execute(_ db: Database, _ sql: SQLiteSQL, _ arguments: [DatabaseValue] = []) throws {
        let statement = try db.cachedStatement(sql: sql.text)
        try bind(arguments, to: statement)
        try statement.execute()
    }

    /// True when SQLite can prepare the statement (for probing what a table has).
    static func compiles(_ db: Database, _ sql: SQLiteSQL) -> Bool {
        (try? db.makeStatement(sql: sql.text)) != nil
    }

    /// Binds the arguments through GRDB (which checks their count), then binds again, with their
    /// length, the strings that hold a NUL: GRDB binds text as a C string, which would cut it there.
    static func bind(_ arguments: [DatabaseValue], to statement: Statement) throws {
        // GRDB's initializer for optional existentials: the one for a sequence of values maps them
        // with a key path that the runtime instantiates on every call.
        try statement.setArguments(StatementArguments(arguments.map { $0 as (any DatabaseValueConvertible)? }))
        for (index, argument) in arguments.enumerated() {
            guard case .string(let text) = argument.storage, text.utf8.contains(0) else { continue }
            var bytes = Array(text.utf8)
            let code = bytes.withUnsafeMutableBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    sqlite3_bind_text(statement.sqliteStatement, Int32(index + 1), $0.baseAddress, Int32($0.count), transient)
                }
            }
            guard code == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot bind text argument \(index + 1)")
            }
        }
    }

    /// SQLite copies the bytes before `sqlite3_bind_text` returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// A column of the current row, and whether its text (if text) is valid UTF-8.
    private static func columnValue(_ raw: SQLiteStatement, _ index: Int32) -> (DatabaseValue, Bool) {
        switch sqlite3_column_type(raw, index) {
        case SQLITE_INTEGER:
            return (sqlite3_column_int64(raw, index).databaseValue, true)
        case SQLITE_FLOAT:
            return (sqlite3_column_double(raw, index).databaseValue, true)
        case SQLITE_TEXT:
            // `sqlite3_column_text` first: it fixes the encoding that `sqlite3_column_bytes` measures.
            let pointer = sqlite3_column_text(raw, index)
            let count = Int(sqlite3_column_bytes(raw, index))
            let bytes = UnsafeRawBufferPointer(start: pointer, count: pointer == nil ? 0 : count)
            let valid = UTF8Validation.firstInvalidOffset(bytes) == nil
            return (String(decoding: bytes, as: UTF8.self).databaseValue, valid)
        case SQLITE_BLOB:
            let pointer = sqlite3_column_blob(raw, index)
            let count = Int(sqlite3_column_bytes(raw, index))
            return (pointer.map { Data(bytes: $0, count: count) }.map(\.databaseValue) ?? Data().databaseValue, true)
        default:
            return (.null, true)
        }
    }
}
