import Crypto
import HubCore

/// Content hashes of canonical values, used to recognise unchanged records (and hubctl's own
/// writes read back) without comparing field by field.
public enum ContentHash {
    /// The hash of `fields` of `record`: SHA-256 over the canonical JSON of the non-null values,
    /// 32 hex digits. Absent and null fields hash alike.
    public static func of(_ record: CanonicalRecord, fields: [String]) -> String {
        of(record, keys: Keys(fields))
    }

    /// The hash of the fields `keys` names, prepared once for many records.
    public static func of(_ record: CanonicalRecord, keys: Keys) -> String {
        var out = keys.buffer()
        for (index, name) in keys.fields.enumerated() {
            guard let v = record[name] else { continue }
            keys.append(v, at: index, to: &out)
        }
        return keys.finish(&out)
    }

    /// The field names of a content hash, sorted and encoded once, so that hashing a record
    /// writes its canonical JSON directly (no intermediate dictionary, no sort per record).
    public struct Keys: Sendable {
        /// The unique field names, sorted by their UTF-8 bytes (as ``JSONWriter`` sorts keys).
        public let fields: [String]
        /// Each field's JSON key followed by `:`.
        let encoded: [[UInt8]]

        public init(_ fields: [String]) {
            var unique = fields.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) })
            var previous: String?
            unique.removeAll { f in
                defer { previous = f }
                return f == previous
            }
            self.fields = unique
            encoded = unique.map { f in
                var key: [UInt8] = []
                JSONWriter.write(.string(f), to: &key)
                key.append(UInt8(ascii: ":"))
                return key
            }
        }

        /// An empty canonical JSON object, ready for ``append(_:at:to:)``.
        public func buffer() -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(192)
            out.append(UInt8(ascii: "{"))
            return out
        }

        /// Empties `out` (keeping its storage) and opens it as ``buffer()`` does.
        public func reset(_ out: inout [UInt8]) {
            out.removeAll(keepingCapacity: true)
            out.append(UInt8(ascii: "{"))
        }

        /// Adds the value of `fields[index]` (in order of `fields`; null values are left out).
        public func append(_ value: Value, at index: Int, to out: inout [UInt8]) {
            if value.isNull { return }
            if out.count > 1 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: encoded[index])
            JSONWriter.write(value, to: &out)
        }

        /// The hash of the object written to `out` (closed with `}` afterwards).
        ///
        /// Every record read is hashed, so the digest comes from swift-crypto (BoringSSL's
        /// SHA-256, with the CPU's SHA instructions where it has them); HubCore's own
        /// ``HubCore/SHA256`` gives the same digest, without them.
        public func finish(_ out: inout [UInt8]) -> String {
            out.append(UInt8(ascii: "}"))
            let digest = Crypto.SHA256.hash(data: out)
            return digest.withUnsafeBytes { bytes in
                String(unsafeUninitializedCapacity: 32) { text in
                    for i in 0..<32 { text[i] = Self.hexDigit(i, of: bytes) }
                    return 32
                }
            }
        }

        /// True when ``finish(_:)`` of `out` would return `hash` (closes `out` the same way),
        /// compared digit by digit without making the text.
        public func digest(of out: inout [UInt8], equals hash: String) -> Bool {
            out.append(UInt8(ascii: "}"))
            let digest = Crypto.SHA256.hash(data: out)
            var hash = hash
            return hash.withUTF8 { text in
                guard text.count == 32 else { return false }
                return digest.withUnsafeBytes { bytes in
                    for i in 0..<32 where text[i] != Self.hexDigit(i, of: bytes) { return false }
                    return true
                }
            }
        }

        /// The `i`th lowercase hex digit of `bytes`.
        @inline(__always)
        private static func hexDigit(_ i: Int, of bytes: UnsafeRawBufferPointer) -> UInt8 {
            let byte = bytes[i >> 1]
            return hexDigits[Int(i & 1 == 0 ? byte >> 4 : byte & 0xF)]
        }

        private static let hexDigits = Array("0123456789abcdef".utf8)
    }
}

extension Dictionary where Key == String, Value == HubCore.Value {
    /// True when both records hold the same value for `field` (absent and null are equal).
    public func sameValue(_ other: [String: HubCore.Value], for field: String) -> Bool {
        let a = self[field] ?? .null, b = other[field] ?? .null
        return a == b
    }
}
