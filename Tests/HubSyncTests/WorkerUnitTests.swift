import Foundation
import HubCore
import HubStore
import HubSync
import HubTesting
import HubTestServers
import Testing

/// A round of worker units (`hubctl run --worker`) run one after another through the engine, as
/// one worker claims them, on either hub.
@Suite struct WorkerUnitTests {
    static let topology = """
        {"version": 1, "name": "units",
         "entities": {"customer": {"fields": {"email": {"type": "string", "required": true, "normalize": ["trim", "lowercase"]},
                                              "first_name": {"type": "string"}}, "match": [["email"]]}},
         "systems": {
           "crm": {"adapter": "jsonl", "entities": {"customer": {"object": "contacts", "fields": {"email": "email", "first_name": "first"}}}},
           "app": {"adapter": "jsonl", "entities": {"customer": {"object": "users", "fields": {"email": "email", "first_name": "first"}}}}
         }}
        """
    static let pulls = [WorkUnit(.pull, "crm", "customer"), WorkUnit(.pull, "app", "customer")]
    static let pushes = [WorkUnit(.push, "crm", "customer"), WorkUnit(.push, "app", "customer")]
    static let plan = WorkPlan(units: pulls + pushes, after: Dictionary(uniqueKeysWithValues: pushes.map { ($0, Set(pulls)) }))

    /// Starts a round and claims, runs and completes its units until none is left; each unit's report.
    static func round(_ f: SyncFixture) async throws -> [WorkUnit: SyncReport] {
        var reports: [WorkUnit: SyncReport] = [:]
        try f.store.requestRound()
        while case .claimed(let claim) = try f.store.claimUnit(worker: "w1", plan: plan, interval: 3600, lease: 600,
                                                               runLockStaleAfter: 600, now: Date()) {
            f.clock.advance(seconds: 1)
            let report = try await f.engine().runUnit(claim)
            reports[claim.unit] = report
            #expect(try f.store.completeUnit(claim, run: report.runID))
        }
        return reports
    }

    /// Every email a system holds, sorted (twice when it holds two records of it).
    static func emails(_ spoke: InMemorySpoke, _ object: String) async -> [String] {
        await spoke.records(object).values.compactMap { $0["email"]?.stringValue }.sorted()
    }

    @Test("A system whose read failed this round gets no push that round: a record it holds that the hub has not read is not created there twice",
          arguments: TestHubStore.all)
    func aSystemNotReadIsNotWritten(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology, hub: kind)
        try f.store.registerWorker("w1", units: Self.plan.units)
        await f.crm.put("contacts", "c1", ["email": "shared@example.com", "first": "Sam"])
        await f.crm.put("contacts", "c2", ["email": "ann@example.com", "first": "Ann"])
        await f.app.put("users", "u1", ["email": "shared@example.com", "first": "Sam"])
        await f.app.put("users", "u2", ["email": "bob@example.com", "first": "Bob"])

        // The app's reads fail this round (all three attempts), though it would take writes:
        // its push is skipped, and says why.
        await f.app.setFailNext(SpokeError(.unavailable, system: "app", message: "connection refused"), times: 3)
        let first = try await Self.round(f)
        #expect(first.count == 4)
        #expect(first[WorkUnit(.pull, "app", "customer")]?.status == .failed)
        let skipped = try #require(first[WorkUnit(.push, "app", "customer")])
        #expect(skipped.status == .failed)
        #expect(skipped.systemErrors["app"]?.contains("reading app failed (pull:app/customer)") == true, "\(skipped.systemErrors)")
        #expect(await f.app.writeLog.isEmpty, "the app was written while the hub had not read it")
        #expect(first[WorkUnit(.push, "crm", "customer")]?.status == .ok)

        // The next round reads the app: it links the shared customer and creates the others once.
        let second = try await Self.round(f)
        #expect(second.values.allSatisfy { $0.status == .ok }, "\(second.mapValues(\.systemErrors))")
        #expect(await Self.emails(f.app, "users") == ["ann@example.com", "bob@example.com", "shared@example.com"])
        #expect(await Self.emails(f.crm, "contacts") == ["ann@example.com", "bob@example.com", "shared@example.com"])
        #expect(try f.store.read { try $0.entityCount("customer") } == 3)
    }

    @Test("A push to a system whose read was skipped this round (not due) first reads the records it writes: an edit the hub has not read meets the conflict policy, never a blind overwrite",
          arguments: TestHubStore.all)
    func aPushToASystemNotReadReadsItsRecordsFirst(_ kind: TestHubStore) async throws {
        // Conflicts parked for a person: a conflict is seen, not settled by a rule.
        let json = Self.topology.replacingOccurrences(of: #""match": [["email"]]}"#,
                                                      with: #""match": [["email"]], "conflicts": {"resolve": "manual"}}"#)
        let f = try SyncFixture(json: json, hub: kind)
        try f.store.registerWorker("w1", units: Self.plan.units)
        await f.crm.put("contacts", "c1", ["email": "ann@example.com", "first": "Ann"])
        await f.app.put("users", "u1", ["email": "bob@example.com", "first": "Bob"])
        _ = try await Self.round(f)
        let annInApp = try #require(await f.app.records("users").first { $0.value["email"] == "ann@example.com" }?.key)

        // Ann renamed in the crm, which is not due this round, and otherwise in the app, which is.
        await f.crm.update("contacts", "c1", ["first": "Annabel"])
        await f.app.update("users", annInApp, ["first": "Annie"])
        try f.store.requestRound()
        var pushToCRM: SyncReport?
        while case .claimed(let claim) = try f.store.claimUnit(worker: "w1", plan: Self.plan, interval: 3600, lease: 600,
                                                               runLockStaleAfter: 600, now: Date()) {
            f.clock.advance(seconds: 1)
            if claim.unit == WorkUnit(.pull, "crm", "customer") {
                #expect(try f.store.skipUnit(claim))
                continue
            }
            let crmRead: Set<EntityName> = []
            let options = claim.unit == WorkUnit(.push, "crm", "customer") ? SyncOptions(pullScope: ["crm": crmRead]) : SyncOptions()
            let report = try await f.engine().runUnit(claim, options)
            if claim.unit == WorkUnit(.push, "crm", "customer") { pushToCRM = report }
            #expect(try f.store.completeUnit(claim, run: report.runID))
        }
        let round = try f.store.workBoard().round
        #expect(try f.store.roundUnits(round) == RoundUnits(ran: Set(Self.plan.units).subtracting([WorkUnit(.pull, "crm", "customer")]),
                                                            skipped: [WorkUnit(.pull, "crm", "customer")]))
        // Ann's record was fetched from the crm before the push: the two names met as a conflict
        // (parked, as this entity asks), and the crm's was not overwritten unseen.
        #expect(pushToCRM?.rows.first { $0.system == "crm" }?.pull.read == 1)
        let conflicts = try f.store.read { try $0.conflicts(openOnly: true) }
        #expect(conflicts.map(\.field) == ["first_name"])
        #expect(await f.crm.records("contacts")["c1"]?["first"] == "Annabel")
    }
}
