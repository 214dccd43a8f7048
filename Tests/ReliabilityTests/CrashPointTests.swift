import Foundation
import HubCore
import HubTesting
import HubTestServers
import Testing

/// T1 and T2 of the reliability battery: `hubctl sync-all` killed with SIGKILL at every fault
/// point (first and last hit), then a recovery run, then a run that must write nothing.
/// Oracles: no duplicates, no orphans, every system equal to a run that was never interrupted,
/// the hub intact after every kill.
@Suite(.serialized) struct CrashPointTests {
    /// A converged fixture with the workload applied, and a reference: the same state synced
    /// without faults.
    static func prepare(postgresHub: Bool) throws
        -> (base: TemporaryDirectory, fixture: BatteryFixture, reference: BatteryFixture.Snapshot, hits: [FaultPoint: Int])
    {
        let base = try TemporaryDirectory()
        let fixture = try BatteryFixture.create(in: base.path, postgresHub: postgresHub)
        let converge = try fixture.sync()
        guard converge.exitCode == 0 else { throw BatteryError("converging failed: \(converge.stderr)\(converge.stdout)") }
        try fixture.applyWorkload()

        // The reference run, with a ledger of every fault point it passes.
        let refDir = try TemporaryDirectory()
        let reference = try fixture.copy(to: refDir.path)
        let ledger = refDir.path + "/ledger.txt"
        let run = try reference.sync(["HUBCTL_FAULT_LEDGER": ledger])
        guard run.exitCode == 0 else { throw BatteryError("reference run failed: \(run.stderr)\(run.stdout)") }
        var hits: [FaultPoint: Int] = [:]
        for line in try String(contentsOfFile: ledger, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: " ")
            if let point = FaultPoint(rawValue: String(parts[0])), let n = Int(parts[1]) { hits[point] = max(hits[point] ?? 0, n) }
        }
        return (base, fixture, try reference.snapshot(), hits)
    }

    /// Which hits of a point to fault: the first, the middle and the last; every one with
    /// `RELIABILITY_LEVEL=deep`.
    static func hitsToTry(_ count: Int) -> [Int] {
        if ProcessInfo.processInfo.environment["RELIABILITY_LEVEL"] == "deep" { return Array(1...count) }
        return Array(Set([1, (count + 1) / 2, count])).sorted()
    }

    @Test(arguments: [FaultAction.crash, .throw])
    func faultingARunAtEveryPointLosesAndDuplicatesNothing(_ action: FaultAction) throws {
        try Self.battery(action, postgresHub: false)
    }

    /// T1 and T5 again with the hub in PostgreSQL: each case's hub is a copy in a schema of its
    /// own (`hubctl hub migrate`), and the faults land between and inside PostgreSQL transactions.
    @Test(.enabled(if: TestServices.runPostgresTests, "needs the test cluster (scripts/with-test-services.sh)"),
          arguments: [FaultAction.crash, .throw])
    func faultingARunOnAPostgreSQLHubAtEveryPointLosesAndDuplicatesNothing(_ action: FaultAction) throws {
        try Self.battery(action, postgresHub: true)
    }

    static func battery(_ action: FaultAction, postgresHub: Bool) throws {
        let (base, fixture, reference, hits) = try Self.prepare(postgresHub: postgresHub)
        _ = base
        // The workload's run passes every point but two, reached below: the recovery of
        // unanswered creates, and a record being quarantined.
        var reached = Set(hits.keys)

        var cases = 0, killed = 0, duplicates = 0, orphans = 0, divergent = 0, notQuiescent = 0, integrityFailures = 0
        var recoveryFailures: [String] = []
        for point in hits.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            for n in Self.hitsToTry(hits[point]!) {
                cases += 1
                let dir = try TemporaryDirectory()
                let copy = try fixture.copy(to: dir.path)
                let crash = try copy.sync(["HUBCTL_FAULTS": "\(point.rawValue)@\(n):\(action.rawValue)"])
                // A kill ends the process; a thrown fault fails its system (3) or the run (1).
                if action == .crash ? (crash.killedBySignal && crash.exitCode == SIGKILL)
                    : (!crash.killedBySignal && [1, 3].contains(crash.exitCode))
                {
                    killed += 1
                } else {
                    print("fault \(point.rawValue)@\(n):\(action.rawValue) did not fail the run: exit \(crash.exitCode)")
                }
                if try copy.hubIntegrity() != "ok" { integrityFailures += 1 }
                if point == .createAfterIntentCommit || point == .pushAfterResponse {
                    // Creates were left unanswered: fault the recovery too, right after it looked
                    // them up (when there were any to look up; otherwise it simply completes).
                    let again = try copy.sync(["HUBCTL_FAULTS": "recoveryAfterLookup@1:\(action.rawValue)"])
                    if action == .crash ? again.killedBySignal : again.exitCode == 1 {
                        cases += 1
                        killed += 1
                        reached.insert(.recoveryAfterLookup)
                        if try copy.hubIntegrity() != "ok" { integrityFailures += 1 }
                    }
                }
                let recovery = try copy.sync()
                if recovery.exitCode != 0 { recoveryFailures.append("\(point.rawValue)@\(n): \(recovery.stderr)\(recovery.stdout)") }
                let after = try copy.writeState()
                let quiet = try copy.sync()
                let afterQuiet = try copy.writeState()
                if quiet.exitCode != 0 || afterQuiet != after { notQuiescent += 1 }
                let snapshot = try copy.snapshot()
                duplicates += snapshot.duplicates
                orphans += try copy.orphans()
                let diff = snapshot.divergentFields(from: reference)
                if diff > 0 { print("divergent after \(point.rawValue)@\(n): \(snapshot) vs \(reference)") }
                divergent += diff
            }
        }
        // A run killed (or failed) while it quarantines a malformed row among good ones.
        cases += 1
        let dir = try TemporaryDirectory()
        let copy = try fixture.copy(to: dir.path)
        var csv = try String(contentsOfFile: copy.dir + "/customers.csv", encoding: .utf8)
        csv += "q1,quinn@example.com,Quinn,gold,lots\nq2,ray@example.com,Ray,gold,3\n"
        try csv.write(toFile: copy.dir + "/customers.csv", atomically: true, encoding: .utf8)
        let faulted = try copy.sync(["HUBCTL_FAULTS": "quarantineMidWrite@1:\(action.rawValue)"])
        if faulted.killedBySignal || (action == .throw && [1, 3].contains(faulted.exitCode)) {
            killed += 1
            reached.insert(.quarantineMidWrite)
        }
        if try copy.hubIntegrity() != "ok" { integrityFailures += 1 }
        let recovered = try copy.sync()
        let entries = try HubctlProcess.run(["quarantine", "list", "--json", "-t", copy.topologyPath])
        let open = try entries.json().objectValue?["result"]?.objectValue?["entries"]?.arrayValue ?? []
        if recovered.exitCode != 3 || open.count != 1 {
            recoveryFailures.append("quarantineMidWrite: exit \(recovered.exitCode), \(open.count) entries")
        }
        let snapshot = try copy.snapshot()
        duplicates += snapshot.duplicates
        if snapshot.systems["crm"]?["ray@example.com"] == nil { divergent += 1 }

        let unreached = Set(FaultPoint.allCases).subtracting(reached)
        #expect(unreached.isEmpty, "fault points never reached: \(unreached.map(\.rawValue).sorted())")
        Scorecard.record((action == .crash ? "T1" : "T5-faults") + (postgresHub ? "-postgres-hub" : ""), [
            "cases": Double(cases), "cases_faulted": Double(killed), "points_reached": Double(reached.count),
            "points_unreached": Double(unreached.count), "duplicates": Double(duplicates), "orphans": Double(orphans),
            "divergent_fields": Double(divergent), "not_quiescent": Double(notQuiescent),
            "recovery_failures": Double(recoveryFailures.count),
        ])
        if action == .crash && !postgresHub { Scorecard.record("T2", ["hub_integrity_failures": Double(integrityFailures), "kills": Double(killed)]) }
        #expect(killed == cases)
        #expect(duplicates == 0)
        #expect(orphans == 0)
        #expect(divergent == 0)
        #expect(notQuiescent == 0)
        #expect(integrityFailures == 0)
        #expect(recoveryFailures.isEmpty, "\(recoveryFailures)")
    }
}

/// A battery setup problem.
struct BatteryError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension BatteryFixture.Snapshot: CustomStringConvertible {
    var description: String { "\(systems)" }
}
