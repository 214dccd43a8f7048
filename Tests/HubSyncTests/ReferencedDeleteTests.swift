import HubCore
import HubStore
import HubSync
import HubTesting
import HubTestServers
import Testing

/// A delete of an entity that live entities still refer to never leaves systems split:
/// `on_referenced_delete` holds it (default), cascades it, or restores the record.
@Suite struct ReferencedDeleteTests {
    static func topology(policy: String? = nil) -> String {
        let extra = policy.map { #", "on_referenced_delete": "\#($0)""# } ?? ""
        return """
        {
          "version": 1,
          "entities": {
            "customer": {"fields": {"email": {"type": "string", "required": true}, "name": {"type": "string"}},
                         "match": [["email"]]\(extra)},
            "order": {"fields": {"number": {"type": "string", "required": true}, "customer": {"type": "ref", "entity": "customer"}},
                      "match": [["number"]]}
          },
          "systems": {
            "sheet": {"adapter": "jsonl", "entities": {
              "customer": {"object": "c", "fields": {"email": "email", "name": "name"}},
              "order": {"object": "o", "fields": {"number": "number", "customer": "customer_id"}}}},
            "app": {"adapter": "jsonl", "entities": {
              "customer": {"object": "c", "fields": {"email": "email", "name": "name"}},
              "order": {"object": "o", "fields": {"number": "number", "customer": "customer_id"}}}},
            "crm": {"adapter": "jsonl", "entities": {
              "customer": {"object": "c", "cursor": "seq", "fields": {"email": "email", "name": "name"}}}}
          }
        }
        """
    }

    /// Ann and Bruno in the sheet; Bruno has two orders. app refuses to delete a customer that
    /// orders refer to (a foreign key), as SQLite and PostgreSQL do.
    static func synced(_ kind: TestHubStore, policy: String? = nil) async throws -> SyncFixture {
        let f = try SyncFixture(json: topology(policy: policy), hub: kind)
        await f.app.addForeignKey(from: "o", "customer_id", to: "c")
        await f.sheet.put("c", "c1", ["email": "ann@example.com", "name": "Ann"])
        await f.sheet.put("c", "c2", ["email": "bruno@example.com", "name": "Bruno"])
        await f.sheet.put("o", "o1", ["number": "1001", "customer_id": "c2"])
        await f.sheet.put("o", "o2", ["number": "1002", "customer_id": "c2"])
        await f.sheet.put("o", "o3", ["number": "1003", "customer_id": "c1"])
        let report = try await f.sync()
        #expect(report.status == .ok, "\(report.quarantined) \(report.systemErrors)")
        #expect(await f.app.records("o").count == 3)
        _ = await f.takeWrites()
        return f
    }

    static func emails(_ spoke: InMemorySpoke) async -> Set<String> {
        Set(await spoke.records("c").values.compactMap { $0["email"]?.stringValue })
    }

    @Test(arguments: TestHubStore.all) func byDefaultADeleteOfAReferencedEntityIsHeldAndNothingIsDeletedAnywhere(_ kind: TestHubStore) async throws {
        let f = try await Self.synced(kind)
        await f.sheet.remove("c", "c2")
        let report = try await f.sync()
        #expect(report.status == .partial)
        let held = try #require(report.quarantined.first)
        #expect(report.quarantined.count == 1 && held.reason == "referenced_delete" && held.externalID == "c2")
        #expect(held.message.contains("deleted in 'sheet', but 2 live order records"), "\(held.message)")
        #expect(held.message.contains("nothing was deleted anywhere"))
        #expect(await Self.emails(f.app) == ["ann@example.com", "bruno@example.com"])
        #expect(await Self.emails(f.crm) == ["ann@example.com", "bruno@example.com"])
        #expect(await f.takeWrites() == 0)

        // The next run looks again: the same entry, still nothing deleted.
        let again = try await f.sync()
        #expect(again.quarantined.map(\.id) == [held.id])
        #expect(await f.takeWrites() == 0)

        // Bruno re-added to the sheet (another row ID): it takes the old row's place, no duplicate,
        // and the sheet's orders, which still name the old row, are pointed at the new one.
        await f.sheet.put("c", "c9", ["email": "bruno@example.com", "name": "Bruno"])
        let readded = try await f.sync()
        #expect(readded.quarantined.allSatisfy { $0.reason == "unresolved_ref" }, "\(readded.quarantined)")
        #expect(await Self.emails(f.app) == ["ann@example.com", "bruno@example.com"])
        #expect(await f.app.records("c").count == 2)
        #expect(try f.store.read { try $0.link(entity: "customer", system: "sheet", externalID: "c9") }?.state == .linked)
        #expect(await f.sheet.records("o").values.filter { $0["customer_id"] == "c9" }.count == 2)
        let settled = try await f.sync()
        #expect(settled.status == .ok, "\(settled.quarantined)")
        #expect(try f.store.read { try $0.openQuarantine() }.isEmpty)
    }

    @Test(arguments: TestHubStore.all) func aHeldDeleteGoesThroughOnceNothingRefersToItAnyMore(_ kind: TestHubStore) async throws {
        let f = try await Self.synced(kind)
        await f.sheet.remove("c", "c2")
        try await f.sync()
        await f.sheet.remove("o", "o1")
        await f.sheet.remove("o", "o2")
        let report = try await f.sync()
        #expect(report.status == .ok, "\(report.quarantined) \(report.systemErrors)")
        #expect(await Self.emails(f.app) == ["ann@example.com"])
        #expect(await Self.emails(f.crm) == ["ann@example.com"])
        #expect(await f.app.records("o").count == 1)
        #expect(try f.store.read { try $0.openQuarantine() }.isEmpty)
    }

    @Test(arguments: TestHubStore.all) func aCustomerDeletedWithItsOrdersIsDeletedEverywhereInOneRunChildrenFirst(_ kind: TestHubStore) async throws {
        let f = try await Self.synced(kind)
        await f.sheet.remove("c", "c2")
        await f.sheet.remove("o", "o1")
        await f.sheet.remove("o", "o2")
        let report = try await f.sync()
        #expect(report.status == .ok, "\(report.quarantined) \(report.systemErrors)")
        #expect(await Self.emails(f.app) == ["ann@example.com"])
        #expect(await f.app.records("o").count == 1)
        #expect(await Self.emails(f.crm) == ["ann@example.com"])
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
    }

    @Test(arguments: TestHubStore.all) func cascadeDeletesTheOrdersWithTheirCustomerEverywhere(_ kind: TestHubStore) async throws {
        let f = try await Self.synced(kind, policy: "cascade")
        await f.sheet.remove("c", "c2")
        let report = try await f.sync()
        #expect(report.status == .ok, "\(report.quarantined) \(report.systemErrors)")
        #expect(report.notices.contains { $0.contains("2 entities referring to it were deleted with it") }, "\(report.notices)")
        #expect(await f.sheet.records("o").count == 1)
        #expect(await f.app.records("o").count == 1)
        #expect(await Self.emails(f.app) == ["ann@example.com"])
        #expect(await Self.emails(f.crm) == ["ann@example.com"])
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
    }

    @Test(arguments: TestHubStore.all) func restoreRecreatesTheRecordInTheSystemThatDeletedIt(_ kind: TestHubStore) async throws {
        let f = try await Self.synced(kind, policy: "restore")
        await f.sheet.remove("c", "c2")
        let report = try await f.sync()
        #expect(report.status == .ok, "\(report.quarantined)")
        #expect(report.notices.contains { $0.contains("it is re-created there (on_referenced_delete: restore)") })
        #expect(await Self.emails(f.sheet) == ["ann@example.com", "bruno@example.com"])
        #expect(await Self.emails(f.app) == ["ann@example.com", "bruno@example.com"])
        // The orders in the sheet point at the re-created Bruno.
        let bruno = try #require(await f.sheet.records("c").first { $0.value["email"] == "bruno@example.com" }?.key)
        #expect(await f.sheet.records("o").values.filter { $0["customer_id"]?.stringValue == bruno.rawValue }.count == 2)
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
    }

    /// T3 found it (seed `b5NvQ6QsqAaB+VdTmi0fiJ5zESjGIcXD9dwd27n+6+M=`): a system that gives a
    /// deleted record's ID to the next new record (SQLite's rowid) made its orders, which still
    /// held the old ID, look re-pointed at the newcomer when a run stopped before re-writing them.
    @Test(arguments: TestHubStore.all) func restoredRecordsReferrersKeepItWhenTheSystemGaveItsOldIDToAnotherRecord(_ kind: TestHubStore) async throws {
        let f = try await Self.synced(kind, policy: "restore")
        // Cleo reaches the hub while the sheet is down, so she is still to be written there.
        await f.app.put("c", "c9", ["email": "cleo@example.com", "name": "Cleo"])
        await f.sheet.setFailNext(SpokeError(.unavailable, system: "sheet", message: "the sheet is down"), times: 1000)
        #expect(try await f.sync().status == .partial)
        await f.sheet.setFailNext(nil)
        // Bruno is deleted in the sheet; his ID goes to the next new record, Cleo, and the run
        // stops before Bruno is re-created and his orders are re-written.
        await f.sheet.remove("c", "c2")
        await f.sheet.reuseIDs(["c2"])
        await f.sheet.setSendOnly(1)
        let stopped = try await f.sync()
        #expect(stopped.status != .ok)
        #expect(await f.sheet.record("c", "c2")?["email"] == "cleo@example.com")
        #expect(await f.sheet.records("o").values.filter { $0["customer_id"] == "c2" }.count == 2)
        // The next run reads the orders still holding "c2": not an edit. Bruno is re-created and
        // his orders point at him again, in every system.
        let report = try await f.sync()
        #expect(report.status == .ok, "\(report.quarantined) \(report.systemErrors)")
        let bruno = try #require(await f.sheet.records("c").first { $0.value["email"] == "bruno@example.com" }?.key)
        #expect(bruno != "c2")
        let sheetOrders = await f.sheet.records("o").values.filter { ["1001", "1002"].contains($0["number"]?.stringValue) }
        #expect(sheetOrders.map { $0["customer_id"]?.stringValue } == [bruno.rawValue, bruno.rawValue])
        let appBruno = try #require(await f.app.records("c").first { $0.value["email"] == "bruno@example.com" }?.key)
        let appOrders = await f.app.records("o").values.filter { ["1001", "1002"].contains($0["number"]?.stringValue) }
        #expect(appOrders.map { $0["customer_id"]?.stringValue } == [appBruno.rawValue, appBruno.rawValue])
        #expect(report.conflicts.isEmpty, "\(report.conflicts)")
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
    }
}
