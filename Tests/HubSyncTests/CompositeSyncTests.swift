import HubCore
import HubStore
import HubSync
import HubTesting
import HubTestServers
import Testing

/// A composite field (the app's `full_name` = first_name + last_name) read back relative to what
/// the hub knows: editing one part never corrupts the other.
@Suite struct CompositeSyncTests {
    static func withEli(_ kind: TestHubStore) async throws -> (SyncFixture, ExternalID) {
        let f = try SyncFixture(hub: kind)
        await f.crm.put("contacts", "c1", ["properties": ["email": "eli@example.com", "given": "Eli Jo", "family": "Egan"]])
        try await f.sync()
        let app = try #require(await f.app.records("users").first { $0.value["email"] == "eli@example.com" }?.key)
        #expect(await f.app.record("users", app)?["full_name"] == "Eli Jo Egan")
        return (f, app)
    }

    @Test(arguments: TestHubStore.all) func editingTheSurnameInAFullNameChangesOnlyTheSurnameEverywhere(_ kind: TestHubStore) async throws {
        let (f, app) = try await Self.withEli(kind)
        await f.app.update("users", app, ["full_name": "Eli Jo Egan-Fix"])
        let report = try await f.sync()
        #expect(report.status == .ok && report.conflicts.isEmpty, "\(report.conflicts) \(report.quarantined)")
        let crm = try #require(await f.crm.record("contacts", "c1"))
        #expect(crm.value(atPath: "properties.given") == "Eli Jo")
        #expect(crm.value(atPath: "properties.family") == "Egan-Fix")
        #expect(await f.app.record("users", app)?["full_name"] == "Eli Jo Egan-Fix")
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
    }

    @Test(arguments: TestHubStore.all) func aFullNameThatCannotBeSplitWithoutGuessingIsQuarantinedAndChangesNothing(_ kind: TestHubStore) async throws {
        let (f, app) = try await Self.withEli(kind)
        await f.app.update("users", app, ["full_name": "Ann Marie Smith"])
        let report = try await f.sync()
        let entry = try #require(report.quarantined.first)
        #expect(entry.reason == "ambiguous_composite" && entry.externalID == app)
        let crm = try #require(await f.crm.record("contacts", "c1"))
        #expect(crm.value(atPath: "properties.given") == "Eli Jo" && crm.value(atPath: "properties.family") == "Egan")
        // Settled by a person: the parts set where they are held apart, the app takes them.
        await f.crm.update("contacts", "c1", ["properties": ["given": "Ann Marie", "family": "Smith"]])
        let settled = try await f.sync()
        #expect(settled.status == .ok, "\(settled.quarantined)")
        #expect(try f.store.read { try $0.openQuarantine() }.isEmpty)
        #expect(await f.app.record("users", app)?["full_name"] == "Ann Marie Smith")
    }

    @Test("Full names read again unchanged, and one spaced differently, are unchanged; an edited one among them is pulled",
          arguments: TestHubStore.all)
    func unchangedFullNamesAmongEditedOnesAreRecognised(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(hub: kind)
        for i in 1...9 {
            await f.crm.put("contacts", ExternalID("c\(i)"),
                            ["properties": ["email": .string("p\(i)@example.com"), "given": "Eli Jo", "family": .string("Egan \(i)")]])
        }
        let pages = SyncOptions(pageSize: 4)
        #expect(try await f.sync(pages).status == .ok)
        #expect(try await f.sync(pages).status == .ok)
        let users = await f.app.records("users")
        #expect(users.count == 9)
        func appID(_ i: Int) throws -> ExternalID {
            try #require(users.first { $0.value["email"] == .string("p\(i)@example.com") }?.key)
        }
        // Spacing the parts do not keep is not an edit of either part; a new surname is.
        await f.app.update("users", try appID(3), ["full_name": "Eli  Jo   Egan 3"])
        await f.app.update("users", try appID(7), ["full_name": "Eli Jo Egan-Fix"])
        _ = await f.takeWrites()
        let report = try await f.sync(pages)
        #expect(report.status == .ok && report.quarantined.isEmpty, "\(report.quarantined)")
        let pull = try #require(report.rows.first { $0.system == "app" && $0.entity == "customer" }?.pull)
        #expect(pull.updated == 1, "\(pull)")
        #expect(pull.failed == 0)
        let crm = await f.crm.records("contacts")
        #expect(crm["c7"]?.value(atPath: "properties.family") == "Egan-Fix")
        #expect(crm["c3"]?.value(atPath: "properties.given") == "Eli Jo")
        #expect(crm["c3"]?.value(atPath: "properties.family") == "Egan 3")
        for i in [1, 2, 4, 5, 6, 8, 9] { #expect(crm[ExternalID("c\(i)")]?.value(atPath: "properties.family") == .string("Egan \(i)")) }
        _ = await f.takeWrites()
        try await f.sync(pages)
        #expect(await f.takeWrites() == 0)
    }
}
