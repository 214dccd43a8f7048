import Foundation
import GRDB
import HubStore
import PostgresNIO
import SpokePostgres

/// The hub's SQL on one PostgreSQL connection, inside the transaction
/// ``PostgresHubDatabase`` opened.
///
/// Statements arrive in SQLite's dialect and are translated by ``HubDialect/postgres``.
/// Arguments are sent as untyped text, so the server types each from where it is used (a
/// column, a `LIMIT`, a function's parameter), as it would a literal. Rows come back as GRDB
/// rows holding SQLite's value kinds: integers, floats, text, and booleans as 0 or 1.
///
/// **Pipelined writes.** A write whose count nobody reads (``executeDeferred(_:_:)``) is sent
/// without waiting for its answer; the connection runs statements in the order they were sent,
/// so the next statement that returns something (a query, an `INSERT … RETURNING`, a counted
/// write, the commit) is answered after them, and its caller first collects their answers. The
/// first error among them is thrown there, naming its statement. From the first error on, the
/// transaction is failed: PostgreSQL refuses every later statement of it, and so does this
/// executor, with that first error, until ``PostgresHubDatabase`` rolls it back.
final class PostgresHubExecutor: HubSQLExecutor {
    let connection: PostgresConnection
    let translate: (String) -> String
    /// Writes sent and not yet answered, oldest first, with their translated text for errors.
    private var inFlight: [(answer: EventLoopFuture<PostgresQueryResult>, sql: String)] = []
    /// The transaction's first error; every later statement throws it again.
    private var failure: (any Error)?
    /// At most this many writes wait for their answers (a bound on memory: a transaction may
    /// send a million of them, one per scanned ID).
    static let inFlightLimit = 512

    init(connection: PostgresConnection, translate: @escaping (String) -> String) {
        self.connection = connection
        self.translate = translate
        inFlight.reserveCapacity(Self.inFlightLimit)
    }

    var dialect: HubDialect { .postgres }

    @discardableResult
    func execute(_ sql: String, _ arguments: HubArguments) throws -> Int {
        try run(translate(sql), arguments).metadata.rows ?? 0
    }

    func executeDeferred(_ sql: String, _ arguments: HubArguments) throws {
        if let failure { throw failure }
        try Self.refuseOnEventLoop()
        let text = translate(sql)
        inFlight.append((send(text, arguments), text))
        if inFlight.count >= Self.inFlightLimit { try collect() }
    }

    func rows(_ sql: String, _ arguments: HubArguments) throws -> [Row] {
        try run(translate(sql), arguments).rows.map { try Self.row($0) }
    }

    func forEachRow(_ sql: String, _ arguments: HubArguments, _ body: (Row) throws -> Void) throws {
        for row in try run(translate(sql), arguments).rows { try body(Self.row(row)) }
    }

    func value<T: DatabaseValueConvertible>(_ sql: String, _ arguments: HubArguments) throws -> T? {
        guard let first = try run(translate(sql), arguments).rows.first?.first else { return nil }
        return T.fromDatabaseValue(try Self.value(first))
    }

    func insertReturningID(_ sql: String, _ arguments: HubArguments) throws -> Int64 {
        let result = try run(translate(sql) + " RETURNING id", arguments)
        guard let cell = result.rows.first?.first, case .int64(let id) = try Self.value(cell).storage else {
            throw HubStoreError("PostgreSQL returned no id for: \(Self.excerpt(sql))")
        }
        return id
    }

    func executeScript(_ sql: String) throws {
        for statement in Self.statements(sql) { _ = try run(statement, HubArguments()) }
    }

    /// The statements of a script: split at `;` outside quotes and `$$` bodies, without
    /// `--` comment lines (PostgresNIO sends one statement at a time).
    static func statements(_ script: String) -> [String] {
        let text = script.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }.joined(separator: "\n")
        var out: [String] = []
        var current = ""
        var inQuote = false, inDollar = false
        var previous: Character = " "
        for ch in text {
            if ch == "'" && !inDollar { inQuote.toggle() }
            if ch == "$" && previous == "$" && !inQuote { inDollar.toggle() }
            if ch == ";" && !inQuote && !inDollar {
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { out.append(statement) }
                current = ""
            } else {
                current.append(ch)
            }
            previous = ch
        }
        let last = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !last.isEmpty { out.append(last) }
        return out
    }

    // MARK: - Sending

    /// Sends `sql` and waits for its answer (after the answers of the writes sent before it).
    private func run(_ sql: String, _ arguments: HubArguments) throws -> PostgresQueryResult {
        if let failure { throw failure }
        try Self.refuseOnEventLoop()
        let answer = send(sql, arguments)
        try collect()
        do {
            return try answer.wait()
        } catch {
            throw fail(error, sql: sql)
        }
    }

    /// Sends `sql` without waiting: the connection queues it behind the statements before it.
    private func send(_ sql: String, _ arguments: HubArguments) -> EventLoopFuture<PostgresQueryResult> {
        var binds = PostgresBindings(capacity: arguments.values.count)
        for value in arguments.values { binds.append(Self.untyped(value)) }
        return connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: PostgresHubDatabase.logger)
    }

    /// Waits for every write in flight; throws the first one's error.
    private func collect() throws {
        defer { inFlight.removeAll(keepingCapacity: true) }
        for (answer, sql) in inFlight {
            do {
                _ = try answer.wait()
            } catch {
                throw fail(error, sql: sql)
            }
        }
    }

    /// Records the transaction's first error (as a hub error naming `sql`) and returns it.
    private func fail(_ error: any Error, sql: String) -> any Error {
        let error = failure ?? Self.hubError(error, sql: sql)
        failure = error
        return error
    }

    // MARK: - Ending the transaction

    /// Collects the writes in flight and commits; throws the transaction's first error instead
    /// (the caller then rolls back).
    func commit() throws {
        if let failure { throw failure }
        // Collected before COMMIT is sent: a write that failed in the client was never run,
        // so the server would not have failed the transaction for it.
        try collect()
        let result = try run("COMMIT", HubArguments())
        // PostgreSQL answers COMMIT of a failed transaction with ROLLBACK, not an error.
        if result.metadata.command == "ROLLBACK" {
            throw HubStoreError("the PostgreSQL hub rolled the transaction back instead of committing it; nothing of it was written")
        }
    }

    /// Rolls back, whatever failed (the writes in flight are answered first, in order; their
    /// answers no longer matter). False when the connection could not even do that.
    func rollback() -> Bool {
        inFlight.removeAll()
        return (try? send("ROLLBACK", HubArguments()).wait()) != nil
    }

    /// Throws when called on an event loop's thread, where waiting for the answer would
    /// block the loop that must deliver it.
    static func refuseOnEventLoop() throws {
        if MultiThreadedEventLoopGroup.currentEventLoop != nil {
            throw HubStoreError("the PostgreSQL hub was called on an event-loop thread; call it from another thread")
        }
    }

    /// One argument as untyped text (nil for a null).
    static func untyped(_ value: DatabaseValue) -> UntypedText? {
        switch value.storage {
        case .null: nil
        case .int64(let v): UntypedText(text: String(v))
        case .double(let v): UntypedText(text: "\(v)")
        case .string(let v): UntypedText(text: v)
        case .blob(let v): UntypedText(text: "\\x" + v.map { String(format: "%02x", $0) }.joined())
        }
    }

    // MARK: - Reading rows

    static func row(_ row: PostgresRow) throws -> Row {
        var values: [String: (any DatabaseValueConvertible)?] = [:]
        for cell in row { values[cell.columnName] = try value(cell) }
        return Row(values)
    }

    /// A cell as SQLite's value kinds.
    static func value(_ cell: PostgresCell) throws -> DatabaseValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid: return try cell.decode(Int64.self).databaseValue
        case .bool: return (try cell.decode(Bool.self) ? 1 : 0 as Int64).databaseValue
        case .float4, .float8: return try cell.decode(Double.self).databaseValue
        case .numeric:
            let decimal = try cell.decode(Decimal.self)
            let whole = NSDecimalNumber(decimal: decimal)
            return decimal == Decimal(whole.int64Value) ? whole.int64Value.databaseValue : whole.doubleValue.databaseValue
        case .bytea: return Data(try cell.decode([UInt8].self)).databaseValue
        default: return try cell.decode(String.self).databaseValue
        }
    }

    // MARK: - Errors

    /// A PostgreSQL error as a hub error: the server's message and SQLSTATE and the start of the
    /// statement (never its arguments).
    static func hubError(_ error: any Error, sql: String) -> any Error {
        if error is HubStoreError { return error }
        let reason = PostgresErrors.serverMessage(error) ?? String(describing: error)
        return HubStoreError("the PostgreSQL hub refused a statement: \(reason); statement: \(excerpt(sql))")
    }

    static func excerpt(_ sql: String) -> String {
        let flat = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return flat.count > 160 ? String(flat.prefix(160)) + "…" : flat
    }
}

/// A statement argument sent as text with no type (OID 0): the server types it from where it
/// is used, as it would a literal.
struct UntypedText: PostgresNonThrowingEncodable {
    let text: String
    static var psqlType: PostgresDataType { .null }
    static var psqlFormat: PostgresFormat { .text }

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeString(text)
    }
}
