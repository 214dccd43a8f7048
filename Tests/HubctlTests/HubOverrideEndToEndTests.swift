import Foundation
import HubCore
import HubTestServers
import HubTesting
import Testing

/// `HUBCTL_HUB` and `HUBCTL_HUB_SCHEMA` with the real `hubctl`: one topology, the hub chosen by
/// the environment, said by `validate` and `status`, refused precisely when wrong.
@Suite struct HubOverrideEndToEndTests {
    @Test("HUBCTL_HUB moves the hub to another SQLite file; validate and status say so; the topology's file is never made")
    func aPathMovesTheHub() throws {
        let tmp = try TemporaryDirectory()
        try SyncAllEndToEndTests.makeSystems(in: tmp.path)
        let topology = tmp.path + "/topology.json"
        let environment = ["HUBCTL_HUB": "hubs/ci hub.sqlite"]
        try FileManager.default.createDirectory(atPath: tmp.path + "/hubs", withIntermediateDirectories: true)

        let validate = try HubctlProcess.run(["validate", "-t", topology], in: tmp.path, environment: environment)
        #expect(validate.exitCode == 0, "\(validate.stderr)")
        #expect(validate.stdout.contains("Hub: \(tmp.path)/hubs/ci hub.sqlite (from HUBCTL_HUB)"), "\(validate.stdout)")
        let sync = try HubctlProcess.run(["sync-all", "-t", topology], in: tmp.path, environment: environment)
        #expect(sync.exitCode == 0, "\(sync.stderr)")
        let status = try HubctlProcess.run(["status", "--json", "-t", topology], in: tmp.path, environment: environment)
        let hub = try status.result().objectValue?["hub"]?.objectValue
        #expect(hub?["location"]?.stringValue == "\(tmp.path)/hubs/ci hub.sqlite" && hub?["from"] == "HUBCTL_HUB", "\(status.stdout)")

        let moved = FixtureHub(sqliteFile: tmp.path + "/hubs/ci hub.sqlite")
        #expect(try moved.int("SELECT count(*) FROM entity") == 4)
        #expect(try moved.int("SELECT count(*) FROM xref") == 12)
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/e2e.hub.sqlite"))
    }

    @Test("HUBCTL_HUB and HUBCTL_HUB_SCHEMA put the hub in PostgreSQL, its password from the environment and never printed",
          .enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
    func aURLPutsTheHubInPostgres() throws {
        let server = try TestServices.requirePostgres()
        let tmp = try TemporaryDirectory()
        try SyncAllEndToEndTests.makeSystems(in: tmp.path)
        let topology = tmp.path + "/topology.json"
        let schema = "override " + UUID().uuidString.prefix(8).lowercased()
        let environment = ["HUBCTL_HUB": "postgres://\(server.user):${HUB_PW}@\(server.host):\(server.port)/\(server.database)",
                           "HUBCTL_HUB_SCHEMA": schema, "HUB_PW": server.password]
        let sync = try HubctlProcess.run(["sync-all", "-t", topology], environment: environment)
        #expect(sync.exitCode == 0, "\(sync.stderr)")
        let status = try HubctlProcess.run(["status", "-t", topology], environment: environment)
        #expect(status.stdout.contains("Hub: postgres://\(server.user)@\(server.host):\(server.port)/\(server.database)?schema=\(schema) "
                                       + "(from HUBCTL_HUB and HUBCTL_HUB_SCHEMA)"), "\(status.stdout)")
        #expect(!(sync.stdout + sync.stderr + status.stdout + status.stderr).contains(server.password))
        let rows = try ExternalTool.runSync("psql", [
            "-X", "-A", "-t", "-h", server.host, "-p", "\(server.port)", "-U", server.user, "-d", server.database,
            "-c", "SELECT count(*) FROM \"\(schema)\".entity",
        ], environment: ["PGPASSWORD": server.password])
        #expect(rows.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "4", "\(rows.stderr)")
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/e2e.hub.sqlite"))
    }

    @Test("A password written in HUBCTL_HUB, or a schema for a SQLite hub, exits 78 naming the variable, before connecting")
    func badValuesAreRefusedByName() throws {
        let tmp = try TemporaryDirectory()
        try SyncAllEndToEndTests.makeSystems(in: tmp.path)
        let topology = tmp.path + "/topology.json"
        let literal = try HubctlProcess.run(["sync-all", "-t", topology],
                                            environment: ["HUBCTL_HUB": "postgres://hubctl:hunter22@127.0.0.1:1/hubs"])
        #expect(literal.exitCode == 78)
        #expect(literal.stderr.contains("HUBCTL_HUB: the URL holds a password"), "\(literal.stderr)")
        #expect(!(literal.stdout + literal.stderr).contains("hunter22"))
        let schema = try HubctlProcess.run(["validate", "-t", topology], environment: ["HUBCTL_HUB_SCHEMA": "staging"])
        #expect(schema.exitCode == 78)
        #expect((schema.stdout + schema.stderr).contains("HUBCTL_HUB_SCHEMA: a schema needs a PostgreSQL hub"), "\(schema.stderr)")
        #expect(try SyncAllEndToEndTests.writeCount(tmp.path + "/crm.db") == 0)
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/e2e.hub.sqlite"))
    }

    @Test("A PostgreSQL hub that cannot be reached: sync-all, run --once and status exit 1 naming the hub, not its password, and what to check")
    func anUnreachableHubFailsNamingIt() throws {
        let tmp = try TemporaryDirectory()
        try SyncAllEndToEndTests.makeSystems(in: tmp.path)
        let topology = tmp.path + "/topology.json"
        // Nothing listens on port 1: the connection is refused at once.
        let environment = ["HUBCTL_HUB": "postgres://hubctl:${HUB_PW}@127.0.0.1:1/hubs", "HUB_PW": "pw-never-printed"]
        for command in [["sync-all"], ["run", "--once", "--listen", "off"], ["status"]] {
            let result = try HubctlProcess.run(command + ["-t", topology], environment: environment)
            let output = result.stdout + result.stderr
            #expect(result.exitCode == 1, "\(command): \(output)")
            #expect(result.stderr.contains("hub postgres://hubctl@127.0.0.1:1/hubs (from HUBCTL_HUB)"), "\(command): \(output)")
            #expect(result.stderr.contains("the connection was refused"), "\(command): \(output)")
            #expect(result.stderr.contains("Hint: check that PostgreSQL is running and reachable there, that HUBCTL_HUB's user "
                                           + "and password are right"), "\(command): \(output)")
            #expect(!output.contains("pw-never-printed"))
        }
        #expect(try SyncAllEndToEndTests.writeCount(tmp.path + "/crm.db") == 0)
        #expect(try SyncAllEndToEndTests.writeCount(tmp.path + "/billing.db") == 0)
    }

    @Test("demo --reset refuses to start the systems over while HUBCTL_HUB keeps another hub, and deletes nothing")
    func demoResetRefusesAnotherHub() throws {
        let tmp = try TemporaryDirectory()
        let hub = tmp.path + "/elsewhere.hub.sqlite"
        #expect(try HubctlProcess.run(["demo", "demo"], in: tmp.path, environment: ["HUBCTL_HUB": hub]).exitCode == 0)
        let before = try FixtureHub(sqliteFile: hub).int("SELECT count(*) FROM xref")
        let reset = try HubctlProcess.run(["demo", "demo", "--reset"], in: tmp.path, environment: ["HUBCTL_HUB": hub])
        #expect(reset.exitCode == 64)
        #expect(reset.stderr.contains("--reset deletes the demo's own SQLite hub, but HUBCTL_HUB chooses another hub"), "\(reset.stderr)")
        #expect(FileManager.default.fileExists(atPath: tmp.path + "/demo/crm.db"))
        #expect(try FixtureHub(sqliteFile: hub).int("SELECT count(*) FROM xref") == before && before > 0)
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/demo/demo.hub.sqlite"))
    }
}
