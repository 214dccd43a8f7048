import Foundation
import HubCore
import HubTesting
import HubTestServers
import Testing

/// `hubctl sync-all` over bulk-loaded tables whose rows share one cursor value — a PostgreSQL
/// table and a SQLite table, pushed into a CSV file — with keyset cursors (issue 15): a quiet run
/// reads nothing, a new row at the shared value is read alone, and a cursor stored before
/// keysets still reads. Every system's rows are read back.
@Suite(.enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct KeysetCursorEndToEndTests {
    static func topology(appCursor: String) -> String {
        """
        {
          "version": 1, "name": "keyset", "hub": { "path": "hub.sqlite" },
          "entities": { "person": { "fields": { "email": { "type": "string", "required": true }, "name": { "type": "string" } },
                                    "match": [["email"]] } },
          "systems": {
            "billing": { "adapter": "postgres", "direction": "pull",
              "connection": { "host": "${PGHOST}", "port": "${PGPORT}", "database": "${PGDATABASE}", "user": "${PGUSER}",
                              "password": "${PGPASSWORD}", "schema": "${SCHEMA}", "sslmode": "disable" },
              "entities": { "person": { "object": "customers", "cursor": { "field": "updated_at", "lookback": "0s" },
                                        "fields": { "email": "email", "name": "name" } } } },
            "app": { "adapter": "sqlite", "connection": { "path": "app.db" }, "direction": "pull",
              "entities": { "person": { "object": "users", "cursor": \(appCursor), "fields": { "email": "email", "name": "name" } } } },
            "sheet": { "adapter": "csv", "connection": { "path": "sheet" }, "direction": "push",
              "entities": { "person": { "object": "people.csv", "fields": { "email": "Email", "name": "Name" } } } }
          }
        }
        """
    }

    @Test("Bulk-loaded PostgreSQL and SQLite tables are read once; a new row at the shared value alone; an old cursor still reads")
    func bulkLoadsAreReadOnce() async throws {
        let postgres = try TestServices.requirePostgres()
        let directory = try TemporaryDirectory()
        let schema = "ks_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
        let psql = FourSystems.psql(postgres)
        let pgEnvironment = ["PGPASSWORD": postgres.password]
        try await SystemTools.must("psql", psql + ["-c", """
            CREATE SCHEMA \(schema);
            CREATE TABLE \(schema).customers (id int PRIMARY KEY, email text, name text, updated_at timestamptz);
            INSERT INTO \(schema).customers SELECT i, 'pg' || i || '@example.com', 'Pg ' || i, '2024-01-01T00:00:00Z'
              FROM generate_series(1, 300) AS i;
            """], environment: pgEnvironment)
        defer { Task { _ = try? await SystemTools.run("psql", psql + ["-c", "DROP SCHEMA \(schema) CASCADE"], environment: pgEnvironment) } }
        let app = directory.path + "/app.db"
        try await SystemTools.must("sqlite3", [app, """
            CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT, modified_at TEXT);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
            INSERT INTO users SELECT i, 'app' || i || '@example.com', 'App ' || i, '2024-01-01 00:00:00' FROM n;
            """])
        try FileManager.default.createDirectory(atPath: directory.path + "/sheet", withIntermediateDirectories: true)
        let topology = directory.path + "/topology.json"
        try Self.topology(appCursor: #"{ "field": "modified_at", "lookback": "0s" }"#).write(toFile: topology, atomically: true, encoding: .utf8)
        let environment = ["PGHOST": postgres.host, "PGPORT": String(postgres.port), "PGDATABASE": postgres.database,
                           "PGUSER": postgres.user, "PGPASSWORD": postgres.password, "SCHEMA": schema]

        /// Rows read from billing and app, and rows created in the sheet, by one sync-all.
        func sync() async throws -> (billing: Int, app: Int, sheet: Int, writes: Int) {
            let out = try await SystemTools.hubctl(["sync-all", "-t", topology, "--json"], environment: environment)
            #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
            let result = try out.result()
            func count(_ path: String) -> Int { Int(result.value(atPath: "systems.\(path)")?.intValue ?? -1) }
            let writes = ["billing", "app"].map { count("\($0).entities.person.pull.created") + count("\($0).entities.person.pull.updated") }
            return (count("billing.entities.person.pull.read"), count("app.entities.person.pull.read"),
                    count("sheet.entities.person.push.created"), writes.reduce(0, +))
        }
        func sheetEmails() throws -> Set<String> {
            let csv = try String(contentsOfFile: directory.path + "/sheet/people.csv", encoding: .utf8)
            return Set(csv.split(separator: "\n").dropFirst().compactMap { line in
                line.split(separator: ",", omittingEmptySubsequences: false).first { $0.contains("@") }.map(String.init)
            })
        }

        let first = try await sync()
        #expect(first.billing == 300 && first.app == 200 && first.sheet == 500)
        let quiet = try await sync()
        #expect(quiet.billing == 0 && quiet.app == 0 && quiet.sheet == 0, "a quiet run reads no row of either bulk load")

        // One more row in each table, at the value the bulk load shares.
        try await SystemTools.must("psql", psql + ["-c", """
            INSERT INTO \(schema).customers VALUES (301, 'pg301@example.com', 'Pg 301', '2024-01-01T00:00:00Z');
            """], environment: pgEnvironment)
        try await SystemTools.must("sqlite3", [app, "INSERT INTO users VALUES (201, 'app201@example.com', 'App 201', '2024-01-01 00:00:00')"])
        let added = try await sync()
        #expect(added.billing == 1 && added.app == 1 && added.sheet == 2)

        // Every system's rows, read back with its own tool.
        let pgRows = try await SystemTools.must("psql", psql + ["-c", "SELECT count(*), count(DISTINCT email) FROM \(schema).customers"],
                                                environment: pgEnvironment)
        #expect(pgRows.trimmingCharacters(in: .whitespacesAndNewlines) == "301|301")
        let appRows = try await SystemTools.must("sqlite3", [app, "SELECT count(*) FROM users"])
        #expect(appRows.trimmingCharacters(in: .whitespacesAndNewlines) == "201")
        let emails = try sheetEmails()
        #expect(emails.count == 502)
        #expect(emails.contains("pg301@example.com") && emails.contains("app201@example.com") && emails.contains("pg1@example.com"))

        // A cursor stored by an earlier hubctl (the last value, inclusive) still reads: the rows
        // at that value once, recognised as unchanged; then the keyset takes over.
        let hub = FixtureHub(directory.path, "hub.sqlite")
        try hub.execute(#"UPDATE cursor SET value = '{"v":"2024-01-01 00:00:00"}' WHERE system = 'app'"#)
        let old = try await sync()
        #expect(old.app == 201 && old.writes == 0 && old.sheet == 0)
        let stored = try hub.rows("SELECT value FROM cursor WHERE system = 'app'").joined(separator: "\n")
        #expect(stored.contains(#""from":{"v":"2024-01-01 00:00:00"}"#), "\(stored)")

        // The default window (a cursor given by name) on top of that cursor: the inclusive
        // start holds until a checkpoint is a window old, so the rows are read again, unchanged.
        try Self.topology(appCursor: #""modified_at""#).write(toFile: topology, atomically: true, encoding: .utf8)
        let window = try await sync()
        #expect(window.app == 201 && window.billing == 0 && window.writes == 0 && window.sheet == 0)
        #expect(try sheetEmails().count == 502)
    }
}
