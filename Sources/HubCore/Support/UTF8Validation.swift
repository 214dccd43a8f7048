/// Checks bytes against UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
/// U+10FFFF, no truncated sequences.
///
/// Spokes use it to tell text a system really holds from bytes that would silently become
/// U+FFFD if decoded leniently (Swift's `String(decoding:as:)` replaces them).
public enum UTF8Validation {
    /// The offset of the first byte that does not start a valid sequence, or nil when every
    /// byte is valid UTF-8.
    public static func firstInvalidOffset(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let count = bytes.count
        var i = 0
        while i < count {
            let b0 = bytes[i]
            if b0 < 0x80 { i += 1; continue }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF  // the range of the second byte
            switch b0 {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F  // no surrogates
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F  // nothing above U+10FFFF
            default: return i
            }
            guard i + length <= count else { return i }
            let b1 = bytes[i + 1]
            guard b1 >= low && b1 <= high else { return i }
            for k in 2..<max(2, length) where bytes[i + k] & 0xC0 != 0x80 { return i }
            i += length
        }
        return nil
    }

    /// True when `bytes` are valid UTF-8.
    public static func isValid(_ bytes: some Collection<UInt8>) -> Bool {
        if let valid = bytes.withContiguousStorageIfAvailable({ firstInvalidOffset(UnsafeRawBufferPointer($0)) == nil }) {
            return valid
        }
        return Array(bytes).withUnsafeBytes { firstInvalidOffset($0) == nil }
    }
}
