import Foundation
import HubTesting
import HubTestServers
import Testing

/// T9 of the reliability battery: more than 100 hostile cases across every adapter (SQLite,
/// PostgreSQL, CSV, JSON Lines, REST, exec), each through the built `hubctl` in a sandbox of its
/// own and bounded in time. Counted over all cases, each must be zero: crashes (a signal exit
/// or a crash report), hangs (a command running past its bound), changed values (every
/// system's records read back byte for byte; a refusal only where the system cannot hold the
/// value, quarantined with a reason), writes outside the case's folder (the sandbox around it
/// snapshotted), processes left running (found by a marker in their command line) and unclear
/// failures (an exit code other than the documented one, or a message not naming the system
/// and what happened).
///
/// PostgreSQL and Kinto cases run when the test script started the servers (on CI they must).
/// The value cases run a second time with the hub in PostgreSQL (`T9-postgres-hub`).
/// `HUBCTL_T9_JOBS` sets how many cases run at once (default 3); `HUBCTL_T9_FILTER` runs only
/// the cases whose name contains it.
@Suite struct HostileInputBatteryTests {
    @Test("Over 100 hostile cases: no crash, hang, changed value, outside write, leftover process or unclear failure")
    func hostileCasesAcrossEveryAdapter() async throws {
        let withServices = TestServices.runPostgresTests && TestServices.runKintoTests
        let services = withServices ? try await HostileServices.start() : nil
        try await Self.battery(HostileCatalogue.all, services: services, row: "T9")
    }

    /// The value cases again with each case's hub in a schema of the PostgreSQL test cluster:
    /// every hostile value (NUL, invalid UTF-8, 2 MB, deep nesting …) passes through that hub.
    @Test("The hostile values through a PostgreSQL hub: no crash, hang, changed value, outside write, leftover process or unclear failure",
          .enabled(if: TestServices.runPostgresTests && TestServices.runKintoTests, "needs PostgreSQL and Kinto (scripts/with-test-services.sh)"))
    func hostileValuesThroughAPostgreSQLHub() async throws {
        try await Self.battery(HostileCatalogue.values, services: try await HostileServices.start(), postgresHub: true,
                               row: "T9-postgres-hub")
    }

    /// Runs `catalogue` (those of its cases the services allow, and `HUBCTL_T9_FILTER`'s), a few
    /// at a time, and records the figures as the scorecard row `row`.
    static func battery(_ catalogue: [HostileCase], services: HostileServices?, postgresHub: Bool = false, row: String) async throws {
        let environment = ProcessInfo.processInfo.environment
        let filter = environment["HUBCTL_T9_FILTER"]
        let cases = catalogue.filter { (services != nil || $0.services.isEmpty) && (filter == nil || $0.name.contains(filter!)) }
        let jobs = max(1, Int(environment["HUBCTL_T9_JOBS"] ?? "") ?? 3)
        let started = Date()

        var tallies = [HostileTally](repeating: HostileTally(), count: cases.count)
        await withTaskGroup(of: (Int, HostileTally).self) { group in
            var next = 0
            for _ in 0..<min(jobs, cases.count) {
                let i = next
                group.addTask { (i, await HostileRun.run(cases[i], services: services, postgresHub: postgresHub)) }
                next += 1
            }
            while let (i, tally) = await group.next() {
                tallies[i] = tally
                if next < cases.count {
                    let j = next
                    group.addTask { (j, await HostileRun.run(cases[j], services: services, postgresHub: postgresHub)) }
                    next += 1
                }
            }
        }

        for (hostile, tally) in zip(cases, tallies) where !tally.clean {
            Issue.record("\(hostile.family.rawValue): \(hostile.name): \(tally.notes.joined(separator: "; ").prefix(1500))")
        }
        let total = tallies.reduce(HostileTally(), +)
        var byFamily: [String] = []
        for family in HostileCase.Family.allCases {
            let n = cases.filter { $0.family == family }.count
            let failed = zip(cases, tallies).filter { $0.0.family == family && !$0.1.clean }.count
            byFamily.append("\(family.rawValue) \(n - failed)/\(n)")
        }
        print("\(row): \(cases.count) hostile cases in \(Int(Date().timeIntervalSince(started))) s with \(jobs) at once: \(byFamily.joined(separator: ", "))")
        Scorecard.record(row, [
            "cases": Double(cases.count), "crashes": Double(total.crashes), "hangs": Double(total.hangs),
            "changed_values": Double(total.changedValues), "outside_writes": Double(total.outsideWrites),
            "leftover_processes": Double(total.leftoverProcesses), "unclear_failures": Double(total.unclearFailures),
        ])
        if filter == nil { #expect(cases.count >= 100, "\(cases.count) cases") }
    }
}
