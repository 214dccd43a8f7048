import HubCore
import HubStore
import HubSync
import HubTesting
import HubTestServers
import Testing

/// A system whose object (file, table, collection) is gone is a failing system, never a mass
/// delete; a system whose records all vanish at once is held back by the mass-delete guard.
@Suite struct MissingSourceTests {
    typealias T = DataIntegrityTests

    /// Four customers entered in the sheet and synced to crm and app.
    static func synced(_ kind: TestHubStore) async throws -> SyncFixture {
        let f = try SyncFixture(json: T.topology(), hub: kind)
        for (i, name) in ["ann", "bob", "cy", "dee"].enumerated() {
            await f.sheet.put("c", ExternalID("r\(i)"), T.person("\(name)@example.com", name.capitalized))
        }
        let first = try await f.sync()
        #expect(first.status == .ok)
        #expect(await f.crm.records("c").count == 4)
        #expect(await f.app.records("c").count == 4)
        _ = await f.takeWrites()
        return f
    }

    @Test(arguments: TestHubStore.all) func anObjectMovedAwayFailsItsSystemAndDeletesNothingAnywhere(_ kind: TestHubStore) async throws {
        let f = try await Self.synced(kind)
        let seq = try f.hubSeq()
        await f.sheet.setMissing("c")
        let report = try await f.sync()
        #expect(report.status == .partial && report.exitCode == 3)
        let error = try #require(report.systemErrors["sheet"])
        #expect(error.contains("'c' does not exist, but the hub links 4 customer records to it"), "\(error)")
        #expect(error.contains("nothing was deleted anywhere"))
        #expect(await f.crm.records("c").count == 4)
        #expect(await f.app.records("c").count == 4)
        #expect(await f.takeWrites() == 0)
        #expect(try f.hubSeq() == seq)
        #expect(try f.store.read { try $0.liveLinkCount(entity: "customer", system: "sheet") } == 4)

        // Put back: everything is as it was, and nothing needs writing.
        await f.sheet.setMissing("c", false)
        let back = try await f.sync()
        #expect(back.status == .ok)
        #expect(await f.takeWrites() == 0)
        #expect(await f.sheet.records("c").count == 4)
    }

    @Test(arguments: TestHubStore.all) func anObjectNeverSyncedIsEmptyAndTheFirstPushCreatesIt(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: T.topology(), hub: kind)
        await f.sheet.setMissing("c")
        await f.crm.put("c", "1", T.person("ann@example.com", "Ann"))
        let report = try await f.sync()
        #expect(report.status == .ok, "\(report.systemErrors)")
        #expect(await f.sheet.records("c").count == 1)
        #expect(await f.sheet.missingObjects.isEmpty)
    }

    @Test(arguments: TestHubStore.all) func everyLinkedRecordVanishingAtOnceTripsTheGuardWhateverMinCountSays(_ kind: TestHubStore) async throws {
        let f = try await Self.synced(kind)
        for i in 0..<4 { await f.sheet.remove("c", ExternalID("r\(i)")) }
        let report = try await f.sync()
        #expect(report.status == .partial)
        let trip = try #require(report.guardTrips.first)
        #expect(trip.contains("4 of 4 linked customer records (every one of them) are gone from 'sheet'"), "\(trip)")
        #expect(await f.crm.records("c").count == 4)
        #expect(await f.app.records("c").count == 4)
        #expect(try f.store.read { try $0.liveLinkCount(entity: "customer", system: "sheet") } == 4)
        // Confirmed by the person: the deletes go through.
        let allowed = try await f.sync(SyncOptions(allowMassDelete: true))
        #expect(allowed.guardTrips.isEmpty)
        #expect(await f.crm.records("c").isEmpty)
        #expect(await f.app.records("c").isEmpty)
    }

    @Test(arguments: TestHubStore.all) func aPushOnlySystemWhoseObjectIsGoneFailsInsteadOfForgettingItsRecords(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: T.topology().replacingOccurrences(
            of: #""sheet": {"adapter": "jsonl","#, with: #""sheet": {"adapter": "jsonl", "direction": "push","#), hub: kind)
        await f.crm.put("c", "1", T.person("ann@example.com", "Ann"))
        try await f.sync()
        #expect(await f.sheet.records("c").count == 1)
        await f.sheet.setMissing("c")
        await f.crm.update("c", "1", ["first": "Anna"])
        let report = try await f.sync()
        #expect(report.systemErrors["sheet"] != nil)
        #expect(try f.store.read { try $0.liveLinkCount(entity: "customer", system: "sheet") } == 1)
        await f.sheet.setMissing("c", false)
        #expect(try await f.sync().status == .ok)
        #expect(await f.sheet.records("c").first?.value["first"] == "Anna")
    }
}
