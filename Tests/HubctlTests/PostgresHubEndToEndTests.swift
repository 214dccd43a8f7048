import Foundation
import HubCore
import HubTestServers
import HubTesting
import Testing

/// The demo with its hub in PostgreSQL (`"hub": {"url": …}`), through the real binary: sync,
/// audit, the run lock, and the hub's rows read back with psql.
@Suite(.serialized, .enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct PostgresHubEndToEndTests {
    @Test("The demo syncs and audits clean on a PostgreSQL hub, whose rows psql reads back; a second run waits its turn")
    func theDemoRunsOnAPostgresHub() async throws {
        let postgres = try TestServices.requirePostgres()
        let tmp = try TemporaryDirectory()
        let dir = tmp.path + "/demo", topology = dir + "/topology.json"
        let schema = "e2e_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(10)
        let environment = ["HUB_PGPASSWORD": postgres.password]
        let psqlArgs = ["-h", postgres.host, "-p", String(postgres.port), "-U", postgres.user, "-d", postgres.database,
                        "-v", "ON_ERROR_STOP=1", "-qAtX", "-c", "SET search_path TO \(schema)"]
        func psql(_ sql: String) async throws -> String {
            try await SystemTools.must("psql", psqlArgs + ["-c", sql], environment: ["PGPASSWORD": postgres.password])
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func hubctl(_ arguments: String...) async throws -> HubctlProcess.Result {
            let result = try await SystemTools.hubctl(arguments + ["-t", topology], environment: environment)
            #expect(!(result.stdout + result.stderr).contains(postgres.password), "the hub's password was printed")
            return result
        }
        defer { Task { _ = try? await psql("DROP SCHEMA \(schema) CASCADE") } }

        // The demo's systems, synced once through its SQLite hub; then the hub moves to PostgreSQL.
        #expect(try HubctlProcess.run(["demo", "demo"], in: tmp.path).exitCode == 0)
        var text = try String(contentsOfFile: topology, encoding: .utf8)
        text = text.replacingOccurrences(
            of: #""hub": { "path": "demo.hub.sqlite" }"#,
            with: #""hub": { "url": "postgres://\#(postgres.user):${HUB_PGPASSWORD}@\#(postgres.host):\#(postgres.port)/\#(postgres.database)?sslmode=disable", "schema": "\#(schema)" }"#)
        #expect(text.contains("${HUB_PGPASSWORD}"))
        try text.write(toFile: topology, atomically: true, encoding: .utf8)
        let validate = try await hubctl("validate")
        #expect(validate.stdout.contains("Hub: postgres://\(postgres.user)@\(postgres.host):\(postgres.port)/\(postgres.database)?schema=\(schema)"))

        // A new hub links every record it already finds everywhere, and writes nothing to the systems.
        let first = try await hubctl("sync-all", "--json")
        #expect(first.exitCode == 0, "\(first.stderr)")
        #expect(try await psql("SELECT entity, count(*) FROM entity WHERE deleted_at IS NULL GROUP BY entity ORDER BY entity")
                == "customer|5\nemployee|2")
        #expect(try await psql("SELECT system, entity, count(*) FROM xref WHERE state = 'linked' GROUP BY system, entity ORDER BY 1, 2")
                == "app|customer|5\napp|employee|2\ncrm|customer|5\ncrm|employee|2\nsheet|customer|5")
        // The trigger-kept counts agree with the links.
        #expect(try await psql("""
            SELECT count(*) FROM link_count c FULL JOIN (SELECT entity, system, count(*) AS n FROM xref WHERE state = 'linked'
            GROUP BY entity, system) x USING (entity, system) WHERE c.live IS DISTINCT FROM x.n
            """) == "0")

        // A change in one system reaches the others through the PostgreSQL hub.
        try await SystemTools.must("sqlite3", [dir + "/crm.db", "UPDATE contacts SET given_name = 'Anna' WHERE contact_id = 1"])
        #expect(try await hubctl("sync-all").exitCode == 0)
        #expect(try await SystemTools.must("sqlite3", [dir + "/app.db", "SELECT full_name FROM users WHERE email = 'ann.lee@example.com'"])
                .contains("Anna"))
        #expect(try await psql("SELECT data::json->>'first_name' FROM entity WHERE data::json->>'email' = 'ann.lee@example.com'") == "Anna")
        #expect(try await psql("SELECT count(*) FROM run WHERE status = 'ok'") == "2")

        // A dry run plans on a scratch SQLite copy of the hub: it sees the change, and writes nothing.
        try await SystemTools.must("sqlite3", [dir + "/crm.db", "UPDATE contacts SET given_name = 'Annie' WHERE contact_id = 1"])
        let dry = try await hubctl("sync-all", "--dry-run", "--json")
        #expect(dry.exitCode == 0, "\(dry.stderr)")
        #expect(try dry.result().objectValue?["totals"]?.objectValue?["pull"]?.objectValue?["updated"] == 1, "\(dry.stdout)")
        #expect(try await psql("SELECT count(*) FROM run") == "2")
        #expect(try await psql("SELECT data::json->>'first_name' FROM entity WHERE data::json->>'email' = 'ann.lee@example.com'") == "Anna")
        #expect(try await hubctl("sync-all").exitCode == 0)

        let audit = try await hubctl("audit", "--deep")
        #expect(audit.exitCode == 0, "\(audit.stdout)\(audit.stderr)")
        #expect(audit.stdout.contains("Clean: no findings"))

        // Another live run holds the hub: exit 75, nothing written; once it is gone, the next run goes.
        let holder = getpid()
        let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "'", with: "''")
        let now = Timestamp.string(Date())
        _ = try await psql("""
            UPDATE run_lock SET generation = generation + 1, run_id = 'other', pid = \(holder), host = '\(host)',
                acquired_at = '\(now)', heartbeat_at = '\(now)'
            """)
        let locked = try await hubctl("sync-all")
        #expect(locked.exitCode == 75)
        #expect(locked.stderr.contains("another run holds this hub"))
        #expect(try await psql("SELECT count(*) FROM run") == "3")
        _ = try await psql("UPDATE run_lock SET run_id = NULL, pid = NULL, host = NULL, heartbeat_at = NULL")
        #expect(try await hubctl("sync-all").exitCode == 0)
    }

    @Test("A hub URL with the password written in the topology is refused")
    func aLiteralPasswordIsRefused() throws {
        let tmp = try TemporaryDirectory()
        #expect(try HubctlProcess.run(["demo", "demo"], in: tmp.path).exitCode == 0)
        let topology = tmp.path + "/demo/topology.json"
        let text = try String(contentsOfFile: topology, encoding: .utf8).replacingOccurrences(
            of: #""hub": { "path": "demo.hub.sqlite" }"#, with: #""hub": { "url": "postgres://hubctl:hunter2@localhost/hub" }"#)
        try text.write(toFile: topology, atomically: true, encoding: .utf8)
        let result = try HubctlProcess.run(["validate", "-t", topology])
        #expect(result.exitCode == 78)
        #expect(result.stderr.contains("password written in the topology"))
        #expect(!(result.stdout + result.stderr).contains("hunter2"))
    }
}
