import Foundation
import HubCore
import HubTestServers
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
///
/// The same sequences also run with the hub in PostgreSQL (`T3-postgres-hub`): fewer, as many as
/// fit in about a minute of CI, each on a copy of the synced start moved into a schema of its own.
@Suite struct ConvergenceModelTests {
    /// Sequences run in this process (faults thrown at the engine's fault points), in two halves
    /// that run side by side.
    static var inProcessCount: Int { Int(ProcessInfo.processInfo.environment["HUBCTL_T3_SEQUENCES"] ?? "") ?? 500 }
    /// Sequences whose faulted syncs are `hubctl sync-all` processes killed with SIGKILL.
    static var killedCount: Int { Int(ProcessInfo.processInfo.environment["HUBCTL_T3_KILLED"] ?? "") ?? 16 }

    /// Sequences on a PostgreSQL hub, faults thrown in this process, and with `sync-all` killed.
    static var postgresCount: Int { Int(ProcessInfo.processInfo.environment["HUBCTL_T3_PG_SEQUENCES"] ?? "") ?? 40 }
    static var postgresKilledCount: Int { Int(ProcessInfo.processInfo.environment["HUBCTL_T3_PG_KILLED"] ?? "") ?? 4 }

    /// Figures of every sequence, written to the scorecard when the last of the three runs ends.
    static let totals = Totals(parts: 3, row: "T3")
    static let postgresTotals = Totals(parts: 1, row: "T3-postgres-hub")

    @Test("Random edit sequences over four systems converge to the model, with syncs failed at fault points",
          .shrinking, ConvergenceSeed(), arguments: [0, 1])
    func randomSequencesConvergeInProcess(half: Int) async throws {
        let shrink = ShrinkBudget()
        let count = (Self.inProcessCount + 1 - half) / 2
        await propertyCheck(count: count, input: ConvergenceStep.sequences()) { steps in
            Self.totals.add(await Self.run(steps, kills: false, shrink))
        }
        shrink.report()
        if Self.totals.partDone() { await ConvergenceStart.shared.discard() }
    }

    @Test("Random edit sequences converge to the model when sync-all is killed with SIGKILL at fault points",
          .shrinking, ConvergenceSeed())
    func randomSequencesConvergeWithKilledProcesses() async throws {
        let shrink = ShrinkBudget()
        await propertyCheck(count: Self.killedCount, input: ConvergenceStep.sequences()) { steps in
            Self.totals.add(await Self.run(Self.killing(steps), kills: true, shrink))
        }
        shrink.report()
        if Self.totals.partDone() { await ConvergenceStart.shared.discard() }
    }

    @Test("Random edit sequences converge to the model on a PostgreSQL hub, with syncs failed at fault points and sync-all killed",
          .shrinking, ConvergenceSeed(), .enabled(if: TestServices.runPostgresTests, "needs the test cluster (scripts/with-test-services.sh)"))
    func randomSequencesConvergeOnAPostgreSQLHub() async throws {
        let shrink = ShrinkBudget()
        let started = Date()
        await propertyCheck(count: Self.postgresCount, input: ConvergenceStep.sequences()) { steps in
            Self.postgresTotals.add(await Self.run(steps, kills: false, shrink, hub: .postgres))
        }
        await propertyCheck(count: Self.postgresKilledCount, input: ConvergenceStep.sequences()) { steps in
            Self.postgresTotals.add(await Self.run(Self.killing(steps), kills: true, shrink, hub: .postgres))
        }
        shrink.report()
        print("T3 on a PostgreSQL hub: \(Int(Date().timeIntervalSince(started))) s")
        if Self.postgresTotals.partDone() { await ConvergenceStart.shared.discard() }
    }

    /// The steps with every sync step made to kill the process at a fault point before its recovery run.
    static func killing(_ steps: [ConvergenceStep]) -> [ConvergenceStep] {
        steps.map { step in
            var s = step
            if s.kind >= 80 { s.a -= s.a % 3 }
            return s
        }
    }

    /// Runs one sequence in a copy of the synced start and checks it; returns its figures. A
    /// step that throws (a system the test could not edit or read) fails the sequence too:
    /// property checks do not report thrown errors themselves.
    static func run(_ steps: [ConvergenceStep], kills: Bool, _ shrink: ShrinkBudget, hub: TestHubStore = .sqlite) async
        -> ConvergenceFigures
    {
        // Shrinking a failure re-runs shrunk sequences; past a budget they pass unrun, so the
        // search ends, and the smallest failure seen is reported after the check.
        guard shrink.mayRun() else { return ConvergenceFigures() }
        let model: ConvergenceModel
        let dir: ScratchDirectory
        do {
            dir = try ScratchDirectory()
            let state = try await ConvergenceStart.shared.copy(to: dir.path)
            let world = hub == .postgres ? try ConvergenceWorld.movingHubToPostgres(in: dir.path) : ConvergenceWorld(dir: dir.path)
            model = ConvergenceModel(world: world, kills: kills, state: state)
        } catch {
            Issue.record("T3 could not create its systems: \(error)")
            return ConvergenceFigures()
        }
        var problems: [String] = []
        do {
            for step in steps { try await model.apply(step) }
            model.figures[.lastSyncWrites] += try await model.settle()
            problems = try model.check()
        } catch {
            problems.append("the sequence stopped: \(error)")
        }
        model.figures[.sequences] = 1
        if !problems.isEmpty || model.figures.losses > 0 {
            let report = """
                T3 sequence did not converge (\(steps.count) steps: \(steps)):
                \(problems.prefix(20).joined(separator: "\n"))
                operations:
                \(model.trace.joined(separator: "\n"))
                """
            if ConvergenceModel.live { FileHandle.standardError.write(Data((report + "\n").utf8)) }
            shrink.failed(steps.count, report)
            Issue.record(Comment(rawValue: report))
        }
        model.world.postgresHub?.drop()
        _ = dir
        return model.figures
    }

    /// Bounds the shrinking of a failure and keeps the smallest failing sequence it saw.
    final class ShrinkBudget: Sendable {
        /// Shrunk sequences run after the first failure, at most.
        static let limit = 40
        private let lock = NSLock()
        nonisolated(unsafe) private var smallest: (steps: Int, report: String)?
        nonisolated(unsafe) private var runsSinceFailure = 0

        func mayRun() -> Bool {
            lock.lock(); defer { lock.unlock() }
            if smallest == nil { return true }
            runsSinceFailure += 1
            return runsSinceFailure <= Self.limit
        }

        func failed(_ steps: Int, _ report: String) {
            lock.lock(); defer { lock.unlock() }
            if smallest == nil || steps < smallest!.steps { smallest = (steps, report) }
        }

        /// Records the smallest failure as an issue of the test (shrinking hides the others).
        func report() {
            lock.lock(); defer { lock.unlock() }
            if let smallest { Issue.record(Comment(rawValue: "smallest failing sequence:\n" + smallest.report)) }
        }
    }

    /// Figures summed over every sequence; the scorecard row is written when every part ran.
    final class Totals: Sendable {
        private let lock = NSLock()
        private let parts: Int
        private let row: String
        nonisolated(unsafe) private var figures = ConvergenceFigures()
        nonisolated(unsafe) private var done = 0

        init(parts: Int, row: String) {
            self.parts = parts
            self.row = row
        }

        func add(_ f: ConvergenceFigures) {
            lock.lock(); defer { lock.unlock() }
            figures = figures + f
        }

        /// Counts a part as done; true (and the scorecard row written) for the last one.
        func partDone() -> Bool {
            lock.lock()
            done += 1
            let f = figures, last = done == parts
            lock.unlock()
            print("\(row): \(f[.sequences]) sequences, \(f[.operations]) operations, \(f[.syncs]) syncs, \(f[.faultsFired]) faults fired (\(f[.kills]) kills)")
            guard last else { return false }
            Scorecard.record(row, f.scorecard)
            return true
        }
    }
}
