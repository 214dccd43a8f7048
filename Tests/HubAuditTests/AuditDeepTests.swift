import HubAudit
import HubCore
import HubStewardship
import HubStore
import HubTestServers
import Testing

/// `--deep` reads every system and finds exactly the records planted behind the hub's back.
@Suite struct AuditDeepTests {
    @Test(arguments: TestHubStore.all) func aRecordDeletedInASystemIsADanglingLink(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let bob = try f.hubID("crm", "c2")
        await f.crm.remove("contacts", "c2")
        let report = try await f.audit(AuditOptions(deep: true))
        #expect(report.digest == ["dangling_link crm customer 1"])
        let sample = try #require(report.findings(.danglingLink).first?.samples.first)
        #expect(sample.externalID == "c2" && sample.hubID == bob)
        #expect(report.summary("crm", "customer")?.dangling == 1)
        #expect(report.summary("crm", "customer")?.records == 3)
    }

    @Test(arguments: TestHubStore.all) func recordsNoLinkKnowsAreOrphansWithWhatAMatchWouldDo(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let cleo = try f.hubID("app", "u8")
        // A new person, a second record of Ann in the app, and Cleo in the sheet after her link was removed.
        await f.app.put("users", "u50", ["email": "eve@example.com", "full_name": "Eve Stone", "country": "Germany"])
        await f.app.put("users", "u51", ["email": "ANN@example.com", "full_name": "Ann Lee", "country": "Germany"])
        await f.crm.put("contacts", "c60", ["email": "cleo@example.com", "given": "Cleo"])
        try f.tamper("DELETE FROM xref WHERE system = 'crm' AND hub_id = ?", [cleo.rawValue])
        // Silver records are outside the sheet's filter: never taken in, so not orphans.
        await f.sheet.put("gold", "s9", ["Email": "sam@example.com", "First": "Sam", "Tier": "silver"])
        let report = try await f.audit(AuditOptions(deep: true, planRepairs: true))
        // Cleo's old crm record (hubctl created it) is an orphan too, and matches her as well.
        #expect(report.digest == ["missing_link crm customer 1", "orphan_record app customer 2", "orphan_record crm customer 2"])
        let app = try #require(report.findings(.orphanRecord).first { $0.system == "app" })
        #expect(app.message.contains("1 duplicate, 1 no match"))
        #expect(app.samples.contains { $0.externalID == "u50" && $0.detail?.hasPrefix("no match") == true })
        #expect(app.samples.contains { $0.externalID == "u51" && $0.detail?.contains("already linked to app u7") == true })
        let crm = try #require(report.findings(.orphanRecord).first { $0.system == "crm" })
        #expect(crm.message.contains("2 would link"))
        #expect(crm.samples.allSatisfy { $0.hubID == cleo && $0.detail == "match:email matches hub \(cleo)" })
        // One record can be linked to Cleo; re-pushing her to crm is then not needed.
        #expect(report.repairs.filter { $0.action == .link }.count == 1)
        #expect(!report.repairs.contains { $0.action == .repush })
        #expect(report.summary("sheet", "customer")?.extra == 0)
    }

    @Test(arguments: TestHubStore.all) func valuesChangedBehindTheChangeTrackingAreDriftOnTheFieldsTheSystemIsWritten(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let ann = try f.hubID("crm", "c1")
        await f.crm.editUnseen("contacts", "c1", ["given": "Annie", "country": "BR"])
        let report = try await f.audit(AuditOptions(deep: true, planRepairs: true))
        #expect(report.digest == ["field_drift crm customer 1"])
        let finding = try #require(report.findings(.fieldDrift).first)
        #expect(finding.samples.first?.detail == "country, first_name")
        #expect(finding.samples.first?.hubID == ann)
        #expect(finding.message.contains("country 1, first_name 1"))
        #expect(report.repairs == [Repair(action: .repush, entity: "customer", system: "crm", hubID: ann, externalID: "c1",
                                          because: .fieldDrift)])
        // A sync does not see it: the crm's cursor did not move.
        try await f.sync()
        #expect(try await f.audit(AuditOptions(deep: true)).digest == ["field_drift crm customer 1"])
    }

    @Test(arguments: TestHubStore.all) func repairingDriftMakesTheNextSyncWriteExactlyTheDriftedFields(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        await f.crm.editUnseen("contacts", "c1", ["given": "Annie"])
        let report = try await f.audit(AuditOptions(deep: true, planRepairs: true))
        let results = try await Repairer(steward: f.steward())
            .apply(FixPlan(topology: "t", generatedAt: "", repairs: report.repairs), source: "plan.json", as: AuditFixture.ana,
                   dryRun: false)
        #expect(results.map(\.status) == [.applied])
        _ = await f.takeWrites()
        try await f.sync()
        let writes = await f.crm.writeLog
        #expect(writes.count == 1)
        #expect(writes.first.map { "\($0.write)" }?.contains("given") == true)
        #expect(await f.crm.record("contacts", "c1")?["given"] == "Ann")
        #expect(await f.app.writeLog.isEmpty)
        #expect(await f.sheet.writeLog.isEmpty)
        #expect(try await f.audit(AuditOptions(deep: true)).isClean)
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
    }

    @Test(arguments: TestHubStore.all) func aDanglingLinkRepairedIsCreatedAgainByTheNextSync(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let bob = try f.hubID("crm", "c2")
        // Lost in crm, and a propagate policy would delete Bob everywhere: re-create him instead.
        await f.crm.remove("contacts", "c2")
        let report = try await f.audit(AuditOptions(deep: true, planRepairs: true))
        let results = try await Repairer(steward: f.steward())
            .apply(FixPlan(topology: "t", generatedAt: "", repairs: report.repairs), source: "plan.json", as: AuditFixture.ana,
                   dryRun: false)
        #expect(results.map(\.status) == [.applied])
        #expect(try f.link("crm", bob) == nil)
        try await f.sync()
        let recreated = try #require(try f.link("crm", bob))
        #expect(recreated.externalID != "c2")
        #expect(await f.crm.records("contacts").values.filter { $0["email"] == "bob@example.com" }.count == 1)
        #expect(try await f.audit(AuditOptions(deep: true)).isClean)
    }

    @Test(arguments: TestHubStore.all) func aFieldWithAConflictParkedForAPersonIsNotDrift(_ hub: TestHubStore) async throws {
        let json = AuditFixture.topologyJSON.replacingOccurrences(
            of: "\"match\": [[\"email\"]]\n    }\n  },", with: "\"match\": [[\"email\"]],\n      \"conflicts\": {\"resolve\": \"manual\"}\n    }\n  },")
        let f = try await AuditFixture.seeded(hub, json: json)
        await f.crm.update("contacts", "c1", ["given": "Annie"])
        await f.app.update("users", "u7", ["full_name": "Anna Lee"])
        let sync = try await f.sync()
        #expect(sync.openConflicts == 1)
        let report = try await f.audit(AuditOptions(deep: true))
        #expect(report.digest == ["open_conflict - customer 1"])
    }

    @Test(arguments: TestHubStore.all) func aSystemThatCannotBeReadIsAFindingAndTheOthersAreStillRead(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        await f.crm.setFailNext(SpokeError(.unavailable, system: "crm", message: "connection refused"))
        await f.app.remove("users", "u8")
        let report = try await f.audit(AuditOptions(deep: true))
        #expect(report.digest == ["dangling_link app customer 1", "unreadable_system crm - 1"])
        #expect(report.findings(.unreadableSystem).first?.message.contains("connection refused") == true)
        #expect(report.summary("crm", "customer")?.records == nil)
    }

    @Test(arguments: TestHubStore.all) func aRecordThatCannotBeMappedIsReportedUnlessQuarantined(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        await f.app.put("users", "u60", ["email": ["not": "text"], "full_name": "Odd"])
        let report = try await f.audit(AuditOptions(deep: true))
        #expect(report.digest == ["unmappable_record app customer 1"])
        let sync = try await f.sync()
        #expect(sync.quarantined.count == 1)
        #expect(try await f.audit(AuditOptions(deep: true)).digest == ["quarantined_record app customer 1"])
    }
}
