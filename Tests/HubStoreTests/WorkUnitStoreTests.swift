import Foundation
import Synchronization
import HubCore
import HubStore
import HubStorePostgres
import HubTestServers
import Testing

/// Work units on a PostgreSQL hub: claims, leases from the database's clock, fencing tokens.
/// Two workers are two connections to the same schema, as two processes would be.
@Suite(.serialized, .enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct WorkUnitStoreTests {
    static let pulls = [WorkUnit(.pull, "crm", "customer"), WorkUnit(.pull, "app", "customer")]
    static let pushes = [WorkUnit(.push, "crm", "customer"), WorkUnit(.push, "app", "customer")]
    static let units = pulls + pushes
    /// Two systems of one entity each: the pushes wait for both pulls.
    static let plan = WorkPlan(units: units, after: Dictionary(uniqueKeysWithValues: pushes.map { ($0, Set(pulls)) }))

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
        try store.claimUnit(worker: worker, plan: plan, interval: interval, lease: lease, runLockStaleAfter: 600, now: Date())
    }

    static func claimed(_ outcome: ClaimOutcome) -> UnitClaim? {
        if case .claimed(let claim) = outcome { return claim }
        return nil
    }

    @Test("Workers started at the same moment on a new hub all open it: the schema is created once, migrated once")
    func workersStartingTogetherOpenANewHub() throws {
        for _ in 0..<5 {
            let settings = try TestHubStore.freshSchema()
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do { _ = try PostgresHubDatabase(settings: settings) } catch {
                    failures.withLock { $0.append(String(describing: error)) }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        }
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

    @Test("A worker hears another's unit done and a round started, and not the workers of another hub on the same server")
    func workersHearEachOthersUnitsDone() async throws {
        let (a, b) = try Self.twoWorkers()
        let other = HubStore(database: try PostgresHubDatabase(settings: try TestHubStore.freshSchema()))
        let heard = Mutex(0)
        let listening = try #require(b.listenForWork { heard.withLock { $0 += 1 } })
        defer { listening.cancel() }
        // The listener says when it listens; then a round started and a unit done are heard.
        try await Self.eventually("b listens") { heard.withLock { $0 } >= 1 }
        var before = heard.withLock { $0 }
        let first = try #require(Self.claimed(try Self.claim(a, "a")))  // starts round 1
        try await Self.eventually("b hears round 1 start") { heard.withLock { $0 } > before }
        before = heard.withLock { $0 }
        #expect(try a.completeUnit(first, run: nil))
        try await Self.eventually("b hears a's unit done") { heard.withLock { $0 } > before }
        // Another hub's workers use another channel.
        let quiet = heard.withLock { $0 }
        try other.registerWorker("c", units: Self.units)
        let otherClaim = try #require(Self.claimed(try Self.claim(other, "c")))
        #expect(try other.completeUnit(otherClaim, run: nil))
        // A unit done on this hub after it: if the other hub's had been heard, it came first.
        let second = try #require(Self.claimed(try Self.claim(a, "a")))
        #expect(try a.completeUnit(second, run: nil))
        try await Self.eventually("b hears a's second unit") { heard.withLock { $0 } > quiet }
        // Notifications arrive in commit order: the other hub's, had it been heard, came first;
        // a moment more lets anything else arrive.
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(heard.withLock { $0 } == quiet + 1, "b heard another hub's worker")
        // A SQLite hub has no notifications.
        #expect(try HubStore.inMemory().listenForWork { } == nil)
    }

    /// Waits (up to 20 s) until `condition` holds.
    static func eventually(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<200 {
            if condition() { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        Issue.record("timed out waiting until \(what)")
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

    @Test("A heartbeat sent during a long page is applied as soon as that page commits, before the next page of the same worker")
    func heartbeatsDoNotWaitBehindTheWorkersPages() throws {
        let (a, b) = try Self.twoWorkers()
        let claim = try #require(Self.claimed(try Self.claim(a, "a", lease: 1)))
        let page = { (seconds: Double) in
            try a.write { tx in
                try tx.checkFence(.unit(claim), now: Date())
                Thread.sleep(forTimeInterval: seconds)
            }
        }
        // A heartbeat (another thread) sent while the first page holds the unit's row; the lease
        // runs out during that page; the next page starts the moment the first commits.
        let renewed = Mutex<Bool?>(nil)
        let heartbeat = Thread {
            Thread.sleep(forTimeInterval: 0.3)
            renewed.withLock { $0 = try? a.renewLease(claim, lease: 60) }
        }
        heartbeat.start()
        try page(2)
        var leaseDuringSecondPage: Double?
        try a.write { tx in
            try tx.checkFence(.unit(claim), now: Date())
            // Seen from another worker's connection while this page holds the row.
            leaseDuringSecondPage = try b.workBoard().units.first { $0.unit == claim.unit }?.leaseLeft
        }
        try waitUntil { renewed.withLock { $0 } != nil }
        #expect(renewed.withLock { $0 } == true)
        #expect((leaseDuringSecondPage ?? -1) > 30, "the lease had run out during the worker's next page: \(String(describing: leaseDuringSecondPage))")
        #expect(Self.claimed(try Self.claim(b, "b"))?.unit != claim.unit)
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
        let plan = WorkPlan(units: Self.pulls)
        try store.registerWorker("a", units: plan.units)
        func claim() throws -> UnitClaim? {
            Self.claimed(try store.claimUnit(worker: "a", plan: plan, interval: 0, lease: 30, runLockStaleAfter: 600, now: Date()))
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

/// Units of one system with several entities: claim order, finishing steps, keys.
@Suite(.serialized, .enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct EntityUnitStoreTests {
    // crm: customer, and order and ticket referring to it; app: customer.
    static let customer = WorkUnit(.pull, "crm", "customer")
    static let order = WorkUnit(.pull, "crm", "order")
    static let ticket = WorkUnit(.pull, "crm", "ticket")
    static let deletes = WorkUnit(.pullDeletes, "crm")
    static let app = WorkUnit(.pull, "app", "customer")
    static let pushes = [WorkUnit(.push, "crm", "customer"), WorkUnit(.push, "crm", "order"), WorkUnit(.push, "app", "customer")]
    static let plan: WorkPlan = {
        let reads: Set<WorkUnit> = [customer, order, ticket, deletes, app]
        var after: [WorkUnit: Set<WorkUnit>] = [order: [customer], ticket: [customer], deletes: [customer, order, ticket]]
        for push in pushes { after[push] = reads }
        after[pushes[1]]?.insert(pushes[0])
        return WorkPlan(units: [customer, order, ticket, deletes, app] + pushes, after: after)
    }()

    static func twoWorkers() throws -> (HubStore, HubStore) {
        let settings = try TestHubStore.freshSchema()
        let a = HubStore(database: try PostgresHubDatabase(settings: settings))
        let b = HubStore(database: try PostgresHubDatabase(settings: settings))
        try a.registerWorker("a", units: plan.units)
        try b.registerWorker("b", units: plan.units)
        return (a, b)
    }

    static func claim(_ store: HubStore, _ worker: String) throws -> UnitClaim? {
        WorkUnitStoreTests.claimed(try store.claimUnit(worker: worker, plan: plan, interval: 300, lease: 30, runLockStaleAfter: 600, now: Date()))
    }

    @Test("A child entity's pull waits for its parent's, two children of one system are claimed side by side, and the system's deletes wait for both")
    func childrenWaitForTheirParentAndRunSideBySide() throws {
        let (a, b) = try Self.twoWorkers()
        let first = try #require(try Self.claim(a, "a"))
        let second = try #require(try Self.claim(b, "b"))
        #expect([first.unit, second.unit] == [Self.customer, Self.app])
        // crm's children wait for crm's customers; app's pull is held: nothing else is ready.
        #expect(try Self.claim(a, "a") == nil)
        #expect(try a.completeUnit(first, run: nil))
        let order = try #require(try Self.claim(a, "a"))
        let ticket = try #require(try Self.claim(b, "b"))
        #expect(order.unit == Self.order && ticket.unit == Self.ticket)
        // Both of crm's children are held at once, by two workers.
        let held = try a.workBoard().units.filter { $0.owner != nil }.map(\.unit)
        #expect(Set(held) == [Self.order, Self.ticket, Self.app])
        #expect(try a.completeUnit(order, run: nil))
        #expect(try Self.claim(a, "a") == nil)  // crm's deletes wait for the ticket's pull too
        #expect(try b.completeUnit(ticket, run: nil))
        let deletes = try #require(try Self.claim(a, "a"))
        #expect(deletes.unit == Self.deletes)
        #expect(try b.completeUnit(second, run: nil))
        #expect(try Self.claim(b, "b") == nil)  // the pushes wait for crm's deletes
        #expect(try a.completeUnit(deletes, run: nil))
        let push = try #require(try Self.claim(b, "b"))
        let other = try #require(try Self.claim(a, "a"))
        #expect(push.unit == Self.pushes[0] && other.unit == Self.pushes[2])  // crm's orders wait for crm's customers
        #expect(try Self.claim(a, "a") == nil)
        #expect(try b.completeUnit(push, run: nil))
        #expect(try Self.claim(b, "b")?.unit == Self.pushes[1])
    }

    @Test("Unit keys name any system and entity exactly once, and the whole-system keys of an earlier hubctl name nothing")
    func keysAreUnambiguous() throws {
        let hostile: [WorkUnit] = [
            WorkUnit(.pull, "a:b", "c"), WorkUnit(.pull, "a", "b:c"), WorkUnit(.pull, "a/b", "c"), WorkUnit(.pull, "a", "b/c"),
            WorkUnit(.push, "50% off", "x%2Fy"), WorkUnit(.pullDeletes, "a/b"), WorkUnit(.pushDeletes, "crm \"main\""),
            WorkUnit(.pull, "crm", "customer"),
        ]
        #expect(Set(hostile.map(\.description)).count == hostile.count)
        for unit in hostile { #expect(WorkUnit(unit.description) == unit) }
        #expect(WorkUnit(.pull, "crm", "customer").description == "pull:crm/customer")
        #expect(WorkUnit(.pullDeletes, "crm").description == "pull-deletes:crm")
        for old in ["pull:crm", "push:crm", "pull-deletes:crm/customer", "pull:/customer", "pull:crm/", "sync:crm/customer"] {
            #expect(WorkUnit(old) == nil)
        }
    }

    @Test("A unit row of an earlier hubctl is neither claimed, listed nor waited for")
    func earlierUnitsAreIgnored() throws {
        let settings = try TestHubStore.freshSchema()
        let database = try PostgresHubDatabase(settings: settings)
        let a = HubStore(database: database)
        try a.registerWorker("a", units: Self.plan.units)
        try database.write { sql in
            _ = try sql.execute("INSERT INTO work_unit (unit, phase, system) VALUES ('pull:crm', 'pull', 'crm')", [])
        }
        var claimed: [WorkUnit] = []
        while let claim = try Self.claim(a, "a") {
            claimed.append(claim.unit)
            #expect(try a.completeUnit(claim, run: nil))
        }
        #expect(claimed.count == Self.plan.units.count)
        #expect(Set(claimed) == Set(Self.plan.units))
        #expect(try a.workBoard().units.map(\.unit).contains { $0.entity == nil && $0.phase == .pull } == false)
    }

    @Test("Deletes a pull found wait in the hub until applied, first finder's cursor kept, and are forgotten per entity")
    func foundDeletesWaitInTheHub() throws {
        let (a, _) = try Self.twoWorkers()
        try a.write { tx in
            try tx.recordFoundDeletes(FoundDeletes(system: "crm", entity: "customer", hubIDs: ["h1", "h2"], tombstones: true,
                                                   startCursor: Cursor("10")))
            // The unit done again after a takeover: h2 found again from a later cursor, h3 new.
            try tx.recordFoundDeletes(FoundDeletes(system: "crm", entity: "customer", hubIDs: ["h2", "h3"], tombstones: true,
                                                   startCursor: Cursor("20")))
            try tx.recordFoundDeletes(FoundDeletes(system: "crm", entity: "order", hubIDs: ["o1"], tombstones: false, startCursor: nil))
        }
        let customers = try #require(try a.read { try $0.foundDeletes(system: "crm", entity: "customer") })
        #expect(customers.hubIDs == ["h1", "h2", "h3"])
        #expect(customers.tombstones)
        #expect(customers.startCursor == Cursor("10"))
        let orders = try #require(try a.read { try $0.foundDeletes(system: "crm", entity: "order") })
        #expect(orders.hubIDs == ["o1"] && !orders.tombstones && orders.startCursor == nil)
        try a.write { try $0.clearFoundDeletes(system: "crm", entity: "customer") }
        #expect(try a.read { try $0.foundDeletes(system: "crm", entity: "customer") } == nil)
        #expect(try a.read { try $0.foundDeletes(system: "crm", entity: "order") } != nil)
        #expect(try a.read { try $0.foundDeletes(system: "app", entity: "customer") } == nil)
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
