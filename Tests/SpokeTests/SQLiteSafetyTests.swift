import Foundation
import GRDB
import HubCore
import SpokeSQLite
import Testing

/// What the sqlite spoke does with hostile databases: missing tables and files, names that
/// need quoting, NUL and invalid UTF-8 in text.
@Suite struct SQLiteSafetyTests {
    // MARK: - Missing tables and files

    @Test func aMissingTableIsAMissingObjectErrorForEveryCall() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, _) = try SQLiteSpokeTests.makeDatabase(directory, "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT);")
            let binding = ObjectBinding(entity: "customer", object: "contact", fields: ["email"])
            for call in ["read", "scanIDs", "fetch", "count", "write"] {
                let error = await #expect(throws: SpokeError.self, "\(call)") {
                    switch call {
                    case "read": _ = try await spoke.read(binding, after: nil, limit: 10)
                    case "scanIDs": _ = try await spoke.scanIDs(binding, after: nil, limit: 10)
                    case "fetch": _ = try await spoke.fetch(binding, ids: ["1"])
                    case "count": _ = try await spoke.count(binding)
                    default: _ = try await spoke.write(binding, [.create(key: "k", fields: ["email": "a@x"])])
                    }
                }
                #expect(error?.kind == .missingObject, "\(call): \(String(describing: error))")
                #expect(error?.message == "table 'contact' does not exist; did you mean 'contacts'? it has: contacts")
            }
        }
    }

    @Test func aMissingDatabaseFileIsAMissingObjectErrorAndIsNeverCreated() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("gone.db")
            let spoke = try SQLiteSpoke(system: "crm", path: path)
            let binding = ObjectBinding(entity: "customer", object: "contacts", fields: [])
            for call in ["read", "scanIDs", "write"] {
                let error = await #expect(throws: SpokeError.self) {
                    switch call {
                    case "read": _ = try await spoke.read(binding, after: nil, limit: 10)
                    case "scanIDs": _ = try await spoke.scanIDs(binding, after: nil, limit: 10)
                    default: _ = try await spoke.write(binding, [.create(key: "k", fields: [:])])
                    }
                }
                #expect(error?.kind == .missingObject)
                #expect(error?.message == "the SQLite database file '\(path)' does not exist")
            }
            #expect(try directory.fileNames().isEmpty)
        }
    }

    // MARK: - Text

    @Test func textWithNULRoundTripsByteForByteBothWays() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, queue) = try SQLiteSpokeTests.makeDatabase(directory, "CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT);")
            let binding = ObjectBinding(entity: "x", object: "t", fields: ["name"])
            let values = ["CSV\u{0}NUL_TAIL", "\u{0}", "e\u{301}", "\u{E9}", "🚀", "a\r\nb", ""]
            let writes = values.enumerated().map { SpokeWrite.create(key: "k\u{0}\($0.offset)", fields: ["name": .string($0.element)]) }
            let results = try await spoke.write(binding, writes)
            #expect(results == values.indices.map { .created(ExternalID("k\u{0}\($0)")) })
            // What SQLite holds: the full length, NUL included.
            let lengths = try await queue.read { try Int.fetchAll($0, sql: "SELECT length(CAST(name AS BLOB)) FROM t ORDER BY rowid") }
            #expect(lengths == values.map(\.utf8.count))
            let read = try await SQLiteSpokeTests.readAll(spoke, binding).records
            #expect(read.map(\.id.rawValue).sorted() == values.indices.map { "k\u{0}\($0)" }.sorted())
            for record in read {
                let index = Int(record.id.rawValue.dropFirst(2))!
                #expect(record.fields["name"]?.stringValue.map { Array($0.utf8) } == Array(values[index].utf8))
            }
            // A row a person wrote with a NUL reads whole, and updates by an ID holding a NUL find their row.
            try await queue.write { try $0.execute(sql: "INSERT INTO t VALUES ('p', CAST(x'610062' AS TEXT))") }
            #expect(try await spoke.fetch(binding, ids: ["p"]).first?.fields["name"] == "a\u{0}b")
            #expect(try await spoke.write(binding, [.update(id: "k\u{0}0", fields: ["name": "changed\u{0}!"])]) == [.updated])
            #expect(try await spoke.fetch(binding, ids: ["k\u{0}0"]).first?.fields["name"] == "changed\u{0}!")
        }
    }

    @Test func invalidUTF8TextInATableIsAnInvalidRecord() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, queue) = try SQLiteSpokeTests.makeDatabase(directory, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);")
            try await queue.write {
                try $0.execute(sql: "INSERT INTO t VALUES (1, 'ok'), (2, CAST(x'4772ff6365' AS TEXT)), (3, 'fine')")
            }
            let binding = ObjectBinding(entity: "x", object: "t", fields: ["name"])
            let page = try await spoke.read(binding, after: nil, limit: 10)
            #expect(page.records.map(\.id) == ["1", "3"])
            #expect(page.invalid.map(\.id) == ["2"])
            #expect(page.invalid.first?.message.contains("not valid UTF-8") == true, "\(page.invalid)")
            #expect(page.invalid.first?.message.contains("'name'") == true)
        }
    }

    // MARK: - Identifiers

    static let hostileNames = [
        "a\"b", "a\"\"b", "x\" FROM t; --", "order", "select", "with space", "semi;colon", "dash--dash", "/* c */",
        "back`tick", "[x]", "?", "$1", "a\"); --",
    ]

    @Test(arguments: hostileNames)
    func aTableAndColumnsWithAHostileNameSyncAndACanaryIsNeverTouched(name: String) async throws {
        try await withTemporaryDirectory { directory in
            func q(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
            let (spoke, queue) = try SQLiteSpokeTests.makeDatabase(directory, """
                CREATE TABLE canary (id INTEGER PRIMARY KEY, v TEXT);
                INSERT INTO canary VALUES (1, 'alive');
                CREATE TABLE a (wrong INTEGER);
                CREATE TABLE \(q(name)) (\(q(name + "id")) INTEGER PRIMARY KEY, \(q(name)) TEXT, \(q("c " + name)) TEXT);
                INSERT INTO \(q(name)) VALUES (1, 'one', 'x');
                """)
            let binding = ObjectBinding(entity: "x", object: name, idField: name + "id", fields: [name, "c " + name])
            #expect(try await spoke.check([binding]).first?.problems == [])
            let schema = try await spoke.discover([binding])
            let object = try #require(schema.object(named: name))
            #expect(object.fields.map(\.name) == [name + "id", name, "c " + name])
            #expect(object.field(named: name + "id")?.isKey == true)
            #expect(try await SQLiteSpokeTests.readAll(spoke, binding).records.map(\.fields)
                == [[name + "id": 1, name: "one", "c " + name: "x"]])
            let created = try await spoke.write(binding, [.create(key: "k", fields: [name: "two", "c " + name: "y"])])
            #expect(created == [.created("2")])
            #expect(try await spoke.write(binding, [.update(id: "1", fields: [name: "uno"]), .delete(id: "2")]) == [.updated, .deleted])
            #expect(try await spoke.scanIDs(binding, after: nil, limit: 10).ids == ["1"])
            #expect(try await spoke.count(binding) == 1)
            #expect(try await spoke.fetch(binding, ids: ["1"]).first?.fields[name] == "uno")
            #expect(try await spoke.lookupCreated(binding, keys: ["k"]) == [:])
            let canary = try queue.read { try Row.fetchAll($0, sql: "SELECT id, v FROM canary") }
            #expect(canary.map { [$0["id"] as Int64, $0["v"] as String] as [AnyHashable] } == [[Int64(1), "alive"]])
            #expect(try await queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM a") } == 0)
        }
    }

    /// Found by T3: SQLite reuses a deleted row's rowid, so an old create key must not find the
    /// new record hubctl created there under another key.
    @Test func aCreateKeyWhoseRowWasDeletedDoesNotFindTheRecordThatReusedItsRowid() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, queue) = try SQLiteSpokeTests.makeDatabase(directory, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);")
            let binding = ObjectBinding(entity: "x", object: "t", fields: ["name"])
            #expect(try await spoke.write(binding, [.create(key: "old", fields: ["name": "Ann"])]) == [.created("1")])
            try await queue.write { try $0.execute(sql: "DELETE FROM t WHERE id = 1") }
            #expect(try await spoke.write(binding, [.create(key: "new", fields: ["name": "Bob"])]) == [.created("1")])
            #expect(try await spoke.lookupCreated(binding, keys: ["old", "new"]) == ["new": "1"])
        }
    }

    @Test func discoverLeavesOutHubctlsOwnKeyTable() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, _) = try SQLiteSpokeTests.makeDatabase(directory, "CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT);")
            let binding = ObjectBinding(entity: "x", object: "t", fields: ["name"])
            _ = try await spoke.write(binding, [.create(key: "k", fields: ["name": "a"])])
            #expect(try await spoke.discover([binding]).objects.map(\.name) == ["t"])
        }
    }
}
