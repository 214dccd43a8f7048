import Foundation
import HubCore
import HubTesting
import Testing

/// `hubctl links`, `explain` and `runs show` through the binary, with IDs from either side.
@Suite struct LinksEndToEndTests {
    typealias Demo = AuditEndToEndTests.Demo

    @Test func linksFindTheSameEntityFromEverySideAndExitOneWhenNotFound() throws {
        let demo = try Demo()
        let byCRM = try demo.run(["links", "customer", "crm:1", "--json"])
        #expect(byCRM.exitCode == 0, "\(byCRM.stderr)")
        let result = try #require(try byCRM.json().objectValue?["result"]?.objectValue)
        let hubID = try #require(result["hub_id"]?.stringValue)
        let links = result["links"]?.arrayValue?.compactMap(\.objectValue) ?? []
        #expect(links.map { $0["system"]?.stringValue } == ["crm", "app", "sheet"])
        #expect(links.first { $0["system"] == "app" }?["external_id"] == "u-100")
        #expect(links.first { $0["system"] == "app" }?["linked_by"] == "match:email")
        #expect(links.allSatisfy { $0["state"] == "linked" && $0["run_id"]?.stringValue != nil })

        let byOption = try demo.run(["links", "customer", "--system", "app", "--id", "u-100", "--json"])
        #expect(try byOption.json().objectValue?["result"]?.objectValue?["hub_id"]?.stringValue == hubID)
        let byHub = try demo.run(["links", "customer", hubID])
        #expect(byHub.exitCode == 0)
        #expect(byHub.stdout.contains("app     u-100"))

        let missing = try demo.run(["links", "customer", "crm:999"])
        #expect(missing.exitCode == 1)
        #expect(missing.stderr.contains("Error: no customer is linked to crm 999"))
        #expect(missing.stderr.contains("Hint: `hubctl audit --deep --system crm` lists the records no link knows"))
        #expect(try demo.run(["links", "customer", "--system", "crm"]).exitCode == 64)
    }

    @Test func explainShowsAFieldsOriginAndHistoryFromEitherSide() throws {
        let demo = try Demo()
        try demo.sql("app.db", "UPDATE users SET full_name = 'Anna Lee' WHERE id = 'u-100'")
        #expect(try demo.run(["sync-all"]).exitCode == 0)
        let json = try demo.run(["explain", "customer", "crm:1", "--field", "first_name", "--json"])
        #expect(json.exitCode == 0, "\(json.stderr)")
        let field = try #require(try json.json().objectValue?["result"]?.objectValue?["fields"]?.arrayValue?.first?.objectValue)
        #expect(field["value"] == "Anna")
        #expect(field["origin"]?.objectValue?["system"] == "app")
        #expect(field["history"]?.arrayValue?.compactMap { $0.objectValue?["value"]?.stringValue } == ["Ann", "Anna"])
        let text = try demo.run(["explain", "customer", "--system", "app", "--id", "u-100"])
        #expect(text.stdout.contains("first_name = Anna\n  from app, run "))
        let unknown = try demo.run(["explain", "customer", "crm:1", "--field", "shoe_size"])
        #expect(unknown.exitCode == 1)
        #expect(unknown.stderr.contains("customer has no field 'shoe_size'"))
    }

    @Test func runsShowGivesOneRunsCountsByIDOrPrefix() throws {
        let demo = try Demo()
        let history = try demo.run(["history", "--json"])
        let id = try #require(try history.result().objectValue?["runs"]?.arrayValue?.first?.objectValue?["run_id"]?.stringValue)
        let json = try demo.run(["runs", "show", id, "--json"])
        #expect(json.exitCode == 0, "\(json.stderr)")
        let result = try #require(try json.json().objectValue?["result"]?.objectValue)
        #expect(result["status"] == "ok")
        let counts = result["counts"]?.arrayValue?.compactMap(\.objectValue) ?? []
        #expect(counts.count == 10)
        let crmPull = counts.first { $0["system"] == "crm" && $0["entity"] == "customer" && $0["direction"] == "pull" }
        #expect(crmPull?["counts"]?.objectValue?["created"] == 3)
        let text = try demo.run(["runs", "show", String(id.prefix(20))])
        #expect(text.exitCode == 0)
        #expect(text.stdout.contains("run \(id): ok (exit 0)"))
        #expect(text.stdout.contains("crm     customer  pull     3        3"))
        let missing = try demo.run(["runs", "show", "nope"])
        #expect(missing.exitCode == 1)
        #expect(missing.stderr.contains("no run nope in this hub"))
    }
}
