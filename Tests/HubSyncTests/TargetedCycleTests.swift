import HubCore
import HubStore
import HubSync
import HubTesting
import HubTestServers
import Testing

/// The cycles `hubctl run` asks for: read some systems, push to all; and stopping between pages.
@Suite struct TargetedCycleTests {
    @Test("A targeted cycle reads only the systems in its scope and pushes to every system", arguments: TestHubStore.all)
    func targetedCycleReadsScopeAndPushesEverywhere(_ kind: TestHubStore) async throws {
        let f = try await SyncCycleTests.seeded(kind)
        try await f.sync()
        // An edit in the sheet and one in the CRM; only the sheet is in scope.
        let sheetID = try #require(await f.sheet.records("customers").first { $0.value["Email"] == "cleo@example.com" }?.key)
        await f.sheet.update("customers", sheetID, ["First": "Cleopatra"])
        let bobID = try #require(await f.crm.records("contacts").first {
            $0.value.value(atPath: "properties.email") == "bob@example.com"
        }?.key)
        await f.crm.update("contacts", bobID, ["properties": ["email": "bob@example.com", "given": "Robert", "family": "Stone",
                                                             "country": "BR"]])
        let report = try await f.sync(SyncOptions(pullScope: ["sheet": ["customer"]]))
        #expect(report.status == .ok)
        // The sheet's edit reached the CRM and the app…
        let cleoInCRM = await f.crm.records("contacts").values.first { $0.value(atPath: "properties.email") == "cleo@example.com" }
        #expect(cleoInCRM?.value(atPath: "properties.given") == "Cleopatra")
        let cleoInApp = await f.app.records("users").values.first { $0["email"] == "cleo@example.com" }
        #expect(cleoInApp?["full_name"] == "Cleopatra Park")
        // …the CRM was not read: its edit waits for its own turn, and is not lost.
        let bobInApp = await f.app.records("users").values.first { $0["email"] == "bob@example.com" }
        #expect(bobInApp?["full_name"] == "Bob Stone")
        // Of the CRM, only the record about to be written (Cleo) was fetched, before the push.
        #expect(report.rows.filter { $0.system == "crm" }.map(\.pull.read).reduce(0, +) == 1)
        try await f.sync(SyncOptions(pullScope: ["crm": ["customer", "employee"]]))
        let bobLater = await f.app.records("users").values.first { $0["email"] == "bob@example.com" }
        #expect(bobLater?["full_name"] == "Robert Stone")
    }

    /// One same-field edit in the sheet (woken) and in the CRM (not read), then one cycle with
    /// `options`: what the CRM, the sheet and the app hold for Cleo, and the conflicts left open.
    static func sameFieldEdited(_ options: SyncOptions, _ kind: TestHubStore) async throws -> [String] {
        let f = try await SyncCycleTests.seeded(kind)
        try await f.sync()
        let sheetID = try #require(await f.sheet.records("customers").first { $0.value["Email"] == "cleo@example.com" }?.key)
        let crmID = try #require(await f.crm.records("contacts").first {
            $0.value.value(atPath: "properties.email") == "cleo@example.com"
        }?.key)
        await f.sheet.update("customers", sheetID, ["First": "Cleopatra"])
        await f.crm.update("contacts", crmID, ["properties": ["given": "Cleo-Marie", "family": "Park-Lane"]])
        let report = try await f.sync(options)
        #expect(report.status == .ok)
        let crm = await f.crm.records("contacts")[crmID]
        let sheet = await f.sheet.records("customers")[sheetID]
        let app = await f.app.records("users").values.first { $0["email"] == "cleo@example.com" }
        let conflicts = try f.store.read { try $0.conflicts(openOnly: true) }
        func text(_ value: Value?) -> String { value?.stringValue ?? "-" }
        return ["\(text(crm?.value(atPath: "properties.given"))) \(text(crm?.value(atPath: "properties.family")))",
                "\(text(sheet?["First"])) \(text(sheet?["Last"]))", text(app?["full_name"]),
                conflicts.map { "\($0.field)" }.sorted().joined(separator: ",")]
    }

    @Test("A targeted cycle reads the records it writes to a system it did not read: an unread edit is settled as a full cycle settles it, never overwritten", arguments: TestHubStore.all)
    func unreadEditsOfRecordsAboutToBeWrittenAreReadFirst(_ kind: TestHubStore) async throws {
        let full = try await Self.sameFieldEdited(SyncOptions(), kind)
        let targeted = try await Self.sameFieldEdited(SyncOptions(pullScope: ["sheet": ["customer"]]), kind)
        #expect(targeted == full)
        // The CRM's other edit (the surname) reached every system in the same cycle.
        #expect(targeted[1].hasSuffix(" Park-Lane"))
        #expect(targeted[2].hasSuffix(" Park-Lane"))
    }

    @Test("A run asked to stop ends between pages, is recorded as stopped, and the next run goes on", arguments: TestHubStore.all)
    func stopRequestedEndsBetweenPages(_ kind: TestHubStore) async throws {
        let f = try await SyncCycleTests.seeded(kind)
        let report = try await f.sync(SyncOptions(pageSize: 1, stopRequested: { true }))
        #expect(report.stopped)
        let run = try #require(try f.store.read { try $0.run(report.runID) })
        #expect(run.status == .stopped)
        // The lock was released: the next run takes it and completes the work.
        let next = try await f.sync()
        #expect(next.status == .ok)
        #expect(await f.crm.records("contacts").count == 3)
        #expect(await f.sheet.records("customers").count == 3)
    }
}
