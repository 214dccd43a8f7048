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
/// **Batched, pipelined writes.** A write whose count nobody reads (``executeDeferred(_:_:)``)
/// is not sent at once: writes are gathered into a batch, and a batch goes to the server as one
/// statement, `SELECT pg_temp.hubctl_batch($1)`, a function each connection defines when it
/// opens, which runs the batch's statements in order (``PostgresHubBatch``). A batch is sent
/// without waiting for its answer when it is full, and before the next statement that returns
/// something (a query, an `INSERT … RETURNING`, a counted write, the commit); that statement's
/// caller first collects the answers of the batches before it. The first error among them is
/// thrown there, naming its statement. From the first error on, the transaction is failed:
/// PostgreSQL refuses every later statement of it, and so does this executor, with that first
/// error, until ``PostgresHubDatabase`` rolls it back. Where the function could not be defined,
/// each write is sent alone, still without waiting.
final class PostgresHubExecutor: HubSQLExecutor {
    let connection: PostgresConnection
    let translate: (String) -> PostgresHubStatement
    /// Whether the connection has `pg_temp.hubctl_batch`.
    let batches: Bool
    /// Writes gathered and not yet sent.
    private var batch = PostgresHubBatch()
    /// Batches (or single writes) sent and not yet answered, oldest first, with the translated
    /// text of their statements for errors.
    private var inFlight: [(answer: EventLoopFuture<PostgresQueryResult>, statements: [String])] = []
    /// The transaction's first error; every later statement throws it again.
    private var failure: (any Error)?
    /// At most this many batches or single writes wait for their answers (a bound on memory: a
    /// transaction may send a million writes, one per scanned ID).
    static let inFlightLimit = 16

    init(connection: PostgresConnection, batches: Bool, translate: @escaping (String) -> PostgresHubStatement) {
        self.connection = connection
        self.batches = batches
        self.translate = translate
    }

    var dialect: HubDialect { .postgres }

    @discardableResult
    func execute(_ sql: String, _ arguments: HubArguments) throws -> Int {
        try run(translate(sql).sql, arguments).metadata.rows ?? 0
    }

    func executeDeferred(_ sql: String, _ arguments: HubArguments) throws {
        if let failure { throw failure }
        try Self.refuseOnEventLoop()
        let statement = translate(sql)
        if batches {
            batch.append(statement, arguments)
            if batch.isFull { sendBatch() }
        } else {
            inFlight.append((send(statement.sql, arguments), [statement.sql]))
        }
        if inFlight.count >= Self.inFlightLimit { try collect() }
    }

    func rows(_ sql: String, _ arguments: HubArguments) throws -> [Row] {
        try run(translate(sql).sql, arguments).rows.map { try Self.row($0) }
    }

    func forEachRow(_ sql: String, _ arguments: HubArguments, _ body: (Row) throws -> Void) throws {
        for row in try run(translate(sql).sql, arguments).rows { try body(Self.row(row)) }
    }

    func value<T: DatabaseValueConvertible>(_ sql: String, _ arguments: HubArguments) throws -> T? {
        guard let first = try run(translate(sql).sql, arguments).rows.first?.first else { return nil }
        return T.fromDatabaseValue(try Self.value(first))
    }

    func insertReturningID(_ sql: String, _ arguments: HubArguments) throws -> Int64 {
        let result = try run(translate(sql).sql + " RETURNING id", arguments)
        guard let cell = result.rows.first?.first, case .int64(let id) = try Self.value(cell).storage else {
            throw HubStoreError("PostgreSQL returned no id for: \(Self.excerpt(sql))")
        }
        return id
    }

    /// An executor that sends each write alone and translates statements afresh: for setting up
    /// a connection, before any batch function or translation cache exists.
    static func unbatched(_ connection: PostgresConnection) -> PostgresHubExecutor {
        PostgresHubExecutor(connection: connection, batches: false, translate: { PostgresHubStatement($0) })
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

    /// Sends the writes gathered, then `sql`, and waits for its answer (after the answers of
    /// the writes sent before it).
    private func run(_ sql: String, _ arguments: HubArguments) throws -> PostgresQueryResult {
        if let failure { throw failure }
        try Self.refuseOnEventLoop()
        sendBatch()
        let answer = send(sql, arguments)
        try collect()
        do {
            return try answer.wait()
        } catch {
            throw fail(error, statements: [sql])
        }
    }

    /// Sends the writes gathered as one batch, without waiting.
    private func sendBatch() {
        guard !batch.isEmpty else { return }
        inFlight.append((send(PostgresHubBatch.call, HubArguments([batch.json])), batch.statements))
        batch = PostgresHubBatch()
    }

    /// Sends `sql` without waiting: the connection queues it behind the statements before it.
    ///
    /// Handed to the connection on its event loop, after checking there that it is open: a
    /// statement written to a connection already closed would never be answered, and its
    /// caller would wait forever.
    private func send(_ sql: String, _ arguments: HubArguments) -> EventLoopFuture<PostgresQueryResult> {
        var binds = PostgresBindings(capacity: arguments.values.count)
        for value in arguments.values { binds.append(Self.untyped(value)) }
        let query = PostgresQuery(unsafeSQL: sql, binds: binds)
        let connection = self.connection
        return connection.eventLoop.flatSubmit {
            guard !connection.isClosed else { return connection.eventLoop.makeFailedFuture(ConnectionClosed()) }
            return connection.query(query, logger: PostgresHubDatabase.logger)
        }
    }

    /// Waits for every write in flight; throws the first one's error.
    private func collect() throws {
        defer { inFlight.removeAll(keepingCapacity: true) }
        for (answer, statements) in inFlight {
            do {
                _ = try answer.wait()
            } catch {
                throw fail(error, statements: statements)
            }
        }
    }

    /// Records the transaction's first error (as a hub error naming the statement among
    /// `statements` that failed) and returns it.
    private func fail(_ error: any Error, statements: [String]) -> any Error {
        if let failure { return failure }
        let failed: String
        if statements.count == 1 {
            failed = Self.excerpt(statements[0])
        } else if let index = PostgresHubBatch.failedIndex(error), statements.indices.contains(index) {
            failed = Self.excerpt(statements[index])
        } else {
            failed = "one of \(statements.count) writes sent together, the first: \(Self.excerpt(statements[0]))"
        }
        let error = Self.hubError(error, statement: failed)
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
        sendBatch()
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
        batch = PostgresHubBatch()
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
    static func hubError(_ error: any Error, statement: String) -> any Error {
        if error is HubStoreError { return error }
        let reason = PostgresErrors.serverMessage(error) ?? String(describing: error)
        return HubStoreError("the PostgreSQL hub refused a statement: \(reason); statement: \(statement)")
    }

    static func excerpt(_ sql: String) -> String {
        let flat = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return flat.count > 160 ? String(flat.prefix(160)) + "…" : flat
    }
}

/// A statement sent on a connection that had closed.
struct ConnectionClosed: Error, CustomStringConvertible {
    var description: String { "the connection to the PostgreSQL hub is closed" }
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
