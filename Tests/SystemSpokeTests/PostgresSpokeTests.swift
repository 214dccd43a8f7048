import Foundation
import HubCore
import HubTesting
import HubTestServers
import PostgresNIO
import SpokePostgres
import Testing

@Suite(.enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct PostgresSpokeTests {
    static let itemsTable = [
        """
        CREATE TABLE items (id bigserial PRIMARY KEY, name text, score integer,
                            updated_at timestamptz NOT NULL DEFAULT clock_timestamp())
        """,
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$",
        "CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION touch()",
    ]

    @Test func aTableWithASerialKeyAndACursorPassesTheConformanceSuite() async throws {
        let fixtures = FixtureList()
        defer { Task { await fixtures.tearDown() } }
        try await SpokeConformance {
            let f = try await PostgresFixture.make()
            await fixtures.add(f)
            for statement in Self.itemsTable { try await f.sql(statement) }
            let spoke = f.spoke()
            return SpokeConformance.Subject(
                spoke: spoke,
                binding: ObjectBinding(entity: "item", object: "items", idField: "id", cursorField: "updated_at",
                                       fields: ["name", "score"]),
                externalEdit: { id, fields in
                    let name = fields["name"]?.stringValue ?? ""
                    var bindings = PostgresBindings()
                    bindings.append(name)
                    bindings.append(Int(id.rawValue)!)
                    try await f.admin.query(PostgresQuery(unsafeSQL: "UPDATE \(f.schema).items SET name = $1 WHERE id = $2",
                                                          binds: bindings), logger: PostgresFixture.logger)
                })
        }.run()
        await fixtures.tearDown()
    }

    @Test func aTableKeyedByTheHubKeyWithoutACursorPassesTheConformanceSuite() async throws {
        let fixtures = FixtureList()
        try await SpokeConformance {
            let f = try await PostgresFixture.make()
            await fixtures.add(f)
            try await f.sql("CREATE TABLE \"Order Items\" (\"Key\" text PRIMARY KEY, name varchar(200), score numeric(10,2))")
            return SpokeConformance.Subject(
                spoke: f.spoke(),
                binding: ObjectBinding(entity: "item", object: "Order Items", idField: "Key", fields: ["name", "score"]))
        }.run()
        await fixtures.tearDown()
    }

    @Test func valuesOfEveryMappedTypeRoundTrip() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql("""
            CREATE TABLE things (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), t text, i integer, b bigint,
              n numeric(12,3), r double precision, ok boolean, d date, ts timestamptz, doc jsonb, tags text[])
            """)
        let binding = ObjectBinding(entity: "thing", object: "things", fields: ["t", "i", "b", "n", "r", "ok", "d", "ts", "doc", "tags"])
        let spoke = f.spoke()
        let fields: [String: Value] = [
            "t": "Zoë \"quoted\" ' -- ;", "i": 42, "b": .int(9_000_000_000_000), "n": 1234.5, "r": 0.25, "ok": true,
            "d": "2024-02-29", "ts": "2024-05-01T10:20:30.123Z", "doc": ["a": [1, 2], "b": "x"], "tags": ["red", "a \"b\""],
        ]
        let results = try await spoke.write(binding, [.create(key: "k1", fields: fields)])
        guard case .created(let id) = results.first else { Issue.record("create returned \(results)"); return }
        #expect(UUID(uuidString: id.rawValue) != nil, "the server's uuid default is the ID")
        let read = try #require(try await spoke.fetch(binding, ids: [id]).first)
        #expect(read.fields["t"] == "Zoë \"quoted\" ' -- ;")
        #expect(read.fields["i"] == 42)
        #expect(read.fields["b"] == .int(9_000_000_000_000))
        #expect(read.fields["n"]?.numberValue == 1234.5)
        #expect(read.fields["r"] == 0.25)
        #expect(read.fields["ok"] == true)
        #expect(read.fields["d"] == "2024-02-29")
        #expect(read.fields["ts"] == "2024-05-01T10:20:30.123+00:00")
        #expect(read.fields["doc"] == ["a": [1, 2], "b": "x"])
        #expect(read.fields["tags"] == ["red", "a \"b\""])
        // Text stays text even when it looks like something else.
        _ = try await spoke.write(binding, [.update(id: id, fields: ["t": "42", "doc": "plain text"])])
        let again = try #require(try await spoke.fetch(binding, ids: [id]).first)
        #expect(again.fields["t"] == "42")
        #expect(again.fields["doc"] == "plain text")
        await spoke.close()
    }

    @Test func aRecordPostgresRefusesFailsAloneAndTheRestOfTheBatchIsApplied() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql("""
            CREATE TABLE accounts (id serial PRIMARY KEY, code varchar(5) NOT NULL UNIQUE, note text,
                                   balance integer CHECK (balance >= 0))
            """)
        let binding = ObjectBinding(entity: "account", object: "accounts", fields: ["code", "note", "balance"])
        let spoke = f.spoke()
        let results = try await spoke.write(binding, [
            .create(key: "a", fields: ["code": "A1", "note": "fine", "balance": 1]),
            .create(key: "b", fields: ["code": "B1", "note": "nul \u{0} inside", "balance": 1]),
            .create(key: "c", fields: ["code": "TOO-LONG-CODE", "note": "x", "balance": 1]),
            .create(key: "d", fields: ["code": "A1", "note": "duplicate code", "balance": 1]),
            .create(key: "e", fields: ["code": "E1", "note": "negative", "balance": -5]),
            .create(key: "f", fields: ["code": .null, "note": "no code", "balance": 1]),
            .create(key: "g", fields: ["code": "G1", "note": "fine too", "balance": "not a number"]),
            .create(key: "h", fields: ["code": "H1", "note": "last", "balance": 3]),
        ])
        #expect(results.count == 8)
        let failed = results.enumerated().compactMap { i, r -> (Int, String)? in
            if case .failed(let m) = r { return (i, m) } else { return nil }
        }
        #expect(failed.map(\.0) == [1, 2, 3, 4, 5, 6])
        for (_, message) in failed {
            #expect(message.contains("SQLSTATE"))
            #expect(!message.contains("inside") && !message.contains("TOO-LONG") && !message.contains("not a number"),
                    "messages carry no values: \(message)")
        }
        #expect(failed.first { $0.0 == 2 }?.1.contains("22001") == true, "value too long")
        #expect(failed.first { $0.0 == 3 }?.1.contains("23505") == true, "unique violation")
        let rows = try await f.rows("SELECT code FROM accounts ORDER BY code")
        #expect(rows.map { $0[0] } == ["A1", "H1"])
        await spoke.close()
    }

    @Test func repeatingACreateKeyedByTheHubKeyKeepsOneRow() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql("CREATE TABLE people (hub_key text PRIMARY KEY, email text)")
        let binding = ObjectBinding(entity: "person", object: "people", idField: "hub_key", fields: ["email"])
        let spoke = f.spoke()
        let first = try await spoke.write(binding, [.create(key: "0190-a", fields: ["email": "a@x.test"])])
        let again = try await spoke.write(binding, [.create(key: "0190-a", fields: ["email": "b@x.test"])])
        #expect(first == [.created("0190-a")] && again == [.created("0190-a")])
        #expect(try await f.rows("SELECT hub_key, email FROM people") == [["0190-a", "b@x.test"]])
        await spoke.close()
    }

    @Test func hostileIdentifiersAndValuesNeverChangeTheStatement() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql("""
            CREATE TABLE "we""ird; --" (id serial PRIMARY KEY, "select" text, "a b" text)
            """, "CREATE TABLE canary (x int)")
        let binding = ObjectBinding(entity: "x", object: "we\"ird; --", fields: ["select", "a b"])
        let spoke = f.spoke()
        let hostile = "'; DROP TABLE canary; --"
        let results = try await spoke.write(binding, [.create(key: "k", fields: ["select": .string(hostile), "a b": "$1 %I ?"])])
        guard case .created(let id) = results.first else { Issue.record("\(results)"); return }
        let read = try #require(try await spoke.fetch(binding, ids: [id]).first)
        #expect(read.fields["select"] == .string(hostile))
        #expect(read.fields["a b"] == "$1 %I ?")
        #expect(try await f.rows("SELECT count(*)::text FROM canary") == [["0"]])
        // A name that is not in the schema never reaches SQL: it is a configuration error.
        let missing = ObjectBinding(entity: "x", object: "canary\"; DROP TABLE canary; --", fields: ["x"])
        await #expect(throws: SpokeError.self) { _ = try await spoke.read(missing, after: nil, limit: 10) }
        #expect(try await f.rows("SELECT count(*)::text FROM canary") == [["0"]])
        await spoke.close()
    }

    @Test func checkWarnsOfACursorColumnNoIndexStartsWithAndNamesTheIndexToCreate() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql(#"CREATE TABLE "people list" (id serial PRIMARY KEY, email text, "changed at" timestamptz)"#)
        try await f.sql(#"CREATE INDEX people_by_email ON "people list" (email, "changed at")"#)
        let spoke = f.spoke()
        let binding = ObjectBinding(entity: "p", object: "people list", cursorField: "changed at", fields: ["email"])
        let result = try #require(try await spoke.check([binding]).first)
        #expect(result.problems.isEmpty)
        let warning = try #require(result.warnings.first)
        #expect(warning.contains("starts with its cursor column 'changed at'"))
        // The statement it names is one the server runs, and it settles the warning.
        let statement = String(try #require(warning.range(of: "CREATE INDEX").map { warning[$0.lowerBound...] }))
        try await f.sql(statement)
        #expect(try await spoke.check([binding]).first?.warnings == [])
        #expect(try await spoke.check([ObjectBinding(entity: "p", object: "people list", fields: ["email"])]).first?.warnings == [])
        await spoke.close()
    }

    @Test func checkNamesAMisspeltTableAColumnAndAWrongPassword() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql("CREATE TABLE customers (id serial PRIMARY KEY, email text, updated_at timestamptz)")
        let spoke = f.spoke()
        let results = try await spoke.check([
            ObjectBinding(entity: "c", object: "customer", fields: ["email"]),
            ObjectBinding(entity: "c", object: "customers", cursorField: "updated_at", fields: ["emial"]),
            ObjectBinding(entity: "c", object: "customers", cursorField: "updated_at", fields: ["email"]),
        ])
        #expect(results[0].problems.first?.contains("did you mean 'customers'") == true)
        #expect(results[1].problems.first?.contains("no column 'emial'; did you mean 'email'") == true)
        #expect(results[2].problems.isEmpty)
        let wrong = "wrong-password-canary-1234"
        let bad = PostgresSpoke(system: "billing", settings: f.settings(password: wrong))
        do {
            _ = try await bad.check([ObjectBinding(entity: "c", object: "customers", fields: ["email"])])
            Issue.record("a wrong password was accepted")
        } catch let error as SpokeError {
            #expect(error.kind == .configuration)
            #expect(error.message.contains("wrong password"))
            #expect(!error.description.contains(wrong))
        }
        await spoke.close()
    }

    @Test func discoverListsTablesColumnsTypesAndKeys() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql("CREATE TABLE invoices (id serial PRIMARY KEY, total numeric(10,2) NOT NULL, paid boolean, issued date, meta jsonb)")
        let spoke = f.spoke()
        let schema = try await spoke.discover([])
        let invoices = try #require(schema.object(named: "invoices"))
        #expect(invoices.fields.map(\.name) == ["id", "total", "paid", "issued", "meta"])
        #expect(invoices.fields.map(\.kind) == [.integer, .number, .boolean, .date, .json])
        #expect(invoices.field(named: "id")?.isKey == true)
        #expect(invoices.field(named: "total")?.nullable == false)
        await spoke.close()
    }

    @Test func connectionSettingsComeFromAURLOrFieldsAndNeverShowThePassword() throws {
        let s = try PostgresSettings.parse(["url": "postgres://app:s%40cret-pw@db.internal:6543/billing?sslmode=require",
                                            "schema": "sales"])
        #expect(s.host == "db.internal" && s.port == 6543 && s.database == "billing" && s.user == "app")
        #expect(s.password == "s@cret-pw" && s.sslMode == .require && s.schema == "sales")
        #expect(s.description == "app@db.internal:6543/billing")
        let fields = try PostgresSettings.parse(["host": "h", "port": "5433", "database": "d", "user": "u", "sslmode": "disable"])
        #expect(fields.port == 5433 && fields.sslMode == .disable && fields.schema == "public")
        #expect(throws: SettingsError.self) { try PostgresSettings.parse(["host": "h", "user": "u"]) }
        #expect(throws: SettingsError.self) { try PostgresSettings.parse(["database": "d", "user": "u", "sslmode": "maybe"]) }
    }
}

/// Fixtures made by a conformance run, dropped at the end.
actor FixtureList {
    var fixtures: [PostgresFixture] = []
    func add(_ f: PostgresFixture) { fixtures.append(f) }
    func tearDown() async {
        for f in fixtures { await f.tearDown() }
        fixtures = []
    }
}

extension PostgresSpokeTests {
    @Test func idScansPageThroughIntegerKeysInNumericOrder() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql("CREATE TABLE n (id bigserial PRIMARY KEY, name text)", "INSERT INTO n (name) SELECT 'x' FROM generate_series(1, 23)")
        let spoke = f.spoke()
        let binding = ObjectBinding(entity: "n", object: "n", fields: ["name"])
        var ids: [String] = []
        var cursor: Cursor?
        while true {
            let page = try await spoke.scanIDs(binding, after: cursor, limit: 4)
            ids += page.ids.map(\.rawValue)
            cursor = page.next ?? cursor
            if page.isLast { break }
        }
        #expect(ids == (1...23).map(String.init))
        await spoke.close()
    }
}

extension PostgresSpokeTests {
    @Test func writeBatchesFromSeveralTasksDoNotShareATransaction() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql("CREATE TABLE t (id serial PRIMARY KEY, name text NOT NULL)")
        let spoke = f.spoke()
        let binding = ObjectBinding(entity: "t", object: "t", fields: ["name"])
        let results = try await withThrowingTaskGroup(of: [SpokeWriteResult].self) { group in
            for batch in 0..<6 {
                group.addTask {
                    // Every other batch holds a record PostgreSQL refuses, which rolls back to a savepoint.
                    let bad: [SpokeWrite] = batch % 2 == 0 ? [.create(key: "x", fields: ["name": .null])] : []
                    return try await spoke.write(binding, bad + (0..<3).map { .create(key: "b\(batch)-k\($0)", fields: ["name": .string("b\(batch)-\($0)")]) })
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(results.filter { if case .created = $0 { true } else { false } }.count == 18)
        #expect(try await f.rows("SELECT count(*)::text FROM t") == [["18"]])
        await spoke.close()
    }
}

extension PostgresSpokeTests {
    @Test func aCreateSentAgainWithItsKeyAnswersWithTheFirstRowAndLookupsFindIt() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql("CREATE TABLE s (id serial PRIMARY KEY, name text)", "CREATE TABLE k (key text PRIMARY KEY, name text)")
        let spoke = f.spoke()
        let serial = ObjectBinding(entity: "s", object: "s", fields: ["name"])
        let first = try await spoke.write(serial, [.create(key: "h1", fields: ["name": "a"]), .create(key: "h2", fields: ["name": "b"])])
        // The run stopped before the hub recorded the answers: the same creates are sent again.
        let again = try await spoke.write(serial, [.create(key: "h1", fields: ["name": "a"]), .create(key: "h3", fields: ["name": "c"])])
        #expect(first == [.created("1"), .created("2")])
        #expect(again == [.created("1"), .created("3")])
        #expect(try await f.rows("SELECT count(*)::text FROM s") == [["3"]])
        _ = try await spoke.write(serial, [.delete(id: "2")])
        #expect(try await spoke.lookupCreated(serial, keys: ["h1", "h2", "h3", "h9"]) == ["h1": "1", "h3": "3"])
        #expect(try await spoke.count(serial) == 2)

        let keyed = ObjectBinding(entity: "k", object: "k", idField: "key", fields: ["name"])
        _ = try await spoke.write(keyed, [.create(key: "0190-x", fields: ["name": "x"])])
        #expect(try await spoke.lookupCreated(keyed, keys: ["0190-x", "0190-y"]) == ["0190-x": "0190-x"])
        await spoke.close()
    }
}

@Suite(.enabled(if: TestServices.postgresTLS || TestServices.isCI, "needs PostgreSQL with TLS: run scripts/with-test-services.sh swift test"))
struct PostgresTLSTests {
    @Test func sslmodeRequireEncryptsAndVerifyFullRefusesAnUntrustedCertificate() async throws {
        #expect(TestServices.postgresTLS, "the test cluster was started without TLS (is openssl installed?)")
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql("CREATE TABLE t (id serial PRIMARY KEY, name text)")
        var settings = f.settings()
        settings.sslMode = .require
        let required = PostgresSpoke(system: "billing", settings: settings)
        let binding = ObjectBinding(entity: "t", object: "t", fields: ["name"])
        #expect(try await required.check([binding]).first?.problems == [])
        let encrypted = try await f.rows("SELECT ssl::text FROM pg_stat_ssl WHERE pid <> pg_backend_pid() AND ssl")
        #expect(!encrypted.isEmpty, "the spoke's connection uses TLS")
        await required.close()
        settings.sslMode = .verifyFull
        let verifying = PostgresSpoke(system: "billing", settings: settings)
        await #expect(throws: SpokeError.self) { _ = try await verifying.check([binding]) }
    }
}
