import Foundation
import HubCore
import HubSchedule
import HubService
import HubStore
import HubSync
import HubTesting
import HubTestServers
import HubTopology
import Testing

/// One `hubctl run --worker` loop on either hub, its units answered by a script instead of the
/// engine: what it exports on `/metrics`.
@Suite struct WorkerLoopTests {
    /// A worker `w1` on the fixture's hub, with `answer` in place of the engine.
    static func worker(_ f: ServiceFixture, _ answer: @escaping @Sendable (UnitClaim, SyncOptions) throws -> SyncReport) throws -> WorkerLoop {
        try f.store.registerWorker("w1", units: WorkPlan(f.topology).units)
        return WorkerLoop(id: "w1", planner: f.planner, store: f.store,
                          settings: WorkerSettings(lease: 600, interval: 3600, poll: 0.01), logger: f.logger,
                          clock: f.clock.wallClock) { claim, options in
            try answer(claim, options)
        }
    }

    /// A report of one unit: two records read for a pull, one created for a push, and `failed`
    /// systems.
    static func report(_ claim: UnitClaim, failed: [SystemName: String] = [:]) -> SyncReport {
        var r = SyncReport(runID: RunID("run-\(UUID().uuidString)"), dryRun: false, startedAt: "2026-01-01T00:00:00.000Z")
        var counts = RunCounts()
        if claim.unit.phase == .pull { counts.read = 2 } else { counts.created = 1 }
        if let entity = claim.unit.entity {
            r.rows = [claim.unit.phase == .pull ? SyncReport.Row(system: claim.unit.system, entity: entity, pull: counts)
                : SyncReport.Row(system: claim.unit.system, entity: entity, push: counts)]
        }
        r.systemErrors = failed
        return r
    }

    /// Runs units until there is nothing to claim; how many ran.
    @discardableResult
    static func drain(_ worker: WorkerLoop) async throws -> Int {
        var n = 0
        while try await worker.step() { n += 1 }
        return n
    }

    @Test("A worker's metrics count each unit's records and run as `run` counts a cycle's, its units by phase and outcome, takeovers and its round",
          arguments: TestHubStore.all)
    func workerMetricsFollowEachUnit(_ kind: TestHubStore) async throws {
        let f = try ServiceFixture(hub: kind)
        let worker = try Self.worker(f) { claim, _ in
            if claim.unit == WorkUnit(.pull, "app", "customer") { return Self.report(claim, failed: ["app": "connection refused"]) }
            if claim.unit == WorkUnit(.push, "export", "customer") {
                // A write under an older token than the unit's: the fence refuses it.
                var stale = claim
                stale.token -= 1
                try f.store.write { try $0.checkFence(.unit(stale), now: Date()) }
            }
            return Self.report(claim)
        }
        // Another worker claimed the app's pull with a lease that has already run out: w1 takes it over.
        try f.store.registerWorker("w0", units: WorkPlan(f.topology).units)
        guard case .claimed(let lapsed) = try f.store.claimUnit(worker: "w0", plan: WorkPlan(f.topology), interval: 3600, lease: 0.001,
                                                                runLockStaleAfter: 600, now: f.clock.current())
        else { Issue.record("w0 claimed nothing"); return }
        #expect(lapsed.unit == WorkUnit(.pull, "app", "customer"))
        try await Task.sleep(nanoseconds: 20_000_000)

        // Three pulls and four pushes; the export's push is refused by the fence (not done, so the
        // round stays open).
        #expect(try await Self.drain(worker) == 7)
        let text = worker.metrics.text()
        for line in [
            #"hubctl_worker_units_total{phase="pull",outcome="ok"} 2"#,
            #"hubctl_worker_units_total{phase="pull",outcome="failed"} 1"#,
            #"hubctl_worker_units_total{phase="push",outcome="ok"} 3"#,
            #"hubctl_worker_units_total{phase="push",outcome="fenced"} 1"#,
            #"hubctl_worker_lease_takeovers_total{phase="pull"} 1"#,
            #"hubctl_worker_round 1"#,
            #"hubctl_runs_total{result="ok"} 5"#,
            #"hubctl_runs_total{result="failed"} 1"#,
            #"hubctl_runs_total{result="stopped"} 1"#,
            #"hubctl_run_duration_seconds_count 7"#,
            #"hubctl_records_total{system="crm",entity="invoice",direction="pull",operation="read"} 2"#,
            #"hubctl_records_total{system="app",entity="customer",direction="push",operation="created"} 1"#,
            #"hubctl_system_failures_total{system="app",entity=""} 1"#,
            #"hubctl_consecutive_failures{system="app",entity=""} 1"#,
            #"hubctl_consecutive_failures{system="crm",entity=""} 0"#,
            #"hubctl_consecutive_failures{system="crm",entity="invoice"} 0"#,
            #"hubctl_last_success_timestamp_seconds{system="crm",entity=""} "#,
            #"hubctl_last_success_timestamp_seconds{system="crm",entity="invoice"} "#,
            #"hubctl_quarantine_open{system="app",entity="customer"} 0"#,
            #"hubctl_conflicts_open{entity="customer"} 0"#,
        ] {
            #expect(text.contains(line), "\(line) in:\n\(text)")
        }
        // The fenced push's records were never reported: its page was refused.
        #expect(!text.contains(#"system="export",entity="customer",direction="push""#))
        // The schedule states a `run` would have recorded, in the hub for `hubctl status`.
        let states = try f.store.scheduleStates()
        #expect(states.first { $0.system == "app" }?.consecutiveFailures == 1)
        #expect(states.first { $0.system == "crm" && $0.entity == nil }?.lastSuccessAt == f.clock.current())
    }
}
