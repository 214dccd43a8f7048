import HubAudit
import HubCore
import HubStewardship
import HubStore
import HubSync
import HubTestServers
import HubTopology
import Testing

/// Deletes are reversible: the hub keeps what it deleted, and `undelete` brings it back in every
/// system it was deleted from.
@Suite struct UndeleteTests {
    @Test(arguments: TestHubStore.all) func anEntityDeletedEverywhereIsRecreatedEverywhereAndTheNextSyncIsQuiet(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let ann = try f.hubID(email: "ann@example.com")
        await f.app.remove("users", "u7")
        let deleting = try await f.sync()
        #expect(await f.crm.record("contacts", "c1") == nil)
        #expect(try f.store.read { try $0.entity(ann) }?.isDeleted == true)

        // Dry run: says what it would do, changes nothing.
        let dry = try await f.steward().undelete("customer", [.hub(ann)], run: nil, as: AuditFixture.ana, dryRun: true)
        #expect(dry.count == 1 && dry[0].dryRun)
        #expect(dry[0].changes.contains { $0.contains("crm: its record was deleted there: the next sync-all creates it again") }, "\(dry[0].changes)")
        #expect(try f.store.read { try $0.entity(ann) }?.isDeleted == true)

        let outcomes = try await f.steward().undelete(nil, [], run: deleting.runID, as: AuditFixture.ana)
        #expect(outcomes.map(\.entry.hubID) == [ann])
        #expect(outcomes[0].entry.action == .undelete && outcomes[0].entry.by == "ana")
        let restored = try #require(try f.store.read { try $0.entity(ann) })
        #expect(!restored.isDeleted && restored.data["first_name"] == "Ann" && restored.data["tier"] == "gold")
        _ = await f.takeWrites()
        let report = try await f.sync()
        #expect(report.status == .ok)
        let inCRM = await f.crm.records("contacts").values.filter { $0["email"] == "ann@example.com" }
        let inApp = await f.app.records("users").values.filter { $0["email"] == "ann@example.com" }
        #expect(inCRM.count == 1 && inApp.count == 1)
        #expect(inCRM.first?["tier"] == "gold" && inApp.first?["full_name"] == "Ann Lee")
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
        #expect(try await f.audit(AuditOptions(deep: true)).isClean)
    }

    @Test(arguments: TestHubStore.all) func undeletingALiveEntityDoesNothingAndAMergedOneIsRefused(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let bob = try f.hubID(email: "bob@example.com")
        let outcome = try await f.steward().undelete("customer", [.hub(bob)], run: nil, as: AuditFixture.ana)
        #expect(outcome.first?.nothingToDo == true)
        let cleo = try f.hubID(email: "cleo@example.com")
        _ = try f.steward().merge("customer", survivor: .hub(bob), absorbed: .hub(cleo), as: AuditFixture.ana)
        await #expect(throws: StewardshipError.self) {
            try await f.steward().undelete("customer", [.hub(cleo)], run: nil, as: AuditFixture.ana)
        }
    }

    @Test(arguments: TestHubStore.all) func anEntityWhoseIdentityWasTakenMeanwhileIsNotRestored(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let ann = try f.hubID(email: "ann@example.com")
        await f.app.remove("users", "u7")
        try await f.sync()
        await f.app.put("users", "u9", ["email": "ann@example.com", "full_name": "Ann New", "country": "Germany"])
        try await f.sync()
        do {
            _ = try await f.steward().undelete("customer", [.hub(ann)], run: nil, as: AuditFixture.ana)
            Issue.record("undelete should refuse")
        } catch let error as StewardshipError {
            #expect(error.message.contains("has the same match:email"), "\(error.message)")
        }
    }
}
