import HubAudit
import HubCore
import HubStewardship
import HubStore
import HubSync
import HubTestServers
import Testing

/// Merging two hub entities that are the same person: one entity linked everywhere, no
/// duplicates in any system, and a quiet sync afterwards; unmerge undoes it.
@Suite struct MergeTests {
    /// Ann signs up in the app a second time with her work address: a second hub entity, which the
    /// sync pushes to crm as well. Returns (Ann, Ann at work).
    static func duplicated(_ hub: TestHubStore) async throws -> (AuditFixture, HubID, HubID) {
        let f = try await AuditFixture.seeded(hub)
        await f.app.put("users", "u9", ["email": "ann.lee@work.example", "full_name": "Ann Lee", "country": "Germany"])
        try await f.sync()
        let ann = try f.hubID("crm", "c1"), work = try f.hubID("app", "u9")
        #expect(await f.crm.records("contacts").values.filter { $0["given"] == "Ann" }.count == 2)
        _ = await f.takeWrites()
        return (f, ann, work)
    }

    static func anns(_ f: AuditFixture, _ object: String, _ spoke: InMemorySpokeKind) async -> [ExternalID] {
        let records: [ExternalID: [String: Value]]
        switch spoke {
        case .crm: records = await f.crm.records(object)
        case .app: records = await f.app.records(object)
        }
        return records.filter { $0.value["given"] == "Ann" || $0.value["full_name"] == "Ann Lee" }.keys.sorted()
    }

    enum InMemorySpokeKind { case crm, app }

    @Test(arguments: TestHubStore.all) func aMergeLeavesOneEntityLinkedEverywhereAndTheSyncAfterItIsQuiet(_ hub: TestHubStore) async throws {
        let (f, ann, work) = try await Self.duplicated(hub)
        let outcome = try f.steward().merge("customer", survivor: .system("crm", "c1"), absorbed: .system("app", "u9"),
                                            as: AuditFixture.ana)
        #expect(outcome.entry.hubID == ann && outcome.entry.otherHubID == work)
        #expect(try f.store.read { try $0.mergedInto(work) } == ann)
        #expect(try f.store.read { try $0.entity(work)?.isDeleted } == true)

        try await f.sync()
        // crm keeps its own record (c1) and the copy hubctl made of Ann at work is deleted; the app
        // created both of its records itself: the survivor's (u7) is kept, u9 stays there, unlinked.
        #expect(await Self.anns(f, "contacts", .crm) == ["c1"])
        #expect(await Self.anns(f, "users", .app) == ["u7", "u9"])
        #expect(try f.link("app", work)?.state == .deleted)
        #expect(try f.link("crm", ann)?.externalID == "c1")
        #expect(try f.link("app", ann)?.externalID == "u7")
        #expect(try f.link("sheet", ann)?.externalID == "hub-000003")
        #expect(try f.store.read { try $0.links(hubID: work) }.allSatisfy { $0.state == .deleted })

        _ = await f.takeWrites()
        let seq = try f.hubSeq()
        let quiet = try await f.sync()
        #expect(await f.takeWrites() == 0)
        #expect(try f.hubSeq() == seq)
        #expect(quiet.totals.pull.writes == 0 && quiet.totals.push.writes == 0)
        #expect(try await f.audit(AuditOptions(deep: true)).isClean)
    }

    @Test(arguments: TestHubStore.all) func theSystemsOwnRecordIsKeptOverTheCopyHubctlCreatedAndValuesMergeByTheSurvivor(_ hub: TestHubStore) async throws {
        let (f, ann, work) = try await Self.duplicated(hub)
        // Ann at work survives: crm's own record of Ann (c1) is kept, the copy of Ann at work goes.
        let workInCRM = try #require(try f.link("crm", work)?.externalID)
        _ = try f.steward().merge("customer", survivor: .hub(work), absorbed: .hub(ann), as: AuditFixture.ana)
        #expect(try f.link("crm", work)?.externalID == "c1")
        #expect(try f.link("crm", work)?.linkedBy == "merge")
        #expect(try f.link("crm", ann)?.externalID == workInCRM)
        let merged = try #require(try f.store.read { try $0.entity(work) })
        // The survivor's email stays; Ann's tier and rep fill its gaps, with their origin.
        #expect(merged.data["email"] == "ann.lee@work.example")
        #expect(merged.data["tier"] == "gold")
        #expect(merged.fieldOrigins["tier"]?.system == "crm")
        try await f.sync()
        #expect(await Self.anns(f, "contacts", .crm) == ["c1"])
        #expect(await f.crm.record("contacts", "c1")?["email"] == "ann.lee@work.example")
        #expect(await Self.anns(f, "users", .app) == ["u7", "u9"])
        #expect(try f.link("app", work)?.externalID == "u9")
        // Gold now: the sheet holds Ann at work, in place of the record of the absorbed Ann.
        #expect(await f.sheet.records("gold").values.filter { $0["First"] == "Ann" }.count == 1)
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
        #expect(try await f.audit(AuditOptions(deep: true)).isClean)
    }

    @Test(arguments: TestHubStore.all) func withDeleteDuplicatesARecordTheSystemCreatedItselfGoesToo(_ hub: TestHubStore) async throws {
        let (f, ann, work) = try await Self.duplicated(hub)
        _ = try f.steward().merge("customer", survivor: .hub(ann), absorbed: .hub(work), deleteDuplicates: true,
                                  as: AuditFixture.ana)
        try await f.sync()
        #expect(await Self.anns(f, "contacts", .crm) == ["c1"])
        #expect(await Self.anns(f, "users", .app) == ["u7"])
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
        #expect(try await f.audit(AuditOptions(deep: true)).isClean)
    }

    @Test(arguments: TestHubStore.all) func referencesToTheAbsorbedEntityPointAtTheSurvivor(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        await f.crm.put("reps", "r3", ["mail": "t.becker@acme.test", "display": "Tom B"])
        await f.crm.put("contacts", "c3", ["email": "eve@example.com", "given": "Eve", "owner": "r3"])
        try await f.sync()
        let tom = try f.hubID("crm", "r2", entity: "employee"), tomB = try f.hubID("crm", "r3", entity: "employee")
        let eve = try f.hubID("crm", "c3")
        let outcome = try f.steward().merge("employee", survivor: .hub(tom), absorbed: .hub(tomB), as: AuditFixture.ana)
        #expect(outcome.entry.detail["references"]?.arrayValue?.count == 1)
        #expect(try f.store.read { try $0.entity(eve)?.data["support_rep"] } == .string(tom.rawValue))
        try await f.sync()
        #expect(await f.crm.record("contacts", "c3")?["owner"] == "r2")
        // crm created r3 itself: it stays there, unlinked (closed), and nothing refers to it any more.
        #expect(await f.crm.record("reps", "r3") != nil)
        #expect(try f.link("crm", tomB, entity: "employee")?.state == .deleted)
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
        #expect(try await f.audit(AuditOptions(deep: true)).isClean)
    }

    @Test(arguments: TestHubStore.all) func aDryRunMergeChangesNothing(_ hub: TestHubStore) async throws {
        let (f, ann, work) = try await Self.duplicated(hub)
        let seq = try f.hubSeq()
        let before = try f.store.read { try $0.links(hubID: ann) + $0.links(hubID: work) }
        let outcome = try f.steward().merge("customer", survivor: .hub(ann), absorbed: .hub(work), as: AuditFixture.ana,
                                            dryRun: true)
        #expect(outcome.dryRun && outcome.entry.id == nil)
        #expect(outcome.changes.contains("\(work) is now a tombstone pointing at \(ann)"))
        #expect(try f.hubSeq() == seq)
        #expect(try f.store.read { try $0.links(hubID: ann) + $0.links(hubID: work) } == before)
        #expect(try f.store.read { try $0.entity(work)?.isDeleted } == false)
    }

    @Test(arguments: TestHubStore.all) func mergingRefusesAnEntityWithItselfAndATombstone(_ hub: TestHubStore) async throws {
        let (f, ann, work) = try await Self.duplicated(hub)
        #expect(throws: StewardshipError.self) {
            try f.steward().merge("customer", survivor: .hub(ann), absorbed: .system("crm", "c1"), as: AuditFixture.ana)
        }
        _ = try f.steward().merge("customer", survivor: .hub(ann), absorbed: .hub(work), as: AuditFixture.ana)
        do {
            _ = try f.steward().merge("customer", survivor: .hub(work), absorbed: .hub(ann), as: AuditFixture.ana)
            Issue.record("merged into a tombstone")
        } catch let error as StewardshipError {
            #expect(error.message == "customer \(work) was merged into \(ann)")
        }
    }

    @Test(arguments: TestHubStore.all) func unmergingBeforeAnySyncRestoresLinksAndValuesExactly(_ hub: TestHubStore) async throws {
        let (f, ann, work) = try await Self.duplicated(hub)
        func snapshot() throws -> [String] {
            try f.store.read { tx in
                (try tx.links(hubID: ann) + tx.links(hubID: work)).map { "\($0.system) \($0.externalID?.rawValue ?? "-") \($0.hubID) \($0.state)" }
                    .sorted() + [Value.object(try tx.entity(ann)!.data).json, Value.object(try tx.entity(work)!.data).json,
                          "deleted: \(try tx.entity(work)!.isDeleted)"]
            }
        }
        let before = try snapshot()
        _ = try f.steward().merge("customer", survivor: .hub(ann), absorbed: .hub(work), as: AuditFixture.ana)
        #expect(try snapshot() != before)
        let undo = try f.steward().unmerge("customer", .hub(work), as: AuditFixture.ana)
        #expect(undo.entry.action == .unmerge && undo.entry.hubID == work && undo.entry.otherHubID == ann)
        let after = try snapshot()
        #expect(after == before)
        #expect(try f.store.read { try $0.mergedInto(work) } == nil)
        #expect(try f.store.read { try $0.stewardship(limit: 10) }.first { $0.action == .merge }?.undoneBy == undo.entry.id)
        try await f.sync()
        #expect(await f.takeWrites() == 0)
        #expect(try await f.audit(AuditOptions(deep: true)).isClean)
    }

    @Test(arguments: TestHubStore.all) func unmergingAfterTheSyncCreatesTheDeletedDuplicatesAgain(_ hub: TestHubStore) async throws {
        let (f, ann, work) = try await Self.duplicated(hub)
        _ = try f.steward().merge("customer", survivor: .hub(ann), absorbed: .hub(work), as: AuditFixture.ana)
        try await f.sync()
        #expect(await Self.anns(f, "contacts", .crm).count == 1)
        let undo = try f.steward().unmerge("customer", .hub(work), as: AuditFixture.ana)
        #expect(undo.changes.contains { $0.contains("creates \(work) in crm again") })
        try await f.sync()
        #expect(await Self.anns(f, "contacts", .crm).count == 2)
        #expect(await Self.anns(f, "users", .app) == ["u7", "u9"])
        #expect(try f.link("app", work)?.state == .linked)
        #expect(try f.store.read { try $0.entity(work)?.data["email"] } == "ann.lee@work.example")
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
        #expect(try await f.audit(AuditOptions(deep: true)).isClean)
        #expect(throws: StewardshipError.self) { try f.steward().unmerge("customer", .hub(work), as: AuditFixture.ana) }
    }
}
