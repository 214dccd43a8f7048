import HubAudit
import HubCore
import HubStewardship
import HubStore
import HubSync
import HubTestServers
import Testing

/// A delete held because other records refer to it (`referenced_delete`) is settled by
/// `repush`: the record is re-created in the system that deleted it, its referrers there are
/// pointed at the new record, and the quarantine entry is closed.
@Suite struct HeldDeleteRepushTests {
    @Test(arguments: TestHubStore.all) func repushRecreatesAHeldRecordPointsItsReferrersAtItAndClosesTheEntry(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        // Tom (r2) is Ann's support rep in the CRM; the CRM loses him.
        await f.crm.remove("reps", "r2")
        let held = try await f.sync()
        let entry = try #require(held.quarantined.first { $0.reason == "referenced_delete" }, "\(held.quarantined)")
        #expect(entry.externalID == "r2")
        #expect(entry.message.contains("hubctl repush employee"), "\(entry.message)")
        let tom = try #require(entry.hubID)

        let outcome = try await f.steward().repush("employee", .hub(tom), system: "crm", as: AuditFixture.ana)
        #expect(outcome.changes.contains { $0.contains("crm r2 is gone") }, "\(outcome.changes)")
        #expect(outcome.changes.contains { $0.contains("1 record in crm referring to it") }, "\(outcome.changes)")
        #expect(try f.store.read { try $0.openQuarantine() }.filter { $0.reason == "referenced_delete" }.isEmpty)

        let report = try await f.sync()
        #expect(report.status == .ok, "\(report.quarantined) \(report.systemErrors)")
        let reps = await f.crm.records("reps")
        let newTom = try #require(reps.first { $0.value["mail"] == "tom@acme.test" })
        #expect(reps.count == 2 && newTom.key != "r2")
        #expect(newTom.value["boss"] == "r1" && newTom.value["display"] == "Tom")
        #expect(await f.crm.record("contacts", "c1")?["owner"]?.stringValue == newTom.key.rawValue)
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
        #expect(try await f.audit().isClean)
    }
}
