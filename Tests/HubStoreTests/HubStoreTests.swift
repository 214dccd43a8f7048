import Foundation
import GRDB
import HubCore
@testable import HubStore
import HubTestServers
import Testing

@Suite struct HubStoreTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("hub-\(UUID().uuidString).sqlite").path
    }

    static func entity(_ id: String, seq: Int64, data: [String: Value] = ["email": "a@example.com"]) -> EntityRecord {
        EntityRecord(hubID: HubID(id), entity: "customer", data: data, version: 1, seq: seq, fieldOrigins: [:],
                     createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z")
    }

    static func link(_ hub: String, _ ext: String?) -> Link {
        Link(entity: "customer", system: "crm", externalID: ext.map(ExternalID.init), hubID: HubID(hub), state: .linked,
             baseHash: "h", baseData: ["email": "a@example.com"], baseVersion: 1, linkedBy: "created",
             linkedAt: "2026-01-01T00:00:00.000Z", lastSeenRun: nil)
    }

    @Test func aHubOnDiskUsesWALAndFullSynchronousWritesAndPassesIntegrityChecks() throws {
        let path = Self.temporaryPath()
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let store = try HubStore(path: path)
        let p = try store.pragmas()
        #expect(p.journalMode == "wal")
        #expect(p.synchronous == 2)
        #expect(p.integrity == "ok")
        // Migrations sort on disk; the hub's own temporary tables stay in memory afterwards.
        #expect(try store.read { try $0.value(Int.self, "PRAGMA temp_store") } == 2)
        // Reopening runs no migration twice.
        _ = try HubStore(path: path)
    }

    @Test(arguments: TestHubStore.all) func entitiesKeepTheirHistoryAndChangesAreFoundBySeq(_ kind: TestHubStore) throws {
        let store = try kind.make()
        try store.write { tx in
            try tx.insertEntity(Self.entity("h1", seq: 1), sourceSystem: "crm", run: "r1")
            try tx.insertEntity(Self.entity("h2", seq: 2), sourceSystem: "crm", run: "r1")
            var next = Self.entity("h1", seq: 3, data: ["email": "b@example.com"])
            next.version = 2
            try tx.updateEntity(next, sourceSystem: "app", run: "r2")
        }
        let (maxSeq, since2, since0, v1, v2, version) = try store.read { tx in
            (try tx.maxSeq(), try tx.entitiesChanged("customer", after: 2, limit: 10).map(\.hubID),
             try tx.entitiesChanged("customer", after: 0, limit: 10).map(\.hubID), try tx.version("h1", 1),
             try tx.version("h1", 2), try tx.entity("h1")?.version)
        }
        #expect(maxSeq == 3)
        #expect(since2 == ["h1"])
        #expect(since0 == ["h2", "h1"])
        #expect(v1 == ["email": "a@example.com"])
        #expect(v2 == ["email": "b@example.com"])
        #expect(version == 2)
    }

    @Test("Base hashes are read from live links with a hash only, by external ID", arguments: TestHubStore.all)
    func baseHashesComeFromLiveLinksOnly(_ kind: TestHubStore) throws {
        let store = try kind.make()
        try store.write { tx in
            try tx.saveLink(Self.link("h1", "1"))
            var deleted = Self.link("h2", "2")
            deleted.state = .deleted
            try tx.saveLink(deleted)
            var unhashed = Self.link("h3", "3")
            unhashed.baseHash = nil
            try tx.saveLink(unhashed)
            var other = Self.link("h4", "4")
            other.system = "app"
            try tx.saveLink(other)
        }
        let hashes = try store.read { try $0.linkedBaseHashes(entity: "customer", system: "crm", externalIDs: ["1", "2", "3", "4", "5"]) }
        #expect(hashes == ["1": "h"])
    }

    @Test("Base hashes read as one range of close IDs are those read by ID; a range holding too many links is refused",
          arguments: TestHubStore.all)
    func baseHashesReadAsARangeAreThoseReadByID(_ kind: TestHubStore) throws {
        let store = try kind.make()
        try store.write { tx in
            for i in 10..<40 {
                var link = Self.link("h\(i)", "id\(i)")
                link.baseHash = "hash \(i)"
                if i == 12 { link.state = .deleted }
                if i == 13 { link.baseHash = nil }
                if i == 14 { link.system = "app" }
                try tx.saveLink(link)
            }
        }
        let page: [ExternalID] = ["id15", "id11", "id12", "id13", "id14", "id10", "id16", "id1"]
        let (byID, inRange, spread) = try store.read { tx in
            (try tx.linkedBaseHashes(entity: "customer", system: "crm", externalIDs: page),
             try tx.linkedBaseHashesInRange(entity: "customer", system: "crm", externalIDs: page),
             try tx.linkedBaseHashesInRange(entity: "customer", system: "crm", externalIDs: ["id10", "id39"]))
        }
        #expect(byID == ["id10": "hash 10", "id11": "hash 11", "id15": "hash 15", "id16": "hash 16"])
        // The range (id1 … id16, in byte order) holds six links of crm: read, each asked-for ID
        // has its own hash or none.
        #expect(inRange != nil)
        for id in page { #expect(inRange?[id] == byID[id]) }
        // 30 links between id10 and id39 for two IDs: more than twice as many, so no range read.
        #expect(spread == nil)
    }

    /// The plan of `sql` with `arguments`, one line per node: SQLite's `EXPLAIN QUERY PLAN`
    /// details, PostgreSQL's `EXPLAIN` lines with scans of the whole table and bitmap scans
    /// ruled out (on a table this small the planner would rather read it all).
    static func plan(_ store: HubStore, _ sql: String, _ arguments: HubArguments) throws -> String {
        try store.write { tx in
            if tx.dialect == .sqlite {
                return try tx.rows("EXPLAIN QUERY PLAN " + sql, arguments).map { $0["detail"] as String }.joined(separator: "\n")
            }
            try tx.execute("SET LOCAL enable_seqscan = off")
            try tx.execute("SET LOCAL enable_bitmapscan = off")
            return try tx.rows("EXPLAIN " + sql, arguments).map { $0[0] as String }.joined(separator: "\n")
        }
    }

    @Test("A page's base hashes are read from an index alone, by ID and as a range, without reading a link's row",
          arguments: TestHubStore.all)
    func baseHashesAreReadFromAnIndexAlone(_ kind: TestHubStore) throws {
        let store = try kind.make()
        try store.write { tx in
            for i in 1...20 { try tx.saveLink(Self.link("h\(i)", "\(i)")) }
        }
        let byID = try Self.plan(store, HubTransaction.linkedBaseHashesSQL(count: 3), ["customer", "crm", "1", "2", "3"])
        let range = try Self.plan(store, HubTransaction.linkedBaseHashesInRangeSQL, ["customer", "crm", "1", "3", 7])
        for plan in [byID, range] {
            if kind == .sqlite {
                #expect(plan.contains("USING COVERING INDEX xref_linked_base_hash"), "\(plan)")
            } else {
                #expect(plan.contains("Index Only Scan using xref_by_external_id"), "\(plan)")
            }
        }
    }

    @Test("A hub made before the base-hash index gets it when opened, and its links read the same hashes")
    func aHubMadeBeforeTheBaseHashIndexGetsItWhenOpened() throws {
        let path = Self.temporaryPath()
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let step = try #require(HubStore.migrations.last { $0.sql.contains("xref_linked_base_hash") })
        var earlier = DatabaseMigrator()
        for old in HubStore.migrations.prefix(while: { $0.identifier != step.identifier }) {
            earlier.registerMigration(old.identifier) { db in try db.execute(sql: old.sql) }
        }
        try earlier.migrate(try DatabaseQueue(path: path))
        let store = try HubStore(path: path)
        let indexes = try store.read { try $0.rows("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'xref'") }
            .map { $0["name"] as String }
        #expect(Set(indexes).isSuperset(of: ["xref_by_external_id", "xref_linked_base_hash"]))
        try store.write { tx in
            try tx.saveLink(Self.link("h1", "1"))
            var pending = Self.link("h2", "2")
            pending.state = .pendingCreate
            try tx.saveLink(pending)
        }
        let hashes = try store.read { try $0.linkedBaseHashes(entity: "customer", system: "crm", externalIDs: ["1", "2"]) }
        #expect(hashes == ["1": "h"])
    }

    @Test("The open intents of one run, system and entity are paged in the order they were recorded", arguments: TestHubStore.all)
    func openIntentsArePagedByRunSystemAndEntity(_ kind: TestHubStore) throws {
        let store = try kind.make()
        try store.write { tx in
            for (i, (run, system)) in [("r1", "crm"), ("r2", "crm"), ("r1", "app"), ("r1", "crm"), ("r1", "crm")].enumerated() {
                try tx.addIntent(WriteIntent(run: RunID(run), generation: 1, system: SystemName(system), entity: "customer",
                                             hubID: HubID("h\(i)"), key: "h\(i)", baseData: ["n": .int(Int64(i))], version: 1,
                                             createdAt: "t"))
            }
        }
        let first = try store.read { try $0.openIntents(run: "r1", system: "crm", entity: "customer", after: 0, limit: 2) }
        #expect(first.map(\.hubID) == ["h0", "h3"])
        #expect(first.first?.baseData == ["n": 0])
        let rest = try store.read { try $0.openIntents(run: "r1", system: "crm", entity: "customer", after: first.last?.id ?? 0, limit: 2) }
        #expect(rest.map(\.hubID) == ["h4"])
    }

    @Test(arguments: TestHubStore.all) func oneExternalIDCannotBeLinkedToTwoEntities(_ kind: TestHubStore) throws {
        let store = try kind.make()
        try store.write { tx in try tx.saveLink(Self.link("h1", "42")) }
        #expect(throws: (any Error).self) {
            try store.write { tx in try tx.saveLink(Self.link("h2", "42")) }
        }
        // Pending creates have no ID yet and do not collide.
        try store.write { tx in
            var a = Self.link("h3", nil)
            a.state = .pendingCreate
            var b = Self.link("h4", nil)
            b.state = .pendingCreate
            try tx.saveLink(a)
            try tx.saveLink(b)
        }
        let found = try store.read { try $0.links(entity: "customer", system: "crm", externalIDs: ["42", "43"]) }
        #expect(found.keys.sorted() == ["42"])
        #expect(found["42"]?.hubID == "h1")
    }

    @Test(arguments: TestHubStore.all) func liveLinkCountsFollowEveryInsertUpdateAndDelete(_ kind: TestHubStore) throws {
        let store = try kind.make()
        func counted() throws -> (kept: Int, actual: Int) {
            try store.read { tx in
                (try tx.liveLinkCount(entity: "customer", system: "crm"),
                 try tx.links(entity: "customer", system: "crm", hubIDs: ["h1", "h2", "h3", "h4"]).values
                     .filter { $0.state == .linked }.count)
            }
        }
        try store.write { tx in
            for i in 1...3 { try tx.saveLink(Self.link("h\(i)", "\(i)")) }
            var pending = Self.link("h4", nil)
            pending.state = .pendingCreate
            try tx.saveLink(pending)
        }
        #expect(try counted() == (3, 3))
        try store.write { tx in
            var dead = Self.link("h1", "1")
            dead.state = .deleted
            try tx.saveLink(dead)  // an upsert that closes the link
            try tx.saveLink(Self.link("h2", "2"))  // an upsert that changes nothing
            try tx.saveLink(Self.link("h4", "4"))  // a pending create becomes linked
            try tx.deleteLink(entity: "customer", system: "crm", hubID: "h3")
        }
        #expect(try counted() == (2, 2))
    }

    @Test(arguments: TestHubStore.all) func pushMarksNeverMoveBackward(_ kind: TestHubStore) throws {
        let store = try kind.make()
        try store.write { tx in
            try tx.setPushMark(10, system: "crm", entity: "customer", at: "t")
            try tx.setPushMark(7, system: "crm", entity: "customer", at: "t")
        }
        #expect(try store.read { try $0.pushMark(system: "crm", entity: "customer") } == 10)
    }

    @Test(arguments: TestHubStore.all) func aRecordQuarantinedAgainForTheSameReasonKeepsOneEntry(_ kind: TestHubStore) throws {
        let store = try kind.make()
        let entry = QuarantineEntry(run: "r1", system: "crm", entity: "customer", externalID: "7", hubID: nil,
                                    direction: .pull, reason: .unmappable, message: "bad", createdAt: "t")
        try store.write { tx in
            try tx.quarantine(entry)
            try tx.quarantine(entry)
        }
        #expect(try store.read { try $0.openQuarantine() }.count == 1)
        try store.write { tx in
            try tx.resolveQuarantine(system: "crm", entity: "customer", externalID: "7", hubID: nil, direction: .pull, at: "t2")
        }
        #expect(try store.read { try $0.openQuarantine() }.isEmpty)
    }

    @Test(arguments: TestHubStore.all) func matchKeysFindEveryCandidate(_ kind: TestHubStore) throws {
        let store = try kind.make()
        try store.write { tx in
            try tx.setMatchKeys("h1", entity: "customer", data: ["email": "a@example.com"], rules: [["email"]])
            try tx.setMatchKeys("h2", entity: "customer", data: ["email": "a@example.com"], rules: [["email"]])
            try tx.setMatchKeys("h3", entity: "customer", data: ["email": "c@example.com"], rules: [["email"]])
            // Replacing keys drops the old ones.
            try tx.setMatchKeys("h3", entity: "customer", data: ["email": "d@example.com"], rules: [["email"]])
        }
        let (a, c) = try store.read { tx in
            (try tx.matchCandidates("customer", rule: 0, key: "[\"a@example.com\"]"),
             try tx.matchCandidates("customer", rule: 0, key: "[\"c@example.com\"]"))
        }
        #expect(Set(a) == ["h1", "h2"])
        #expect(c.isEmpty)
    }

    @Test func aCopyOfTheHubIsIndependent() throws {
        let store = try HubStore.inMemory()
        try store.write { tx in try tx.insertEntity(Self.entity("h1", seq: 1), sourceSystem: nil, run: "r") }
        let path = Self.temporaryPath()
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let copy = try store.copy(to: path)
        try copy.write { tx in try tx.insertEntity(Self.entity("h2", seq: 2), sourceSystem: nil, run: "r") }
        #expect(try store.read { try $0.maxSeq() } == 1)
        #expect(try copy.read { try $0.maxSeq() } == 2)
    }
}
