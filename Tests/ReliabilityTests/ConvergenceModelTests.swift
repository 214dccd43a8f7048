import Foundation
import HubCore
import HubTesting
import PropertyBased
import Testing

/// T3 of the reliability battery: random sequences of creates, edits (the same field in two
/// systems between syncs included), deletes, reference changes, files moved away and back, and
/// syncs failed or killed at the engine's fault points, over four real systems; after each
/// sequence and two quiet syncs every system must hold what the model says, with no duplicate,
/// no lost update other than a recorded conflict, no dangling reference and no write on the
/// last sync. The figures go to the reliability scorecard as `T3`.
///
/// Each sequence has its own seed; a failing one is shrunk and printed with it
/// (`.fixedSeed("…")`), and `HUBCTL_T3_SEED=… swift test --filter ConvergenceModelTests` replays it.
@Suite(.serialized) struct ConvergenceModelTests {
    /// Sequences run in this process (faults thrown at the engine's fault points).
    static var inProcessCount: Int { Int(ProcessInfo.processInfo.environment["HUBCTL_T3_SEQUENCES"] ?? "") ?? 500 }
    /// Sequences whose faulted syncs are `hubctl sync-all` processes killed with SIGKILL.
    static var killedCount: Int { Int(ProcessInfo.processInfo.environment["HUBCTL_T3_KILLED"] ?? "") ?? 16 }

    static let totals = Totals()

    @Test("Random edit sequences over four systems converge to the model, with syncs failed at fault points",
          .shrinking, ConvergenceSeed())
    func randomSequencesConvergeInProcess() async throws {
        await propertyCheck(count: Self.inProcessCount, input: ConvergenceStep.sequences()) { steps in
            let figures = try await Self.run(steps, kills: false)
            Self.totals.add(figures)
        }
        Self.totals.record()
    }

    @Test("Random edit sequences converge to the model when sync-all is killed with SIGKILL at fault points",
          .shrinking, ConvergenceSeed())
    func randomSequencesConvergeWithKilledProcesses() async throws {
        await propertyCheck(count: Self.killedCount, input: ConvergenceStep.sequences(maxLength: 16)) { steps in
            let figures = try await Self.run(steps.map { step in
                // Here every sync step kills the process at a fault point before its recovery run.
                var s = step
                if s.kind >= 80 { s.a -= s.a % 3 }
                return s
            }, kills: true)
            Self.totals.add(figures)
        }
        Self.totals.record()
    }

    /// Runs one sequence in a fresh world and checks it; returns its figures.
    static func run(_ steps: [ConvergenceStep], kills: Bool) async throws -> ConvergenceFigures {
        let dir = try TemporaryDirectory()
        let world = try ConvergenceWorld.create(in: dir.path)
        let model = ConvergenceModel(world: world, kills: kills)
        // A start everyone shares: two customers with an order each, synced.
        try model.createCustomer(in: [.app], 1, 2)
        try model.createCustomer(in: [.sheet, .export], 3, 4)
        try await model.sync("initial sync")
        try model.createOrder(.app, 0, 5)
        try model.createOrder(.billing, 1, 6)
        try model.createCustomer(in: [.billing], 5, 0)
        try await model.sync("initial sync")
        for step in steps { try await model.apply(step) }
        model.figures.lastSyncWrites += try await model.settle()
        let problems = try model.check()
        model.figures.sequences = 1
        let ok = problems.isEmpty && model.figures.losses == 0
        #expect(ok, """
            T3 sequence did not converge (\(steps.count) steps: \(steps)):
            \(problems.prefix(20).joined(separator: "\n"))
            operations:
            \(model.trace.joined(separator: "\n"))
            """)
        return model.figures
    }

    /// Figures summed over every sequence of the suite, written to the scorecard once both tests ran.
    final class Totals: Sendable {
        private let lock = NSLock()
        nonisolated(unsafe) private var figures = ConvergenceFigures()
        nonisolated(unsafe) private var recorded = 0

        func add(_ f: ConvergenceFigures) {
            lock.lock(); defer { lock.unlock() }
            figures = figures + f
        }

        /// Writes the `T3` row after the second of the two tests.
        func record() {
            lock.lock()
            recorded += 1
            let f = figures, done = recorded == 2
            lock.unlock()
            print("T3: \(f.sequences) sequences, \(f.operations) operations, \(f.syncs) syncs, \(f.faultsFired) faults fired (\(f.kills) kills)")
            guard done else { return }
            Scorecard.record("T3", [
                "sequences": Double(f.sequences), "operations": Double(f.operations), "syncs": Double(f.syncs),
                "faults_fired": Double(f.faultsFired), "kills": Double(f.kills), "conflicts_expected": Double(f.conflictsExpected),
                "duplicates": Double(f.duplicates), "lost_updates": Double(f.lostUpdates), "dangling_refs": Double(f.danglingRefs),
                "last_sync_writes": Double(f.lastSyncWrites), "divergent_systems": Double(f.divergentSystems),
                "quarantined_remaining": Double(f.quarantinedRemaining),
            ])
        }
    }
}
