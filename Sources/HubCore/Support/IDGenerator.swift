import Foundation

/// Makes new hub IDs. Injected so tests get stable IDs.
///
/// The default produces UUIDv7 strings: time-ordered, so the hub's indexes grow at their end
/// instead of taking random inserts (which cost SQLite a factor of five at a million rows).
public struct IDGenerator: Sendable {
    private let make: @Sendable () -> String
    public init(_ make: @escaping @Sendable () -> String) { self.make = make }
    /// A new ID.
    public func next() -> String { make() }

    /// UUIDv7 from the given clock and the system's random generator.
    public static func uuidV7(clock: WallClock = .system) -> IDGenerator {
        let state = UUIDv7State()
        return IDGenerator {
            let micros = (clock.now().timeIntervalSince1970 * 1_000_000).rounded()
            return state.next(millis: UInt64(max(0, micros / 1000)))
        }
    }

    /// `prefix-000001`, `prefix-000002`, …: for tests and golden files.
    public static func incrementing(prefix: String = "h") -> IDGenerator {
        let counter = Counter()
        return IDGenerator {
            let n = counter.next()
            let digits = String(n)
            return prefix + "-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        }
    }
}

/// A thread-safe counter.
final class Counter: Sendable {
    private let lock = NSLock()
    nonisolated(unsafe) private var value: Int = 0
    func next() -> Int {
        lock.lock(); defer { lock.unlock() }
        value += 1
        return value
    }
}

/// Keeps UUIDv7 values strictly increasing within a process, even within one millisecond.
final class UUIDv7State: Sendable {
    private let lock = NSLock()
    nonisolated(unsafe) private var lastMillis: UInt64 = 0
    nonisolated(unsafe) private var sequence: UInt16 = 0

    func next(millis: UInt64) -> String {
        lock.lock()
        var ms = millis
        if ms <= lastMillis {
            ms = lastMillis
            sequence &+= 1
            if sequence >= 0x0FFF { ms += 1; sequence = 0 }
        } else {
            sequence = UInt16.random(in: 0..<0x0800)
        }
        lastMillis = ms
        let seq = sequence
        lock.unlock()
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8((ms >> (8 * UInt64(5 - i))) & 0xFF) }
        bytes[6] = 0x70 | UInt8((seq >> 8) & 0x0F)
        bytes[7] = UInt8(seq & 0xFF)
        var rng = SystemRandomNumberGenerator()
        for i in 8..<16 { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
