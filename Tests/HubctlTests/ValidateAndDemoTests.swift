import Foundation
import HubCore
import HubTesting
import Testing

@Suite struct ValidateAndDemoTests {
    @Test func validateReportsEveryPlantedMistakeWithItsPathAndExits78() throws {
        let tmp = try TemporaryDirectory()
        let broken = SyncAllEndToEndTests.topology
            .replacingOccurrences(of: "\"email\": \"email_address\"", with: "\"emial\": \"email_address\"")
            .replacingOccurrences(of: "\"adapter\": \"csv\"", with: "\"adapter\": \"cvs\"")
            .replacingOccurrences(of: "\"type\": \"boolean\"", with: "\"type\": \"bool\"")
            .replacingOccurrences(of: "\"connection\": { \"path\": \"billing.db\" }",
                                  with: "\"connection\": { \"path\": \"${BILLING_DB_FILE}\" }")
        try broken.write(toFile: tmp.path + "/topology.json", atomically: true, encoding: .utf8)
        let result = try HubctlProcess.run(["validate", "-t", tmp.path + "/topology.json"])
        #expect(result.exitCode == 78)
        let text = result.stderr
        #expect(text.contains("systems.crm.entities.customer.fields.emial: unknown canonical field 'emial' (customer has: email, first_name"))
        #expect(text.contains("systems.sheet.adapter: unknown adapter 'cvs'"))
        #expect(text.contains("entities.customer.fields.active.type: unknown field type 'bool'"))
        #expect(text.contains("systems.billing.connection.path: environment variable 'BILLING_DB_FILE' is not set"))

        let json = try HubctlProcess.run(["validate", "--json", "-t", tmp.path + "/topology.json"])
        #expect(json.exitCode == 78)
        let doc = try json.result().objectValue
        #expect(doc?["valid"] == false)
        #expect((doc?["error_count"]?.intValue ?? 0) >= 4)
        #expect((try json.json().objectValue?["diagnostics"]?.arrayValue?.count ?? 0) >= 4)

        // Nothing was connected to or created.
        #expect(try !FixtureHub(tmp.path, "e2e.hub.sqlite").exists())
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/crm.db"))
    }

    @Test func validateAcceptsAGoodTopology() throws {
        let tmp = try TemporaryDirectory()
        try SyncAllEndToEndTests.topology.write(toFile: tmp.path + "/topology.json", atomically: true, encoding: .utf8)
        let result = try HubctlProcess.run(["validate"], in: tmp.path)
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdout.contains("topology.json is valid: 1 entities (customer); 3 systems"))
    }

    @Test func syncAllRefusesAnInvalidTopologyBeforeConnecting() throws {
        let tmp = try TemporaryDirectory()
        try SyncAllEndToEndTests.makeSystems(in: tmp.path)
        let broken = SyncAllEndToEndTests.topology.replacingOccurrences(of: "\"version\": 1", with: "\"version\": 2")
        try broken.write(toFile: tmp.path + "/topology.json", atomically: true, encoding: .utf8)
        let result = try HubctlProcess.run(["sync-all", "-t", tmp.path + "/topology.json"])
        #expect(result.exitCode == 78)
        #expect(result.stderr.contains("version: unsupported topology version 2"))
        #expect(try SyncAllEndToEndTests.writeCount(tmp.path + "/crm.db") == 0)
    }

    @Test func aHubSyncedBySyncAllShowsItsStateInStatusAFailingSystemIncludedUntilItIsReadAgain() throws {
        let tmp = try TemporaryDirectory()
        #expect(try HubctlProcess.run(["demo", "demo"], in: tmp.path).exitCode == 0)
        let dir = tmp.path + "/demo", topology = dir + "/topology.json"
        let healthy = try HubctlProcess.run(["status", "-t", topology])
        #expect(healthy.exitCode == 0, "\(healthy.stdout)")
        #expect(healthy.stdout.contains("Every system is on time"))

        try FileManager.default.moveItem(atPath: dir + "/sheet/customers.csv", toPath: tmp.path + "/away.csv")
        #expect(try HubctlProcess.run(["sync-all", "-t", topology]).exitCode == 3)
        let failing = try HubctlProcess.run(["status", "-t", topology, "--json"])
        #expect(failing.exitCode == 1)
        let rows = try failing.result()["systems"]?.arrayValue ?? []
        #expect(rows.contains { $0["system"] == "sheet" && $0["state"] == "failing" }, "\(failing.stdout)")
        #expect(rows.filter { $0["state"] == "on_time" }.count == 4)

        // A cycle that does not read the sheet leaves it failing; one that reads it clears it.
        try FileManager.default.moveItem(atPath: tmp.path + "/away.csv", toPath: dir + "/sheet/customers.csv")
        #expect(try HubctlProcess.run(["sync-all", "-t", topology, "--only", "crm"]).exitCode == 0)
        #expect(try HubctlProcess.run(["status", "-t", topology]).exitCode == 1)
        #expect(try HubctlProcess.run(["sync-all", "-t", topology]).exitCode == 0)
        #expect(try HubctlProcess.run(["status", "-t", topology]).exitCode == 0)
    }

    @Test func theDemoSyncsThreeSystemsAndRunningItTwiceIsSafe() throws {
        let tmp = try TemporaryDirectory()
        let first = try HubctlProcess.run(["demo", "demo"], in: tmp.path)
        #expect(first.exitCode == 0, "\(first.stderr)\(first.stdout)")
        #expect(first.stdout.contains("Every customer is now in every system"))
        let dir = tmp.path + "/demo"
        let users = try SyncAllEndToEndTests.rows(dir + "/app.db", "SELECT email FROM users")
        #expect(users.count == 5)
        let csv = try String(contentsOfFile: dir + "/sheet/customers.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 6)

        let second = try HubctlProcess.run(["demo", "demo"], in: tmp.path)
        #expect(second.exitCode == 0, "\(second.stderr)")
        #expect(second.stdout.contains("exists already"))
        #expect(try SyncAllEndToEndTests.rows(dir + "/app.db", "SELECT email FROM users").count == 5)

        let history = try HubctlProcess.run(["history", "-t", dir + "/topology.json", "--json"])
        #expect(history.exitCode == 0)
        #expect(try history.result().objectValue?["runs"]?.arrayValue?.count == 2)
    }

    @Test func theDemoTopologyIsTheExampleInTopologies() throws {
        // topologies/demo.json is the demo's topology with a $schema line; keep them in step.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = try String(contentsOf: root.appendingPathComponent("topologies/demo.json"), encoding: .utf8)
        let tmp = try TemporaryDirectory()
        _ = try HubctlProcess.run(["demo", "d"], in: tmp.path)
        let generated = try String(contentsOfFile: tmp.path + "/d/topology.json", encoding: .utf8)
        let withoutSchema = example.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("\"$schema\"") }.joined(separator: "\n")
        #expect(withoutSchema == generated)
    }
}
