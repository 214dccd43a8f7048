import Foundation
import GRDB
import HubCore
import HubTesting
import SpokeSQLite
import Testing

@Suite struct SQLiteSpokeTests {
    // MARK: - Fixtures

    /// Creates a database file with `schema` and returns a spoke over it plus a separate GRDB
    /// connection for editing the table as a user would.
    static func makeDatabase(_ directory: TemporaryDirectory, _ schema: String) throws -> (SQLiteSpoke, DatabaseQueue) {
        let path = directory.path("\(UUID().uuidString).db")
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: schema) }
        return (try SQLiteSpoke(system: "app", path: path), queue)
    }

    /// A table whose `modified` column a trigger bumps on every insert and every change of `name`
    /// or `score`, like an application's `updated_at`.
    static func thingsSchema(key: String) -> String {
        """
        CREATE TABLE things (id \(key), name TEXT, score INTEGER, modified INTEGER);
        CREATE TRIGGER things_inserted AFTER INSERT ON things BEGIN
            UPDATE things SET modified = (SELECT coalesce(max(modified), 0) + 1 FROM things) WHERE id = NEW.id;
        END;
        CREATE TRIGGER things_changed AFTER UPDATE OF name, score ON things BEGIN
            UPDATE things SET modified = (SELECT coalesce(max(modified), 0) + 1 FROM things) WHERE id = NEW.id;
        END;
        """
    }

    static func subject(_ directory: TemporaryDirectory, key: String, cursor: String?) throws -> SpokeConformance.Subject {
        let (spoke, queue) = try makeDatabase(directory, thingsSchema(key: key))
        let binding = ObjectBinding(entity: "thing", object: "things", idField: "id", cursorField: cursor,
                                    fields: ["name", "score"])
        var missing = binding
        missing.object = "missing_things"
        return SpokeConformance.Subject(spoke: spoke, binding: binding, missingObject: missing) { id, fields in
            try await queue.write { db in
                for (column, value) in fields {
                    try db.execute(sql: "UPDATE things SET \(column.quotedDatabaseIdentifier) = ? WHERE id = ?",
                                   arguments: [value.stringValue ?? value.json, id.rawValue])
                }
            }
        }
    }

    static func readAll(_ spoke: SQLiteSpoke, _ binding: ObjectBinding, from cursor: HubCore.Cursor? = nil,
                        limit: Int = 100) async throws -> (records: [SpokeRecord], next: HubCore.Cursor?) {
        var records: [SpokeRecord] = []
        var cursor = cursor
        while true {
            let page = try await spoke.read(binding, after: cursor, limit: limit)
            records += page.records
            cursor = page.next
            if page.isLast { return (records, cursor) }
        }
    }

    // MARK: - Conformance

    @Test func sqliteSpokeWithAnIntegerPrimaryKeyPassesTheConformanceSuite() async throws {
        try await withTemporaryDirectory { directory in
            try await SpokeConformance { try Self.subject(directory, key: "INTEGER PRIMARY KEY", cursor: "modified") }.run()
        }
    }

    @Test func sqliteSpokeWithATextKeyPassesTheConformanceSuite() async throws {
        try await withTemporaryDirectory { directory in
            try await SpokeConformance { try Self.subject(directory, key: "TEXT PRIMARY KEY NOT NULL", cursor: "modified") }.run()
        }
    }

    @Test func sqliteSpokeWithoutACursorPassesTheConformanceSuite() async throws {
        try await withTemporaryDirectory { directory in
            try await SpokeConformance { try Self.subject(directory, key: "INTEGER PRIMARY KEY", cursor: nil) }.run()
        }
    }

    // MARK: - Identifiers and values

    @Test func identifiersWithQuotesAndReservedWordsRoundTrip() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, queue) = try Self.makeDatabase(directory, """
                CREATE TABLE "order" ("group" INTEGER PRIMARY KEY, "a""b" TEXT, "select" TEXT, "from" INTEGER);
                """)
            let binding = ObjectBinding(entity: "order", object: "order", idField: "group",
                                        fields: ["a\"b", "select", "from"])
            let created = try await spoke.write(binding, [.create(key: "k1", fields: ["a\"b": "quoted", "select": "x", "from": 3])])
            guard case .created(let id) = created.first else { Issue.record("create returned \(created)"); return }
            #expect(try await spoke.write(binding, [.update(id: id, fields: ["select": "y"])]) == [.updated])
            let fetched = try await spoke.fetch(binding, ids: [id])
            #expect(fetched.first?.fields["a\"b"] == "quoted")
            #expect(fetched.first?.fields["select"] == "y")
            #expect(fetched.first?.fields["from"] == 3)
            #expect(try await Self.readAll(spoke, binding).records.map(\.id) == [id])
            #expect(try await spoke.write(binding, [.delete(id: id)]) == [.deleted])
            #expect(try await queue.read { try Int.fetchOne($0, sql: #"SELECT count(*) FROM "order""#) } == 0)
        }
    }

    @Test func injectionLookingValuesRoundTripByteExactlyAndLeaveTheSchemaAlone() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, queue) = try Self.makeDatabase(directory, "CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT, note TEXT);")
            let schemaBefore = try await queue.read { try String?.fetchAll($0, sql: "SELECT sql FROM sqlite_master ORDER BY name") }
            let nasty: [String] = [
                "Robert'); DROP TABLE people;--",
                "\" OR 1=1 --",
                "x'; ATTACH DATABASE '/tmp/evil.db' AS evil; --",
                "'';\n\t\\' \u{2028} ünï 🚀",
            ]
            let binding = ObjectBinding(entity: "person", object: "people", fields: ["name", "note"])
            let writes = nasty.enumerated().map { SpokeWrite.create(key: "'\($0.offset); DELETE FROM people; --", fields: ["name": .string($0.element), "note": .string($0.element)]) }
            let results = try await spoke.write(binding, writes)
            let ids = results.compactMap { if case .created(let id) = $0 { return id } else { return nil } }
            #expect(ids.count == nasty.count)
            let fetched = try await spoke.fetch(binding, ids: ids)
            #expect(Set(fetched.compactMap { $0.fields["name"]?.stringValue }) == Set(nasty))
            #expect(fetched.allSatisfy { $0.fields["name"] == $0.fields["note"] })
            #expect(Set(fetched.map(\.id)) == Set(ids))
            // hubctl's own key table (crash-safe creates) is the only addition.
            let schemaAfter = try await queue.read {
                try String?.fetchAll($0, sql: "SELECT sql FROM sqlite_master WHERE name NOT LIKE '%hubctl_create_keys%' ORDER BY name")
            }
            #expect(schemaAfter == schemaBefore)
            #expect(try await queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM people") } == nasty.count)
        }
    }

    @Test func anUnknownColumnIsAConfigurationErrorThatNamesItAndListsTheColumns() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, _) = try Self.makeDatabase(directory, "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, phone TEXT);")
            let binding = ObjectBinding(entity: "customer", object: "contacts", fields: ["emial", "phone"])
            let error = await #expect(throws: SpokeError.self) { try await spoke.read(binding, after: nil, limit: 10) }
            #expect(error?.kind == .configuration)
            #expect(error?.message.contains("'emial'") == true)
            #expect(error?.message.contains("id, email, phone") == true)

            let writeError = await #expect(throws: SpokeError.self) {
                try await spoke.write(ObjectBinding(entity: "customer", object: "contacts", fields: ["email"]),
                                      [.create(key: "k", fields: ["email": "a@b.c", "nickname": "x"])])
            }
            #expect(writeError?.message.contains("'nickname'") == true)
            #expect(writeError?.message.contains("a@b.c") == false)

            let tableError = await #expect(throws: SpokeError.self) {
                try await spoke.read(ObjectBinding(entity: "customer", object: "contact", fields: []), after: nil, limit: 10)
            }
            #expect(tableError?.kind == .missingObject)
            #expect(tableError?.message == "table 'contact' does not exist; did you mean 'contacts'? it has: contacts")
        }
    }

    @Test("A table changed between two pages of a read is read with its new columns, and a column dropped meanwhile is reported")
    func aSchemaChangeBetweenPagesIsSeenByTheNextPage() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, queue) = try Self.makeDatabase(directory, """
                CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, phone TEXT);
                INSERT INTO contacts VALUES (1, 'a@x.org', '1'), (2, 'b@x.org', '2'), (3, 'c@x.org', '3'), (4, 'd@x.org', '4');
                """)
            let binding = ObjectBinding(entity: "customer", object: "contacts", fields: ["email", "phone"])
            let first = try await spoke.read(binding, after: nil, limit: 1)
            #expect(first.records.map(\.fields) == [["id": 1, "email": "a@x.org", "phone": "1"]])
            // The column's declared type (its affinity) changes: the next page reads the new table.
            try await queue.write { db in
                try db.execute(sql: """
                    CREATE TABLE contacts_new (id INTEGER PRIMARY KEY, email TEXT, phone INTEGER);
                    INSERT INTO contacts_new SELECT * FROM contacts;
                    DROP TABLE contacts;
                    ALTER TABLE contacts_new RENAME TO contacts;
                    """)
            }
            let second = try await spoke.read(binding, after: first.next, limit: 1)
            #expect(second.records.map(\.fields) == [["id": 2, "email": "b@x.org", "phone": 2]])
            #expect(second.schema?.fields.first { $0.name == "phone" }?.nativeType == "INTEGER")
            try await queue.write { try $0.execute(sql: "ALTER TABLE contacts DROP COLUMN phone") }
            let error = await #expect(throws: SpokeError.self) { try await spoke.read(binding, after: second.next, limit: 1) }
            #expect(error?.kind == .configuration)
            #expect(error?.message.contains("'phone'") == true)
        }
    }

    @Test func checkReportsMissingTablesAndColumnsPerBinding() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, _) = try Self.makeDatabase(directory, """
                CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, modified_at TEXT);
                CREATE TABLE loose (code TEXT, name TEXT);
                """)
            let results = try await spoke.check([
                ObjectBinding(entity: "customer", object: "contacts", cursorField: "modified_at", fields: ["email"]),
                ObjectBinding(entity: "customer", object: "CONTACTS", idField: "ID", cursorField: "changed", fields: ["email", "name"]),
                ObjectBinding(entity: "rep", object: "reps", fields: ["email"]),
                ObjectBinding(entity: "loose", object: "loose", idField: "code", fields: ["name"]),
            ])
            #expect(results.map(\.object) == ["contacts", "CONTACTS", "reps", "loose"])
            #expect(results[0].problems.isEmpty)
            #expect(results[1].problems.count == 2)
            #expect(results[1].problems.first { $0.contains("'changed'") }?.contains("cursor column") == true)
            #expect(results[2].problems == ["table 'reps' does not exist; it has: contacts, loose"])
            #expect(results[3].problems.first?.contains("neither the primary key nor unique") == true)
        }
    }

    @Test func aMissingDatabaseFileIsAMissingObjectAndIsNotCreated() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("missing.db")
            let spoke = try SQLiteSpoke(system: "crm", path: path)
            let binding = ObjectBinding(entity: "customer", object: "contacts", fields: [])
            let error = await #expect(throws: SpokeError.self) { try await spoke.read(binding, after: nil, limit: 10) }
            #expect(error?.kind == .missingObject)
            #expect(error?.message.contains("does not exist") == true)
            await #expect(throws: SpokeError.self) { try await spoke.check([binding]) }
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func aWriteWaitsForALockAnotherConnectionHoldsForAMoment() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, _) = try Self.makeDatabase(directory, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);")
            // A person's sqlite3 shell holds the write lock for half a second.
            var shell = Configuration()
            shell.allowsUnsafeTransactions = true
            let queue = try DatabaseQueue(path: spoke.path, configuration: shell)
            try queue.inDatabase { try $0.execute(sql: "BEGIN IMMEDIATE; INSERT INTO t (name) VALUES ('shell')") }
            // A plain thread, not a task: the spoke's write blocks a thread of the (small)
            // cooperative pool while it waits, and the release must not wait for one.
            let released = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                usleep(500_000)
                try? queue.inDatabase { try $0.execute(sql: "COMMIT") }
                released.signal()
            }
            let binding = ObjectBinding(entity: "t", object: "t", fields: ["name"])
            #expect(try await spoke.write(binding, [.create(key: "k", fields: ["name": "hubctl"])]) == [.created("2")])
            released.wait()
        }
    }

    @Test func aViewCanBeRead() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, _) = try Self.makeDatabase(directory, """
                CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, active INTEGER);
                INSERT INTO contacts VALUES (1, 'a@example.com', 1), (2, 'b@example.com', 0), (3, 'c@example.com', 1);
                CREATE VIEW active_contacts AS SELECT id, email FROM contacts WHERE active;
                """)
            let binding = ObjectBinding(entity: "customer", object: "active_contacts", fields: ["email"])
            #expect(try await spoke.check([binding]).first?.problems == [])
            #expect(try await Self.readAll(spoke, binding, limit: 1).records.map(\.id) == ["1", "3"])
        }
    }

    @Test func checkWarnsOfACursorColumnNoIndexStartsWithAndNamesTheIndexToCreate() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, queue) = try Self.makeDatabase(directory, """
                CREATE TABLE "people list" (id INTEGER PRIMARY KEY, email TEXT, "changed at" TEXT, score INTEGER);
                CREATE INDEX people_by_email ON "people list" (email, "changed at");
                """)
            let binding = ObjectBinding(entity: "person", object: "people list", cursorField: "changed at", fields: ["email"])
            let result = try #require(try await spoke.check([binding]).first)
            #expect(result.problems == [])
            let warning = try #require(result.warnings.first)
            #expect(warning.contains("no index of table 'people list' starts with its cursor column 'changed at'"))
            #expect(warning.hasSuffix(#"CREATE INDEX people_list_changed_at ON "people list" ("changed at", "id")"#))
            // The statement it names is one SQLite runs, and it settles the warning.
            let statement = String(try #require(warning.range(of: "CREATE INDEX").map { warning[$0.lowerBound...] }))
            try await queue.write { try $0.execute(sql: statement) }
            #expect(try await spoke.check([binding]).first?.warnings == [])
            try await queue.write { try $0.execute(sql: "DROP INDEX people_list_changed_at") }
            // An index that starts with the cursor column (in any case) settles it; a table read
            // without a cursor needs none.
            try await queue.write { try $0.execute(sql: #"CREATE INDEX people_changed ON "people list" ("CHANGED AT", id)"#) }
            #expect(try await spoke.check([binding]).first?.warnings == [])
            let full = ObjectBinding(entity: "person", object: "people list", fields: ["email", "score"])
            try await queue.write { try $0.execute(sql: "DROP INDEX people_changed") }
            #expect(try await spoke.check([full]).first?.warnings == [])
        }
    }

    // MARK: - IDs

    @Test func anIntegerPrimaryKeyIsReadBackAsTheNewRecordsID() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, queue) = try Self.makeDatabase(directory, """
                CREATE TABLE reps (rep_id INTEGER PRIMARY KEY, mail TEXT);
                INSERT INTO reps (rep_id, mail) VALUES (41, 'existing@example.com');
                """)
            let binding = ObjectBinding(entity: "employee", object: "reps", idField: "rep_id", fields: ["mail"])
            let results = try await spoke.write(binding, [.create(key: "hub-a", fields: ["mail": "a@example.com"]),
                                                          .create(key: "hub-b", fields: ["mail": "b@example.com"])])
            #expect(results == [.created("42"), .created("43")])
            let mail = try await queue.read { try String.fetchOne($0, sql: "SELECT mail FROM reps WHERE rep_id = 43") }
            #expect(mail == "b@example.com")
            #expect(try await spoke.fetch(binding, ids: ["42"]).first?.fields["rep_id"] == 42)
        }
    }

    @Test("Dropping the older keys of a created row's ID is an index lookup, not a scan of every key")
    func createKeysAreFoundByIDThroughAnIndex() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, queue) = try Self.makeDatabase(directory, "CREATE TABLE reps (rep_id INTEGER PRIMARY KEY, mail TEXT);")
            let binding = ObjectBinding(entity: "employee", object: "reps", idField: "rep_id", fields: ["mail"])
            let results = try await spoke.write(binding, (1...3).map { .create(key: "hub-\($0)", fields: ["mail": .string("\($0)@x.org")]) })
            #expect(results == [.created("1"), .created("2"), .created("3")])
            let plan = try await queue.read { db in
                try Row.fetchAll(db, sql: """
                    EXPLAIN QUERY PLAN DELETE FROM hubctl_create_keys WHERE object = 'reps' AND id = '2' AND key <> 'hub-2'
                    """).map { $0["detail"] as String }.joined(separator: "; ")
            }
            #expect(plan.contains("hubctl_create_keys_by_id"), "plan: \(plan)")
            let keys = try await queue.read { try String.fetchAll($0, sql: "SELECT key FROM hubctl_create_keys ORDER BY key") }
            #expect(keys == ["hub-1", "hub-2", "hub-3"])
        }
    }

    @Test func aTextKeyTakesTheCreateKeyUnlessTheFieldsSetIt() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, queue) = try Self.makeDatabase(directory, """
                CREATE TABLE accounts (code TEXT PRIMARY KEY NOT NULL, name TEXT);
                CREATE TABLE tickets (ref TEXT PRIMARY KEY NOT NULL DEFAULT ('T-' || (random() & 65535)), title TEXT);
                """)
            let accounts = ObjectBinding(entity: "account", object: "accounts", idField: "code", fields: ["name"])
            let results = try await spoke.write(accounts, [.create(key: "hub-0001", fields: ["name": "Acme"]),
                                                           .create(key: "hub-0002", fields: ["name": "Initech", "code": "INI"])])
            #expect(results == [.created("hub-0001"), .created("INI")])
            let codes = try await queue.read { try String.fetchAll($0, sql: "SELECT code FROM accounts ORDER BY code") }
            #expect(codes == ["INI", "hub-0001"])

            // A key column with a DEFAULT is assigned by the database and read back.
            let tickets = ObjectBinding(entity: "ticket", object: "tickets", idField: "ref", fields: ["title"])
            let created = try await spoke.write(tickets, [.create(key: "hub-0003", fields: ["title": "Broken"])])
            guard case .created(let ref) = created.first else { Issue.record("create returned \(created)"); return }
            #expect(ref.rawValue.hasPrefix("T-"))
        }
    }

    // MARK: - Batches

    @Test func aConstraintFailureInTheMiddleOfABatchFailsOnlyThatRecord() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, queue) = try Self.makeDatabase(directory, """
                CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,
                                       score INTEGER CHECK (score >= 0));
                """)
            let binding = ObjectBinding(entity: "customer", object: "contacts", fields: ["email", "score"])
            let results = try await spoke.write(binding, [
                .create(key: "a", fields: ["email": "first@example.com", "score": 1]),
                .create(key: "b", fields: ["email": .null, "score": 2]),
                .create(key: "c", fields: ["email": "first@example.com", "score": 3]),
                .create(key: "d", fields: ["email": "second@example.com", "score": 4]),
                .update(id: "1", fields: ["score": -5]),
                .update(id: "2", fields: ["score": 40]),
                .delete(id: "999"),
            ])
            #expect(results.count == 7)
            #expect(results[0] == .created("1"))
            #expect(results[3] == .created("2"))
            #expect(results[5] == .updated)
            #expect(results[6] == .deleted)
            for index in [1, 2, 4] {
                guard case .failed(let message) = results[index] else {
                    Issue.record("write \(index) returned \(results[index])")
                    continue
                }
                #expect(!message.contains("example.com") && !message.contains("-5"), "the message holds no record values")
            }
            if case .failed(let message) = results[1] { #expect(message.contains("NOT NULL")) }
            if case .failed(let message) = results[2] { #expect(message.contains("UNIQUE")) }
            if case .failed(let message) = results[4] { #expect(message.contains("CHECK")) }
            let rows = try queue.read { try Row.fetchAll($0, sql: "SELECT id, email, score FROM contacts ORDER BY id") }
            #expect(rows.map { $0["email"] as String } == ["first@example.com", "second@example.com"])
            #expect(rows.map { $0["score"] as Int } == [1, 40])
        }
    }

    @Test func anUpdateLeavesTheCursorColumnToTheTableAndReportsAMissingRowAsNotFound() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, queue) = try Self.makeDatabase(directory, Self.thingsSchema(key: "INTEGER PRIMARY KEY"))
            let binding = ObjectBinding(entity: "thing", object: "things", cursorField: "modified", fields: ["name"])
            _ = try await spoke.write(binding, [.create(key: "a", fields: ["name": "A"]), .create(key: "b", fields: ["name": "B"])])
            #expect(try await spoke.write(binding, [.update(id: "1", fields: ["name": "A2", "id": 77]),
                                                    .update(id: "3", fields: ["name": "C"]),
                                                    .update(id: "2", fields: [:])]) == [.updated, .notFound, .updated])
            let modified = try await queue.read { try Int.fetchAll($0, sql: "SELECT modified FROM things ORDER BY id") }
            #expect(modified == [3, 2], "the trigger, not the spoke, set the cursor column; the ID did not change")
        }
    }

    // MARK: - Cursors

    @Test("With a zero lookback, each run starts strictly after the last (cursor, ID) the previous run read")
    func theNextRunStartsAfterTheLastKeyRead() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, queue) = try Self.makeDatabase(directory, """
                CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, modified_at TEXT);
                INSERT INTO contacts VALUES (1, 'a', '2024-05-01 10:00:00'), (2, 'b', '2024-05-01 10:00:05'),
                                            (3, 'c', '2024-05-01 10:00:05'), (4, 'n', NULL);
                """)
            let binding = ObjectBinding(entity: "customer", object: "contacts", cursorField: "modified_at", cursorLookback: 0,
                                        fields: ["email"])
            let first = try await Self.readAll(spoke, binding, limit: 1)
            #expect(first.records.map(\.id) == ["4", "1", "2", "3"], "NULL cursors first, then by (cursor, id)")

            // Row 5 arrives at the same timestamp, after row 3's ID; row 1 moves on.
            try await queue.write { db in
                try db.execute(sql: "INSERT INTO contacts VALUES (5, 'e', '2024-05-01 10:00:05')")
                try db.execute(sql: "UPDATE contacts SET email = 'a2', modified_at = '2024-05-02 08:00:00' WHERE id = 1")
            }
            let second = try await Self.readAll(spoke, binding, from: first.next, limit: 1)
            #expect(second.records.map(\.id) == ["5", "1"])
            #expect(second.records.last?.fields == ["id": 1, "email": "a2", "modified_at": "2024-05-02 08:00:00"])
            // Nothing changed: nothing is read, not even the rows sharing the last value.
            #expect(try await Self.readAll(spoke, binding, from: second.next).records.isEmpty)
        }
    }

    @Test func pagesAcrossNullAndNonNullCursorsNeitherDropNorRepeat() async throws {
        try await withTemporaryDirectory { directory in
            var inserts: [String] = []
            for i in 1...17 { inserts.append("(\(i), \(i % 3 == 0 ? "NULL" : String(100 - i % 5)))") }
            let (spoke, _) = try Self.makeDatabase(directory, """
                CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);
                INSERT INTO t VALUES \(inserts.joined(separator: ", "));
                """)
            let binding = ObjectBinding(entity: "t", object: "t", cursorField: "v", fields: [])
            for limit in [1, 2, 5, 6, 7, 100] {
                let ids = try await Self.readAll(spoke, binding, limit: limit).records.map(\.id.rawValue)
                #expect(ids.count == 17 && Set(ids).count == 17, "limit \(limit)")
                #expect(Array(ids.prefix(5)) == ["3", "6", "9", "12", "15"], "limit \(limit)")
            }
        }
    }

    @Test func valuesMapToIntegersDoublesTextNullAndBase64() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, _) = try Self.makeDatabase(directory, """
                CREATE TABLE v (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, n TEXT, b BLOB, j TEXT);
                INSERT INTO v VALUES (1, 42, 2.5, 'text', NULL, x'00ff10', NULL);
                """)
            let binding = ObjectBinding(entity: "v", object: "v", fields: ["i", "r", "t", "n", "b", "j"])
            #expect(try await spoke.write(binding, [.update(id: "1", fields: ["j": ["a": [1, true]]])]) == [.updated])
            let record = try #require(try await spoke.fetch(binding, ids: ["1"]).first)
            #expect(record.fields == ["id": 1, "i": 42, "r": 2.5, "t": "text", "n": nil, "b": "AP8Q", "j": #"{"a":[1,true]}"#])
        }
    }
}

extension SQLiteSpokeTests {
    @Test func aMisspeltColumnIsNamedWithTheLikelyIntendedOne() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, _) = try Self.makeDatabase(directory, "CREATE TABLE users (id INTEGER PRIMARY KEY, given TEXT, family TEXT);")
            let results = try await spoke.check([ObjectBinding(entity: "user", object: "users", fields: ["gvien"])])
            #expect(results[0].problems == ["table 'users' has no column 'gvien'; did you mean 'given'? (its columns: id, given, family)"])
        }
    }

    @Test func discoverListsTablesWithTheirColumnsKindsAndKeys() async throws {
        try await withTemporaryDirectory { directory in
            let (spoke, _) = try Self.makeDatabase(directory, """
                CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, score REAL, active BOOLEAN,
                                    born DATE, seen DATETIME, prefs JSON, extra);
                CREATE VIEW emails AS SELECT email FROM users;
                """)
            let schema = try await spoke.discover([])
            #expect(schema.objects.map(\.name) == ["emails", "users"])
            let users = try #require(schema.object(named: "users"))
            #expect(users.fields.map(\.kind) == [.integer, .text, .number, .boolean, .date, .datetime, .json, .any])
            #expect(users.field(named: "id")?.isKey == true)
            #expect(users.field(named: "email")?.nullable == false)
        }
    }
}
