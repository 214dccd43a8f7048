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

    @Test(arguments: TestHubStore.all)
    func aRecordWhoseIDHoldsNULIsQuarantinedAndTheRestOfItsPageSyncs(_ kind: TestHubStore) async throws {
        let f = try await SyncCycleTests.seeded(kind)
        // PostgreSQL text cannot hold NUL, and SQLite would keep the link under "u" only. The app
        // is read in full: the record is read, and quarantined, on every run.
        await f.app.put("users", "u\u{0}x", ["email": "nul@example.com", "full_name": "Nul Byte"])
        await f.app.put("users", "u8", ["email": "gus@example.com", "full_name": "Gus Moe"])
        for _ in 0..<2 {
            let run = try await f.sync()
            #expect(run.systemErrors.isEmpty, "\(run.systemErrors)")
            #expect(run.quarantined.map(\.reason) == [.malformed], "\(run.quarantined)")
            let entry = try #require(run.quarantined.first)
            #expect(entry.source == "users id u\\0x" && entry.externalID == nil, "\(entry)")
            #expect(entry.message.contains("the ID holds NUL (U+0000), which the hub cannot store"), "\(entry.message)")
            let crm = await f.crm.records("contacts").values
            #expect(crm.contains { $0.value(atPath: "properties.email") == "gus@example.com" }, "\(crm)")
            #expect(!crm.contains { $0.value(atPath: "properties.email") == "nul@example.com" })
        }
        #expect(try f.store.read { try $0.openQuarantine() }.count == 1)
        // Fixed at the source (the record under an ID without NUL): the entry closes, the record syncs.
        await f.app.remove("users", "u\u{0}x")
        await f.app.put("users", "u9", ["email": "nul@example.com", "full_name": "Nul Byte"])
        let fixed = try await f.sync()
        #expect(fixed.status == .ok, "\(fixed.quarantined) \(fixed.systemErrors)")
        #expect(try f.store.read { try $0.openQuarantine() }.isEmpty)
        #expect(await f.crm.records("contacts").values.contains { $0.value(atPath: "properties.email") == "nul@example.com" })
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
