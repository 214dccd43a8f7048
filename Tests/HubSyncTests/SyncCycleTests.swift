import HubCore
import HubStore
import HubSync
import HubTesting
import HubTestServers
import Testing

@Suite struct SyncCycleTests {
    /// Overlapping data: Ann is in the CRM and the app (emails cased differently), Bob only in
    /// the CRM, Cleo only in the sheet.
    static func seeded(_ hub: TestHubStore) async throws -> SyncFixture {
        let f = try SyncFixture(hub: hub)
        await f.crm.put("contacts", "c1", ["properties": ["email": "Ann@Example.com ", "given": "Ann", "family": "Lee",
                                                          "country": "DE", "score": 10]])
        await f.crm.put("contacts", "c2", ["properties": ["email": "bob@example.com", "given": "Bob", "family": "Stone",
                                                          "country": "BR"]])
        await f.app.put("users", "u7", ["email": "ann@example.com", "full_name": "Ann Lee", "tier": "gold", "points": "10"])
        await f.sheet.put("customers", "s1", ["Email": "cleo@example.com", "First": "Cleo", "Last": "Park", "Country": "Germany"])
        return f
    }

    @Test(arguments: TestHubStore.all) func overlappingRecordsConvergeIntoOneEntityEach(_ kind: TestHubStore) async throws {
        let f = try await Self.seeded(kind)
        let report = try await f.sync()
        #expect(report.status == .ok)
        #expect(try f.store.read { try $0.entityCount("customer") } == 3)

        // Every system holds every customer, in its own schema.
        let crm = await f.crm.records("contacts")
        let app = await f.app.records("users")
        let sheet = await f.sheet.records("customers")
        #expect(crm.count == 3)
        #expect(app.count == 3)
        #expect(sheet.count == 3)
        let cleoInCRM = crm.values.first { $0.value(atPath: "properties.email") == "cleo@example.com" }
        #expect(cleoInCRM?.value(atPath: "properties.country") == "DE")
        #expect(cleoInCRM?.value(atPath: "properties.given") == "Cleo")
        let bobInApp = app.values.first { $0["email"] == "bob@example.com" }
        #expect(bobInApp?["full_name"] == "Bob Stone")
        let annInSheet = sheet.values.first { $0["Email"] == "ann@example.com" }
        #expect(annInSheet?["Country"] == "Germany")
        #expect(annInSheet?["First"] == "Ann")
        // Ann was linked, not duplicated: the app already had her.
        #expect(app.values.filter { $0["email"] == "ann@example.com" }.count == 1)
    }

    @Test(arguments: TestHubStore.all) func aSecondRunWithNothingChangedWritesNothing(_ kind: TestHubStore) async throws {
        let f = try await Self.seeded(kind)
        try await f.sync()
        _ = await f.takeWrites()
        let seq = try f.hubSeq()

        let report = try await f.sync()
        #expect(report.status == .ok)
        #expect(await f.takeWrites() == 0)
        #expect(try f.hubSeq() == seq)
        let totals = report.totals
        #expect(totals.pull.writes == 0 && totals.pull.updated == 0)
        #expect(totals.push.writes == 0)

        // And again: still quiet.
        try await f.sync()
        #expect(await f.takeWrites() == 0)
        #expect(try f.hubSeq() == seq)
    }

    @Test(arguments: TestHubStore.all) func anEditInEachSystemReachesAllOthersInOneRun(_ kind: TestHubStore) async throws {
        let f = try await Self.seeded(kind)
        try await f.sync()
        _ = await f.takeWrites()
        let crmAnn: ExternalID = "c1"
        let appBob = await f.app.records("users").first { $0.value["email"] == "bob@example.com" }!.key
        let sheetCleo: ExternalID = "s1"

        await f.crm.update("contacts", crmAnn, ["properties": ["email": "ann@example.com", "given": "Anna", "family": "Lee",
                                                                "country": "DE", "score": 10]])
        await f.app.update("users", appBob, ["tier": "gold"])
        await f.sheet.update("customers", sheetCleo, ["Last": "Parker"])
        let report = try await f.sync()
        #expect(report.status == .ok)

        #expect(await f.app.records("users").values.contains { $0["full_name"] == "Anna Lee" })
        #expect(await f.sheet.records("customers").values.contains { $0["First"] == "Anna" })
        #expect(await f.crm.records("contacts").values.contains { $0.value(atPath: "properties.family") == "Parker" })
        #expect(await f.app.records("users").values.contains { $0["full_name"] == "Cleo Parker" })
        #expect(await f.app.record("users", appBob)?["tier"] == "gold")

        // Then quiet again.
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
    }

    @Test(arguments: TestHubStore.all) func ourOwnWritesAreNotEchoedBack(_ kind: TestHubStore) async throws {
        let f = try await Self.seeded(kind)
        try await f.sync()
        // The CRM's cursor re-reads every record hubctl wrote to it: all must be unchanged.
        let report = try await f.sync()
        let crmPull = report.rows.first { $0.system == "crm" && $0.entity == "customer" }!.pull
        #expect(crmPull.read >= 1)
        #expect(crmPull.updated == 0 && crmPull.created == 0)
    }

    @Test(arguments: TestHubStore.all) func differentFieldsEditedInTwoSystemsBothSurvive(_ kind: TestHubStore) async throws {
        let f = try await Self.seeded(kind)
        try await f.sync()
        let crmBob: ExternalID = "c2"
        let sheetBob = await f.sheet.records("customers").first { $0.value["Email"] == "bob@example.com" }!.key
        await f.crm.update("contacts", crmBob, ["properties": ["score": 99]])
        await f.sheet.update("customers", sheetBob, ["Country": "Germany"])
        try await f.sync()
        let bob = await f.crm.record("contacts", crmBob)!
        #expect(bob.value(atPath: "properties.score") == 99)
        #expect(bob.value(atPath: "properties.country") == "DE")
        #expect(await f.sheet.record("customers", sheetBob)?["Country"] == "Germany")
        #expect(await f.app.records("users").values.contains { $0["email"] == "bob@example.com" && $0["points"] == "99" })
    }

    @Test(arguments: TestHubStore.all) func theSameFieldEditedInTwoSystemsWithoutChangeTimesIsSettledByThePriorityListAndSaysSo(_ kind: TestHubStore) async throws {
        let f = try await Self.seeded(kind)
        try await f.sync()
        let crmCleo = await f.crm.records("contacts").first { $0.value.value(atPath: "properties.email") == "cleo@example.com" }!.key
        // Neither system has change times (the crm's cursor is a number): which edit came last is
        // unknown, so "newest" cannot decide, and does not pretend to.
        await f.sheet.update("customers", "s1", ["First": "Clio"])
        await f.crm.update("contacts", crmCleo, ["properties": ["given": "Cleopatra"]])
        let report = try await f.sync()
        #expect(report.conflicts.count == 1)
        #expect(report.conflicts.first?.field == "first_name")
        #expect(report.conflicts.first?.rule == .newestByPriority)
        // No priority list: the topology's order decides (crm is declared first), on every run.
        #expect(report.conflicts.first?.winner == "hub")
        #expect(await f.crm.record("contacts", crmCleo)?.value(atPath: "properties.given") == "Cleopatra")
        #expect(await f.sheet.record("customers", "s1")?["First"] == "Cleopatra")
        let stored = try f.store.read { try $0.conflicts(openOnly: false) }
        #expect(stored.count == 1)
        #expect(Set(stored[0].candidates.keys) == ["hub", "crm", "sheet"])
    }

    @Test(arguments: TestHubStore.all) func anUnmappableRecordIsQuarantinedAndTheRestSync(_ kind: TestHubStore) async throws {
        let f = try await Self.seeded(kind)
        await f.app.put("users", "u9", ["email": "dan@example.com", "full_name": "Dan Fox", "points": "lots"])
        let report = try await f.sync()
        #expect(report.status == .partial)
        #expect(report.exitCode == 3)
        #expect(report.quarantined.count == 1)
        let q = try #require(report.quarantined.first)
        #expect(q.system == "app" && q.externalID == "u9" && q.reason == "unmappable")
        #expect(q.message.contains("points") && !q.message.contains("lots"))
        #expect(try f.store.read { try $0.entityCount("customer") } == 3)

        // Fixed at the source: it syncs on the next run and the quarantine entry closes.
        await f.app.update("users", "u9", ["points": "5"])
        let next = try await f.sync()
        #expect(next.quarantined.isEmpty, "\(next.quarantined)")
        #expect(next.systemErrors.isEmpty, "\(next.systemErrors)")
        #expect(next.rows.first { $0.system == "app" }?.pull.created == 1, "\(next.rows)")
        #expect(try f.store.read { try $0.entityCount("customer") } == 4)
        #expect(try f.store.read { try $0.openQuarantine() }.isEmpty)
    }

    @Test(arguments: TestHubStore.all) func referencesAreTranslatedToEachSystemsOwnIDs(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(hub: kind)
        // The manager is read after the report (IDs sort that way), so the reference waits.
        await f.crm.put("reps", "r2", ["mail": "boss@example.com", "display": "Boss"])
        await f.crm.put("reps", "r1", ["mail": "rep@example.com", "display": "Rep", "boss": "r2"])
        await f.crm.put("contacts", "c1", ["properties": ["email": "ann@example.com"], "owner": "r1"])
        let report = try await f.sync()
        #expect(report.status == .ok, "\(report.quarantined)")
        let hub = try f.store.read { tx -> (rep: HubID, boss: HubID, ann: HubCore.Value?) in
            let rep = try tx.link(entity: "employee", system: "crm", externalID: "r1")!.hubID
            let boss = try tx.link(entity: "employee", system: "crm", externalID: "r2")!.hubID
            let annID = try tx.link(entity: "customer", system: "crm", externalID: "c1")!.hubID
            let ann = try tx.entity(annID)
            let repEntity = try tx.entity(rep)
            #expect(repEntity?.data["manager"] == .string(boss.rawValue))
            return (rep, boss, ann?.data["support_rep"])
        }
        #expect(hub.ann == .string(hub.rep.rawValue))
    }

    @Test(arguments: TestHubStore.all) func aSelfReferenceCreatedInOneRunIsPatchedInTheTargetSystem(_ kind: TestHubStore) async throws {
        let json = SyncFixture.topologyJSON.replacingOccurrences(
            of: "\"app\": {\n      \"adapter\": \"jsonl\",\n      \"entities\": {",
            with: "\"app\": {\n      \"adapter\": \"jsonl\",\n      \"entities\": {\n        \"employee\": {\"object\": \"staff\", \"fields\": {\"email\": \"email\", \"manager\": \"manager_id\"}},")
        let f = try SyncFixture(json: json, hub: kind)
        await f.crm.put("reps", "r1", ["mail": "rep@example.com", "display": "Rep", "boss": "r2"])
        await f.crm.put("reps", "r2", ["mail": "boss@example.com", "display": "Boss"])
        let report = try await f.sync()
        #expect(report.status == .ok, "\(report.quarantined)")
        let staff = await f.app.records("staff")
        #expect(staff.count == 2)
        let bossID = try #require(staff.first { $0.value["email"] == "boss@example.com" }?.key)
        let rep = try #require(staff.first { $0.value["email"] == "rep@example.com" }?.value)
        #expect(rep["manager_id"] == .string(bossID.rawValue))
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
    }

    @Test(arguments: TestHubStore.all) func aDryRunWritesNothingAndReportsThePlan(_ kind: TestHubStore) async throws {
        // A dry run works on a scratch SQLite copy of the hub, a PostgreSQL hub's too.
        let f = try await Self.seeded(kind)
        let report = try await f.sync(SyncOptions(dryRun: true))
        #expect(report.dryRun)
        #expect(await f.takeWrites() == 0)
        #expect(try f.hubSeq() == 0)
        #expect(try f.store.read { try $0.runs(limit: 10) }.isEmpty)
        #expect(report.plan.filter { $0.operation == "create" }.count == 5)
        #expect(report.plan.contains { $0.system == "sheet" && $0.operation == "create" && $0.fields.contains("Email") })
    }

    @Test(arguments: TestHubStore.all) func aFailingSystemIsSkippedAndTheOthersSync(_ kind: TestHubStore) async throws {
        let f = try await Self.seeded(kind)
        await f.app.setFailNext(SpokeError(.unavailable, system: "app", message: "connection refused"), times: 3)
        let report = try await f.sync()
        #expect(report.status == .partial)
        #expect(report.systemErrors["app"]?.contains("connection refused") == true)
        #expect(await f.app.writeLog.isEmpty)
        #expect(await f.sheet.records("customers").count == 3)
        // The next healthy run catches up.
        let next = try await f.sync()
        #expect(next.status == .ok)
        #expect(await f.app.records("users").count == 3)
    }

    @Test(arguments: TestHubStore.all) func aSystemThatFailsBrieflyIsRetriedWithGrowingWaitsAndSyncs(_ kind: TestHubStore) async throws {
        let f = try await Self.seeded(kind)
        await f.app.setFailNext(SpokeError(.unavailable, system: "app", message: "503"), times: 2)
        let report = try await f.sync()
        #expect(report.status == .ok)
        #expect(await f.app.injectedFailures == 2)
        let waits = f.sleeps.all
        #expect(waits.count == 2)
        #expect(waits[0] >= 1 && waits[0] <= 1.2)
        #expect(waits[1] >= 2 && waits[1] <= 2.4)
        #expect(await f.app.records("users").count == 3)
    }

    @Test(arguments: TestHubStore.all) func aSystemWhoseAdapterRetriesItselfIsNotRetriedAgainByTheEngine(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(app: InMemorySpoke("app", retriesRequests: true), hub: kind)
        await f.app.put("users", "u1", ["email": "ann@example.com", "full_name": "Ann Lee"])
        await f.app.setFailNext(SpokeError(.unavailable, system: "app", message: "503 after the adapter's retries"), times: 1)
        let report = try await f.sync()
        #expect(report.systemErrors["app"] != nil)
        #expect(f.sleeps.all.isEmpty)
        #expect(await f.app.injectedFailures == 1)
    }

    @Test(arguments: TestHubStore.all) func rejectedRecordsAreNotRetriedAsIfTheSystemWereDown(_ kind: TestHubStore) async throws {
        let f = try await Self.seeded(kind)
        await f.app.setFailNext(SpokeError(.configuration, system: "app", message: "no such table"), times: 1)
        let report = try await f.sync()
        #expect(report.status == .partial)
        #expect(f.sleeps.all.isEmpty)
    }

    @Test(arguments: TestHubStore.all) func onlyAndEntityOptionsLimitTheRun(_ kind: TestHubStore) async throws {
        let f = try await Self.seeded(kind)
        let report = try await f.sync(SyncOptions(only: ["crm", "sheet"]))
        #expect(report.rows.allSatisfy { $0.system != "app" })
        #expect(await f.app.writeLog.isEmpty)
        #expect(await f.sheet.records("customers").count == 3)
    }
}
