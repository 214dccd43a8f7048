import Foundation
import GRDB
import HubCore
import HubTestServers
import HubTesting
import Testing

/// PostgreSQL change capture end to end: `capture install` with psql watching, `hubctl run` on a
/// PostgreSQL system read only every 10 minutes and a SQLite system, an UPDATE made with psql
/// reaching SQLite through the notification, a killed listener connection coming back, and
/// `capture remove` leaving the schema as it was.
@Suite(.serialized, .enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct CaptureEndToEndTests {
    static let topology = """
    {
      "version": 1,
      "name": "capture-e2e",
      "hub": { "path": "capture.hub.sqlite" },
      "entities": {
        "customer": {
          "fields": { "email": { "type": "string", "required": true }, "first_name": { "type": "string" } },
          "match": [["email"]]
        }
      },
      "systems": {
        "billing": {
          "adapter": "postgres",
          "connection": { "host": "${CAP_PGHOST}", "port": "${CAP_PGPORT}", "database": "${CAP_PGDATABASE}",
                          "user": "${CAP_PGUSER}", "password": "${CAP_PGPASSWORD}", "schema": "${CAP_SCHEMA}", "sslmode": "disable" },
          "schedule": { "every": "10m", "jitter": "0%" },
          "capture": { "notify": true, "debounce": "50ms" },
          "entities": {
            "customer": { "object": "customers", "id": "id", "cursor": "updated_at",
                          "fields": { "email": "email", "first_name": "first_name" } }
          }
        },
        "app": {
          "adapter": "sqlite",
          "connection": { "path": "app.db" },
          "schedule": { "every": "10m", "jitter": "0%" },
          "entities": {
            "customer": { "object": "users", "id": "id", "fields": { "email": "email", "first_name": "first_name" } }
          }
        }
      }
    }
    """

    @Test("capture install, then run: a psql UPDATE reaches SQLite through pg_notify long before the 10-minute schedule")
    func notificationsWakeTheRun() async throws {
        let pg = try CapturePostgres(prefix: "cap_")
        let (postgres, schema, environment) = (pg.server, pg.schema, pg.environment)
        let tmp = try TemporaryDirectory()
        let dir = tmp.path
        func psql(_ sql: String) async throws -> String { try await pg.psql(sql) }
        func sqlite(_ sql: String) async throws -> String { try await SystemTools.must("sqlite3", [dir + "/app.db", sql]) }
        try await psql("""
            CREATE SCHEMA \(schema);
            SET search_path TO \(schema);
            CREATE TABLE customers (id serial PRIMARY KEY, email text UNIQUE, first_name text,
                                    updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
            CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS
              $$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$;
            CREATE TRIGGER customers_touch BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION touch();
            INSERT INTO customers (email, first_name) VALUES ('ann@example.com', 'Ann');
            """)
        defer { Task { _ = try? await psql("DROP SCHEMA \(schema) CASCADE") } }
        try await sqlite("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT)")
        try Self.topology.write(toFile: dir + "/topology.json", atomically: true, encoding: .utf8)
        let topo = dir + "/topology.json"
        let objects = "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '\(schema)' AND p.proname = 'hubctl_record_change'"

        // --dry-run prints the transaction and changes nothing.
        let dry = try await SystemTools.hubctl(["capture", "install", "billing", "-t", topo, "--dry-run"], environment: environment)
        #expect(dry.exitCode == 0, "\(dry.stderr)")
        #expect(dry.stdout.hasPrefix("BEGIN;\nCREATE TABLE IF NOT EXISTS \"\(schema)\".\"hubctl_changes\""))
        #expect(dry.stdout.contains("CREATE OR REPLACE TRIGGER \"hubctl_capture\" AFTER INSERT OR UPDATE OR DELETE ON \"\(schema)\".\"customers\""))
        #expect(dry.stdout.contains("COMMIT;\n-- dry run: nothing was changed"))
        #expect(try await psql(objects).trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        // Installing prints the same SQL and runs it; installing again changes nothing.
        for _ in 0..<2 {
            let install = try await SystemTools.hubctl(["capture", "install", "billing", "-t", topo], environment: environment)
            #expect(install.exitCode == 0, "\(install.stderr)")
            #expect(install.stdout.hasPrefix(dry.stdout.components(separatedBy: "COMMIT;")[0]))
            #expect(!install.stdout.contains(postgres.password) && !install.stderr.contains(postgres.password))
        }
        #expect(try await psql(objects).trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        // Not a postgres system: 64.
        #expect(try await SystemTools.hubctl(["capture", "install", "app", "-t", topo], environment: environment).exitCode == 64)

        let running = try HubctlProcess.start(["run", "-t", topo, "--listen", "127.0.0.1:0", "--log-format", "json"],
                                              environment: environment)
        var stopped = false
        defer { if !stopped { kill(running.pid, SIGKILL); _ = running.wait() } }
        try await RunEndToEndTests.eventually("the first cycle") { try self.rows(dir).contains("ann@example.com|Ann") }
        try await RunEndToEndTests.eventually("the listener") { running.stderrSoFar().contains("\"event\":\"capture.listening\"") }
        let port = try #require(RunEndToEndTests.port(running))

        // An UPDATE made with psql reaches SQLite: the schedule would only read billing in 10 minutes.
        func cyclesFinished() -> Int { running.stderrSoFar().components(separatedBy: "\"event\":\"cycle.finished\"").count - 1 }
        try await RunEndToEndTests.eventually("the first cycle's end") { cyclesFinished() >= 1 }
        let finishedBefore = cyclesFinished()
        try await psql("UPDATE \(schema).customers SET first_name = 'Annabel' WHERE email = 'ann@example.com'")
        try await RunEndToEndTests.eventually("the psql edit in SQLite") { try self.rows(dir).contains("ann@example.com|Annabel") }
        // The value is in SQLite before the cycle that wrote it has ended and recorded its metrics.
        try await RunEndToEndTests.eventually("the end of the cycle it woke") { cyclesFinished() > finishedBefore }
        let samples = try PrometheusText.parse(try await RunEndToEndTests.curl(["http://127.0.0.1:\(port)/metrics"]).body)
        #expect((samples[#"hubctl_wakeups_total{trigger="pg_notify",system="billing"}"#] ?? 0) >= 1)
        #expect((samples[#"hubctl_pg_notifications_total{system="billing"}"#] ?? 0) >= 1)
        #expect(samples.keys.contains { $0.hasPrefix(#"hubctl_trigger_to_synced_seconds_count{trigger="pg_notify",system="billing"}"#) })

        // The listener's connection killed: it reconnects, reads once, and notifications work again.
        try await psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'hubctl-listen' AND datname = current_database()")
        try await RunEndToEndTests.eventually("the listener back") { running.stderrSoFar().contains("\"reconnected\":true") }
        try await psql("INSERT INTO \(schema).customers (email, first_name) VALUES ('bob@example.com', 'Bob')")
        try await RunEndToEndTests.eventually("the psql insert in SQLite") { try self.rows(dir).contains("bob@example.com|Bob") }

        kill(running.pid, SIGTERM)
        let result = running.wait()
        stopped = true
        #expect(result.exitCode == 0)
        #expect(result.stderr.contains("\"event\":\"capture.dropped\""))
        #expect(!result.stderr.contains(postgres.password))

        // remove drops exactly what install created.
        let remove = try await SystemTools.hubctl(["capture", "remove", "billing", "-t", topo], environment: environment)
        #expect(remove.exitCode == 0, "\(remove.stderr)")
        #expect(remove.stdout.contains("DROP TRIGGER IF EXISTS \"hubctl_capture\" ON \"\(schema)\".\"customers\";"))
        #expect(try await psql(objects).trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        let left = try await psql("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = '\(schema)'")
        #expect(left.trimmingCharacters(in: .whitespacesAndNewlines) == "customers")
        let triggers = try await psql("SELECT string_agg(tgname, ',') FROM pg_trigger WHERE tgrelid = '\(schema).customers'::regclass")
        #expect(triggers.trimmingCharacters(in: .whitespacesAndNewlines) == "customers_touch")
    }

    /// SQLite's users as `email|first_name` lines.
    func rows(_ dir: String) throws -> String {
        try DatabaseQueue(path: dir + "/app.db").read { db in
            try String.fetchAll(db, sql: "SELECT email || '|' || coalesce(first_name, '') FROM users ORDER BY email")
        }.joined(separator: "\n")
    }
}
