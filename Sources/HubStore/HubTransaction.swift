import GRDB
import HubCore

/// Typed access to the hub inside one transaction (see ``HubStore/write(_:)``).
///
/// Not `Sendable` and only valid inside the closure it was given to. Every statement goes
/// through ``execute(_:_:)``, ``rows(_:_:)`` or ``insert(_:_:)`` on the transaction's
/// ``HubSQLExecutor``, written in SQLite's dialect (``HubDialect`` translates it).
public struct HubTransaction {
    let sql: any HubSQLExecutor

    init(_ sql: any HubSQLExecutor) { self.sql = sql }

    /// How the hub's database spells JSON access and locking reads.
    var dialect: HubDialect { sql.dialect }

    static func encode(_ object: [String: Value]) -> String { JSONWriter.string(.object(object)) }

    static func decodeObject(_ text: String?) -> [String: Value] {
        guard let text, let value = try? JSONParser.parse(text), case .object(let o) = value else { return [:] }
        return o
    }

    /// Runs `sql` with `arguments`, a write whose count nobody reads: the database may send it
    /// without waiting, and report its error at the next read or at commit
    /// (``HubSQLExecutor/executeDeferred(_:_:)``).
    func execute(_ sql: String, _ arguments: HubArguments = HubArguments()) throws {
        try self.sql.executeDeferred(sql, arguments)
    }

    /// Runs `sql` with `arguments` and waits for it; returns how many rows it changed.
    func executeCounted(_ sql: String, _ arguments: HubArguments = HubArguments()) throws -> Int {
        try self.sql.execute(sql, arguments)
    }

    /// Rows of `sql`.
    func rows(_ sql: String, _ arguments: HubArguments = HubArguments()) throws -> [Row] {
        try self.sql.rows(sql, arguments)
    }

    /// Runs an `INSERT` into a table keyed by `id`; returns the new row's `id`.
    func insert(_ sql: String, _ arguments: HubArguments) throws -> Int64 {
        try self.sql.insertReturningID(sql, arguments)
    }

    /// The first column of the first row of `sql`, if any and not null.
    func value<T: DatabaseValueConvertible>(_ type: T.Type, _ sql: String, _ arguments: HubArguments = HubArguments()) throws -> T? {
        try self.sql.value(sql, arguments)
    }

    /// Calls `body` with each row of `sql`, without collecting them.
    func forEachRow(_ sql: String, _ arguments: HubArguments = HubArguments(), _ body: (Row) throws -> Void) throws {
        try self.sql.forEachRow(sql, arguments, body)
    }

    /// Splits `items` into chunks small enough for SQLite's parameter limit.
    static func chunks<T>(_ items: [T], size: Int = 500) -> [ArraySlice<T>] {
        stride(from: 0, to: items.count, by: size).map { items[$0..<min($0 + size, items.count)] }
    }

    static func placeholders(_ n: Int) -> String {
        Array(repeating: "?", count: n).joined(separator: ",")
    }
}
