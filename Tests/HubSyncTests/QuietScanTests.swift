import HubCore
import HubStore
import HubSync
import HubTesting
import HubTestServers
import Testing

/// A full read of a system without a cursor, where most records are unchanged: base hashes are
/// read a page at a time (as a range of the hub's index when the page's IDs are close), and a
/// record edited among unchanged ones is still pulled.
@Suite struct QuietScanTests {
    @Test("Records edited among unchanged ones in a full read are pulled, pages apart, whatever the hub",
          arguments: TestHubStore.all)
    func editedRecordsAmongUnchangedOnesArePulled(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(hub: kind)
        for i in 1...12 {
            let id = ExternalID(String(format: "s%02d", i))
            await f.sheet.put("customers", id, ["Email": .string("p\(i)@example.com"), "First": .string("Caf\u{e9} \(i)"),
                                                "Last": "Park", "Country": "Germany"])
        }
        let pages = SyncOptions(pageSize: 4)
        #expect(try await f.sync(pages).status == .ok)
        #expect(try await f.sync(pages).status == .ok)
        _ = await f.takeWrites()
        let quiet = try await f.sync(pages)
        let quietPull = try #require(quiet.rows.first { $0.system == "sheet" && $0.entity == "customer" }?.pull)
        #expect(quietPull.read == 12)
        #expect(quietPull.unchanged == 12)
        #expect(await f.takeWrites() == 0)

        // A trailing space and a NUL: both changes, on two different pages.
        await f.sheet.update("customers", "s02", ["First": "Caf\u{e9} 2 "])
        await f.sheet.update("customers", "s11", ["First": "Caf\u{e9} 11\u{0}"])
        let report = try await f.sync(pages)
        let pull = try #require(report.rows.first { $0.system == "sheet" && $0.entity == "customer" }?.pull)
        #expect(pull.updated == 2)
        #expect(pull.unchanged == 10)
        let crm = await f.crm.records("contacts").values
        let givenNames = Set(crm.compactMap { $0.value(atPath: "properties.given")?.stringValue })
        #expect(givenNames.contains("Caf\u{e9} 2 "))
        #expect(givenNames.contains("Caf\u{e9} 11\u{0}"))
        #expect(!givenNames.contains("Caf\u{e9} 11"))
    }
}
