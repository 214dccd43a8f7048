import GRDB
import HubCore

/// Typed access to the hub inside one transaction (see ``HubStore/write(_:)``).
///
/// Not `Sendable` and only valid inside the closure it was given to.
public struct HubTransaction {
    let db: Database

    init(_ db: Database) { self.db = db }

    static func encode(_ object: [String: Value]) -> String { JSONWriter.string(.object(object)) }

    static func decodeObject(_ text: String?) -> [String: Value] {
        guard let text, let value = try? JSONParser.parse(text), case .object(let o) = value else { return [:] }
        return o
    }

    /// Runs `sql` with `arguments` through the statement cache.
    func execute(_ sql: String, _ arguments: StatementArguments) throws {
        let statement = try db.cachedStatement(sql: sql)
        try statement.execute(arguments: arguments)
    }

    /// Rows of `sql` through the statement cache.
    func rows(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }

    /// Splits `items` into chunks small enough for SQLite's parameter limit.
    static func chunks<T>(_ items: [T], size: Int = 500) -> [ArraySlice<T>] {
        stride(from: 0, to: items.count, by: size).map { items[$0..<min($0 + size, items.count)] }
    }

    static func placeholders(_ n: Int) -> String {
        Array(repeating: "?", count: n).joined(separator: ",")
    }
}
