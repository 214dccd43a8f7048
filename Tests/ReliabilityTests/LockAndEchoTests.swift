import Foundation
import HubCore
import HubTestServers
import HubTesting
import Testing

/// T4 (no echo) and T10 (one run at a time) of the reliability battery, on a SQLite hub and on
/// a PostgreSQL hub (rows `T4-postgres-hub`, `T10-postgres-hub`, `T10-fencing-postgres-hub`),
/// where the run lock is a row of the hub's schema that every write checks under `FOR UPDATE`.
@Suite(.serialized) struct LockAndEchoTests {
    @Test(arguments: TestHubStore.all)
    func fiveRunsAfterConvergingWriteNothingAnywhere(_ hub: TestHubStore) throws {
        let tmp = try TemporaryDirectory()
        let fixture = try BatteryFixture.create(in: tmp.path, postgresHub: hub == .postgres)
        #expect(try fixture.sync().exitCode == 0)
        try fixture.applyWorkload()
        #expect(try fixture.sync().exitCode == 0)
        let before = try fixture.writeState()
        let hubSeq = try fixture.hubSeq()
        var echoWrites = 0
        for _ in 0..<5 {
            let run = try HubctlProcess.run(["sync-all", "--json", "-t", fixture.topologyPath])
            #expect(run.exitCode == 0)
            let totals = try run.result().objectValue?["totals"]?.objectValue
            for dir in ["pull", "push"] {
                for key in ["created", "updated", "deleted", "linked"] {
                    echoWrites += Int(totals?[dir]?.objectValue?[key]?.intValue ?? 0)
                }
            }
        }
        let after = try fixture.writeState()
        echoWrites += (after.crm - before.crm) + (after.billing - before.billing) + (after.csv == before.csv ? 0 : 1)
        let hubWrites = Int(try fixture.hubSeq() - hubSeq)
        Scorecard.record("T4" + hub.scorecardSuffix, ["echo_writes": Double(echoWrites), "hub_entity_writes": Double(hubWrites), "quiet_runs": 5])
        #expect(echoWrites == 0)
        #expect(hubWrites == 0)
    }

    @Test(arguments: TestHubStore.all)
    func twoRunsStartedTogetherNeverBothRun(_ hub: TestHubStore) throws {
        let tmp = try TemporaryDirectory()
        let fixture = try BatteryFixture.create(in: tmp.path, postgresHub: hub == .postgres)
        #expect(try fixture.sync().exitCode == 0)
        let trials = 50
        var exactlyOne = 0, refusedWith75 = 0
        // Each run holds the lock for half a second, so the two always overlap.
        let env = ["HUBCTL_FAULTS": "runAfterLock@1:pause"]
        for _ in 0..<trials {
            let a = try HubctlProcess.start(["sync-all", "-t", fixture.topologyPath], environment: env)
            let b = try HubctlProcess.start(["sync-all", "-t", fixture.topologyPath], environment: env)
            let results = [a.wait(), b.wait()]
            let ran = results.filter { $0.exitCode == 0 }.count
            let refused = results.filter { $0.exitCode == 75 && $0.stderr.contains("another run holds this hub") }.count
            if ran == 1 && refused == 1 { exactlyOne += 1 }
            refusedWith75 += refused
        }
        let duplicates = try fixture.snapshot().duplicates
        Scorecard.record("T10" + hub.scorecardSuffix, ["trials": Double(trials), "exactly_one_ran": Double(exactlyOne), "duplicates": Double(duplicates)])
        #expect(exactlyOne == trials)
        #expect(duplicates == 0)
    }

    @Test(arguments: TestHubStore.all)
    func aLockLeftByAKilledRunIsTakenOver(_ hub: TestHubStore) throws {
        let tmp = try TemporaryDirectory()
        let fixture = try BatteryFixture.create(in: tmp.path, postgresHub: hub == .postgres)
        let killed = try fixture.sync(["HUBCTL_FAULTS": "runAfterLock@1:crash"])
        #expect(killed.killedBySignal)
        let next = try fixture.sync()
        #expect(next.exitCode == 0, "\(next.stderr)")
        #expect(try fixture.hubColumn("SELECT generation FROM run_lock") == ["2"])
    }

    @Test(arguments: TestHubStore.all)
    func aStoppedRunThatLostItsLockCannotWriteWhenItResumes(_ hub: TestHubStore) throws {
        let tmp = try TemporaryDirectory()
        let fixture = try BatteryFixture.create(in: tmp.path, postgresHub: hub == .postgres)
        #expect(try fixture.sync().exitCode == 0)
        try fixture.applyWorkload()
        // The zombie pauses right after taking the lock; we stop it there, as soon as its fault
        // ledger says it got there (however busy the machine is).
        let ledger = tmp.path + "/zombie.ledger"
        let zombie = try HubctlProcess.start(["sync-all", "-t", fixture.topologyPath],
                                             environment: ["HUBCTL_FAULTS": "runAfterLock@1:pause", "HUBCTL_FAULT_LEDGER": ledger])
        for _ in 0..<6000 where !((try? String(contentsOfFile: ledger, encoding: .utf8))?.contains("runAfterLock 1") ?? false) {
            usleep(5_000)
        }
        kill(zombie.pid, SIGSTOP)
        #expect(try String(contentsOfFile: ledger, encoding: .utf8).contains("runAfterLock 1"))
        // A new run considers the silent lock stale after 0.3 s and takes over.
        usleep(400_000)
        let taker = try fixture.sync(["HUBCTL_LOCK_TIMEOUT": "0.3"])
        #expect(taker.exitCode == 0, "\(taker.stderr)")
        let state = try fixture.writeState()
        kill(zombie.pid, SIGCONT)
        let resumed = zombie.wait()
        #expect(resumed.exitCode == 75)
        #expect(resumed.stderr.contains("was taken over by a newer run"))
        let zombieCommits = try fixture.writeState() == state ? 0 : 1
        Scorecard.record("T10-fencing" + hub.scorecardSuffix, ["zombie_commits_accepted": Double(zombieCommits)])
        #expect(zombieCommits == 0)
        #expect(try fixture.snapshot().duplicates == 0)
    }
}
