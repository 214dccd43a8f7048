/// SHA-256 (FIPS 180-4), used for content hashes and idempotency keys.
///
/// Small and dependency-free so the core builds without a crypto library; the block function
/// works on the stack (no allocation per block), since every pulled record is hashed.
public struct SHA256: Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
    /// Bytes waiting for a full 64-byte block.
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    public init() { pending.reserveCapacity(64) }

    /// The digest of `bytes`.
    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var h = SHA256()
        h.update(bytes)
        return h.finalize()
    }

    /// The digest of a contiguous byte array.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var h = SHA256()
        bytes.withUnsafeBufferPointer { h.update(buffer: $0) }
        return h.finalize()
    }

    /// The lower-case hex digest of a string's UTF-8 bytes, cut to `hexLength` characters.
    public static func hex(_ string: String, hexLength: Int = 64) -> String {
        hexString(hash(Array(string.utf8)), length: hexLength)
    }

    /// Lower-case hex of bytes, cut to `length` characters.
    public static func hexString(_ bytes: [UInt8], length: Int = 64) -> String {
        let digits: StaticString = "0123456789abcdef"
        let count = min(length, bytes.count * 2)
        return String(unsafeUninitializedCapacity: count) { out in
            digits.withUTF8Buffer { d in
                for i in 0..<count {
                    let b = bytes[i / 2]
                    out[i] = d[Int(i % 2 == 0 ? b >> 4 : b & 0xF)]
                }
            }
            return count
        }
    }

    /// The lower-case hex digest of `message`, cut to `length` characters, computed without
    /// allocating anything but the result: the padding is appended to `message` itself, which
    /// holds the padded message afterwards. For hashing many small messages (every record read).
    public static func hexDigest(padding message: inout [UInt8], length: Int = 64) -> String {
        let bitLength = UInt64(message.count) &* 8
        message.append(0x80)
        while message.count % 64 != 56 { message.append(0) }
        for i in (0..<8).reversed() { message.append(UInt8((bitLength >> (UInt64(i) * 8)) & 0xFF)) }
        var h = SHA256(empty: ())
        message.withUnsafeBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                h.compress(buffer.baseAddress! + offset)
                offset += 64
            }
        }
        let s = h.state
        let words = (s.0, s.1, s.2, s.3, s.4, s.5, s.6, s.7)
        let count = min(length, 64)
        let digits: StaticString = "0123456789abcdef"
        return withUnsafeBytes(of: words) { raw in
            let w = raw.bindMemory(to: UInt32.self)
            return String(unsafeUninitializedCapacity: count) { out in
                digits.withUTF8Buffer { d in
                    for i in 0..<count {
                        let word = w[i / 8]
                        let nibble = (word >> (UInt32(7 - i % 8) * 4)) & 0xF
                        out[i] = d[Int(nibble)]
                    }
                }
                return count
            }
        }
    }

    /// A hasher without the buffer for partial blocks (``hexDigest(padding:length:)`` needs none).
    private init(empty: ()) {}

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        array.withUnsafeBufferPointer { update(buffer: $0) }
    }

    public mutating func update(buffer: UnsafeBufferPointer<UInt8>) {
        var index = 0
        length &+= UInt64(buffer.count)
        if !pending.isEmpty {
            let take = min(64 - pending.count, buffer.count)
            pending.append(contentsOf: buffer[0..<take])
            index = take
            if pending.count == 64 {
                pending.withUnsafeBufferPointer { compress($0.baseAddress!) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        while buffer.count - index >= 64 {
            compress(buffer.baseAddress! + index)
            index += 64
        }
        if index < buffer.count { pending.append(contentsOf: buffer[index...]) }
    }

    public mutating func finalize() -> [UInt8] {
        let bitLength = length &* 8
        var tail = pending
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for i in (0..<8).reversed() { tail.append(UInt8((bitLength >> (UInt64(i) * 8)) & 0xFF)) }
        tail.withUnsafeBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                compress(buffer.baseAddress! + offset)
                offset += 64
            }
        }
        var out = [UInt8](repeating: 0, count: 32)
        let words = [state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7]
        for (i, word) in words.enumerated() {
            out[i * 4] = UInt8(word >> 24)
            out[i * 4 + 1] = UInt8((word >> 16) & 0xFF)
            out[i * 4 + 2] = UInt8((word >> 8) & 0xFF)
            out[i * 4 + 3] = UInt8(word & 0xFF)
        }
        return out
    }

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    /// Processes one 64-byte block.
    private mutating func compress(_ block: UnsafePointer<UInt8>) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for i in 0..<16 {
                w[i] = UInt32(block[i * 4]) << 24 | UInt32(block[i * 4 + 1]) << 16 | UInt32(block[i * 4 + 2]) << 8
                    | UInt32(block[i * 4 + 3])
            }
            for i in 16..<64 {
                let s0 = Self.rotr(w[i - 15], 7) ^ Self.rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = Self.rotr(w[i - 2], 17) ^ Self.rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, h) = state
            Self.k.withUnsafeBufferPointer { k in
                for i in 0..<64 {
                    let s1 = Self.rotr(e, 6) ^ Self.rotr(e, 11) ^ Self.rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ s1 &+ ch &+ k[i] &+ w[i]
                    let s0 = Self.rotr(a, 2) ^ Self.rotr(a, 13) ^ Self.rotr(a, 22)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = s0 &+ maj
                    h = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
                }
            }
            state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e, state.5 &+ f, state.6 &+ g,
                     state.7 &+ h)
        }
    }
}
