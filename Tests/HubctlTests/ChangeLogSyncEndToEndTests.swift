import Foundation
import GRDB
import HubCore
import HubTestServers
import HubTesting
import Testing

/// `hubctl sync-all` reading a captured PostgreSQL table through its change log, edits made with
/// psql (one of them in a transaction held open across a sync) and sqlite3, every system's rows
/// read back after each sync.
@Suite(.serialized, .enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct ChangeLogSyncEndToEndTests {
    /// The capture test's topology, read through the log without a `cursor` and without notifications.
    static let topology = CaptureEndToEndTests.topology
        .replacingOccurrences(of: #""capture": { "notify": true, "debounce": "50ms" }"#, with: #""capture": {}"#)
        .replacingOccurrences(of: #""cursor": "updated_at","#, with: "")

    @Test("sync-all reads a captured table through its change log: a change committed late is synced by the next run, deletes too")
    func syncAllThroughTheChangeLog() async throws {
        let pg = try CapturePostgres(prefix: "cl_")
        let (postgres, schema, environment) = (pg.server, pg.schema, pg.environment)
        let tmp = try TemporaryDirectory()
        let dir = tmp.path
        @discardableResult
        func psql(_ sql: String) async throws -> String {
            try await pg.psql(sql).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try await psql("""
            CREATE SCHEMA \(schema);
            CREATE TABLE \(schema).customers (id serial PRIMARY KEY, email text UNIQUE, first_name text);
            INSERT INTO \(schema).customers (email, first_name) VALUES ('ann@example.com', 'Ann'), ('bob@example.com', 'Bob');
            """)
        defer { Task { _ = try? await psql("DROP SCHEMA \(schema) CASCADE") } }
        try SystemToolsSync.sqlite(dir + "/app.db", "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT)")
        try Self.topology.write(toFile: dir + "/topology.json", atomically: true, encoding: .utf8)
        let topo = dir + "/topology.json"
        /// Runs sync-all; returns how many records it read from billing, and its stderr.
        @discardableResult
        func sync() async throws -> (read: Int64?, stderr: String) {
            let result = try await SystemTools.hubctl(["sync-all", "--json", "-t", topo], environment: environment)
            #expect(result.exitCode == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(!result.stdout.contains(postgres.password) && !result.stderr.contains(postgres.password))
            let read = try JSONParser.parse(result.stdout).value(atPath: "result.systems.billing.entities.customer.pull.read")
            return (read?.intValue, result.stderr)
        }
        func billing() async throws -> String {
            try await psql("SELECT string_agg(email || '|' || coalesce(first_name, ''), ',' ORDER BY email) FROM \(schema).customers")
        }
        func app() throws -> String {
            try DatabaseQueue(path: dir + "/app.db").read { db in
                try String.fetchAll(db, sql: "SELECT email || '|' || coalesce(first_name, '') FROM users ORDER BY email")
            }.joined(separator: ",")
        }

        // Not installed yet: read in full, and said once.
        let before = try await sync()
        #expect(before.read == 2)
        #expect(before.stderr.components(separatedBy: "has no hubctl capture trigger").count == 2, "\(before.stderr)")
        #expect(try app() == "ann@example.com|Ann,bob@example.com|Bob")
        #expect(try await SystemTools.hubctl(["capture", "install", "billing", "-t", topo], environment: environment).exitCode == 0)
        // Installed: a full read from a snapshot, without the notice; then only what changed.
        let installed = try await sync()
        #expect(installed.read == 2 && !installed.stderr.contains("has no hubctl capture trigger"))
        #expect(try await sync().read == 0)

        // T1 inserts Cat and stays open; meanwhile Dan is inserted, Ann renamed, Bob deleted and committed.
        let held = try HeldTransaction(psql: pg.psqlArguments, password: postgres.password, applicationName: "gap-t1-\(schema)")
        defer { held.end() }
        try held.send("BEGIN; INSERT INTO \(schema).customers (email, first_name) VALUES ('cat@example.com', 'Cat');")
        let waiting = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gap-t1-\(schema)' AND state = 'idle in transaction'"
        var polls = 0
        while try await psql(waiting) != "1" && polls < 600 {
            polls += 1
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(polls < 600, "psql's transaction never started")
        try await psql("""
            INSERT INTO \(schema).customers (email, first_name) VALUES ('dan@example.com', 'Dan');
            UPDATE \(schema).customers SET first_name = 'Annie' WHERE email = 'ann@example.com';
            DELETE FROM \(schema).customers WHERE email = 'bob@example.com';
            """)
        #expect(try await sync().read == 2)  // Dan and Ann; Bob is gone (found by the ID scan), Cat not committed
        #expect(try app() == "ann@example.com|Annie,dan@example.com|Dan")
        try held.send("COMMIT;")
        held.end()
        #expect(try await sync().read == 1)  // Cat
        #expect(try app() == "ann@example.com|Annie,cat@example.com|Cat,dan@example.com|Dan")
        #expect(try await billing() == "ann@example.com|Annie,cat@example.com|Cat,dan@example.com|Dan")

        // An edit in SQLite reaches PostgreSQL; hubctl's own write comes back through the log as no change.
        try SystemToolsSync.sqlite(dir + "/app.db", "UPDATE users SET first_name = 'Danny' WHERE email = 'dan@example.com'")
        try await sync()
        #expect(try await sync().read == 1)  // hubctl's own update, read back unchanged
        #expect(try await billing() == "ann@example.com|Annie,cat@example.com|Cat,dan@example.com|Danny")
        #expect(try app() == "ann@example.com|Annie,cat@example.com|Cat,dan@example.com|Danny")

        // The log keeps only what the last read has not handed back yet.
        #expect(try await sync().read == 0)
        #expect(try await psql("SELECT count(*) FROM \(schema).hubctl_changes") == "0")
    }
}

/// A psql session whose transaction stays open until the test commits it: statements are sent
/// on its standard input.
final class HeldTransaction {
    private let process = Process()
    private let input = Pipe()

    init(psql arguments: [String], password: String, applicationName: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSWORD"] = password
        environment["PGAPPNAME"] = applicationName
        process.environment = environment
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func send(_ sql: String) throws {
        try input.fileHandleForWriting.write(contentsOf: Data((sql + "\n").utf8))
    }

    /// Tells psql to quit, closes its input and waits for it: at most 10 s, then it is ended.
    ///
    /// `\q` rather than the end of input alone: a process another test starts at the same moment
    /// can inherit the pipe's write end, so psql may never see the end of its input (the whole
    /// suite then waited on it). The wait polls rather than blocking in `waitUntilExit`, and is
    /// bounded, so it never holds one of the few threads the suite's tasks share indefinitely.
    func end() {
        guard process.isRunning else { return }
        try? send("\\q")
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
