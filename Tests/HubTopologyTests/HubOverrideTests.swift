import Foundation
import HubCore
import HubTopology
import Testing

/// `HUBCTL_HUB` and `HUBCTL_HUB_SCHEMA`: one topology in git, another hub per environment,
/// checked as the topology's own `hub` is.
@Suite struct HubOverrideTests {
    func overridden(_ environment: [String: String], hub: String = "") throws -> Topology {
        let base = try valid(topology(topExtra: hub), environment: environment)
        return try TopologyLoader.overridingHub(base, environment: environment, workingDirectory: "/srv/run")
    }

    func problems(_ environment: [String: String], hub: String = "") -> [String] {
        do {
            _ = try overridden(environment, hub: hub)
            return []
        } catch let error as TopologyError {
            return [error.description]
        } catch {
            return ["\(error)"]
        }
    }

    @Test("Without the variables, or with them empty, the topology's hub is used")
    func withoutTheVariablesTheTopologysHubIsUsed() throws {
        for environment in [[:], ["HUBCTL_HUB": "", "HUBCTL_HUB_SCHEMA": " "]] {
            let hub = try overridden(environment)
            #expect(hub.hubPath == "/work/topo/test.hub.sqlite")
            #expect(hub.hubURL == nil && hub.hubOverrides.isEmpty)
        }
    }

    @Test("HUBCTL_HUB names a PostgreSQL hub whose password comes from the environment and is redacted")
    func aPostgresURLReplacesTheTopologysHub() throws {
        let hub = try overridden(["HUBCTL_HUB": "postgres://hubctl:${STAGING_PW}@db:5432/hubs", "HUBCTL_HUB_SCHEMA": "staging",
                                  "STAGING_PW": "s3cret-pw"])
        #expect(hub.hubURL == "postgres://hubctl:s3cret-pw@db:5432/hubs")
        #expect(hub.hubSchema == "staging")
        #expect(hub.hubOverrides == ["HUBCTL_HUB", "HUBCTL_HUB_SCHEMA"])
        #expect(!hub.secrets.redact("failed: s3cret-pw").contains("s3cret-pw"))
    }

    @Test("HUBCTL_HUB names a SQLite file relative to the working directory, replacing a PostgreSQL hub")
    func aPathReplacesAPostgresHub() throws {
        let hub = try overridden(["HUBCTL_HUB": "hubs/ci hub.sqlite", "PW": "x"],
                                 hub: #""hub": {"url": "postgres://u:${PW}@db/hubs", "schema": "prod"}"#)
        #expect(hub.hubPath == "/srv/run/hubs/ci hub.sqlite")
        #expect(hub.hubURL == nil && hub.hubSchema == nil)
        #expect(hub.hubOverrides == ["HUBCTL_HUB"])
    }

    @Test("HUBCTL_HUB_SCHEMA alone moves the topology's PostgreSQL hub to another schema")
    func aSchemaAloneChangesTheSchema() throws {
        let hub = try overridden(["HUBCTL_HUB_SCHEMA": "qa \"1\"", "PW": "x"],
                                 hub: #""hub": {"url": "postgres://u:${PW}@db/hubs", "schema": "prod"}"#)
        #expect(hub.hubURL == "postgres://u:x@db/hubs")
        #expect(hub.hubSchema == "qa \"1\"")
        #expect(hub.hubOverrides == ["HUBCTL_HUB_SCHEMA"])
    }

    @Test("A password written in HUBCTL_HUB is refused by the variable's name, without printing it")
    func aLiteralPasswordIsRefused() {
        let found = problems(["HUBCTL_HUB": "postgres://hubctl:hunter22@db/hubs"])
        #expect(found.count == 1 && found[0].contains("HUBCTL_HUB: the URL holds a password"), "\(found)")
        #expect(!found.joined().contains("hunter22"))
    }

    @Test("A variable the URL needs that is not set, a bad URL and a schema for a SQLite hub are precise errors")
    func badValuesNameTheVariable() {
        let unset = problems(["HUBCTL_HUB": "postgres://hubctl:${NOPE}@db/hubs"]).joined()
        #expect(unset.contains("HUBCTL_HUB: ") && unset.contains("'NOPE' is not set"), "\(unset)")
        let port = problems(["HUBCTL_HUB": "postgres://db:port/hubs"]).joined()
        #expect(port.contains("HUBCTL_HUB: "), "\(port)")
        let mysql = problems(["HUBCTL_HUB": "mysql://root:hunter22@db/hubs"]).joined()
        #expect(mysql.contains("HUBCTL_HUB: expected a postgres:// URL or a SQLite file's path, not a mysql:// URL"), "\(mysql)")
        #expect(!mysql.contains("hunter22"))
        let schemaWithPath = problems(["HUBCTL_HUB": "ci.hub.sqlite", "HUBCTL_HUB_SCHEMA": "x"]).joined()
        #expect(schemaWithPath.contains("HUBCTL_HUB: HUBCTL_HUB_SCHEMA needs a PostgreSQL URL"), "\(schemaWithPath)")
        let schemaAlone = problems(["HUBCTL_HUB_SCHEMA": "x"]).joined()
        #expect(schemaAlone.contains("HUBCTL_HUB_SCHEMA: a schema needs a PostgreSQL hub")
                && schemaAlone.contains("/work/topo/test.hub.sqlite"), "\(schemaAlone)")
    }

    @Test("Loading a topology file applies the variables")
    func loadingAFileAppliesTheVariables() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hub-override-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("topology.json").path
        try topology().write(toFile: path, atomically: true, encoding: .utf8)
        let hub = try TopologyLoader.load(path: path, environment: ["HUBCTL_HUB": "/data/hub.sqlite"])
        #expect(hub.hubPath == "/data/hub.sqlite" && hub.hubOverrides == ["HUBCTL_HUB"])
        #expect(try TopologyLoader.load(path: path, environment: [:]).hubOverrides.isEmpty)
    }
}
