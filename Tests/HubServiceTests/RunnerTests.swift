import Foundation
import HubCore
import HubSchedule
import HubService
import HubStore
import HubSync
import HubTesting
import HubTopology
import HubTestServers
import Testing

@Suite struct RunnerTests {
    @Test("The first cycle reads every target; the next reads only what fell due; nothing due runs nothing", arguments: TestHubStore.all)
    func cyclesFollowTheSchedule(_ kind: TestHubStore) async throws {
        let f = try ServiceFixture(hub: kind)
        let scopes = ScopeLog()
        let runner = f.recordingRunner(scopes)
        let first = await runner.runOnce()
        #expect(first?.result == "ok")
        #expect(scopes.all.last == ["crm": ["customer", "invoice"], "app": ["customer"]])
        #expect(await runner.runOnce() == nil)
        f.clock.advance(seconds: 61)
        _ = await runner.runOnce()
        #expect(scopes.all.last == ["crm": ["customer"]])
        f.clock.advance(seconds: 240)
        _ = await runner.runOnce()
        #expect(scopes.all.last == ["crm": ["customer"], "app": ["customer"]])
        f.clock.advance(seconds: 3600)
        _ = await runner.runOnce()
        #expect(scopes.all.last == ["crm": ["customer", "invoice"], "app": ["customer"]])
    }

    @Test("A failing system backs off, is counted, and recovers by itself; the others keep their schedule", arguments: TestHubStore.all)
    func failingSystemBacksOffAndRecovers(_ kind: TestHubStore) async throws {
        let f = try ServiceFixture(hub: kind)
        let down = Locked(true)
        let runner = f.runner { options in
            let failed: [SystemName: String] = down.withLock { $0 } && options.pullScope?["app"] != nil
                ? ["app": "connection refused"] : [:]
            return ServiceFixture.report(options, failed: failed)
        }
        let start = f.clock.current()
        #expect(await runner.runOnce() != nil)
        var app = try #require(await runner.currentStates[ScheduleTarget(system: "app")])
        #expect(app.consecutiveFailures == 1)
        #expect(app.nextDueAt == start.addingTimeInterval(300))
        f.clock.advance(seconds: 300)
        _ = await runner.runOnce()
        app = try #require(await runner.currentStates[ScheduleTarget(system: "app")])
        #expect(app.consecutiveFailures == 2)
        #expect(app.nextDueAt == start.addingTimeInterval(300 + 600))
        down.withLock { $0 = false }
        f.clock.advance(seconds: 600)
        _ = await runner.runOnce()
        app = try #require(await runner.currentStates[ScheduleTarget(system: "app")])
        #expect(app.consecutiveFailures == 0)
        #expect(app.lastError == nil)
        let metrics = runner.metrics.text()
        #expect(metrics.contains(#"hubctl_system_failures_total{system="app",entity=""} 2"#))
        #expect(metrics.contains(#"hubctl_retries_total{system="app",entity=""} 2"#))
        // The states are in the hub: a new runner picks them up.
        let stored = try f.store.scheduleStates()
        #expect(stored.first { $0.system == "app" }?.lastSuccessAt == f.clock.current())
        #expect(stored.contains { $0.system == "export" && $0.lastSuccessAt != nil && $0.nextDueAt == nil })
    }

    @Test("While another run holds the hub, nothing is marked and the cycle is tried again after a short wait", arguments: TestHubStore.all)
    func lockedHubIsRetried(_ kind: TestHubStore) async throws {
        let f = try ServiceFixture(hub: kind)
        let locked = Locked(true)
        let runner = f.runner { options in
            if locked.withLock({ $0 }) {
                throw HubLocked(holder: RunLockHolder(run: nil, pid: 1, host: "h", acquiredAt: "", heartbeatAt: ""))
            }
            return ServiceFixture.report(options)
        }
        let first = await runner.runOnce()
        #expect(first?.result == "locked")
        #expect(first?.exitCode == 75)
        #expect(await runner.currentStates.isEmpty)
        #expect(await runner.runOnce() == nil)  // within the retry wait
        // A trigger meanwhile does not hammer the lock: it waits for the retry too, and is kept.
        await runner.wake("app", trigger: "webhook", at: f.clock.current())
        #expect(await runner.runOnce() == nil)
        #expect(await runner.cycleCount == 1)
        locked.withLock { $0 = false }
        f.clock.advance(seconds: 3)
        #expect(await runner.runOnce()?.result == "ok")
        #expect(runner.metrics.text().contains(#"hubctl_trigger_to_synced_seconds_count{trigger="webhook",system="app"} 1"#))
        #expect(runner.metrics.text().contains(#"hubctl_runs_total{result="locked"} 1"#))
    }

    @Test("A stopped cycle leaves its targets due, so the next start reads them again", arguments: TestHubStore.all)
    func stoppedCycleStaysDue(_ kind: TestHubStore) async throws {
        let f = try ServiceFixture(hub: kind)
        let runner = f.runner { ServiceFixture.report($0, stopped: true) }
        let outcome = await runner.runOnce()
        #expect(outcome?.result == "stopped")
        #expect(outcome?.exitCode == 0)
        #expect(await runner.currentStates[ScheduleTarget(system: "crm")]?.lastSuccessAt == nil)
    }

    @Test("A trigger makes its system due at once and is timed to the end of the cycle that synced it", arguments: TestHubStore.all)
    func wakeMakesSystemDue(_ kind: TestHubStore) async throws {
        let f = try ServiceFixture(hub: kind)
        let scopes = ScopeLog()
        let runner = f.recordingRunner(scopes)
        _ = await runner.runOnce()
        f.clock.advance(seconds: 5)
        #expect(await runner.runOnce() == nil)
        await runner.wake("app", trigger: "webhook", at: f.clock.current())
        await runner.wake("export", trigger: "webhook", at: f.clock.current())  // only written to: nothing to read
        _ = await runner.runOnce()
        #expect(scopes.all.last == ["app": ["customer"]])
        #expect(runner.metrics.text().contains(#"hubctl_trigger_to_synced_seconds_count{trigger="webhook",system="app"} 1"#))
    }

    @Test("Log lines are JSON with the event, cycle, run ID, system and entity", arguments: TestHubStore.all)
    func logLinesAreJSON(_ kind: TestHubStore) async throws {
        let f = try ServiceFixture(hub: kind)
        let runner = f.runner { options in
            var r = ServiceFixture.report(options, failed: ["app": "refused"])
            var counts = RunCounts()
            counts.read = 3
            r.rows = [SyncReport.Row(system: "crm", entity: "customer", pull: counts)]
            return r
        }
        _ = await runner.runOnce()
        let lines = try f.logs.lines.map { try JSONParser.parse($0) }
        let events = lines.compactMap { $0["event"]?.stringValue }
        #expect(events == ["cycle.started", "system.failed", "entity.synced", "cycle.finished"])
        let synced = try #require(lines.first { $0["event"] == "entity.synced" })
        #expect(synced["system"] == "crm")
        #expect(synced["entity"] == "customer")
        #expect(synced["read"] == 3)
        #expect(synced["run_id"]?.stringValue?.hasPrefix("run-") == true)
        #expect(lines.allSatisfy { $0["cycle"] == 1 && $0["ts"] != nil && $0["level"] != nil })
    }
}
