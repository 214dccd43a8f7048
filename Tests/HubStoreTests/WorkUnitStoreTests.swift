import Foundation
import HubCore
import HubStore
import HubStorePostgres
import HubTestServers
import Testing

/// Work units on a PostgreSQL hub: claims, leases from the database's clock, fencing tokens.
/// Two workers are two connections to the same schema, as two processes would be.
@Suite(.serialized, .enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct WorkUnitStoreTests {
    static let units: [WorkUnit] = [WorkUnit(.pull, "crm"), WorkUnit(.pull, "app"), WorkUnit(.push, "crm"), WorkUnit(.push, "app")]

    /// Two stores (two connections) on one fresh hub schema.
    static func twoWorkers() throws -> (HubStore, HubStore) {
        let settings = try TestHubStore.freshSchema()
        let a = HubStore(database: try PostgresHubDatabase(settings: settings))
        let b = HubStore(database: try PostgresHubDatabase(settings: settings))
        try a.registerWorker("a", units: units)
        try b.registerWorker("b", units: units)
        return (a, b)
    }

    static func claim(_ store: HubStore, _ worker: String, lease: TimeInterval = 30, interval: TimeInterval = 300) throws -> ClaimOutcome {
        try store.claimUnit(worker: worker, units: units, interval: interval, lease: lease, runLockStaleAfter: 600, now: Date())
    }

    static func claimed(_ outcome: ClaimOutcome) -> UnitClaim? {
        if case .claimed(let claim) = outcome { return claim }
        return nil
    }

    @Test("Two workers claim different pull units, and pushes wait until every pull of the round is done")
    func workersClaimDifferentUnits() throws {
        let (a, b) = try Self.twoWorkers()
        let first = try #require(Self.claimed(try Self.claim(a, "a")))
        let second = try #require(Self.claimed(try Self.claim(b, "b")))
        #expect(first.unit.phase == .pull && second.unit.phase == .pull)
        #expect(first.unit != second.unit)
        #expect(first.round == 1 && second.round == 1)
        // Both pulls held: nothing else to claim, the pushes wait for them.
        #expect(try Self.claim(a, "a") == .idle)
        #expect(try a.completeUnit(first, run: nil))
        #expect(try Self.claim(a, "a") == .idle)
        #expect(try b.completeUnit(second, run: nil))
        let push = try #require(Self.claimed(try Self.claim(a, "a")))
        #expect(push.unit.phase == .push)
        let board = try a.workBoard()
        #expect(board.round == 1)
        #expect(board.workers.first { $0.id == "a" }?.unitsDone == 1)
        #expect(board.units.first { $0.unit == push.unit }?.owner == "a")
    }

    @Test("A claim passes over a unit whose row another transaction holds (SKIP LOCKED)")
    func claimSkipsLockedRows() throws {
        let (a, b) = try Self.twoWorkers()
        let held = try #require(Self.claimed(try Self.claim(a, "a", lease: 1)))
        // Let a's lease lapse, then hold its row in a page transaction (the fence check) while b claims.
        try waitUntil { (try a.workBoard().units.first { $0.unit == held.unit }?.leaseLeft ?? 1) < 0 }
        let other = try a.write { tx -> UnitClaim? in
            try tx.checkFence(.unit(held), now: Date())
            return Self.claimed(try Self.claim(b, "b"))
        }
        // b did not wait for the held row and did not take the expired unit: it took the other pull.
        #expect(other?.unit != held.unit)
        #expect(other?.unit.phase == .pull)
    }

    @Test("An expired lease is taken over with a new token, and the old holder's write is refused and rolled back")
    func expiredLeaseIsTakenOverAndFenced() throws {
        let (a, b) = try Self.twoWorkers()
        let old = try #require(Self.claimed(try Self.claim(a, "a", lease: 1)))
        let other = try #require(Self.claimed(try Self.claim(b, "b")))
        #expect(try b.completeUnit(other, run: nil))
        // Still leased: b cannot take it.
        #expect(try Self.claim(b, "b") == .idle)
        try waitUntil { (try a.workBoard().units.first { $0.unit == old.unit }?.leaseLeft ?? 1) < 0 }
        let taken = try #require(Self.claimed(try Self.claim(b, "b")))
        #expect(taken.unit == old.unit)
        #expect(taken.token == old.token + 1)
        #expect(try a.renewLease(old, lease: 30) == false)
        #expect(try b.renewLease(taken, lease: 30) == true)
        // The old holder's page: refused by the fence, nothing of it committed.
        #expect(throws: FencedOut.self) {
            try a.write { tx in
                try tx.beginRun("late", startedAt: "2026-01-01T00:00:00.000Z", dryRun: false, topologyHash: nil)
                try tx.checkFence(.unit(old), now: Date())
            }
        }
        #expect(try a.read { try $0.runs(limit: 10) }.contains { $0.id == "late" } == false)
        #expect(try a.completeUnit(old, run: nil) == false)
        // The new holder writes.
        try b.write { tx in
            try tx.checkFence(.unit(taken), now: Date())
            try tx.beginRun("current", startedAt: "2026-01-01T00:00:00.000Z", dryRun: false, topologyHash: nil)
        }
        #expect(try a.read { try $0.runs(limit: 10) }.contains { $0.id == "current" })
    }

    @Test("The next round starts when every push is done and its interval has passed, or at once when woken")
    func roundsAdvance() throws {
        let (a, _) = try Self.twoWorkers()
        var done: Set<WorkUnit> = []
        while let claim = Self.claimed(try Self.claim(a, "a")) {
            #expect(claim.round == 1)
            #expect(try a.completeUnit(claim, run: nil))
            done.insert(claim.unit)
        }
        #expect(done == Set(Self.units))
        #expect(try Self.claim(a, "a") == .idle)  // the 300 s interval has not passed
        try a.requestRound()
        let next = try #require(Self.claimed(try Self.claim(a, "a")))
        #expect(next.round == 2)
        #expect(next.unit.phase == .pull)
    }

    @Test("Without push units, the next round still waits until every pull of this one is done")
    func pullOnlyRoundsWaitForTheirPulls() throws {
        let store = HubStore(database: try PostgresHubDatabase(settings: try TestHubStore.freshSchema()))
        let units = [WorkUnit(.pull, "crm"), WorkUnit(.pull, "app")]
        try store.registerWorker("a", units: units)
        func claim() throws -> UnitClaim? {
            Self.claimed(try store.claimUnit(worker: "a", units: units, interval: 0, lease: 30, runLockStaleAfter: 600, now: Date()))
        }
        let first = try #require(try claim())
        let second = try #require(try claim())
        #expect(try claim() == nil)  // both held: the round is not over, even with no interval
        #expect(try store.completeUnit(first, run: nil))
        #expect(try claim() == nil)
        #expect(try store.completeUnit(second, run: nil))
        #expect(try claim()?.round == 2)
    }

    @Test("A worker's live lease makes sync-all's run lock wait (75), and a held run lock keeps workers from claiming")
    func runLockAndWorkersExcludeEachOther() throws {
        let (a, b) = try Self.twoWorkers()
        let claim = try #require(Self.claimed(try Self.claim(a, "a")))
        let error = #expect(throws: HubLocked.self) { try b.acquireRunLock("r1", now: Date(), staleAfter: 600) }
        #expect(error?.description.contains("worker a") == true)
        try a.retireWorker("a")
        #expect(try a.completeUnit(claim, run: nil) == false)  // released, not done
        let lease = try b.acquireRunLock("r1", now: Date(), staleAfter: 600)
        guard case .runLocked(let holder) = try Self.claim(a, "a") else {
            Issue.record("a worker claimed a unit while a run held the hub")
            return
        }
        #expect(holder.run == "r1")
        try b.releaseRunLock(lease)
        #expect(Self.claimed(try Self.claim(a, "a")) != nil)
    }
}

/// Polls `condition` until it holds (at most a minute): no timed assertion, a bound.
func waitUntil(_ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(60)
    while try !condition() {
        guard Date() < deadline else {
            Issue.record("the condition did not hold within a minute")
            return
        }
        usleep(50_000)
    }
}
