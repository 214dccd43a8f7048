import HubAudit
import HubCore
import HubStewardship
import HubStore
@testable import HubSync
import HubTestServers
import HubTopology
import Testing

/// Link, unlink and relink by hand, recorded with who and why, and quiet syncs afterwards.
@Suite struct StewardshipTests {
    @Test(arguments: TestHubStore.all) func linkingARecordWhoseLinkWasLostMakesTheNextSyncQuiet(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let dan = try f.hubID("sheet", "s1")
        try f.tamper("DELETE FROM xref WHERE system = 'sheet' AND hub_id = ?", [dan.rawValue])
        let outcome = try await f.steward().link("customer", .hub(dan), system: "sheet", externalID: "s1", as: AuditFixture.ana)
        #expect(!outcome.nothingToDo)
        let link = try #require(try f.link("sheet", dan))
        #expect(link.externalID == "s1" && link.linkedBy == "manual" && link.state == .linked)
        _ = await f.takeWrites()
        try await f.sync()
        // The record already holds the hub's values: nothing to write, no duplicate.
        #expect(await f.takeWrites() == 0)
        #expect(await f.sheet.records("gold").count == 2)
        #expect(try await f.audit(AuditOptions(deep: true)).isClean)
    }

    @Test(arguments: TestHubStore.all) func linkingFillsTheHubsGapsFromThePulledRecordAndKeepsItsOrigin(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let cleo = try f.hubID("app", "u8")
        let cleoInCRM = try #require(try f.link("crm", cleo)?.externalID)
        try f.tamper("DELETE FROM xref WHERE system = 'crm' AND hub_id = ?", [cleo.rawValue])
        await f.crm.editUnseen("contacts", cleoInCRM, ["tier": "bronze", "given": "Cleopatra"])
        let outcome = try await f.steward().link("customer", .system("app", "u8"), system: "crm", externalID: cleoInCRM,
                                                 as: AuditFixture.ana)
        let entity = try #require(try f.store.read { try $0.entity(cleo) })
        // The hub had no tier: taken from crm. It had a first name: the hub's stays and goes out at the next sync.
        #expect(entity.data["tier"] == "bronze" && entity.data["first_name"] == "Cleo")
        #expect(entity.fieldOrigins["tier"]?.system == "crm")
        #expect(entity.fieldOrigins["tier"]?.run == RunID("stewardship:\(outcome.entry.id!)"))
        #expect(outcome.entry.detail["filled"] == ["tier"])
        try await f.sync()
        #expect(await f.crm.record("contacts", cleoInCRM)?["given"] == "Cleo")
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
    }

    @Test(arguments: TestHubStore.all) func linkRefusesARecordLinkedElsewhereAndAnEntityAlreadyLinkedInTheSystem(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let ann = try f.hubID("crm", "c1")
        await #expect(throws: StewardshipError.self) {
            try await f.steward().link("customer", .hub(ann), system: "crm", externalID: "c2", as: AuditFixture.ana)
        }
        do {
            _ = try await f.steward().link("customer", .hub(ann), system: "crm", externalID: "c2", as: AuditFixture.ana)
        } catch let error as StewardshipError {
            #expect(error.message == "crm c2 is linked to customer \(try f.hubID("crm", "c2"))")
            #expect(error.hint?.contains("hubctl relink customer --system crm --id c2") == true)
        }
        await f.crm.put("contacts", "c80", ["email": "ann.other@example.com"])
        do {
            _ = try await f.steward().link("customer", .hub(ann), system: "crm", externalID: "c80", as: AuditFixture.ana)
            Issue.record("linked a second crm record to Ann")
        } catch let error as StewardshipError {
            #expect(error.message == "customer \(ann) is already linked to crm c1")
        }
        await #expect(throws: StewardshipError.self) {
            try await f.steward().link("customer", .hub(ann), system: "crm", externalID: "nope", as: AuditFixture.ana)
        }
        let again = try await f.steward().link("customer", .hub(ann), system: "crm", externalID: "c1", as: AuditFixture.ana)
        #expect(again.nothingToDo && again.entry.id == nil)
        #expect(try f.store.read { try $0.stewardship(limit: 10) }.isEmpty)
    }

    @Test(arguments: TestHubStore.all) func closingALinkKeepsBothSidesAndNoSyncLinksThemAgain(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let dan = try f.hubID("sheet", "s1")
        let outcome = try f.steward().unlink("customer", system: "sheet", externalID: "s1", entityReference: nil, mode: .close,
                                             as: AuditFixture.ana)
        #expect(outcome.entry.hubID == dan)
        _ = await f.takeWrites()
        try await f.sync()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
        #expect(try f.link("sheet", dan)?.state == .deleted)
        let report = try await f.audit(AuditOptions(deep: true))
        #expect(report.isClean, "\(report.digest)")
        #expect(report.summary("sheet", "customer")?.closed == 1)
    }

    @Test(arguments: TestHubStore.all) func forgettingALinkLetsTheMatchRulesLinkTheRecordAgain(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let dan = try f.hubID("sheet", "s1")
        _ = try f.steward().unlink("customer", system: "sheet", externalID: nil, entityReference: .system("sheet", "s1"),
                                   mode: .forget, as: AuditFixture.ana)
        #expect(try f.link("sheet", dan) == nil)
        try await f.sync()
        #expect(try f.link("sheet", dan)?.linkedBy == "match:email")
        #expect(await f.sheet.records("gold").count == 2)
    }

    @Test(arguments: TestHubStore.all) func relinkMovesARecordToAnotherEntityAndTheOldOneIsReportedMissing(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let bob = try f.hubID("crm", "c2"), cleo = try f.hubID("app", "u8")
        try f.tamper("DELETE FROM xref WHERE system = 'crm' AND hub_id = ?", [cleo.rawValue])
        await #expect(throws: StewardshipError.self) {
            try await f.steward().relink("customer", system: "crm", externalID: "c2", to: .hub(cleo), expectedFrom: cleo,
                                         as: AuditFixture.ana)
        }
        let outcome = try await f.steward().relink("customer", system: "crm", externalID: "c2", to: .system("app", "u8"),
                                                   expectedFrom: bob, as: AuditFixture.ana)
        #expect(outcome.entry.action == .relink && outcome.entry.hubID == cleo && outcome.entry.otherHubID == bob)
        #expect(try f.link("crm", cleo)?.externalID == "c2")
        #expect(try f.link("crm", bob) == nil)
        // Until the next sync, Cleo's new version also waits to be pushed.
        let report = try await f.audit()
        #expect(report.digest.filter { !$0.hasPrefix("push_backlog") } == ["missing_link crm customer 1"])
        #expect(report.findings(.missingLink).first?.samples.first?.hubID == bob)
    }

    @Test(arguments: TestHubStore.all) func everyChangeIsLoggedWithWhoWhenAndWhyAndADryRunWritesNothing(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let seq = try f.hubSeq()
        let dry = try f.steward().unlink("customer", system: "crm", externalID: "c2", entityReference: nil, mode: .close,
                                         as: .init(by: "ana", reason: nil), dryRun: true)
        #expect(dry.dryRun && dry.entry.id == nil && !dry.changes.isEmpty)
        #expect(try f.link("crm", try f.hubID("crm", "c2"))?.state == .linked)
        #expect(try f.store.read { try $0.stewardship(limit: 10) }.isEmpty)
        #expect(try f.hubSeq() == seq)

        _ = try f.steward().unlink("customer", system: "crm", externalID: "c2", entityReference: nil, mode: .close,
                                   as: .init(by: "ana", reason: "Bob left"))
        let log = try f.store.read { try $0.stewardship(limit: 10) }
        #expect(log.count == 1)
        #expect(log[0].action == .unlink && log[0].by == "ana" && log[0].reason == "Bob left" && log[0].system == "crm")
        let bob = try f.hubID("crm", "c2")
        #expect(log[0].externalID == "c2" && log[0].hubID == bob)
        #expect(log[0].detail["mode"] == "close")
    }

    @Test(arguments: TestHubStore.all) func aChangeByHandWaitsForARunningSyncAndLeavesTheLockFree(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let lease = try f.store.acquireRunLock("run-elsewhere", now: f.clock.current(), staleAfter: 600)
        #expect(throws: HubLocked.self) {
            try f.steward().unlink("customer", system: "crm", externalID: "c2", entityReference: nil, mode: .close,
                                   as: AuditFixture.ana)
        }
        #expect(try f.link("crm", try f.hubID("crm", "c2"))?.state == .linked)
        try f.store.releaseRunLock(lease)
        // Refused or done, a change by hand never keeps the lock: the next sync takes it.
        #expect(throws: StewardshipError.self) {
            try f.steward().unlink("customer", system: "crm", externalID: "nope", entityReference: nil, mode: .close,
                                   as: AuditFixture.ana)
        }
        _ = try f.steward().unlink("customer", system: "crm", externalID: "c2", entityReference: nil, mode: .close,
                                   as: AuditFixture.ana)
        #expect(try await f.sync().status == .ok)
    }

    @Test func identityKeysExistOnlyForRulesWhoseFieldsAllHaveValues() throws {
        let rules: [[FieldName]] = [["email"], ["first_name", "last_name"]]
        #expect(MatchKey.keys(["email": "a@b.c"], rules: rules).map(\.rule) == [0])
        #expect(MatchKey.keys(["email": .null, "first_name": "A", "last_name": "B"], rules: rules).map(\.key) == [#"["A","B"]"#])
        #expect(MatchKey.keys(["first_name": "A"], rules: rules).isEmpty)
        #expect(MatchKey.ruleName(rules[1]) == "match:first_name+last_name")
    }
}
