import HubCore

/// Where a read of a table continues: the meaning of a postgres spoke's ``Cursor``.
///
/// A small JSON object holding column values as PostgreSQL's text (bound back as parameters,
/// so the server compares them with the column's own type):
/// - `{"id": x}`: a full scan, after the row with ID `x`;
/// - `{"null": x}`: the first part of a full incremental read (rows whose cursor column is NULL),
///   after ID `x`;
/// - `{"from": …, "cp": […], "read": t}`: the start of the next run, a ``KeysetRun`` (the
///   keyset it reads after, the checkpoints of the lookback window, times on the server's
///   `clock_timestamp()`);
/// - the same with `"v": c, "id": x`: within a run, after the row at (cursor `c`, ID `x`).
///
/// Cursors stored before keysets still read: `{"v": c}` starts the next run at cursor `c`
/// inclusive (`{"v": null}`: every row whose cursor is not NULL), `{"v": c, "id": x}` continues a
/// run after (`c`, `x`).
enum PostgresReadPosition: Sendable, Hashable {
    typealias Run = KeysetRun<String>

    case start
    case scan(after: String)
    case nulls(after: String)
    case values(after: Run.Key, run: Run)
    case next(Run)

    /// Decodes a stored cursor; nil means the start.
    init?(_ cursor: Cursor?) {
        guard let cursor else { self = .start; return }
        guard case .object(let o)? = try? JSONParser.parse(cursor.value) else { return nil }
        func text(_ key: String) -> String?? {
            switch o[key] {
            case nil: return nil
            case .null?: return .some(nil)
            case .string(let s)?: return .some(s)
            default: return nil
            }
        }
        var run: Run?
        if o["from"] != nil {
            guard let decoded = Run(members: o, \.stringValue) else { return nil }
            run = decoded
        }
        switch (text("v"), text("id"), text("null")) {
        case (let v??, let id??, nil):
            let key = Run.Key(value: v, id: id)
            self = .values(after: key, run: run ?? Run(start: .after(key)))
        case (let v?, nil, nil) where run == nil: self = .next(Run(start: v.map(Run.Start.atLeast) ?? .all))
        case (nil, nil, nil) where run != nil: self = .next(run!)
        case (nil, let id??, nil): self = .scan(after: id)
        case (nil, nil, let id??): self = .nulls(after: id)
        default: return nil
        }
    }

    var cursor: Cursor? {
        var object: [String: Value]
        switch self {
        case .start: return nil
        case .scan(let id): object = ["id": .string(id)]
        case .nulls(let id): object = ["null": .string(id)]
        case .values(let key, let run):
            object = run.members(withReadAt: true, Value.string)
            object["v"] = .string(key.value)
            object["id"] = .string(key.id)
        case .next(let run): object = run.members(withReadAt: false, Value.string)
        }
        return Cursor(JSONWriter.string(.object(object)))
    }
}
