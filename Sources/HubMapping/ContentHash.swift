import HubCore

/// Content hashes of canonical values, used to recognise unchanged records (and hubctl's own
/// writes read back) without comparing field by field.
public enum ContentHash {
    /// The hash of `fields` of `record`: SHA-256 over the canonical JSON of the non-null values,
    /// 32 hex digits. Absent and null fields hash alike.
    public static func of(_ record: CanonicalRecord, fields: [String]) -> String {
        var object: [String: Value] = [:]
        for f in fields { if let v = record[f], !v.isNull { object[f] = v } }
        return SHA256.hexString(SHA256.hash(JSONWriter.bytes(.object(object))), length: 32)
    }
}

extension Dictionary where Key == String, Value == HubCore.Value {
    /// True when both records hold the same value for `field` (absent and null are equal).
    public func sameValue(_ other: [String: HubCore.Value], for field: String) -> Bool {
        let a = self[field] ?? .null, b = other[field] ?? .null
        return a == b
    }
}
