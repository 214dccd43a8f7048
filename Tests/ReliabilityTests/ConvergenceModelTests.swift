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
            Self.totals.add(await Self.run(steps, kills: false))
        }
        Self.totals.finish()
    }

    @Test("Random edit sequences converge to the model when sync-all is killed with SIGKILL at fault points",
          .shrinking, ConvergenceSeed())
    func randomSequencesConvergeWithKilledProcesses() async throws {
        await propertyCheck(count: Self.killedCount, input: ConvergenceStep.sequences(maxLength: 16)) { steps in
            let figures = await Self.run(steps.map { step in
                // Here every sync step kills the process at a fault point before its recovery run.
                var s = step
                if s.kind >= 80 { s.a -= s.a % 3 }
                return s
            }, kills: true)
            Self.totals.add(figures)
        }
        Self.totals.finish()
    }

    /// Runs one sequence in a copy of the synced start and checks it; returns its figures. A
    /// step that throws (a system the test could not edit or read) fails the sequence too:
    /// property checks do not report thrown errors themselves.
    static func run(_ steps: [ConvergenceStep], kills: Bool) async -> ConvergenceFigures {
        // Shrinking a failure re-runs shrunk sequences; past a budget they pass unrun, so the
        // search ends, and the smallest failure seen is reported after the check.
        guard totals.mayRun() else { return ConvergenceFigures() }
        let model: ConvergenceModel
        let dir: ScratchDirectory
        do {
            dir = try ScratchDirectory()
            model = ConvergenceModel(world: ConvergenceWorld(dir: dir.path), kills: kills,
                                     state: try await ConvergenceStart.shared.copy(to: dir.path))
        } catch {
            Issue.record("T3 could not create its systems: \(error)")
            return ConvergenceFigures()
        }
        var problems: [String] = []
        do {
            for step in steps { try await model.apply(step) }
            model.figures.lastSyncWrites += try await model.settle()
            problems = try model.check()
        } catch {
            problems.append("the sequence stopped: \(error)")
        }
        model.figures.sequences = 1
        if !problems.isEmpty || model.figures.losses > 0 {
            let report = """
                T3 sequence did not converge (\(steps.count) steps: \(steps)):
                \(problems.prefix(20).joined(separator: "\n"))
                operations:
                \(model.trace.joined(separator: "\n"))
                """
            if ConvergenceModel.live { FileHandle.standardError.write(Data((report + "\n").utf8)) }
            totals.failed(steps.count, report)
            Issue.record(Comment(rawValue: report))
        }
        _ = dir
        return model.figures
    }

    /// Figures summed over every sequence of the suite, written to the scorecard once both tests ran.
    final class Totals: Sendable {
        private let lock = NSLock()
        nonisolated(unsafe) private var figures = ConvergenceFigures()
        nonisolated(unsafe) private var recorded = 0
        nonisolated(unsafe) private var smallest: (steps: Int, report: String)?
        nonisolated(unsafe) private var runsSinceFailure = 0
        /// Shrunk sequences run after the first failure, at most.
        static let shrinkBudget = 40

        func mayRun() -> Bool {
            lock.lock(); defer { lock.unlock() }
            if smallest == nil { return true }
            runsSinceFailure += 1
            return runsSinceFailure <= Self.shrinkBudget
        }

        func failed(_ steps: Int, _ report: String) {
            lock.lock(); defer { lock.unlock() }
            if smallest == nil || steps < smallest!.steps { smallest = (steps, report) }
        }

        /// The smallest failing sequence seen, once per test.
        func takeSmallestFailure() -> String? {
            lock.lock(); defer { lock.unlock() }
            defer { smallest = nil; runsSinceFailure = 0 }
            return smallest?.report
        }

        func add(_ f: ConvergenceFigures) {
            lock.lock(); defer { lock.unlock() }
            figures = figures + f
        }

        /// Reports the smallest failure of a test, and writes the `T3` row after the last test.
        func finish() {
            if let failure = takeSmallestFailure() { Issue.record(Comment(rawValue: "smallest failing sequence:\n" + failure)) }
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
