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

/// The figures of one or more T3 sequences.
struct ConvergenceFigures: Sendable {
    var sequences = 0
    var operations = 0
    var syncs = 0
    var faultsFired = 0
    var kills = 0
    var conflictsExpected = 0
    var duplicates = 0
    var lostUpdates = 0
    var danglingRefs = 0
    var lastSyncWrites = 0
    var divergentSystems = 0
    var quarantinedRemaining = 0

    var losses: Int { duplicates + lostUpdates + danglingRefs + lastSyncWrites + divergentSystems + quarantinedRemaining }

    static func + (x: ConvergenceFigures, y: ConvergenceFigures) -> ConvergenceFigures {
        var z = x
        z.sequences += y.sequences; z.operations += y.operations; z.syncs += y.syncs; z.faultsFired += y.faultsFired
        z.kills += y.kills; z.conflictsExpected += y.conflictsExpected; z.duplicates += y.duplicates
        z.lostUpdates += y.lostUpdates; z.danglingRefs += y.danglingRefs; z.lastSyncWrites += y.lastSyncWrites
        z.divergentSystems += y.divergentSystems; z.quarantinedRemaining += y.quarantinedRemaining
        return z
    }
}
