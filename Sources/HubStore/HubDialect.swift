import Foundation

/// What SQLite and PostgreSQL spell differently, in one place.
///
/// The hub's statements are written once, in SQLite's dialect with `?` placeholders.
/// ``translate(_:)`` turns one into PostgreSQL's; the few expressions that cannot be translated
/// word for word (reading a field of a JSON column, a list passed as a JSON array) are built by
/// the methods below at the call site.
public enum HubDialect: Sendable, Hashable {
    case sqlite
    case postgres

    // MARK: - Expressions built at the call site

    /// The text value of one field of a JSON column; the field is the next argument, given as
    /// ``jsonFieldArgument(_:)``.
    public func jsonText(_ column: String) -> String {
        switch self {
        case .sqlite: "json_extract(\(column), ?)"
        case .postgres: "(\(column)::json ->> ?::text)"
        }
    }

    /// The argument that names `field` for ``jsonText(_:)`` and ``jsonIsString(_:)``.
    public func jsonFieldArgument(_ field: String) -> String {
        switch self {
        case .sqlite: "$.\"\(field.replacingOccurrences(of: "\"", with: "\\\""))\""
        case .postgres: field
        }
    }

    /// The text value of one field of a JSON column, the field name itself being the next argument.
    public func jsonTextOfNamedField(_ column: String) -> String {
        self == .sqlite ? "json_extract(\(column), '$.' || json_quote(?))" : jsonText(column)
    }

    /// True when one field of a JSON column (the next argument, as ``jsonFieldArgument(_:)``)
    /// holds a string.
    public func jsonIsString(_ column: String) -> String {
        switch self {
        case .sqlite: "json_type(\(column), ?) = 'text'"
        case .postgres: "json_typeof(\(column)::json -> ?::text) = 'string'"
        }
    }

    /// `IN` the strings of a JSON array given as the next argument.
    public var inJSONArray: String {
        switch self {
        case .sqlite: "IN (SELECT value FROM json_each(?))"
        case .postgres: "IN (SELECT json_array_elements_text(?::json))"
        }
    }

    /// Appended to a `SELECT` that reads a row the transaction is about to change, so that two
    /// processes deciding from it take turns (SQLite's `BEGIN IMMEDIATE` already does).
    public var forUpdate: String {
        switch self {
        case .sqlite: ""
        case .postgres: " FOR UPDATE"
        }
    }

    /// A query that holds a lock on migrating this hub until the transaction ends (nil: the
    /// database's own write lock does).
    public var migrationLock: String? {
        switch self {
        case .sqlite: nil
        case .postgres: "SELECT pg_advisory_xact_lock(hashtext('hubctl migration ' || current_schema()))"
        }
    }

    /// A query that makes this transaction the hub's only writer until it ends (nil: the
    /// database's own write lock already does, as SQLite's single writer). On PostgreSQL every
    /// hub write takes one advisory lock per schema, so a page's read-merge-write never loses a
    /// concurrent update and change sequence numbers commit in the order they were taken.
    public var hubWriteLock: String? {
        switch self {
        case .sqlite: nil
        case .postgres: "SELECT pg_advisory_xact_lock(hashtext('hubctl write ' || current_schema()))"
        }
    }

    /// The database's clock, in milliseconds since 1970 (leases are set from it, never from a
    /// worker's clock).
    public var nowMillis: String {
        switch self {
        case .sqlite: "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
        case .postgres: "(extract(epoch from clock_timestamp()) * 1000)::bigint"
        }
    }

    /// Appended to a `SELECT … LIMIT n` that claims rows: rows another transaction holds are
    /// passed over instead of waited for.
    public var forUpdateSkipLocked: String {
        switch self {
        case .sqlite: ""
        case .postgres: " FOR UPDATE SKIP LOCKED"
        }
    }

    // MARK: - Translation

    /// `sql`, written for SQLite, in this dialect.
    ///
    /// For PostgreSQL: `?` become `$1…$n` (a `? IS NULL` test is typed as text: arguments are
    /// sent untyped); `INSERT OR IGNORE` becomes `ON CONFLICT DO NOTHING`; `INSERT OR REPLACE`
    /// becomes `ON CONFLICT (key) DO UPDATE` of every column (a table whose `id` SQLite would
    /// renew gets a new one too); `IS NOT excluded.x` becomes `IS DISTINCT FROM`; SQLite's index
    /// hints and `temp.` schema go.
    public func translate(_ sql: String) -> String {
        guard self == .postgres else { return sql }
        var s = sql
        if let range = s.range(of: "INSERT OR IGNORE INTO ") {
            s.replaceSubrange(range, with: "INSERT INTO ")
            s = s.trimmingCharacters(in: .whitespacesAndNewlines) + " ON CONFLICT DO NOTHING"
        }
        if s.contains("INSERT OR REPLACE INTO ") { s = Self.replaceToUpsert(s) }
        s = s.replacingOccurrences(of: #"\s+INDEXED BY \w+"#, with: "", options: .regularExpression)
            .replacingOccurrences(of: " NOT INDEXED", with: "")
            .replacingOccurrences(of: " temp.", with: " pg_temp.")
            .replacingOccurrences(of: " WITHOUT ROWID", with: "")
            .replacingOccurrences(of: " IS NOT excluded.", with: " IS DISTINCT FROM excluded.")
        return Self.numberPlaceholders(s)
    }

    /// The conflict key of each table the hub writes with `INSERT OR REPLACE`, and whether
    /// SQLite gives the replaced row a new `id` (PostgreSQL must too: intents are read in `id` order).
    static let replaceKeys: [String: (key: [String], renewsID: Bool)] = [
        "schedule_state": (["system", "entity"], false),
        "intent": (["system", "entity", "hub_id"], true),
        "run_count": (["run_id", "system", "entity", "direction"], false),
    ]

    static func replaceToUpsert(_ sql: String) -> String {
        let pattern = #"INSERT OR REPLACE INTO (\w+) \(([^)]*)\)"#
        guard let match = sql.range(of: pattern, options: .regularExpression) else { return sql }
        let head = String(sql[match])
        let table = String(head.dropFirst("INSERT OR REPLACE INTO ".count).prefix { $0 != " " })
        guard let (key, renewsID) = replaceKeys[table] else {
            preconditionFailure("HubDialect.replaceKeys has no key for \(table): add it before writing INSERT OR REPLACE INTO \(table)")
        }
        let columnList = head[head.index(after: head.firstIndex(of: "(")!)..<head.lastIndex(of: ")")!]
        let columns = columnList.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        var sets = columns.filter { !key.contains($0) }.map { "\($0) = excluded.\($0)" }
        if renewsID { sets.append("id = DEFAULT") }
        var out = sql.replacingCharacters(in: match, with: head.replacingOccurrences(of: "INSERT OR REPLACE INTO", with: "INSERT INTO"))
        out = out.trimmingCharacters(in: .whitespacesAndNewlines)
        out += " ON CONFLICT (\(key.joined(separator: ", "))) DO UPDATE SET \(sets.joined(separator: ", "))"
        return out
    }

    /// `?` → `$1…$n`, outside quoted strings and identifiers.
    static func numberPlaceholders(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        var quote: Character?
        var i = sql.startIndex
        while i < sql.endIndex {
            let ch = sql[i]
            if let q = quote {
                if ch == q { quote = nil }
                out.append(ch)
            } else if ch == "'" || ch == "\"" {
                quote = ch
                out.append(ch)
            } else if ch == "?" {
                n += 1
                out += "$\(n)"
                let rest = sql[sql.index(after: i)...]
                if rest.hasPrefix(" IS NULL") || rest.hasPrefix(" IS NOT NULL") { out += "::text" }
            } else {
                out.append(ch)
            }
            i = sql.index(after: i)
        }
        return out
    }

    // MARK: - Schema

    /// A migration's DDL, written for SQLite, in this dialect: integer keys become identity
    /// columns, integers 64-bit, text compares byte by byte (SQLite's order, so keyset pages
    /// and sorted output agree on both stores), and `WITHOUT ROWID` goes.
    public func ddl(_ sql: String) -> String {
        guard self == .postgres else { return sql }
        return sql
            .replacingOccurrences(of: "INTEGER PRIMARY KEY CHECK", with: "BIGINT PRIMARY KEY CHECK")
            .replacingOccurrences(of: "INTEGER PRIMARY KEY", with: "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
            .replacingOccurrences(of: #"\bINTEGER\b"#, with: "BIGINT", options: .regularExpression)
            .replacingOccurrences(of: #"\bTEXT\b"#, with: "TEXT COLLATE \"C\"", options: .regularExpression)
            .replacingOccurrences(of: ") WITHOUT ROWID", with: ")")
    }
}
