import HubCore

/// Content hashes of canonical values, used to recognise unchanged records (and hubctl's own
/// writes read back) without comparing field by field.
public enum ContentHash {
    /// The hash of `fields` of `record`: SHA-256 over the canonical JSON of the non-null values,
    /// 32 hex digits. Absent and null fields hash alike.
    public static func of(_ record: CanonicalRecord, fields: [String]) -> String {
        // The canonical JSON of the object, written directly (no intermediate dictionary):
        // keys sorted by their UTF-8 bytes, as JSONWriter sorts them.
        var out: [UInt8] = []
        out.reserveCapacity(128)
        out.append(UInt8(ascii: "{"))
        var first = true
        var previous: String?
        for f in fields.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) where f != previous {
            previous = f
            guard let v = record[f], !v.isNull else { continue }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.write(.string(f), to: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.write(v, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return SHA256.hexString(SHA256.hash(out), length: 32)
    }
}

extension Dictionary where Key == String, Value == HubCore.Value {
    /// True when both records hold the same value for `field` (absent and null are equal).
    public func sameValue(_ other: [String: HubCore.Value], for field: String) -> Bool {
        let a = self[field] ?? .null, b = other[field] ?? .null
        return a == b
    }
}
