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
}
