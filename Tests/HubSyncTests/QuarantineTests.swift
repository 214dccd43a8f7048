import HubCore
import HubStore
import HubSync
import HubTesting
import HubTestServers
import Testing

/// One bad record is one quarantine entry, with a number that stays the same from run to run,
/// counted once per run however often it is read.
@Suite struct QuarantineTests {
    @Test(arguments: TestHubStore.all) func aRecordFailingRunAfterRunKeepsOneEntryWithTheSameNumberCountedOnce(_ kind: TestHubStore) async throws {
        let f = try await SyncCycleTests.seeded(kind)
        // In the crm, which is read incrementally: the bad record is retried by ID and read again.
        await f.crm.put("contacts", "c9", ["properties": ["email": "zed@example.com", "score": "lots"]])
        let first = try await f.sync()
        let entry = try #require(first.quarantined.first)
        #expect(first.quarantined.count == 1)
        var ids: Set<Int64> = [try #require(entry.id)]
        for _ in 0..<3 {
            // Edited but still bad: read again by the cursor and retried by ID in the same run.
            await f.crm.update("contacts", "c9", ["properties": ["given": "Zed"]])
            let again = try await f.sync()
            #expect(again.quarantined.count == 1, "\(again.quarantined)")
            let row = try #require(again.rows.first { $0.system == "crm" && $0.entity == "customer" })
            // The bad record once (the cursor's boundary record may be read again, unchanged).
            #expect(row.pull.failed == 1 && row.pull.read == row.pull.unchanged + 1, "\(row.pull)")
            ids.insert(try #require(again.quarantined.first?.id))
        }
        #expect(ids.count == 1)
        let open = try f.store.read { try $0.openQuarantine() }
        #expect(open.count == 1 && open.first?.id == entry.id)
    }

    @Test(arguments: TestHubStore.all) func aQuarantinedRecordThatIsDeletedAtItsSourceClosesItsEntry(_ kind: TestHubStore) async throws {
        let f = try await SyncCycleTests.seeded(kind)
        await f.app.put("users", "u9", ["email": "dan@example.com", "full_name": "Dan Fox", "points": "lots"])
        try await f.sync()
        #expect(try f.store.read { try $0.openQuarantine() }.count == 1)
        await f.app.remove("users", "u9")
        let next = try await f.sync()
        #expect(next.status == .ok, "\(next.quarantined)")
        #expect(try f.store.read { try $0.openQuarantine() }.isEmpty)
    }
}

/// `newest` decides by change times only where the systems have them.
@Suite struct NewestTests {
    typealias T = DataIntegrityTests

    @Test(arguments: TestHubStore.all) func theLaterEditWinsByTheSystemsOwnChangeTimesWhateverTheOrderTheyAreRead(_ kind: TestHubStore) async throws {
        for appLast in [false, true] {
            let f = try SyncFixture(json: T.topology(app: #", "cursor": "seq""#),
                                    app: InMemorySpoke("app", assignsIDs: true, cursorIsTime: true),
                                    crm: InMemorySpoke("crm", assignsIDs: true, cursorIsTime: true), hub: kind)
            await f.crm.put("c", "1", T.person("ann@example.com", "Ann"))
            try await f.sync()
            let appID = try #require(await T.id(f.app, email: "ann@example.com"))
            if appLast {
                await f.crm.update("c", "1", ["first": "FromCRM"])
                await f.app.skipChanges(to: 1000)
                await f.app.update("c", appID, ["first": "FromApp"])
            } else {
                await f.app.update("c", appID, ["first": "FromApp"])
                await f.crm.skipChanges(to: 1000)
                await f.crm.update("c", "1", ["first": "FromCRM"])
            }
            let report = try await f.sync()
            let conflict = try #require(report.conflicts.first)
            #expect(conflict.rule == .newest)
            let expected = appLast ? "FromApp" : "FromCRM"
            #expect(await f.crm.record("c", "1")?["first"]?.stringValue == expected)
            #expect(await f.app.record("c", appID)?["first"]?.stringValue == expected)
        }
    }
}
