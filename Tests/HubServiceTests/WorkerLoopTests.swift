import Foundation
import HubCore
import HubSchedule
import HubService
@testable import HubStore
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
                          settings: WorkerSettings(lease: 600, poll: 0.01), logger: f.logger,
                          clock: f.clock.wallClock) { claim, options in
            try answer(claim, options)
        }
    }

    /// A worker whose units all succeed, each logged with the pull scope it got.
    static func loggingWorker(_ f: ServiceFixture) throws -> (WorkerLoop, UnitLog) {
        let log = UnitLog()
        let worker = try Self.worker(f) { claim, options in
            log.record(claim, options)
            return Self.report(claim)
        }
        return (worker, log)
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

    /// What the scripted units were asked to do, in order: each unit with the pull scope it got.
    final class UnitLog: Sendable {
        let entries = Locked<[(WorkUnit, [SystemName: Set<EntityName>]?)]>([])

        func record(_ claim: UnitClaim, _ options: SyncOptions) { entries.withLock { $0.append((claim.unit, options.pullScope)) } }

        /// The units run since the last call, as `unit` or `unit read=system:entity,…`.
        func take() -> [String] {
            entries.withLock { entries in
                defer { entries = [] }
                return entries.map { unit, scope in
                    guard let scope else { return unit.description }
                    let read = scope.flatMap { system, entities in entities.map { "\(system.rawValue):\($0.rawValue)" } }.sorted()
                    return "\(unit) read=\(read.joined(separator: ","))"
                }
            }
        }
    }

    @Test("Workers read each system and entity on its schedule as `run` does: a round starts only when one is due, reads only what is due, and pushes to every system",
          arguments: TestHubStore.all)
    func workersFollowTheSchedules(_ kind: TestHubStore) async throws {
        let f = try ServiceFixture(hub: kind)
        let (worker, log) = try Self.loggingWorker(f)
        // The first round reads every target and pushes to every system.
        #expect(try await Self.drain(worker) == 7)
        #expect(log.take() == ["pull:app/customer", "pull:crm/customer", "pull:crm/invoice", "push:app/customer",
                               "push:crm/customer", "push:crm/invoice", "push:export/customer"])
        // Nothing is due: no round starts.
        #expect(try await Self.drain(worker) == 0)
        f.clock.advance(seconds: 59)
        #expect(try await Self.drain(worker) == 0)

        // crm falls due after its minute; its invoices (hourly) and the app (every 5 minutes) do
        // not. They are skipped; every system is pushed to, and a push to a system whose read was
        // skipped reads first the records it writes (`read=` lists what the round read of it).
        f.clock.advance(seconds: 2)
        let app = try #require(try f.store.scheduleStates().first { $0.system == "app" })
        #expect(try await Self.drain(worker) == 7)
        #expect(log.take() == ["pull:crm/customer", "push:app/customer read=", "push:crm/customer read=crm:customer",
                               "push:crm/invoice read=crm:customer", "push:export/customer"])
        let round = try f.store.roundUnits(2)
        #expect(round.skipped == [WorkUnit(.pull, "app", "customer"), WorkUnit(.pull, "crm", "invoice")])
        #expect(round.ran.count == 5)
        // A skipped read leaves its schedule as it was, and is counted as skipped.
        #expect(try f.store.scheduleStates().first { $0.system == "app" } == app)
        #expect(worker.metrics.text().contains(#"hubctl_worker_units_total{phase="pull",outcome="skipped"} 2"#))

        // A webhook wakes the app: a round starts at once and reads it, and only it.
        worker.wake("app")
        #expect(try await Self.drain(worker) == 7)
        #expect(log.take() == ["pull:app/customer", "push:app/customer", "push:crm/customer read=", "push:crm/invoice read=",
                               "push:export/customer"])
        #expect(worker.metrics.text().contains(#"hubctl_wakeups_total{trigger="webhook",system="app"} 1"#))
        // Waking a system that is only written to reads nothing and starts no round (as for `run`).
        worker.wake("export")
        #expect(try await Self.drain(worker) == 0)

        // An hour on, everything is due again.
        f.clock.advance(seconds: 3600)
        #expect(try await Self.drain(worker) == 7)
        #expect(log.take().count == 7)
        #expect(try f.store.roundUnits(4).skipped.isEmpty)
    }

    @Test("A system read as several entities is read whole in the round it is due, though the first entity's success moves its next read on",
          arguments: TestHubStore.all)
    func aDueSystemIsReadWhole(_ kind: TestHubStore) async throws {
        let json = ServiceFixture.json.replacingOccurrences(of: #", "schedule": {"every": "1h", "jitter": 0}"#, with: "")
        let f = try ServiceFixture(json: json, hub: kind)
        let (worker, log) = try Self.loggingWorker(f)
        #expect(try await Self.drain(worker) == 7)
        _ = log.take()
        f.clock.advance(seconds: 61)
        #expect(try await Self.drain(worker) == 7)
        // crm's customers, then its invoices though crm's next read had moved on in between.
        #expect(log.take() == ["pull:crm/customer", "pull:crm/invoice", "push:app/customer read=", "push:crm/customer",
                               "push:crm/invoice", "push:export/customer"])
    }

    @Test("A system read as several entities is not read in part: skipped for its first entity, it is skipped for the rest though it falls due meanwhile, and read whole next",
          arguments: TestHubStore.all)
    func aSystemIsNotReadInPart(_ kind: TestHubStore) async throws {
        // crm reads its customers and invoices hourly; the app every 5 minutes.
        let json = ServiceFixture.json.replacingOccurrences(of: #", "schedule": {"every": "1h", "jitter": 0}"#, with: "")
            .replacingOccurrences(of: #""every": "1m", "jitter": "10%", "max_backoff": "10m""#, with: #""every": "1h", "jitter": 0"#)
        let f = try ServiceFixture(json: json, hub: kind)
        let (worker, log) = try Self.loggingWorker(f)
        #expect(try await Self.drain(worker) == 7)
        _ = log.take()
        // The app falls due; crm's customers are skipped, then crm falls due before its invoices' turn.
        f.clock.advance(seconds: 301)
        #expect(try await worker.step())
        #expect(try await worker.step())
        f.clock.advance(seconds: 3600)
        // The round's five other units (crm's invoices skipped too), then the next round at once,
        // reading crm whole (and the app, due again).
        #expect(try await Self.drain(worker) == 5 + 7)
        #expect(log.take() == ["pull:app/customer", "push:app/customer", "push:crm/customer read=", "push:crm/invoice read=",
                               "push:export/customer",
                               "pull:app/customer", "pull:crm/customer", "pull:crm/invoice", "push:app/customer", "push:crm/customer",
                               "push:crm/invoice", "push:export/customer"])
        #expect(worker.metrics.text().contains(#"hubctl_worker_units_total{phase="pull",outcome="skipped"} 2"#))
        #expect(try f.store.roundUnits(3).skipped.isEmpty)
    }

    @Test("A webhook that arrives while its system is read keeps the system due for the next round", arguments: TestHubStore.all)
    func aWakeDuringTheReadIsKept(_ kind: TestHubStore) async throws {
        let f = try ServiceFixture(hub: kind)
        let log = UnitLog()
        let woke = Locked(false)
        let holder = Locked<WorkerLoop?>(nil)
        let worker = try Self.worker(f) { claim, options in
            log.record(claim, options)
            // The first read of the app: a webhook for it arrives in the middle, a second later.
            if claim.unit == WorkUnit(.pull, "app", "customer"), !woke.withLock({ $0 }) {
                woke.withLock { $0 = true }
                f.clock.advance(seconds: 1)
                holder.withLock { $0 }?.wake("app")
                f.clock.advance(seconds: 1)
            }
            return Self.report(claim)
        }
        holder.withLock { $0 = worker }
        // The next round starts as soon as the first is done, and reads the app again, and only it.
        #expect(try await Self.drain(worker) == 14)
        #expect(Array(log.take().dropFirst(7)) == ["pull:app/customer", "push:app/customer", "push:crm/customer read=",
                                                   "push:crm/invoice read=", "push:export/customer"])
        #expect(try f.store.roundUnits(2).skipped == [WorkUnit(.pull, "crm", "customer"), WorkUnit(.pull, "crm", "invoice")])
        // Then nothing is due.
        #expect(try await Self.drain(worker) == 0)
    }

    /// Records a schema step this hubctl does not know, as a newer hubctl upgrading the hub would.
    static func upgradeByANewerHubctl(_ f: ServiceFixture, _ kind: TestHubStore) throws {
        try f.store.write { tx in
            switch kind {
            case .sqlite: try tx.execute("INSERT INTO grdb_migrations (identifier) VALUES ('future: partitions')")
            case .postgres: try tx.execute("INSERT INTO hub_migration (identifier, applied_at) VALUES ('future: partitions', 'z')")
            }
        }
    }

    @Test("A worker checks the hub once per round: upgraded by a newer hubctl meanwhile, it stops before the round's first unit and releases it",
          arguments: TestHubStore.all)
    func aWorkerStopsOnAnUpgradedHubBeforeItsNextRound(_ kind: TestHubStore) async throws {
        let f = try ServiceFixture(hub: kind)
        let (worker, log) = try Self.loggingWorker(f)
        #expect(try await Self.drain(worker) == 7)
        _ = log.take()
        #expect(throws: Never.self) { try f.store.refuseIfUpgraded() }
        try Self.upgradeByANewerHubctl(f, kind)
        // crm falls due: the round's first claim finds the newer step; nothing runs.
        f.clock.advance(seconds: 61)
        await #expect(throws: HubFromNewerHubctl.self) { _ = try await worker.step() }
        #expect(log.take().isEmpty)
        let board = try f.store.workBoard()
        #expect(board.round == 2)
        #expect(board.units.allSatisfy { $0.owner == nil && $0.doneRound == 1 }, "\(board.units)")
        do {
            try f.store.refuseIfUpgraded()
        } catch let newer as HubFromNewerHubctl {
            #expect(newer.unknownSteps == ["future: partitions"])
            #expect(newer.whileOpen == "was upgraded by a newer hubctl (step \"future: partitions\") while this hubctl had it open, "
                    + "and this hubctl does not know that step")
        }
    }

    @Test("A worker with nothing to claim checks the hub once a minute; upgraded meanwhile, its loop ends with the reason, the worker retired",
          arguments: TestHubStore.all)
    func anIdleWorkerNoticesAnUpgrade(_ kind: TestHubStore) async throws {
        // Nothing due within the minute: crm hourly, the app every 5 minutes.
        let f = try ServiceFixture(json: ServiceFixture.json.replacingOccurrences(of: #""every": "1m", "jitter": "10%", "max_backoff": "10m""#,
                                                                                  with: #""every": "1h", "jitter": "10%", "max_backoff": "2h""#), hub: kind)
        let ran = Locked(0)
        let worker = WorkerLoop(id: "w2", planner: f.planner, store: f.store, settings: WorkerSettings(lease: 600, poll: 0.01),
                                logger: f.logger, clock: f.clock.wallClock) { claim, _ in
            ran.withLock { $0 += 1 }
            // The round's last unit: the hub is upgraded, and the clock moves past the minute.
            if claim.unit == WorkUnit(.push, "export", "customer") {
                try Self.upgradeByANewerHubctl(f, kind)
                f.clock.advance(seconds: 59)
            }
            return Self.report(claim)
        }
        let running = Task { try await worker.run() }
        // Idle within the minute after the round: no check yet (the loop polls every 10 ms).
        for _ in 0..<6000 where ran.withLock({ $0 }) < 7 { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(ran.withLock { $0 } == 7)
        f.clock.advance(seconds: 2)
        await #expect(throws: HubFromNewerHubctl.self) { try await running.value }
        let board = try f.store.workBoard()
        #expect(board.workers.first { $0.id == "w2" }?.stoppedAt != nil)
        #expect(board.units.allSatisfy { $0.owner == nil })
        #expect(f.logs.lines.contains { $0.contains(#""event":"worker.hub_upgraded""#) }, "\(f.logs.lines.suffix(5))")
    }
}
