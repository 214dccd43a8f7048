import Foundation
import HubCore
import HubStore
import HubStorePostgres
import HubTestServers
import Testing

/// The PostgreSQL hub sends writes whose count nobody reads without waiting for them: an error
/// among them, or a connection lost under them, must still fail the whole transaction, name
/// the statement, and leave nothing of it in the hub.
@Suite(.serialized, .enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct PostgresHubPipelineTests {
    static let insertCursor = "INSERT INTO cursor (system, entity, value, updated_at) VALUES (?, ?, ?, ?)"

    static func cursor(_ system: String, _ value: String = "c1") -> HubArguments {
        [system, "customer", value, "2026-01-01T00:00:00.000Z"]
    }

    static func cursorCount(_ db: PostgresHubDatabase) throws -> Int {
        try db.read { try $0.value("SELECT count(*) FROM cursor", HubArguments()) } ?? 0
    }

    @Test("A failed pipelined write surfaces at the next read, names its statement, and rolls the transaction back")
    func failedWriteSurfacesAtTheNextRead() throws {
        let db = try PostgresHubDatabase(settings: try TestHubStore.freshSchema())
        var readError: String?
        var laterError: String?
        #expect(throws: HubStoreError.self) {
            try db.write { ex in
                try ex.executeDeferred(Self.insertCursor, Self.cursor("crm"))
                try ex.executeDeferred(Self.insertCursor, Self.cursor("crm", "c2"))  // the same key: refused
                try ex.executeDeferred(Self.insertCursor, Self.cursor("app"))
                do { _ = try ex.rows("SELECT * FROM cursor", HubArguments()) } catch { readError = "\(error)" }
                // The transaction is failed: every later statement throws the first error again.
                do { _ = try ex.execute(Self.insertCursor, Self.cursor("sheet")) } catch { laterError = "\(error)" }
            }
        }
        let message = try #require(readError)
        #expect(message.contains("duplicate key"))
        #expect(message.contains("23505"))
        #expect(message.contains("statement: INSERT INTO cursor"))
        #expect(!message.contains("c2"))  // the statement, never its arguments
        #expect(laterError == message)
        #expect(try Self.cursorCount(db) == 0)
        // The connection is fine for the next transaction.
        try db.write { try $0.executeDeferred(Self.insertCursor, Self.cursor("crm")) }
        #expect(try Self.cursorCount(db) == 1)
    }

    @Test("A failed pipelined write with no read after it fails the commit, and nothing is written")
    func failedWriteFailsTheCommit() throws {
        let db = try PostgresHubDatabase(settings: try TestHubStore.freshSchema())
        let error = #expect(throws: HubStoreError.self) {
            try db.write { ex in
                try ex.executeDeferred(Self.insertCursor, Self.cursor("crm"))
                try ex.executeDeferred("UPDATE cursor SET value = NULL WHERE system = ?", ["crm"])  // NOT NULL
                try ex.executeDeferred(Self.insertCursor, Self.cursor("app"))
            }
        }
        #expect(error?.message.contains("statement: UPDATE cursor SET value = NULL") == true)
        #expect(try Self.cursorCount(db) == 0)
    }

    @Test("More pipelined writes than may wait at once all commit, in order")
    func manyWritesCommitInOrder() throws {
        let db = try PostgresHubDatabase(settings: try TestHubStore.freshSchema())
        try db.write { ex in
            for i in 0..<1_300 { try ex.executeDeferred(Self.insertCursor, Self.cursor("s\(i)")) }
            // Each update depends on the row the insert before it wrote.
            for i in 0..<1_300 { try ex.executeDeferred("UPDATE cursor SET value = value || 'x' WHERE system = ?", ["s\(i)"]) }
        }
        #expect(try Self.cursorCount(db) == 1_300)
        let values: [String] = try db.read { ex in try ex.rows("SELECT DISTINCT value FROM cursor", HubArguments()).map { $0["value"] } }
        #expect(values == ["c1x"])
    }

    @Test("Hostile values and a statement holding % and $1 in a literal go through a batch unchanged")
    func hostileValuesRoundTrip() throws {
        let db = try PostgresHubDatabase(settings: try TestHubStore.freshSchema())
        let hostile = ["O'Brien \\ '' %1$L %s $1 ?", "'); DROP TABLE cursor; --", "✓ 日本 \u{1F600}", "tab\tnew\nline", ""]
        try db.write { ex in
            for (i, value) in hostile.enumerated() { try ex.executeDeferred(Self.insertCursor, Self.cursor("s\(i)", value)) }
            try ex.executeDeferred("UPDATE cursor SET value = value || '%$1?' WHERE system = ?", ["s0"])
        }
        let values: [String: String] = try db.read { ex in
            Dictionary(uniqueKeysWithValues: try ex.rows("SELECT system, value FROM cursor", HubArguments()).map {
                ($0["system"] as String, $0["value"] as String)
            })
        }
        #expect(values.count == hostile.count)
        for (i, value) in hostile.enumerated() { #expect(values["s\(i)"] == (i == 0 ? value + "%$1?" : value)) }
    }

    @Test("A connection broken under pipelined writes fails the transaction; the next one reconnects and nothing was half-committed")
    func brokenConnectionMidPipeline() throws {
        let settings = try TestHubStore.freshSchema()
        let name = "hubctl-pipeline-\(UUID().uuidString.prefix(8))"
        let db = try PostgresHubDatabase(settings: settings, applicationName: name)
        let killer = try PostgresHubDatabase(settings: settings, applicationName: name + "-killer")
        #expect(throws: HubStoreError.self) {
            try db.write { ex in
                for i in 0..<200 { try ex.executeDeferred(Self.insertCursor, Self.cursor("s\(i)")) }
                let killed: Int? = try killer.read { k in
                    try k.value("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = ?", [name])
                }
                #expect(killed == 1)
                for i in 200..<400 { try? ex.executeDeferred(Self.insertCursor, Self.cursor("s\(i)")) }
                _ = try ex.rows("SELECT count(*) FROM cursor", HubArguments())
            }
        }
        #expect(try Self.cursorCount(killer) == 0)
        // The next transaction opens a new connection and works.
        try db.write { ex in for i in 0..<3 { try ex.executeDeferred(Self.insertCursor, Self.cursor("s\(i)")) } }
        #expect(try Self.cursorCount(db) == 3)
    }

    @Test("A hub operation whose pipelined write fails fails its transaction, on the store's API")
    func storeOperationFailsItsTransaction() throws {
        let store = HubStore(database: try PostgresHubDatabase(settings: try TestHubStore.freshSchema()))
        let at = "2026-01-01T00:00:00.000Z"
        let record = EntityRecord(hubID: "h1", entity: "customer", data: ["email": "a@example.com"], version: 1, seq: 0,
                                  fieldOrigins: [:], createdAt: at, updatedAt: at)
        let error = #expect(throws: HubStoreError.self) {
            try store.write { tx in
                _ = try tx.insertEntity(record, sourceSystem: nil, run: "r")
                _ = try tx.insertEntity(record, sourceSystem: nil, run: "r")  // the same hub ID again
            }
        }
        #expect(error?.message.contains("duplicate key") == true)
        #expect(try store.read { try $0.entity("h1") } == nil)
    }
}
