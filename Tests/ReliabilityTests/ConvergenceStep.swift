import HubCore
import PropertyBased

/// One step of a T3 sequence, as generated: a kind (0…99, see ``ConvergenceModel/apply(_:)``)
/// and three choices. A step is read against the state the sequence has reached (which system,
/// which record, which value), so every generated or shrunk sequence is a valid one; a step that
/// does not apply there (no record to edit, a system whose file is away) does nothing.
struct ConvergenceStep: Sendable, CustomStringConvertible {
    var kind: Int
    var a: Int
    var b: Int
    var c: Int

    var description: String { "\(kind)/\(a)/\(b)/\(c)" }

    /// Sequences of 3 to `maxLength` steps; shrinking drops steps and lowers choices.
    static func sequences(maxLength: Int = 18) -> Generator<[ConvergenceStep], some SendableSequenceType> {
        zip(Gen.int(in: 0...99), Gen.int(in: 0...63), Gen.int(in: 0...63), Gen.int(in: 0...63))
            .map { kind, a, b, c in ConvergenceStep(kind: kind, a: a, b: b, c: c) }
            .array(of: 3...maxLength)
    }
}

/// The figures of one or more T3 sequences, named as the scorecard names them.
struct ConvergenceFigures: Sendable {
    enum Key: String, CaseIterable, Sendable {
        case sequences, operations, syncs, kills, duplicates
        case faultsFired = "faults_fired", conflictsExpected = "conflicts_expected", lostUpdates = "lost_updates"
        case danglingRefs = "dangling_refs", lastSyncWrites = "last_sync_writes", divergentSystems = "divergent_systems"
        case quarantinedRemaining = "quarantined_remaining"
    }

    private var counts: [Key: Int] = [:]

    subscript(_ key: Key) -> Int {
        get { counts[key, default: 0] }
        set { counts[key] = newValue }
    }

    /// The figures that must stay at zero.
    static let lossKeys: [Key] = [.duplicates, .lostUpdates, .danglingRefs, .lastSyncWrites, .divergentSystems, .quarantinedRemaining]
    var losses: Int { Self.lossKeys.reduce(0) { $0 + self[$1] } }

    var scorecard: [String: Double] { Dictionary(uniqueKeysWithValues: Key.allCases.map { ($0.rawValue, Double(self[$0])) }) }

    static func + (x: ConvergenceFigures, y: ConvergenceFigures) -> ConvergenceFigures {
        var z = x
        z.counts.merge(y.counts, uniquingKeysWith: +)
        return z
    }
}
