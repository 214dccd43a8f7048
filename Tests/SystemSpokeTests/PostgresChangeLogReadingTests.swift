import Foundation
import HubCore
import HubTesting
import HubTestServers
import PostgresNIO
import SpokePostgres
import Testing

/// Reads of captured tables through the change log, against the real PostgreSQL.
@Suite(.enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct PostgresChangeLogReadingTests {
    static let customers = "CREATE TABLE customers (id text PRIMARY KEY, name text, updated_at timestamptz NOT NULL DEFAULT now())"
    static let binding = ObjectBinding(entity: "customer", object: "customers", idField: "id", fields: ["name"])

    /// What one run read: every page from `cursor` to the last, as the engine reads them.
    struct Run {
        var records: [SpokeRecord] = []
        var deleted: [ExternalID] = []
        var pages = 0
        var next: Cursor?
        var ids: [String] { records.map(\.id.rawValue).sorted() }
        var names: [String: String] {
            Dictionary(records.map { ($0.id.rawValue, $0.fields["name"]?.stringValue ?? "") }, uniquingKeysWith: { a, _ in a })
        }
    }

    static func run(_ spoke: PostgresSpoke, _ binding: ObjectBinding = binding, from cursor: Cursor?, limit: Int = 500) async throws -> Run {
        var run = Run(next: cursor)
        while true {
            let page = try await spoke.read(binding, after: run.next, limit: limit)
            run.records += page.records
            run.deleted += page.deleted
            run.pages += 1
            if let next = page.next { run.next = next }
            if page.isLast { return run }
        }
    }

    /// A spoke reading through the change log of a fresh schema whose customers table is captured.
    static func captured(_ f: PostgresFixture, _ ddl: String = customers) async throws -> PostgresSpoke {
        try await f.sql(ddl)
        let capture = PostgresChangeCapture(spoke: f.spoke())
        try await capture.apply(try await capture.installStatements([("customers", "id")]))
        return PostgresSpoke(system: "billing", settings: f.settings(), readsChangeLog: true)
    }

    /// A second connection, to hold a transaction open across reads.
    static func connection(_ f: PostgresFixture) async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: .init(host: f.server.host, port: f.server.port, username: f.server.user, password: f.server.password,
                                 database: f.server.database, tls: .disable), id: 2, logger: PostgresFixture.logger)
    }

    @Test("a row written by a long transaction that commits after a later one is read by the next run, never skipped")
    func lateCommitIsReadByTheNextRun() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        let spoke = try await Self.captured(f)
        let long = try await Self.connection(f)
        defer { Task { try? await long.close() } }
        try await f.sql("INSERT INTO customers (id, name) VALUES ('before', 'Before')")
        let first = try await Self.run(spoke, from: nil)
        #expect(first.ids == ["before"])
        // T1 writes A and stays open; T2 writes B and commits.
        try await long.query("BEGIN", logger: PostgresFixture.logger)
        try await long.query(PostgresQuery(unsafeSQL: "INSERT INTO \(f.schema).customers (id, name) VALUES ('A', 'Ann')"),
                             logger: PostgresFixture.logger)
        try await f.sql("INSERT INTO customers (id, name) VALUES ('B', 'Bob')")
        let second = try await Self.run(spoke, from: first.next)
        #expect(second.ids == ["B"])
        try await long.query("COMMIT", logger: PostgresFixture.logger)
        let third = try await Self.run(spoke, from: second.next)
        #expect(third.ids == ["A"])
        #expect(third.names == ["A": "Ann"])
        #expect(try await Self.run(spoke, from: third.next).records.isEmpty)
        // A rolled-back transaction leaves nothing to read.
        try await long.query("BEGIN", logger: PostgresFixture.logger)
        try await long.query(PostgresQuery(unsafeSQL: "INSERT INTO \(f.schema).customers (id) VALUES ('never')"), logger: PostgresFixture.logger)
        try await long.query("ROLLBACK", logger: PostgresFixture.logger)
        #expect(try await Self.run(spoke, from: third.next).records.isEmpty)
    }

    @Test("the same late commit is skipped by a read by the cursor column updated_at default now() without a lookback window, and read inside one")
    func theCursorColumnReadMissesTheLateCommit() async throws {
        for lookback in [0, ObjectBinding.defaultCursorLookback] {
            let f = try await PostgresFixture.make()
            defer { Task { await f.tearDown() } }
            try await f.sql(Self.customers)
            let spoke = f.spoke()
            var binding = Self.binding
            binding.cursorField = "updated_at"
            binding.cursorLookback = lookback
            let long = try await Self.connection(f)
            defer { Task { try? await long.close() } }
            try await f.sql("INSERT INTO customers (id, name) VALUES ('before', 'Before')")
            let first = try await Self.run(spoke, binding, from: nil)
            try await long.query("BEGIN", logger: PostgresFixture.logger)
            try await long.query(PostgresQuery(unsafeSQL: "INSERT INTO \(f.schema).customers (id, name) VALUES ('A', 'Ann')"),
                                 logger: PostgresFixture.logger)
            try await f.sql("INSERT INTO customers (id, name) VALUES ('B', 'Bob')")
            let second = try await Self.run(spoke, binding, from: first.next)
            #expect(second.ids.contains("B") && !second.ids.contains("A"))
            try await long.query("COMMIT", logger: PostgresFixture.logger)
            // A's updated_at is T1's start, before B's: the keyset already stands past it. Only
            // the lookback window (a run inside it reads again after an older checkpoint) finds it.
            let third = try await Self.run(spoke, binding, from: second.next)
            #expect(third.ids.contains("A") == (lookback > 0), "lookback \(lookback): \(third.ids)")
            #expect(try await f.rows("SELECT id FROM customers WHERE id = 'A'") == [["A"]])
        }
    }

    @Test("deletes are reported as deleted, and a delete then re-insert of the same ID reads the new row")
    func deletesAndReinsertsOfTheSameID() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        let spoke = try await Self.captured(f)
        try await f.sql("INSERT INTO customers (id, name) VALUES ('x', 'One'), ('y', 'Why'), ('z', 'Zed')")
        var cursor = try await Self.run(spoke, from: nil).next
        try await f.sql("DELETE FROM customers WHERE id = 'x'")
        var run = try await Self.run(spoke, from: cursor)
        #expect(run.records.isEmpty && run.deleted == ["x"])
        cursor = run.next
        try await f.sql("INSERT INTO customers (id, name) VALUES ('x', 'Two')")
        run = try await Self.run(spoke, from: cursor)
        #expect(run.names == ["x": "Two"] && run.deleted.isEmpty)
        cursor = run.next
        // Within one window: y deleted and re-inserted (read once, current), z updated then deleted.
        try await f.sql("DELETE FROM customers WHERE id = 'y'", "INSERT INTO customers (id, name) VALUES ('y', 'Again')",
                        "UPDATE customers SET name = 'Zee' WHERE id = 'z'", "DELETE FROM customers WHERE id = 'z'")
        run = try await Self.run(spoke, from: cursor)
        #expect(run.names == ["y": "Again"])
        #expect(run.deleted == ["z"])
    }

    @Test("with a page limit smaller than the changes, every changed row is read exactly once, and any page's cursor resumes")
    func pagesSmallerThanTheChanges() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        let spoke = try await Self.captured(f)
        try await f.sql("INSERT INTO customers (id, name) SELECT 'c' || lpad(i::text, 2, '0'), 'n' || i FROM generate_series(1, 30) i")
        let start = try await Self.run(spoke, from: nil, limit: 7)
        #expect(start.ids.count == 30 && start.pages == 5)
        // 20 rows changed, some of them three times in separate transactions, interleaved.
        for round in 1...3 {
            try await f.sql("UPDATE customers SET name = name || '+\(round)' WHERE id <= 'c\(round == 1 ? "20" : "05")'")
        }
        try await f.sql("UPDATE customers SET name = name || '!' WHERE id = 'c01'")
        let changed = try await Self.run(spoke, from: start.next, limit: 4)
        #expect(changed.records.count == 20, "\(changed.ids)")
        #expect(Set(changed.ids).count == 20)
        #expect(changed.pages == 5 || changed.pages == 6)
        #expect(changed.names["c01"] == "n1+1+2+3!" && changed.names["c20"] == "n20+1")
        // Resuming from each page's cursor reads exactly the rest.
        var cursor = start.next
        var seen: [String] = []
        while true {
            let page = try await spoke.read(Self.binding, after: cursor, limit: 4)
            seen += page.records.map(\.id.rawValue)
            let rest = try await Self.run(spoke, from: page.next, limit: 4)
            if !page.isLast { #expect(Set(seen + rest.ids) == Set(changed.ids) && seen.count + rest.ids.count == 20) }
            cursor = page.next
            if page.isLast { break }
        }
    }

    @Test("a run deletes the log entries its position has read, and only those of its own table")
    func readEntriesArePruned() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql("CREATE TABLE invoices (id text PRIMARY KEY)")
        let spoke = try await Self.captured(f)
        let capture = PostgresChangeCapture(spoke: f.spoke())
        try await capture.apply(try await capture.installStatements([("customers", "id"), ("invoices", "id")]))
        try await f.sql("INSERT INTO customers (id) VALUES ('a'), ('b')", "INSERT INTO invoices (id) VALUES ('i1')")
        let first = try await Self.run(spoke, from: nil)
        try await f.sql("UPDATE customers SET name = 'B' WHERE id = 'b'")
        func entries() async throws -> [[String?]] {
            try await f.rows("SELECT split_part(table_name, '.', 2), row_id, op FROM hubctl_changes ORDER BY id")
        }
        #expect(try await entries().count == 4)
        // The first run after the full read drops what the full read covered, and reads b.
        let second = try await Self.run(spoke, from: first.next)
        #expect(second.ids == ["b"])
        #expect(try await entries() == [["invoices", "i1", "INSERT"], ["customers", "b", "UPDATE"]])
        _ = try await Self.run(spoke, from: second.next)
        #expect(try await entries() == [["invoices", "i1", "INSERT"]])
    }

    @Test("a role that may not delete from the log reads all the same, and the entries stay")
    func aRoleWithoutDeleteStillReads() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        let spoke = try await Self.captured(f)
        try await f.sql("REVOKE DELETE ON hubctl_changes FROM CURRENT_USER", "INSERT INTO customers (id, name) VALUES ('a', 'A')")
        let first = try await Self.run(spoke, from: nil)
        try await f.sql("UPDATE customers SET name = 'Aa' WHERE id = 'a'")
        let second = try await Self.run(spoke, from: first.next)
        #expect(second.names == ["a": "Aa"])
        try await f.sql("INSERT INTO customers (id, name) VALUES ('b', 'B')")
        #expect(try await Self.run(spoke, from: second.next).ids == ["b"])
        #expect(try await f.rows("SELECT count(*)::text FROM hubctl_changes") == [["3"]])
    }

    @Test("a TRUNCATE makes the next run a full read of the table as it is")
    func truncateMakesAFullRead() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        let spoke = try await Self.captured(f)
        try await f.sql("INSERT INTO customers (id, name) VALUES ('a', 'A'), ('b', 'B')")
        let first = try await Self.run(spoke, from: nil)
        try await f.sql("TRUNCATE customers", "INSERT INTO customers (id, name) VALUES ('c', 'C')")
        #expect(try await f.rows("SELECT op FROM hubctl_changes WHERE row_id IS NULL") == [["TRUNCATE"]])
        let second = try await Self.run(spoke, from: first.next)
        #expect(second.names == ["c": "C"])
        // Then incremental again.
        try await f.sql("UPDATE customers SET name = 'See' WHERE id = 'c'", "INSERT INTO customers (id) VALUES ('d')")
        let third = try await Self.run(spoke, from: second.next)
        #expect(third.ids == ["c", "d"])
        #expect(try await Self.run(spoke, from: third.next).records.isEmpty)
    }

    @Test("without the trigger the table is read as without capture, and once installed the change log takes over")
    func withoutTheTriggerTheReadFallsBack() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql(Self.customers, "INSERT INTO customers (id, name) VALUES ('a', 'A'), ('b', 'B'), ('c', 'C')")
        let spoke = PostgresSpoke(system: "billing", settings: f.settings(), readsChangeLog: true)
        #expect(spoke.readsIncrementally(Self.binding))
        // No cursor column: a full read each run, paged, starting over after the last page.
        let first = try await Self.run(spoke, from: nil, limit: 2)
        #expect(first.ids == ["a", "b", "c"] && first.pages == 2)
        #expect(try await Self.run(spoke, from: first.next, limit: 2).ids == ["a", "b", "c"])
        // A cursor column: read by it, and a change-log position left from before starts it over.
        var byColumn = Self.binding
        byColumn.cursorField = "updated_at"
        let column = try await Self.run(spoke, byColumn, from: first.next)
        #expect(column.ids == ["a", "b", "c"])
        #expect(try await Self.run(spoke, byColumn, from: column.next).ids.count <= 3)
        // Installed: the next read is a full one from a snapshot, then only changes; a
        // cursor-column position left from before starts it over too.
        let capture = PostgresChangeCapture(spoke: f.spoke())
        try await capture.apply(try await capture.installStatements([("customers", "id")]))
        let full = try await Self.run(spoke, byColumn, from: column.next)
        #expect(full.ids == ["a", "b", "c"])
        try await f.sql("UPDATE customers SET name = 'Bee' WHERE id = 'b'")
        let changed = try await Self.run(spoke, byColumn, from: full.next)
        #expect(changed.names == ["b": "Bee"])
        // `capture` taken off the topology: the change-log position left in the hub starts the
        // cursor-column read over instead of failing the system.
        #expect(try await Self.run(f.spoke(), byColumn, from: changed.next).ids == ["a", "b", "c"])
    }

    @Test func aCapturedTableWithoutACursorColumnPassesTheConformanceSuite() async throws {
        try await Self.conformance(["CREATE TABLE customers (id bigserial PRIMARY KEY, name text, score integer)"],
                                   binding: ObjectBinding(entity: "item", object: "customers", idField: "id", fields: ["name", "score"]),
                                   editable: true)
    }

    @Test func aCapturedTableWithACursorColumnPassesTheConformanceSuite() async throws {
        try await Self.conformance(PostgresSpokeTests.itemsTable.map { $0.replacingOccurrences(of: "items", with: "customers") },
                                   binding: ObjectBinding(entity: "item", object: "customers", idField: "id", cursorField: "updated_at",
                                                          fields: ["name", "score"]),
                                   editable: true)
    }

    @Test func aCapturedTableWithQuotesAndSpacesInItsNamesPassesTheConformanceSuite() async throws {
        try await Self.conformance([#"CREATE TABLE "Odd ""Customers""" ("Key" text PRIMARY KEY, name varchar(200), score numeric(10,2))"#],
                                   binding: ObjectBinding(entity: "item", object: #"Odd "Customers""#, idField: "Key", fields: ["name", "score"]),
                                   editable: false)
    }

    /// Runs the spoke conformance suite on a captured table made by `ddl`; `editable`: edit it
    /// with SQL behind the spoke's back (an integer `id` and a `name`).
    static func conformance(_ ddl: [String], binding: ObjectBinding, editable: Bool) async throws {
        let fixtures = FixtureList()
        try await SpokeConformance {
            let f = try await PostgresFixture.make()
            await fixtures.add(f)
            for statement in ddl { try await f.sql(statement) }
            let capture = PostgresChangeCapture(spoke: f.spoke())
            try await capture.apply(try await capture.installStatements([(binding.object, binding.idField)]))
            let table = SQLIdentifier.qualified(f.schema, binding.object)
            let edit: @Sendable (ExternalID, [String: Value]) async throws -> Void = { id, fields in
                var bindings = PostgresBindings()
                bindings.append(fields["name"]?.stringValue ?? "")
                bindings.append(Int(id.rawValue)!)
                try await f.admin.query(PostgresQuery(unsafeSQL: "UPDATE \(table) SET name = $1 WHERE id = $2", binds: bindings),
                                        logger: PostgresFixture.logger)
            }
            return SpokeConformance.Subject(spoke: PostgresSpoke(system: "billing", settings: f.settings(), readsChangeLog: true),
                                            binding: binding, externalEdit: editable ? edit : nil)
        }.run()
        await fixtures.tearDown()
    }
}
