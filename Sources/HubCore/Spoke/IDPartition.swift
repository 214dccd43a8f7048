/// One of `count` parts of an object's records, split by a hash of each record's ID: what one
/// worker's `pull:S/E/2of4` unit reads of a large table without a cursor, so that a full scan
/// is shared by several workers.
///
/// The system computes the hash itself, in its own query (`WHERE hash(id) % count = number - 1`),
/// so the parts are even without planning any bounds, every record is in exactly one part, and a
/// record never moves between parts: its ID decides. Only reads are split; writes, fetches and ID
/// scans see the whole object.
public struct IDPartition: Sendable, Hashable, CustomStringConvertible {
    /// 1 … `count`.
    public var number: Int
    /// How many parts the object is split into (2 or more).
    public var count: Int

    public init(_ number: Int, of count: Int) {
        precondition(count >= 1 && (1...count).contains(number), "partition \(number) of \(count)")
        self.number = number
        self.count = count
    }

    /// `2of4`, as in a unit's key.
    public var description: String { "\(number)of\(count)" }

    /// Parses ``description``; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "o", maxSplits: 1)
        guard parts.count == 2, parts[1].first == "f", let number = Int(parts[0]), let count = Int(parts[1].dropFirst()),
              count >= 1, (1...count).contains(number), String(number) == parts[0], String(count) == parts[1].dropFirst()
        else { return nil }
        self.init(number, of: count)
    }

    /// The bucket (0 … count − 1) whose records this part holds: `number - 1`.
    public var bucket: Int { number - 1 }

    /// The parts of an object split `count` ways.
    public static func all(_ count: Int) -> [IDPartition] { (1...max(1, count)).map { IDPartition($0, of: max(1, count)) } }

    /// The hash adapters without one of their own use (the SQLite adapter registers it as a SQL
    /// function): 64-bit FNV-1a of the ID's bytes as the system stores them (an integer's decimal
    /// digits, a text's UTF-8).
    public static func fnv1a<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
