import HubCore

/// Where a read of a table continues: the meaning of a postgres spoke's ``Cursor``.
///
/// A small JSON object holding column values as PostgreSQL's text (bound back as parameters,
/// so the server compares them with the column's own type):
/// - `{"id": x}`: a full scan, after the row with ID `x`;
/// - `{"null": x}`: the first part of a full incremental read (rows whose cursor column is NULL),
///   after ID `x`;
/// - `{"v": c, "id": x}`: within a run, after the row at (cursor `c`, ID `x`);
/// - `{"v": c}`: the start of the next run, at cursor `c` inclusive (rows sharing the last
///   cursor value are read again so that a change within the same timestamp is not missed);
///   `{"v": null}` reads every row whose cursor is not NULL.
enum PostgresReadPosition: Sendable, Hashable {
    case start
    case scan(after: String)
    case nulls(after: String)
    case values(after: String, id: String)
    case since(String?)

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
        switch (text("v"), text("id"), text("null")) {
        case (let v??, let id??, nil): self = .values(after: v, id: id)
        case (let v?, nil, nil): self = .since(v)
        case (nil, let id??, nil): self = .scan(after: id)
        case (nil, nil, let id??): self = .nulls(after: id)
        default: return nil
        }
    }

    var cursor: Cursor? {
        let object: [String: Value]
        switch self {
        case .start: return nil
        case .scan(let id): object = ["id": .string(id)]
        case .nulls(let id): object = ["null": .string(id)]
        case .values(let v, let id): object = ["v": .string(v), "id": .string(id)]
        case .since(let v): object = ["v": v.map(Value.string) ?? .null]
        }
        return Cursor(JSONWriter.string(.object(object)))
    }
}
