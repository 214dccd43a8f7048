import Foundation
import HubCore
import HubStore
import PostgresNIO

/// One hub statement in PostgreSQL's dialect, and the same statement as a `format()` template
/// for a batch (``PostgresHubBatch``). Made once per statement text.
struct PostgresHubStatement: Sendable {
    /// The statement with `$1…$n` placeholders.
    let sql: String
    /// The statement with `%1$L…%n$L` in place of the placeholders and every `%` doubled:
    /// `format()` puts each argument in as a quoted literal (or `NULL`).
    let template: String

    init(_ sql: String) {
        self.sql = sql
        template = Self.template(sql)
    }

    /// `sql`'s placeholders as `format()` specifiers, outside quoted strings and identifiers.
    static func template(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var quote: Character?
        var i = sql.startIndex
        while i < sql.endIndex {
            let ch = sql[i]
            if ch == "%" {
                out += "%%"
            } else if let q = quote {
                if ch == q { quote = nil }
                out.append(ch)
            } else if ch == "'" || ch == "\"" {
                quote = ch
                out.append(ch)
            } else if ch == "$", let digits = Self.digits(after: i, in: sql), !digits.isEmpty {
                out += "%\(digits)$L"
                i = sql.index(i, offsetBy: digits.count)
            } else {
                out.append(ch)
            }
            i = sql.index(after: i)
        }
        return out
    }

    private static func digits(after index: String.Index, in sql: String) -> Substring? {
        let rest = sql[sql.index(after: index)...]
        return rest.prefix { $0.isASCII && $0.isNumber }
    }
}

/// Writes gathered to go to the server together, as one call of a function each hub
/// connection defines for itself when it opens (``definition``), which runs them in order:
/// one round trip for many writes instead of one each.
///
/// Each write travels as its `format()` template and its arguments as JSON strings (or null);
/// the server puts the arguments in as quoted literals (`format('%L')`, PostgreSQL's own
/// quoting), which it types from where they are used, as it types the untyped text arguments
/// of a single statement. Each template starts with a comment holding the write's index in its
/// batch, so that an error, whose context quotes the statement the server was running, says
/// which write failed; that context, which holds the arguments, is never shown.
struct PostgresHubBatch {
    /// The writes: `[template, [arguments…]]` each.
    private var items: [Value] = []
    /// Their statements in PostgreSQL's dialect, for errors.
    private(set) var statements: [String] = []

    /// At most this many writes go in one batch.
    static let limit = 500

    var isEmpty: Bool { items.isEmpty }
    var isFull: Bool { items.count >= Self.limit }

    mutating func append(_ statement: PostgresHubStatement, _ arguments: HubArguments) {
        let values = arguments.values.map { value -> Value in
            PostgresHubExecutor.untyped(value).map { .string($0.text) } ?? .null
        }
        items.append(.array([.string("/*hubctl:\(items.count)*/ " + statement.template), .array(values)]))
        statements.append(statement.sql)
    }

    /// The batch as the function's argument.
    var json: String { JSONWriter.string(.array(items)) }

    /// Runs a batch on the server.
    static let call = "SELECT pg_temp.hubctl_batch($1::json)"

    /// The function, in the connection's temporary schema (it lives as long as the session and
    /// needs no privilege beyond the database's `TEMPORARY`, which every role has by default).
    static let definition = """
        CREATE OR REPLACE FUNCTION pg_temp.hubctl_batch(batch json) RETURNS integer LANGUAGE plpgsql AS $$
        DECLARE
            item json;
        BEGIN
            FOR item IN SELECT value FROM json_array_elements(batch) WITH ORDINALITY AS w(value, n) ORDER BY n LOOP
                EXECUTE format(item ->> 0, VARIADIC ARRAY(
                    SELECT a FROM json_array_elements_text(item -> 1) WITH ORDINALITY AS x(a, n) ORDER BY n));
            END LOOP;
            RETURN json_array_length(batch);
        END
        $$
        """

    /// The index in its batch of the write that failed, read from the context of the server's
    /// error (nil when the error did not come from running one of the writes).
    static func failedIndex(_ error: any Error) -> Int? {
        guard let info = (error as? PSQLError)?.serverInfo else { return nil }
        for text in [info[.locationContext], info[.internalQuery]].compactMap({ $0 }) {
            guard let start = text.range(of: "/*hubctl:") else { continue }
            let digits = text[start.upperBound...].prefix { $0.isASCII && $0.isNumber }
            if let index = Int(digits) { return index }
        }
        return nil
    }
}
