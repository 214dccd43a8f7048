import Foundation
import HubCore
import HubService
import HubStore
import HubSync
import HubTesting
import HubTestServers
import HubTopology
import Testing

/// A table read in parts by workers' units (`"partitions"`), run unit by unit through the engine
/// as one worker claims them, on either hub.
@Suite struct WorkerPartitionTests {
    static let json = """
        {"version": 1, "name": "parts",
         "entities": {"customer": {"fields": {"email": {"type": "string", "required": true, "normalize": ["trim", "lowercase"]},
                                              "first_name": {"type": "string"}}, "match": [["email"]]}},
         "systems": {
           "crm": {"adapter": "sqlite", "connection": {"path": "crm.db"},
                   "entities": {"customer": {"object": "contacts", "fields": {"email": "email", "first_name": "first"}, "partitions": 3}}},
           "app": {"adapter": "sqlite", "connection": {"path": "app.db"},
                   "entities": {"customer": {"object": "users", "fields": {"email": "email", "first_name": "first"}}}}
         }}
        """

    struct Fixture {
        let topology: Topology
        let plan: WorkPlan
        let store: HubStore
        let crm = InMemorySpoke("crm", assignsIDs: true, tombstones: false)
        let app = InMemorySpoke("app", assignsIDs: true, tombstones: false)
        let clock = ManualClock()
        let hubIDs = IDGenerator.incrementing(prefix: "hub")

        init(_ hub: TestHubStore) throws {
            topology = try TopologyLoader.decode(WorkerPartitionTests.json, baseDirectory: "/tmp", environment: [:])
            plan = WorkPlan(topology)
            store = try hub.make()
            try store.registerWorker("w1", units: plan.units)
        }

        func engine() -> SyncEngine {
            SyncEngine(topology: topology, store: store, spokes: ["crm": crm, "app": app], clock: clock.wallClock, hubIDs: hubIDs,
                       runIDs: IDGenerator.uuidV7(clock: clock.wallClock),
                       settings: EngineSettings(readAttempts: 1, retryDelay: 0, sleep: { _ in }))
        }

        /// Starts a round and claims, runs and completes its units until none is left; each unit's report.
        func round() async throws -> [WorkUnit: SyncReport] {
            var reports: [WorkUnit: SyncReport] = [:]
            try store.requestRound()
            while case .claimed(let claim) = try store.claimUnit(worker: "w1", plan: plan, interval: 3600, lease: 600,
                                                                 runLockStaleAfter: 600, now: Date()) {
                clock.advance(seconds: 1)
                let report = try await engine().runUnit(claim)
                reports[claim.unit] = report
                #expect(try store.completeUnit(claim, run: report.runID))
            }
            return reports
        }

        /// What each part's unit read, by part number.
        static func partReads(_ reports: [WorkUnit: SyncReport]) -> [Int: Int] {
            var reads: [Int: Int] = [:]
            for (unit, report) in reports {
                guard let partition = unit.partition else { continue }
                reads[partition.number] = report.totals.pull.read
            }
            return reads
        }
    }

    static func emails(_ spoke: InMemorySpoke, _ object: String) async -> [String] {
        await spoke.records(object).values.compactMap { $0["email"]?.stringValue }.sorted()
    }

    @Test("Three parts read a table once between them; its deletes are found when every part was read, and not when one failed",
          arguments: TestHubStore.all)
    func partsReadATableOnce(_ kind: TestHubStore) async throws {
        let f = try Fixture(kind)
        for i in 0..<60 {
            await f.crm.put("contacts", ExternalID("c\(i)"), ["email": .string("p\(i)@example.com"), "first": .string("Ann Marie \"\(i)\"")])
        }
        await f.app.put("users", "u1", ["email": "p1@example.com", "first": "Ann Marie \"1\""])
        await f.app.put("users", "u2", ["email": "only-app@example.com", "first": "Bo"])

        let first = try await f.round()
        #expect(first.values.allSatisfy { $0.status == .ok }, "\(first.mapValues(\.systemErrors))")
        let reads = Fixture.partReads(first)
        #expect(reads.keys.sorted() == [1, 2, 3])
        #expect(reads.values.reduce(0, +) == 60, "\(reads)")
        #expect(reads.values.allSatisfy { $0 > 0 && $0 < 60 }, "\(reads)")
        #expect(try f.store.read { try $0.entityCount("customer") } == 61)
        let everyone = (0..<60).map { "p\($0)@example.com" } + ["only-app@example.com"]
        #expect(await Self.emails(f.app, "users") == everyone.sorted())
        #expect(await Self.emails(f.crm, "contacts") == everyone.sorted())

        // Two rows go from the CRM and one changes: the next round deletes them everywhere once
        // every part was read, and carries the change.
        await f.crm.remove("contacts", "c7")
        await f.crm.remove("contacts", "c8")
        await f.crm.put("contacts", "c9", ["email": "p9@example.com", "first": "Changed"])
        let second = try await f.round()
        #expect(second.values.allSatisfy { $0.status == .ok }, "\(second.mapValues(\.systemErrors))")
        #expect(second[WorkUnit(.pullDeletes, "crm")]?.totals.pull.deleted == 2)
        #expect(await Self.emails(f.app, "users") == everyone.filter { $0 != "p7@example.com" && $0 != "p8@example.com" }.sorted())
        #expect(await f.app.records("users").values.contains { $0["first"]?.stringValue == "Changed" })

        // A round whose part fails looks for no delete: the part's records were not all seen.
        await f.crm.remove("contacts", "c10")
        await f.crm.setFailNext(SpokeError(.unavailable, system: "crm", message: "connection reset"), times: 1, after: 1)
        let third = try await f.round()
        let failed = third.filter { $0.value.status == .failed }.map(\.key)
        #expect(failed.count >= 1 && failed.allSatisfy { $0.system == "crm" }, "\(third.mapValues(\.systemErrors))")
        let finish = try #require(third[WorkUnit(.pullDeletes, "crm")])
        #expect(finish.totals.pull.deleted == 0)
        #expect(finish.notices.contains { $0.contains("deletes of customer in crm were not looked for this round") }, "\(finish.notices)")
        #expect(await Self.emails(f.app, "users").contains("p10@example.com"))

        // The next round reads every part again and finds it.
        let fourth = try await f.round()
        #expect(fourth.values.allSatisfy { $0.status == .ok }, "\(fourth.mapValues(\.systemErrors))")
        #expect(fourth[WorkUnit(.pullDeletes, "crm")]?.totals.pull.deleted == 1)
        #expect(await !Self.emails(f.app, "users").contains("p10@example.com"))
        #expect(try f.store.read { try $0.entityCount("customer") } == 61 - 3)
    }
}
