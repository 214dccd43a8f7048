import GRDB

/// The hub's SQL on SQLite: GRDB's statement cache, no translation.
struct SQLiteHubExecutor: HubSQLExecutor {
    let db: Database

    var dialect: HubDialect { .sqlite }

    @discardableResult
    func execute(_ sql: String, _ arguments: HubArguments) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: arguments.statementArguments)
        return db.changesCount
    }

    func rows(_ sql: String, _ arguments: HubArguments) throws -> [Row] {
        try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments.statementArguments)
    }

    func forEachRow(_ sql: String, _ arguments: HubArguments, _ body: (Row) throws -> Void) throws {
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments.statementArguments)
        while let row = try cursor.next() { try body(row) }
    }

    func value<T: DatabaseValueConvertible>(_ sql: String, _ arguments: HubArguments) throws -> T? {
        try T.fetchOne(db.cachedStatement(sql: sql), arguments: arguments.statementArguments)
    }

    func insertReturningID(_ sql: String, _ arguments: HubArguments) throws -> Int64 {
        try execute(sql, arguments)
        return db.lastInsertedRowID
    }

    func executeScript(_ sql: String) throws {
        try db.execute(sql: sql)
    }
}
