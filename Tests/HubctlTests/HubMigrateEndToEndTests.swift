import Foundation
import GRDB
import HubCore
import HubTestServers
import HubTesting
import Testing

/// `hubctl hub migrate` through the binary: a demo hub with conflicts, quarantine, a merge and
/// unmerge, a deleted entity and hostile IDs copied to PostgreSQL and back, compared row for row;
/// the copy syncs quietly; what it refuses.
@Suite(.serialized, .enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct HubMigrateEndToEndTests {
    typealias Demo = AuditEndToEndTests.Demo

    /// Every table of a SQLite hub, rows as text in key order (the run lock without its holder
    /// and generation, which a copy does not carry over as they are).
    static func dump(_ path: String) throws -> [String: [String]] {
        let db = try DatabaseQueue(path: path)
        defer { try? db.close() }
        return try db.read { db in
            let tables = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name != 'grdb_migrations'
                """)
            var out: [String: [String]] = [:]
            for table in tables {
                let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table])
                    .filter { table != "run_lock" || !["generation", "acquired_at"].contains($0) }
                let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                out[table] = try Row.fetchAll(db, sql: "SELECT \(list) FROM \"\(table)\" ORDER BY \(list)").map { row in
                    row.databaseValues.map { "\($0)" }.joined(separator: " | ")
                }
            }
            return out
        }
    }

    /// The demo after a history worth copying: a hostile ID, a conflict, a merge undone, a
    /// deleted customer and a quarantined row.
    static func eventfulDemo() throws -> Demo {
        let demo = try Demo()
        try demo.sql("app.db", """
            INSERT INTO users (id, email, full_name, country) VALUES ('it''s "q" ?$1 -- x', 'q@example.com', 'Quinn O''Hara', 'Ireland');
            INSERT INTO users (id, email, full_name, country) VALUES ('u-102', 'ann@work.example', 'Ann Lee', 'Germany');
            """)
        #expect(try demo.run(["sync-all"]).exitCode == 0)
        // Dan moved in two systems at once, to two countries: a conflict, settled by the topology's rule.
        try demo.sql("crm.db", "UPDATE contacts SET country_code = 'DE' WHERE email_address = 'dan@example.com'")
        try demo.sql("app.db", "UPDATE users SET country = 'USA' WHERE email = 'dan@example.com'")
        #expect(try demo.run(["merge", "customer", "crm:1", "app:u-102", "--reason", "same person", "--by", "ana"]).exitCode == 0)
        let sync = try demo.run(["sync-all"])
        #expect([0, 3].contains(sync.exitCode), "\(sync.stderr)")
        let links = try demo.run(["links", "customer", "crm:1", "--json"])
        let absorbed = try #require(try links.json().objectValue?["result"]?.objectValue?["absorbed"]?.arrayValue?.first?.stringValue)
        #expect(try demo.run(["unmerge", "customer", absorbed, "--reason", "two people after all"]).exitCode == 0)
        try demo.sql("app.db", "DELETE FROM users WHERE email = 'q@example.com'")
        let path = demo.dir + "/sheet/customers.csv"
        try (try String(contentsOfFile: path, encoding: .utf8) + ",fay@example.com,Fay,Moss,Chile\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect([0, 3].contains(try demo.run(["sync-all"]).exitCode))
        return demo
    }

    @Test("SQLite to PostgreSQL and back keeps every table row for row; the PostgreSQL copy audits the same and syncs quietly")
    func aRoundTripKeepsEveryRow() throws {
        let postgres = try TestServices.requirePostgres()
        let demo = try Self.eventfulDemo()
        let original = demo.dir + "/demo.hub.sqlite"
        let before = try Self.dump(original)
        #expect(before["conflict"]?.isEmpty == false, "the demo recorded no conflict")
        #expect(before["quarantine"]?.isEmpty == false, "the demo quarantined nothing")
        #expect(before["stewardship"]?.count == 2)
        #expect(try SyncAllEndToEndTests.rows(original, "SELECT count(*) AS n FROM entity WHERE deleted_at IS NOT NULL")
                .first?["n"] as Int? ?? 0 >= 1)
        let auditBefore = try AuditEndToEndTests.digest(try demo.run(["audit", "--json"]))

        let schema = "mig \"e2e\" " + UUID().uuidString.prefix(8).lowercased()
        let url = "postgres://\(postgres.user):${HUB_PGPASSWORD}@\(postgres.host):\(postgres.port)/\(postgres.database)?sslmode=disable"
        let environment = ["HUB_PGPASSWORD": postgres.password]
        func hubctl(_ arguments: [String], topology: String) throws -> HubctlProcess.Result {
            let result = try HubctlProcess.run(arguments + ["-t", topology], environment: environment)
            #expect(!(result.stdout + result.stderr).contains(postgres.password), "the hub's password was printed")
            return result
        }
        defer {
            let quoted = "\"" + schema.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            Task { _ = try? await SystemTools.run("psql", ["-h", postgres.host, "-p", String(postgres.port), "-U", postgres.user,
                                                           "-d", postgres.database, "-c", "DROP SCHEMA \(quoted) CASCADE"],
                                                   environment: ["PGPASSWORD": postgres.password]) }
        }

        let there = try hubctl(["hub", "migrate", "--to", url, "--schema", schema], topology: demo.topology)
        #expect(there.exitCode == 0, "\(there.stdout)\(there.stderr)")
        #expect(there.stdout.contains("Audit (hub only) of the target:"))
        let last = there.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("Copied and verified. Now set the topology's hub to {"), "\(last)")
        #expect(last.contains("${HUB_PGPASSWORD}"))

        // The same topology on the PostgreSQL hub, which is then copied back into a new SQLite file.
        let pgTopology = demo.dir + "/pg-topology.json"
        let hubMember = try #require(last.range(of: "hub to ").map { String(last[$0.upperBound...]) }?
            .replacingOccurrences(of: " and run `hubctl audit`.", with: ""))
        try (try String(contentsOfFile: demo.topology, encoding: .utf8)
            .replacingOccurrences(of: #""hub": { "path": "demo.hub.sqlite" }"#, with: "\"hub\": \(hubMember)"))
            .write(toFile: pgTopology, atomically: true, encoding: .utf8)
        let back = demo.dir + "/back.hub.sqlite"
        let home = try hubctl(["hub", "migrate", "--to", back, "--json"], topology: pgTopology)
        #expect(home.exitCode == 0, "\(home.stdout)\(home.stderr)")
        let result = try home.result().objectValue
        #expect(result?["ok"] == true)
        #expect(result?["tables"]?.arrayValue?.allSatisfy { $0.objectValue?["matches"] == true } == true)
        let after = try Self.dump(back)
        #expect(Set(after.keys) == Set(before.keys))
        for (table, rows) in before { #expect(after[table] == rows, "table \(table) differs after the round trip") }

        // On the PostgreSQL hub: the same audit, a dry run that writes nothing, and a quiet sync.
        #expect(try AuditEndToEndTests.digest(try hubctl(["audit", "--json"], topology: pgTopology)) == auditBefore)
        let dry = try hubctl(["sync-all", "--dry-run"], topology: pgTopology)
        #expect([0, 3].contains(dry.exitCode), "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("nothing was written"))
        let quiet = try hubctl(["sync-all", "--json"], topology: pgTopology)
        #expect([0, 3].contains(quiet.exitCode), "\(quiet.stderr)")
        let totals = try quiet.result().objectValue?["totals"]?.objectValue
        for direction in ["pull", "push"] {
            let counts = totals?[direction]?.objectValue
            #expect(counts?["created"] == 0 && counts?["updated"] == 0 && counts?["deleted"] == 0, "\(direction): \(quiet.stdout)")
        }

        // Refusals: the filled schema again, then --replace; the hub itself; a hub a live run holds.
        let again = try hubctl(["hub", "migrate", "--to", url, "--schema", schema], topology: demo.topology)
        #expect(again.exitCode == 1)
        #expect(again.stderr.contains("already holds a hub's data") && again.stderr.contains("--replace"))
        #expect(try hubctl(["hub", "migrate", "--to", url, "--schema", schema, "--replace"], topology: demo.topology).exitCode == 0)
        let itself = try hubctl(["hub", "migrate", "--to", original], topology: demo.topology)
        #expect(itself.exitCode == 64, "\(itself.stderr)")
        #expect(itself.stderr.contains("is the source hub itself"))
        let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "'", with: "''")
        let now = Timestamp.string(Date())
        try SyncAllEndToEndTests.execute(original, """
            UPDATE run_lock SET generation = generation + 1, run_id = 'other', pid = \(getpid()), host = '\(host)',
                acquired_at = '\(now)', heartbeat_at = '\(now)'
            """)
        let locked = try hubctl(["hub", "migrate", "--to", demo.dir + "/third.hub.sqlite"], topology: demo.topology)
        #expect(locked.exitCode == 75)
        #expect(locked.stderr.contains("another run holds this hub"))
        #expect(!FileManager.default.fileExists(atPath: demo.dir + "/third.hub.sqlite"), "a refused migration left a new, empty hub")
        let literal = try hubctl(["hub", "migrate", "--to", "postgres://u:hunter22@localhost/db"], topology: demo.topology)
        #expect(literal.exitCode == 78)
        #expect(!(literal.stdout + literal.stderr).contains("hunter22"))
    }
}
