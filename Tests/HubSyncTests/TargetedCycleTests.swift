import HubCore
import HubStore
import HubSync
import HubTesting
import Testing

/// The cycles `hubctl run` asks for: read some systems, push to all; and stopping between pages.
@Suite struct TargetedCycleTests {
    @Test("A targeted cycle reads only the systems in its scope and pushes to every system")
    func targetedCycleReadsScopeAndPushesEverywhere() async throws {
        let f = try await SyncCycleTests.seeded()
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
        #expect(report.rows.filter { $0.system == "crm" }.allSatisfy { $0.pull.read == 0 })
        try await f.sync(SyncOptions(pullScope: ["crm": ["customer", "employee"]]))
        let bobLater = await f.app.records("users").values.first { $0["email"] == "bob@example.com" }
        #expect(bobLater?["full_name"] == "Robert Stone")
    }

    @Test("A run asked to stop ends between pages, is recorded as stopped, and the next run goes on")
    func stopRequestedEndsBetweenPages() async throws {
        let f = try await SyncCycleTests.seeded()
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
