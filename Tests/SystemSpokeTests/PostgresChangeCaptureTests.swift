import Foundation
import HubCore
import HubTestServers
import PostgresNIO
import SpokePostgres
import Testing

@Suite(.enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct PostgresChangeCaptureTests {
    /// Every object `capture install` can create in the fixture's schema: triggers by table, functions, tables.
    static func installed(_ f: PostgresFixture) async throws -> (triggers: [String], functions: [String], tables: [String]) {
        let triggers = try await f.rows("""
            SELECT c.relname || ':' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '\(f.schema)' AND NOT t.tgisinternal ORDER BY 1
            """).compactMap { $0[0] }
        let functions = try await f.rows("""
            SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = '\(f.schema)' ORDER BY 1
            """).compactMap { $0[0] }
        let tables = try await f.rows("SELECT table_name::text FROM information_schema.tables WHERE table_schema = '\(f.schema)' ORDER BY 1")
            .compactMap { $0[0] }
        return (triggers, functions, tables)
    }

    /// Creates the customers table (`ddl`) and installs capture on it.
    static func capture(_ f: PostgresFixture, _ ddl: String) async throws -> PostgresChangeCapture {
        try await f.sql(ddl)
        let capture = PostgresChangeCapture(spoke: f.spoke())
        try await capture.apply(try await capture.installStatements([("customers", "id")]))
        return capture
    }

    @Test("install logs every insert, update and delete of a bound table with its row ID, in the writer's transaction")
    func installLogsEveryWrite() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        _ = try await Self.capture(f, "CREATE TABLE customers (id serial PRIMARY KEY, email text)")
        try await f.sql("INSERT INTO customers (email) VALUES ('a@example.com')",
                        "UPDATE customers SET email = 'b@example.com' WHERE id = 1",
                        "DELETE FROM customers WHERE id = 1")
        let log = try await f.rows("SELECT table_name, row_id, op, (txid IS NOT NULL)::text FROM hubctl_changes ORDER BY id")
        #expect(log == [["\(f.schema).customers", "1", "INSERT", "true"], ["\(f.schema).customers", "1", "UPDATE", "true"],
                        ["\(f.schema).customers", "1", "DELETE", "true"]])
        // A rolled-back write leaves no entry.
        try await f.sql("BEGIN", "INSERT INTO customers (email) VALUES ('c@example.com')", "ROLLBACK")
        #expect(try await f.rows("SELECT count(*)::text FROM hubctl_changes") == [["3"]])
    }

    @Test("installing twice leaves one of everything, and remove drops exactly what install created")
    func installIsIdempotentAndRemoveIsExact() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql("CREATE TABLE customers (id serial PRIMARY KEY, email text)", "CREATE TABLE invoices (no text PRIMARY KEY)",
                        "CREATE FUNCTION mine() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
                        "CREATE TRIGGER mine BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION mine()")
        let before = try await Self.installed(f)
        let capture = PostgresChangeCapture(spoke: f.spoke())
        let statements = try await capture.installStatements([("customers", "id"), ("invoices", "no"), ("customers", "id")])
        try await capture.apply(statements)
        try await capture.apply(try await capture.installStatements([("customers", "id"), ("invoices", "no")]))
        let after = try await Self.installed(f)
        #expect(after.triggers == ["customers:hubctl_capture", "customers:hubctl_capture_truncate", "customers:mine",
                                   "invoices:hubctl_capture", "invoices:hubctl_capture_truncate"])
        #expect(after.functions == ["hubctl_record_change", "mine"])
        #expect(after.tables == ["customers", "hubctl_changes", "invoices"])
        // Remove finds the triggers by their function, whatever the topology binds now.
        let remove = try await capture.removeStatements()
        #expect(remove.count == 6)
        try await capture.apply(remove)
        let removed = try await Self.installed(f)
        #expect(removed.triggers == before.triggers)
        #expect(removed.functions == before.functions)
        #expect(removed.tables == before.tables)
        // Removing again is a no-op.
        try await capture.apply(try await capture.removeStatements())
    }

    @Test("table and column names with quotes and spaces are quoted, and the row ID is logged")
    func oddNamesAreQuoted() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql(#"CREATE TABLE "odd ""table"" name" ("it's id" text PRIMARY KEY, v text)"#)
        let capture = PostgresChangeCapture(spoke: f.spoke())
        let statements = try await capture.installStatements([(#"odd "table" name"#, "it's id")])
        #expect(statements.last?.contains(#""odd ""table"" name""#) == true)
        #expect(statements.last?.hasSuffix("('it''s id')") == true)
        try await capture.apply(statements)
        try await f.sql(#"INSERT INTO "odd ""table"" name" VALUES ('x''1', 'v')"#)
        #expect(try await f.rows("SELECT row_id FROM hubctl_changes") == [["x'1"]])
    }

    @Test("a missing table or ID column and a view are refused before anything runs")
    func missingTablesAreRefused() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql("CREATE TABLE customers (id serial PRIMARY KEY)", "CREATE VIEW v AS SELECT * FROM customers")
        let capture = PostgresChangeCapture(spoke: f.spoke())
        for (object, id, expected) in [("custmers", "id", "did you mean 'customers'"), ("customers", "key", "no ID column 'key'"),
                                       ("v", "id", "is a view")] {
            do {
                _ = try await capture.installStatements([(object, id)])
                Issue.record("\(object) was accepted")
            } catch let error as SpokeError {
                #expect(error.kind == .configuration)
                #expect(error.message.contains(expected), "\(error.message)")
            }
        }
        #expect(try await Self.installed(f).functions.isEmpty)
    }

    @Test("a statement PostgreSQL refuses rolls the whole install back")
    func aRefusedInstallChangesNothing() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        try await f.sql("CREATE TABLE customers (id serial PRIMARY KEY)")
        let capture = PostgresChangeCapture(spoke: f.spoke())
        var statements = try await capture.installStatements([("customers", "id")])
        statements.append("SELECT no_such_function()")
        await #expect(throws: SpokeError.self) { try await capture.apply(statements) }
        let after = try await Self.installed(f)
        #expect(after.triggers.isEmpty && after.functions.isEmpty && after.tables == ["customers"])
    }

    @Test("the listener reports each committed change and reconnects after its connection is killed")
    func listenerReportsChangesAndReconnects() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        let capture = try await Self.capture(f, "CREATE TABLE customers (id serial PRIMARY KEY, email text)")
        let (events, continuation) = AsyncStream.makeStream(of: PostgresChangeListener.Event.self)
        // A name of its own, so killing this listener never kills another test's.
        let name = "hubctl-listen-\(UInt32.random(in: 0...UInt32.max))"
        let listener = PostgresChangeListener(system: "billing", settings: f.settings(), applicationName: name, sleep: { _ in })
        let task = Task { await listener.run { continuation.yield($0) } }
        defer { task.cancel() }
        // A notification that never comes ends the stream after two minutes: a failure, not a hang.
        let watchdog = Task { try? await Task.sleep(for: .seconds(120)); continuation.finish() }
        defer { watchdog.cancel() }
        var iterator = events.makeAsyncIterator()
        #expect(await iterator.next() == .listening(reconnected: false, installed: true))
        #expect(try await Self.notification(&iterator, f, after: "INSERT INTO customers (email) VALUES ('a@example.com')")
                == .notification(table: "\(f.schema).customers"))
        // Kill the listener's backend: it reports the drop, reconnects, and listens again.
        try await f.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '\(name)'")
        var sawDrop = false
        while let event = await Self.next(&iterator, skippingOther: f.schema) {
            if case .dropped = event { sawDrop = true }
            if event == .listening(reconnected: true, installed: true) { break }
        }
        #expect(sawDrop)
        // hubctl's own writes (application_name hubctl) are logged but do not notify.
        try await f.sql("CREATE TABLE invoices (id serial PRIMARY KEY)")
        try await capture.apply(try await capture.installStatements([("customers", "id"), ("invoices", "id")]))
        try await f.sql("SET application_name = 'hubctl'", "UPDATE customers SET email = 'b@example.com'",
                        "SET application_name = 'psql'")
        #expect(try await Self.notification(&iterator, f, after: "INSERT INTO invoices DEFAULT VALUES")
                == .notification(table: "\(f.schema).invoices"))
        // Every insert (one, or more when a kill by another test made this one repeat it), then
        // the update of each row.
        let ops = try await f.rows("SELECT op FROM hubctl_changes WHERE table_name LIKE '%.customers' ORDER BY id")
        let n = ops.count / 2
        #expect(n >= 1 && ops == Array(repeating: ["INSERT"], count: n) + Array(repeating: ["UPDATE"], count: n), "\(ops)")
        task.cancel()
    }

    @Test("the listener says when the schema has no capture installed, and reports an unreachable server as a drop")
    func listenerReportsMissingCaptureAndDrops() async throws {
        let f = try await PostgresFixture.make()
        defer { Task { await f.tearDown() } }
        for (settings, expectInstalled) in [(f.settings(), true), (f.settings(password: "wrong-password-123"), false)] {
            let (events, continuation) = AsyncStream.makeStream(of: PostgresChangeListener.Event.self)
            let task = Task { await PostgresChangeListener(system: "billing", settings: settings, sleep: { _ in }).run { continuation.yield($0) } }
            var iterator = events.makeAsyncIterator()
            let first = await iterator.next()
            task.cancel()
            if expectInstalled {
                #expect(first == .listening(reconnected: false, installed: false))
            } else {
                guard case .dropped(let message, let retry) = first else { Issue.record("\(String(describing: first))"); continue }
                #expect(message.contains("wrong password or user") && !message.contains("wrong-password-123"), "\(message)")
                #expect(retry == 1)
            }
        }
    }

    /// The next event, skipping notifications about other tests' schemas.
    /// Runs `statement` and returns the next notification of this test's schema. Another test
    /// running beside this one may kill every 'hubctl-listen' connection: a notification sent while
    /// the listener is down is lost (by design: it wakes the system when it reconnects), so the
    /// statement is run again once the listener listens again.
    static func notification(_ iterator: inout AsyncStream<PostgresChangeListener.Event>.Iterator, _ f: PostgresFixture,
                             after statement: String) async throws -> PostgresChangeListener.Event? {
        attempts: for _ in 0..<5 {
            try await f.sql(statement)
            while let event = await next(&iterator, skippingOther: f.schema) {
                if case .notification = event { return event }
                if case .listening = event { continue attempts }
            }
        }
        return nil
    }

    static func next(_ iterator: inout AsyncStream<PostgresChangeListener.Event>.Iterator, skippingOther schema: String) async
        -> PostgresChangeListener.Event? {
        while let event = await iterator.next() {
            if case .notification(let table) = event, !table.hasPrefix(schema + ".") { continue }
            return event
        }
        return nil
    }
}
