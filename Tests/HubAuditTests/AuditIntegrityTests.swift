import GRDB
import HubAudit
import HubCore
import HubStore
import HubTestServers
import Testing

/// The hub-only checks find exactly the defects planted in the ID cross-reference.
@Suite struct AuditIntegrityTests {
    @Test(arguments: TestHubStore.all) func aFreshlyConvergedTopologyAuditsClean(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let report = try await f.audit(AuditOptions(deep: true))
        #expect(report.isClean, "\(report.digest)")
        #expect(report.checks.allSatisfy { $0.status == .passed })
        let sheet = try #require(report.summary("sheet", "customer"))
        // Four customers in the hub, two of them gold: only those belong in the sheet.
        #expect(sheet.hubEntities == 4 && sheet.belonging == 2 && sheet.linked == 2 && sheet.missing == 0)
        #expect(sheet.coverage == 1)
        let crm = try #require(report.summary("crm", "customer"))
        #expect(crm.records == 4 && crm.extra == 0 && crm.dangling == 0 && crm.drifting == 0)
    }

    @Test(arguments: TestHubStore.all) func withoutDeepTheSystemChecksAreSkippedAndNothingIsRead(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        await f.crm.setFailNext(SpokeError(.unavailable, system: "crm", message: "down"))
        let report = try await f.audit()
        #expect(report.isClean)
        let skipped = report.checks.filter { $0.status == .skipped }.map(\.check)
        #expect(Set(skipped) == [.unreadableSystem, .danglingLink, .orphanRecord, .fieldDrift, .unmappableRecord])
        #expect(report.summary("crm", "customer")?.extra == nil)
    }

    @Test(arguments: TestHubStore.all) func oneExternalIDLinkedToTwoEntitiesIsFoundWithBothHubIDs(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let ann = try f.hubID("crm", "c1"), bob = try f.hubID("crm", "c2")
        // Bob's crm link is repointed at Ann's record: c1 now stands for two entities.
        try f.tamper("DROP INDEX xref_by_external_id")
        try f.tamper("UPDATE xref SET external_id = 'c1' WHERE system = 'crm' AND hub_id = ?", [bob.rawValue])
        let report = try await f.audit(AuditOptions(planRepairs: true))
        #expect(report.digest == ["duplicate_external_id crm customer 1"])
        let finding = try #require(report.findings(.duplicateExternalID).first)
        #expect(finding.samples.first?.externalID == "c1")
        #expect(finding.samples.first?.detail?.contains(ann.rawValue) == true)
        #expect(finding.samples.first?.detail?.contains(bob.rawValue) == true)
        // The plan keeps the older link and forgets the other.
        #expect(report.repairs.map(\.action) == [.unlink])
        #expect(report.repairs.first?.externalID == "c1")
    }

    @Test(arguments: TestHubStore.all) func oneEntityWithTwoIDsInOneSystemIsFound(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let ann = try f.hubID("crm", "c1")
        // Rebuild the xref without its primary key, as an old or hand-edited hub might be.
        try f.tamper("CREATE TABLE xref_copy AS SELECT * FROM xref")
        try f.tamper("DROP TABLE xref")
        try f.tamper("ALTER TABLE xref_copy RENAME TO xref")
        try f.tamper("""
            INSERT INTO xref (entity, system, external_id, hub_id, state, base_data, linked_by, linked_at)
            VALUES ('customer', 'crm', 'c9', ?, 'linked', '{}', 'manual', '2027-01-01T00:00:00.000Z')
            """, [ann.rawValue])
        let report = try await f.audit()
        #expect(report.digest == ["duplicate_system_link crm customer 1"])
        #expect(report.findings(.duplicateSystemLink).first?.samples.first?.detail == "linked to crm c1, c9")
    }

    @Test(arguments: TestHubStore.all) func linksToMissingEntitiesAndToEntitiesOfAnotherKindAreFound(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let ann = try f.hubID("crm", "c1")
        try f.tamper("""
            INSERT INTO xref (entity, system, external_id, hub_id, state, base_data, linked_by, linked_at) VALUES
              ('customer', 'app', 'u-ghost', 'hub-gone', 'linked', '{}', 'created', '2026-01-01T00:00:00.000Z'),
              ('employee', 'crm', 'r9', ?, 'linked', '{}', 'created', '2026-01-01T00:00:00.000Z')
            """, [ann.rawValue])
        let report = try await f.audit()
        #expect(report.digest == ["link_kind_mismatch crm employee 1", "link_to_missing_entity app customer 1"])
        #expect(report.findings(.linkToMissingEntity).first?.samples.first?.externalID == "u-ghost")
        #expect(report.findings(.linkKindMismatch).first?.samples.first?.detail == "hub entity is a customer")
    }

    @Test(arguments: TestHubStore.all) func liveLinksToADeletedEntityAreFoundInEverySystemItIsPushedTo(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let cleo = try f.hubID("app", "u8")
        // Deleted in the hub behind the engine's back: no push ever applied it.
        try f.tamper("UPDATE entity SET deleted_at = '2026-01-01T00:00:00.000Z' WHERE hub_id = ?", [cleo.rawValue])
        let report = try await f.audit(AuditOptions(planRepairs: true))
        // Cleo is not gold, so she was never in the sheet.
        #expect(report.digest == ["link_to_deleted_entity app customer 1", "link_to_deleted_entity crm customer 1"])
        #expect(report.repairs.allSatisfy { $0.action == .repush && $0.hubID == cleo })
    }

    @Test(arguments: TestHubStore.all) func referencesToMissingAndDeletedEntitiesAreFound(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let ann = try f.hubID("crm", "c1"), bob = try f.hubID("crm", "c2")
        let maria = try f.hubID("crm", "r1", entity: "employee")
        try f.tamper(ann, set: "support_rep", to: "hub-nobody")
        try f.tamper("UPDATE entity SET deleted_at = '2026-01-01T00:00:00.000Z' WHERE hub_id = ?", [maria.rawValue])
        let report = try await f.audit()
        // Maria is also Tom's manager (an employee's reference) and still linked in crm.
        #expect(report.digest == ["dangling_reference - customer 1", "link_to_deleted_entity crm employee 1",
                                  "reference_to_deleted - customer 1", "reference_to_deleted - employee 1"])
        #expect(report.findings(.danglingReference).first?.samples.first?.hubID == ann)
        #expect(report.findings(.referenceToDeleted).first { $0.entity == "customer" }?.samples.first?.hubID == bob)
    }

    @Test(arguments: TestHubStore.all) func anEntityThatBelongsInASystemWithoutALinkThereIsMissing(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let dan = try f.hubID("sheet", "s1")
        try f.tamper("DELETE FROM xref WHERE system = 'sheet' AND external_id = 's1'")
        let report = try await f.audit(AuditOptions(planRepairs: true))
        #expect(report.digest == ["missing_link sheet customer 1"])
        let sheet = try #require(report.summary("sheet", "customer"))
        #expect(sheet.belonging == 2 && sheet.linked == 1 && sheet.missing == 1 && sheet.coverage == 0.5)
        #expect(report.findings(.missingLink).first?.message.contains("coverage 50 %") == true)
        #expect(report.repairs == [Repair(action: .repush, entity: "customer", system: "sheet", hubID: dan, because: .missingLink)])
    }

    @Test(arguments: TestHubStore.all) func anEntityOutsideASystemsFilterIsNotMissingThere(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        // Bob turns gold in the hub only (no push yet): now he belongs in the sheet and is missing.
        let bob = try f.hubID("crm", "c2")
        try f.tamper(bob, set: "tier", to: "gold")
        let report = try await f.audit()
        #expect(report.digest == ["missing_link sheet customer 1"])
        #expect(report.findings(.missingLink).first?.samples.first?.hubID == bob)
    }

    @Test(arguments: TestHubStore.all) func scopeOptionsLimitTheChecksToOneSystemAndEntity(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        try f.tamper("DELETE FROM xref WHERE system = 'sheet' AND external_id = 's1'")
        let crmOnly = try await f.audit(AuditOptions(systems: ["crm"]))
        #expect(crmOnly.isClean)
        #expect(Set(crmOnly.summary.map(\.system)) == ["crm"])
        let employees = try await f.audit(AuditOptions(entities: ["employee"]))
        #expect(employees.isClean)
        #expect(employees.summary.map(\.entity) == ["employee"])
    }
}
