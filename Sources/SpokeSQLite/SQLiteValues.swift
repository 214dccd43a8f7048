import Foundation
import GRDB
import HubCore

extension Value {
    /// A value read from SQLite: INTEGER, REAL, TEXT and NULL map to `.int`, `.double`, `.string`
    /// and `.null`; a BLOB reads as its base64 text.
    init(_ dbValue: DatabaseValue) {
        switch dbValue.storage {
        case .null: self = .null
        case .int64(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .blob(let data): self = .string(data.base64EncodedString())
        }
    }

    /// The value to bind for a write: booleans as 1 or 0, objects and arrays as JSON text.
    var databaseValue: DatabaseValue {
        switch self {
        case .null: return .null
        case .bool(let b): return Int64(b ? 1 : 0).databaseValue
        case .int(let i): return i.databaseValue
        case .double(let d): return d.databaseValue
        case .string(let s): return s.databaseValue
        case .array, .object: return JSONWriter.string(self).databaseValue
        }
    }
}

extension ExternalID {
    /// The ID text of a key value; nil for NULL.
    init?(_ dbValue: DatabaseValue) {
        switch dbValue.storage {
        case .null: return nil
        case .int64(let i): self.init(String(i))
        case .double(let d): self.init(d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d))
        case .string(let s): self.init(s)
        case .blob(let data): self.init(data.base64EncodedString())
        }
    }
}

extension SQLiteColumn {
    /// The value to compare this column with to find the record `id`: a number where the
    /// column's affinity stores numbers and the ID text is one, the text otherwise.
    func databaseValue(for id: ExternalID) -> DatabaseValue {
        let text = id.rawValue
        switch affinity {
        case .integer, .numeric, .blob:
            if let i = Int64(text), String(i) == text { return i.databaseValue }
            if affinity != .blob, let d = Double(text), d.isFinite { return d.databaseValue }
        case .real:
            if let d = Double(text), d.isFinite { return d.databaseValue }
        case .text:
            break
        }
        return text.databaseValue
    }
}
