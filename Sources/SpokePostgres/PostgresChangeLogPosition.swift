import HubCore

/// Where a read through the change log continues: the meaning of a captured table's ``Cursor``
/// (see ``PostgresSpoke/readThroughChangeLog(_:after:limit:)``).
///
/// Snapshots are PostgreSQL's `pg_snapshot` text (`xmin:xmax:xip,…`). A small JSON object with
/// `"log"` naming the kind, so it is never mistaken for a cursor-column position:
/// - `{"log": "full", "snap": s, "id": x}`: a full read by ID, after ID `x` (no `id`: from the
///   first row); `s` is the snapshot taken before its first page (null: a full read without a
///   change log, which starts over on the next run);
/// - `{"log": "since", "snap": s}`: the start of the next run, which reads the rows changed by
///   every transaction that finished after `s` (invisible in `s`, visible in a new snapshot);
/// - `{"log": "window", "from": s1, "to": s2, "change": n}`: within a run that reads the
///   transactions visible in `s2` but not in `s1`, after the change-log entry `n`.
enum PostgresChangeLogPosition: Sendable, Hashable {
    case full(snapshot: String?, after: String?)
    case since(String)
    case window(from: String, to: String, after: Int64)

    /// Decodes a stored cursor; nil for no cursor or a cursor of another kind (a cursor-column
    /// position left from before capture was configured).
    init?(_ cursor: Cursor?) {
        guard let cursor, case .object(let o)? = try? JSONParser.parse(cursor.value),
              case .string(let kind)? = o["log"] else { return nil }
        func text(_ key: String) -> String? { if case .string(let s)? = o[key] { return s } else { return nil } }
        switch kind {
        case "full": self = .full(snapshot: text("snap"), after: text("id"))
        case "since":
            guard let snapshot = text("snap") else { return nil }
            self = .since(snapshot)
        case "window":
            guard let from = text("from"), let to = text("to"), let after = text("change").flatMap({ Int64($0) }) else { return nil }
            self = .window(from: from, to: to, after: after)
        default: return nil
        }
    }

    var cursor: Cursor {
        var object: [String: Value]
        switch self {
        case .full(let snapshot, let after):
            object = ["log": "full", "snap": snapshot.map(Value.string) ?? .null]
            if let after { object["id"] = .string(after) }
        case .since(let snapshot):
            object = ["log": "since", "snap": .string(snapshot)]
        case .window(let from, let to, let after):
            object = ["log": "window", "from": .string(from), "to": .string(to), "change": .string(String(after))]
        }
        return Cursor(JSONWriter.string(.object(object)))
    }
}
