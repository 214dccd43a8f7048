import Foundation
import GRDB
import HubCore
@testable import HubStore
import HubStorePostgres
import HubTestServers
import HubTesting
import Testing

/// A hub upgraded by a newer hubctl is refused before anything is read or written; opening says
/// whether it created the hub; a SQLite hub's folder is created only when asked.
@Suite struct HubVersionGuardTests {
    /// Every table of a SQLite file, its rows as text, sorted.
    static func dump(_ path: String) throws -> [String: [String]] {
        let db = try DatabaseQueue(path: path)
        defer { try? db.close() }
        return try db.read { db in
            var out: [String: [String]] = [:]
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") {
                out[table] = try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"").map { "\($0)" }.sorted()
            }
            return out
        }
    }

    @Test("A hub file with a step this hubctl does not know is refused, opened to write or to read, and left as it was")
    func aNewerHubFileIsRefused() throws {
        let tmp = try TemporaryDirectory()
        let path = tmp.path + "/hub.sqlite"
        let first = try HubStore(path: path)
        #expect(first.created)
        try first.write { tx in try tx.beginRun("r1", startedAt: "2026-01-01T00:00:00.000Z", dryRun: false, topologyHash: nil) }
        let again = try HubStore(path: path)
        #expect(!again.created)
        let db = try DatabaseQueue(path: path)
        try db.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('future: one'), ('future: two')") }
        try db.close()
        let before = try Self.dump(path)

        for open in [{ _ = try HubStore(path: path) }, { _ = try HubStore.openReadOnly(path: path) }] {
            do {
                try open()
                Issue.record("a hub with unknown steps was opened")
            } catch let newer as HubFromNewerHubctl {
                #expect(newer.unknownSteps == ["future: one", "future: two"])
                #expect(newer.location == path)
                #expect(newer.description == "the hub at \(path) cannot be opened: this hub was upgraded by a newer hubctl "
                        + "(steps \"future: one\", \"future: two\"), which this hubctl does not know; nothing was read or "
                        + "written; run that hubctl version or a newer one")
            }
        }
        #expect(try Self.dump(path) == before)
    }

    @Test("A PostgreSQL hub with a step this hubctl does not know is refused and left as it was; the first open says it created the hub",
          .enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
    func aNewerPostgresHubIsRefused() throws {
        let settings = try TestHubStore.freshSchema()
        let first = try PostgresHubDatabase(settings: settings)
        #expect(first.created)
        #expect(!(try PostgresHubDatabase(settings: settings)).created)
        let store = HubStore(database: first)
        try store.write { tx in try tx.execute("INSERT INTO hub_migration (identifier, applied_at) VALUES ('future: one', 'z')") }
        func steps() throws -> [String] {
            try store.read { tx in try tx.rows("SELECT identifier FROM hub_migration ORDER BY identifier").map { $0["identifier"] as String } }
        }
        let before = try steps()
        #expect(throws: HubFromNewerHubctl.self) { _ = try PostgresHubDatabase(settings: settings) }
        do {
            _ = try PostgresHubDatabase(settings: settings)
        } catch let newer as HubFromNewerHubctl {
            #expect(newer.unknownSteps == ["future: one"])
            #expect(!newer.location.contains(settings.password ?? "no password"))
        }
        #expect(try steps() == before)
    }

    @Test("A hub file's missing folder is created only when asked")
    func aMissingFolderIsCreatedOnlyWhenAsked() throws {
        let tmp = try TemporaryDirectory()
        let path = tmp.path + "/new 'folder'/hub.sqlite"
        #expect(throws: HubStoreError.self) { _ = try HubStore(path: path, creatingFolder: false) }
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/new 'folder'"))
        #expect(try HubStore(path: path).created)
        #expect(FileManager.default.fileExists(atPath: path))
    }
}

/// `HubStore.copyWebhookDeliveries(to:)`: the delivery IDs a hub file keeps beside it go with a
/// copy of the hub, so a delivery accepted before a move is still refused as a replay after it.
@Suite struct WebhookDeliveryCopyTests {
    static let deliveries = [WebhookDeliveryID(system: "crm", id: "d-1"), WebhookDeliveryID(system: "app", id: "it's \"q\"")]

    @Test("A hub file's delivery IDs go with its copy into another hub and back into a file; replays stay refused",
          arguments: TestHubStore.all)
    func deliveryIDsGoWithTheCopy(_ kind: TestHubStore) throws {
        let tmp = try TemporaryDirectory()
        let source = try HubStore(path: tmp.path + "/a.hub.sqlite")
        // Received half an hour ago: a copy that stamped them anew would keep them longer.
        let now = Date().addingTimeInterval(-1800)
        #expect(try source.webhookDeliveries().record(Self.deliveries, at: now, keepFor: 3600) == [true, true])
        let middle = kind == .postgres ? try kind.make() : try HubStore(path: tmp.path + "/b.hub.sqlite")
        #expect(try source.copy(to: middle).matches)
        let there = try source.copyWebhookDeliveries(to: middle)
        #expect(there.from == tmp.path + "/a.hub.sqlite-webhooks")
        #expect(there.count == 2 && there.added == 2)
        #expect(try middle.webhookDeliveries().record(Self.deliveries, at: now, keepFor: 3600) == [false, false])

        let back = try HubStore(path: tmp.path + "/c.hub.sqlite")
        #expect(try middle.copy(to: back).matches)
        let home = try middle.copyWebhookDeliveries(to: back)
        #expect(home.count == 2 && home.added == 2 && home.to == tmp.path + "/c.hub.sqlite-webhooks")
        // Kept with the time they were received: forgotten when they would have been.
        let store = try back.webhookDeliveries()
        #expect(try store.record([WebhookDeliveryID(system: "crm", id: "d-2")], at: now.addingTimeInterval(3601), keepFor: 3600)
                == [true])
        #expect(try store.count() == 1)
    }

    @Test("A hub file without a delivery file has nothing to copy, and no delivery file is made for either hub")
    func noDeliveryFileNothingMade() throws {
        let tmp = try TemporaryDirectory()
        let source = try HubStore(path: tmp.path + "/a.hub.sqlite")
        let target = try HubStore(path: tmp.path + "/b.hub.sqlite")
        let copied = try source.copyWebhookDeliveries(to: target)
        #expect(copied.from == nil && copied.to == nil && copied.count == 0)
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/a.hub.sqlite-webhooks"))
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/b.hub.sqlite-webhooks"))
    }
}
