import Foundation
import HubCore
import HubStore
import HubStorePostgres
import HubTestServers
import SpokePostgres
import Testing

/// `HubStore.copy(to:)`: a hub copied table by table into another database and back, verified
/// by rows and checksums; and what it refuses.
@Suite struct HubStoreCopyTests {
    static let at = "2026-01-01T00:00:00.000Z"
    /// External IDs and values a hub must carry through any database unchanged.
    static let hostileIDs = ["it's", "say \"hi\"", "back\\slash", "a?b ?", "$1 $2", "-- comment", "line\nbreak", "émoji 👩‍💻", " "]

    /// A SQLite hub file holding entities, links with hostile IDs, history, quarantine and a conflict.
    static func filledHub() throws -> (HubStore, String) {
        let path = NSTemporaryDirectory() + "copy-" + UUID().uuidString + ".hub.sqlite"
        let store = try HubStore(path: path)
        try store.write { tx in
            try tx.beginRun("r1", startedAt: at, dryRun: false, topologyHash: nil)
            for (n, id) in hostileIDs.enumerated() {
                let hub = HubID("h\(n)")
                var record = EntityRecord(hubID: hub, entity: "customer", data: ["name": .string(id), "n": .int(Int64(n))],
                                          version: 1, seq: 0, fieldOrigins: [:], createdAt: at, updatedAt: at)
                record = try tx.insertEntity(record, sourceSystem: "crm", run: "r1")
                record.data["name"] = .string(id + " (2)")
                record.version = 2
                _ = try tx.updateEntity(record, sourceSystem: "app", run: "r1")
                try tx.saveLink(Link(entity: "customer", system: "crm", externalID: ExternalID(id), hubID: hub, state: .linked,
                                     baseHash: "x", baseData: ["name": .string(id)], baseVersion: 1, linkedBy: "created",
                                     linkedAt: at, lastSeenRun: "r1"))
                _ = try tx.quarantine(QuarantineEntry(run: "r1", system: "crm", entity: "customer", externalID: ExternalID(id),
                                                      hubID: hub, direction: .pull, reason: .unmappable, message: "bad \(id)",
                                                      createdAt: at))
            }
            try tx.setCursor(Cursor("2026-01-01 'x'"), system: "crm", entity: "customer", at: at)
            try tx.setPushMark(7, system: "app", entity: "customer", at: at)
        }
        return (store, path)
    }

    static func sqliteFile() throws -> HubStore {
        try HubStore(path: NSTemporaryDirectory() + "copy-" + UUID().uuidString + ".hub.sqlite")
    }

    @Test("A SQLite hub copied to another SQLite file matches table by table, keys and next IDs kept")
    func aSQLiteHubCopiesToAnotherFile() throws {
        let (source, _) = try Self.filledHub()
        let target = try Self.sqliteFile()
        let report = try source.copy(to: target, options: HubCopyOptions(batchRows: 4))
        #expect(report.matches, "\(report.tables.filter { !$0.matches })")
        let rows = Dictionary(uniqueKeysWithValues: report.tables.map { ($0.name, $0.sourceRows) })
        #expect(rows["xref"] == Self.hostileIDs.count)
        #expect(rows["entity_version"] == 2 * Self.hostileIDs.count)
        #expect(rows["quarantine"] == Self.hostileIDs.count)
        #expect(rows["link_count"] == 1)
        #expect(rows["grdb_migrations"] == nil, "each hub keeps its own record of schema steps")
        #expect(try target.read { try $0.link(entity: "customer", system: "crm", externalID: "it's")?.hubID } == "h0")
        // A quarantine entry written after the copy takes the next ID, past the copied ones.
        let next = try target.write { tx in
            try tx.quarantine(QuarantineEntry(run: "r2", system: "crm", entity: "customer", externalID: "new", hubID: nil,
                                              direction: .pull, reason: .unmappable, message: "new", createdAt: Self.at))
        }
        #expect(next == Int64(Self.hostileIDs.count + 1))
    }

    @Test("A target holding data is refused unless replace, and the same hub under another name is refused")
    func refusals() throws {
        let (source, path) = try Self.filledHub()
        let (full, _) = try Self.filledHub()
        #expect { try source.copy(to: full) } throws: { ($0 as? HubCopyRefused)?.reason == .targetHasData }
        let replaced = try source.copy(to: full, options: HubCopyOptions(replace: true))
        #expect(replaced.matches)
        // The same file through a symbolic link.
        let link = path + "-link.hub.sqlite"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
        #expect { try source.copy(to: try HubStore(path: link)) } throws: { ($0 as? HubCopyRefused)?.reason == .sameHub }
        // Both locks were released: the source can be locked again, and copied again.
        #expect(try source.copy(to: try Self.sqliteFile()).matches)
    }

    @Test("A source held by a live run is refused with HubLocked, and nothing is written to the target")
    func aLockedSourceIsRefused() throws {
        let (source, _) = try Self.filledHub()
        let lease = try source.acquireRunLock("live", now: Date(), staleAfter: 600)
        let target = try Self.sqliteFile()
        #expect(throws: HubLocked.self) { try source.copy(to: target) }
        #expect(try target.read { try $0.entityCount("customer") } == 0)
        try source.releaseRunLock(lease)
    }

    @Test("SQLite to PostgreSQL (a schema named with a space and quotes) and back gives the same tables, row for row",
          .enabled(if: TestServices.runPostgresTests))
    func aRoundTripThroughPostgreSQL() throws {
        let (source, _) = try Self.filledHub()
        var settings = try TestHubStore.freshSchema()
        settings.schema = "hub \"copy\" 'o" + settings.schema.suffix(6)
        let postgres = try PostgresHubDatabase(settings: settings)
        defer { try? postgres.write { try $0.executeScript("DROP SCHEMA \(HubStoreCopyTests.quoted(settings.schema)) CASCADE") } }
        let middle = HubStore(database: postgres)
        let there = try source.copy(to: middle, options: HubCopyOptions(batchRows: 4))
        #expect(there.matches, "\(there.tables.filter { !$0.matches })")
        let back = try Self.sqliteFile()
        let home = try middle.copy(to: back)
        #expect(home.matches, "\(home.tables.filter { !$0.matches })")
        let original = Dictionary(uniqueKeysWithValues: there.tables.map { ($0.name, $0.sourceChecksum) })
        let returned = Dictionary(uniqueKeysWithValues: home.tables.map { ($0.name, $0.targetChecksum) })
        #expect(original == returned)
        #expect(try back.read { try $0.link(entity: "customer", system: "crm", externalID: "line\nbreak")?.hubID } == "h6")
        // PostgreSQL's identities continue past the copied keys.
        let next = try middle.write { tx in
            try tx.quarantine(QuarantineEntry(run: "r2", system: "crm", entity: "customer", externalID: "new", hubID: nil,
                                              direction: .pull, reason: .unmappable, message: "new", createdAt: Self.at))
        }
        #expect(next == Int64(Self.hostileIDs.count + 1))
    }

    @Test("An external ID holding NUL reaches PostgreSQL as the SQLite hub holds it: cut at the NUL",
          .enabled(if: TestServices.runPostgresTests))
    func anIDHoldingNULIsCopiedAsTheHubHoldsIt() throws {
        let (source, _) = try Self.filledHub()
        try source.write { tx in
            try tx.saveLink(Link(entity: "customer", system: "app", externalID: "nul\u{0}inside", hubID: "h1", state: .linked,
                                 baseHash: nil, baseData: [:], baseVersion: nil, linkedBy: "created", linkedAt: Self.at,
                                 lastSeenRun: nil))
        }
        // SQLite text is bound as a C string: the hub itself holds the ID up to the NUL.
        let held = try source.read { try $0.link(entity: "customer", system: "app", hubID: "h1")?.externalID }
        #expect(held == "nul")
        let target = HubStore(database: try PostgresHubDatabase(settings: try TestHubStore.freshSchema()))
        #expect(try source.copy(to: target).matches)
        #expect(try target.read { try $0.link(entity: "customer", system: "app", hubID: "h1")?.externalID } == held)
    }

    @Test("A table only one hub has stops the copy, naming it, before anything is written",
          .enabled(if: TestServices.runPostgresTests))
    func aTableOutsideTheSchemaIsNotSkipped() throws {
        let settings = try TestHubStore.freshSchema()
        let postgres = try PostgresHubDatabase(settings: settings)
        defer { try? postgres.write { try $0.executeScript("DROP SCHEMA \(HubStoreCopyTests.quoted(settings.schema)) CASCADE") } }
        let source = HubStore(database: postgres)
        try postgres.write { try $0.executeScript("CREATE TABLE side_notes (id BIGINT PRIMARY KEY, note TEXT)") }
        let target = try Self.sqliteFile()
        #expect { try source.copy(to: target) } throws: { error in
            (error as? HubCopyRefused)?.reason == .schemaDiffers && "\(error)".contains("side_notes")
        }
        // The other way round: the target has it, the source does not.
        #expect { try target.copy(to: source) } throws: { error in
            (error as? HubCopyRefused)?.reason == .schemaDiffers && "\(error)".contains("side_notes")
        }
        #expect(try target.read { try $0.maxSeq() } == 0)
    }

    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
