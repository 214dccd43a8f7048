import HubAudit
import HubCore
import HubStore
import HubSync
import HubTestServers
import Testing

/// Operational checks: conflicts, quarantine, unfinished writes, stale cursors, unpushed changes.
@Suite struct AuditOperationsTests {
    @Test(arguments: TestHubStore.all) func aQuarantinedRecordIsReportedWithItsReason(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        await f.crm.put("contacts", "c70", ["given": "No Email"])
        let sync = try await f.sync()
        #expect(sync.quarantined.count == 1)
        let report = try await f.audit()
        #expect(report.digest == ["quarantined_record crm customer 1"])
        let finding = try #require(report.findings(.quarantinedRecord).first)
        #expect(finding.message.contains("1 missing_required"))
        #expect(finding.samples.first?.externalID == "c70")
        #expect(finding.samples.first?.detail == "missing_required (pull)")
    }

    @Test(arguments: TestHubStore.all) func aCursorThatHasNotMovedForLongerThanTheLimitIsStale(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        f.clock.advance(seconds: 3 * 86_400)
        #expect(try await f.audit(AuditOptions(staleCursorAfter: 7 * 86_400)).isClean)
        let report = try await f.audit(AuditOptions(staleCursorAfter: 2 * 86_400))
        // Only crm's contacts are read with a cursor.
        #expect(report.digest == ["stale_cursor crm customer 1"])
        #expect(report.findings(.staleCursor).first?.message.contains("(3 d, limit 2 d)") == true)
    }

    @Test(arguments: TestHubStore.all) func hubChangesNotPushedYetAreABacklogPerSystem(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let dan = try f.hubID("sheet", "s1")
        try f.store.write { tx in
            var record = try tx.entity(dan)!
            record.data["last_name"] = "Wood"
            record.version += 1
            record.seq = try tx.maxSeq() + 1
            try tx.updateEntity(record, sourceSystem: "manual", run: "test")
        }
        let report = try await f.audit()
        #expect(report.digest == ["push_backlog app customer 1", "push_backlog crm customer 1", "push_backlog sheet customer 1"])
        #expect(report.findings(.pushBacklog).allSatisfy { $0.samples.first?.hubID == dan })
        try await f.sync()
        #expect(try await f.audit().isClean)
    }

    @Test(arguments: TestHubStore.all) func unfinishedCreatesAndOpenIntentsAreReported(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let clean = try await f.audit()
        #expect(clean.checks.first { $0.check == .unfinishedIntent }?.status == .passed)
        let bob = try f.hubID("crm", "c2")
        // A create hubctl sent and never heard back about: its intent and its pending link.
        try f.store.write { tx in
            try tx.addIntent(WriteIntent(run: "run-1", generation: 1, system: "app", entity: "customer", hubID: bob,
                                         key: bob.rawValue, baseData: [:], version: 1, createdAt: "2026-01-01T00:00:00.000Z"))
        }
        try f.tamper("UPDATE xref SET state = 'pending_create', external_id = NULL WHERE system = 'app' AND hub_id = ?",
                     [bob.rawValue])
        let report = try await f.audit()
        #expect(report.digest == ["missing_link app customer 1", "unfinished_intent - - 1", "unfinished_intent app customer 1"])
        let intents = try #require(report.findings(.unfinishedIntent).first { $0.system == nil })
        #expect(intents.message == "1 create recorded before sending and never closed")
        #expect(intents.samples.first?.hubID == bob)
        #expect(intents.samples.first?.detail == "customer to app, run run-1 at 2026-01-01T00:00:00.000Z")
    }
}
