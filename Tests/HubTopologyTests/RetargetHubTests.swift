import HubCore
import HubTopology
import Testing

/// `TopologyLoader.retargetingHub`: the `--to` of `hubctl hub migrate`, checked as a topology's `hub` is.
@Suite struct RetargetHubTests {
    func retarget(_ to: String, schema: String? = nil, environment: [String: String] = [:]) throws -> Topology {
        try TopologyLoader.retargetingHub(try valid(topology()), to: to, schema: schema, source: "--to",
                                          baseDirectory: "/srv/run", environment: environment)
    }

    func problems(_ to: String, schema: String? = nil, environment: [String: String] = [:]) -> [String] {
        do {
            _ = try retarget(to, schema: schema, environment: environment)
            return []
        } catch let error as TopologyError {
            return error.diagnostics.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test("A PostgreSQL URL takes its password from the environment, which joins the topology's secrets")
    func aURLTakesItsPasswordFromTheEnvironment() throws {
        let hub = try retarget("postgres://hubctl:${HUB_PW}@db:5432/hubs", schema: "c 360", environment: ["HUB_PW": "s3cret-pw"])
        #expect(hub.hubURL == "postgres://hubctl:s3cret-pw@db:5432/hubs")
        #expect(hub.hubSchema == "c 360")
        #expect(hub.secrets.redact("x s3cret-pw y") != "x s3cret-pw y")
    }

    @Test("A password written in the URL, or a missing variable, is refused without printing the password")
    func aLiteralPasswordIsRefused() {
        let literal = problems("postgres://hubctl:hunter22@db/hubs")
        #expect(literal.count == 1 && literal[0].hasPrefix("--to"), "\(literal)")
        #expect(!literal.joined().contains("hunter22"))
        #expect(problems("postgres://hubctl:${NOPE}@db/hubs").first?.contains("'NOPE' is not set") == true)
    }

    @Test("A path is a SQLite hub, relative to the working directory; --schema with it is refused")
    func aPathIsASQLiteHub() throws {
        let hub = try retarget("copies/new.hub.sqlite")
        #expect(hub.hubPath == "/srv/run/copies/new.hub.sqlite")
        #expect(hub.hubURL == nil)
        #expect(problems("new.hub.sqlite", schema: "x").first?.contains("--schema needs a PostgreSQL URL") == true)
    }
}
