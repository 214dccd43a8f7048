import Foundation
import GRDB
import HubCore

/// Where a read of a table continues: the meaning of an SQLite spoke's ``Cursor``.
///
/// A cursor is a small JSON object holding typed column values, so that keyset comparisons
/// compare numbers as numbers and text as text:
/// - `{"id": x}`: a full scan, after the row with ID `x`;
/// - `{"null": x}`: the first part of a full incremental read (rows whose cursor column is NULL,
///   by ID), after ID `x`;
/// - `{"from": …, "cp": […], "read": t}`: the start of the next run, a ``KeysetRun`` (the
///   keyset it reads after, the checkpoints of the lookback window);
/// - the same with `"v": c, "id": x`: within a run, after the row at (cursor `c`, ID `x`).
///
/// Cursors stored before keysets still read: `{"v": c}` starts the next run at cursor `c`
/// inclusive (`{"v": null}`: every row whose cursor is not NULL), `{"v": c, "id": x}` continues a
/// run after (`c`, `x`).
enum SQLiteReadPosition: Sendable {
    typealias Run = KeysetRun<DatabaseValue>

    case start
    case scan(after: DatabaseValue)
    case nulls(after: DatabaseValue)
    case values(after: Run.Key, run: Run)
    case next(Run)

    /// Decodes a stored cursor; nil means the start.
    init(_ cursor: HubCore.Cursor?) throws(CursorError) {
        guard let cursor else { self = .start; return }
        guard case .object(let o)? = try? JSONParser.parse(cursor.value) else { throw CursorError() }
        func value(_ key: String) throws(CursorError) -> DatabaseValue? {
            guard let v = o[key] else { return nil }
            return try Self.databaseValue(v)
        }
        let run: Run?
        if o["from"] != nil {
            guard let decoded = Run(members: o, { try? Self.databaseValue($0) }) else { throw CursorError() }
            run = decoded
        } else {
            run = nil
        }
        switch (try value("v"), try value("id"), try value("null")) {
        case (let v?, let id?, nil) where !id.isNull && !v.isNull:
            let key = Run.Key(value: v, id: id)
            self = .values(after: key, run: run ?? Run(start: .after(key)))
        case (let v?, nil, nil) where run == nil: self = .next(Run(start: v.isNull ? .all : .atLeast(v)))
        case (nil, nil, nil) where run != nil: self = .next(run!)
        case (nil, let id?, nil) where !id.isNull: self = .scan(after: id)
        case (nil, nil, let id?) where !id.isNull: self = .nulls(after: id)
        default: throw CursorError()
        }
    }

    /// The cursor text for this position.
    var cursor: HubCore.Cursor? {
        var object: [String: Value]
        switch self {
        case .start: return nil
        case .scan(let id): object = ["id": Self.value(id)]
        case .nulls(let id): object = ["null": Self.value(id)]
        case .values(let key, let run):
            object = run.members(withReadAt: true, Self.value)
            object["v"] = Self.value(key.value)
            object["id"] = Self.value(key.id)
        case .next(let run): object = run.members(withReadAt: false, Self.value)
        }
        return HubCore.Cursor(JSONWriter.string(.object(object)))
    }

    /// A stored cursor this spoke cannot read.
    struct CursorError: Error {}

    /// A column value as JSON, keeping its storage class (a BLOB becomes `{"blob": base64}`).
    static func value(_ dbValue: DatabaseValue) -> Value {
        if case .blob(let data) = dbValue.storage { return ["blob": .string(data.base64EncodedString())] }
        return Value(dbValue)
    }

    static func databaseValue(_ value: Value) throws(CursorError) -> DatabaseValue {
        switch value {
        case .null: return .null
        case .int(let i): return i.databaseValue
        case .double(let d): return d.databaseValue
        case .string(let s): return s.databaseValue
        case .object(let o):
            guard let text = o["blob"]?.stringValue, let data = Data(base64Encoded: text) else { throw CursorError() }
            return data.databaseValue
        case .bool, .array: throw CursorError()
        }
    }
}
