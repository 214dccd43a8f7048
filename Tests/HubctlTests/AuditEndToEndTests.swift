import Foundation
import HubCore
import HubTesting
import Testing

/// `hubctl audit` on the demo's real systems (two SQLite databases and a CSV file): clean when
/// converged; each planted defect named with its system, entity and IDs, and exit 1.
@Suite struct AuditEndToEndTests {
    /// A synced demo in a temporary folder.
    final class Demo {
        let tmp: TemporaryDirectory
        var dir: String { tmp.path + "/demo" }
        var topology: String { dir + "/topology.json" }

        init() throws {
            tmp = try TemporaryDirectory()
            let demo = try HubctlProcess.run(["demo", "demo"], in: tmp.path)
            guard demo.exitCode == 0 else { throw DemoError(message: demo.stderr + demo.stdout) }
        }

        func run(_ arguments: [String]) throws -> HubctlProcess.Result {
            try HubctlProcess.run(arguments + ["-t", topology])
        }

        /// Runs statements on one of the demo's SQLite systems.
        func sql(_ file: String, _ statements: String) throws { try SyncAllEndToEndTests.execute(dir + "/" + file, statements) }

        /// The demo's hub, on either database.
        var hub: FixtureHub { FixtureHub(dir, "demo.hub.sqlite") }
    }

    struct DemoError: Error { var message: String }

    /// The findings of an `audit --json` document as `check system entity count`.
    static func digest(_ result: HubctlProcess.Result) throws -> [String] {
        let findings = try result.json().objectValue?["result"]?.objectValue?["findings"]?.arrayValue ?? []
        return findings.compactMap(\.objectValue).map { f in
            "\(f["check"]?.stringValue ?? "") \(f["system"]?.stringValue ?? "-") \(f["entity"]?.stringValue ?? "-") "
                + "\(f["count"]?.intValue ?? -1)"
        }.sorted()
    }

    /// The sample IDs of the findings of one check.
    static func sampleIDs(_ result: HubctlProcess.Result, _ check: String) throws -> [String] {
        let findings = try result.json().objectValue?["result"]?.objectValue?["findings"]?.arrayValue ?? []
        return findings.compactMap(\.objectValue).filter { $0["check"]?.stringValue == check }
            .flatMap { $0["samples"]?.arrayValue ?? [] }
            .compactMap { $0.objectValue?["external_id"]?.stringValue ?? $0.objectValue?["hub_id"]?.stringValue }
    }

    /// The audit maps each system's records exactly as the engine does: a CSV cell cannot hold an
    /// empty text apart from no value, so an empty country synced into the sheet is no drift.
    @Test func anEmptyTextSyncedIntoACSVCellIsNotReportedAsDrift() throws {
        let demo = try Demo()
        try demo.sql("app.db", "UPDATE users SET country = '' WHERE email = 'bob@example.com'")
        #expect(try demo.run(["sync-all"]).exitCode == 0)
        #expect(try demo.run(["sync-all"]).exitCode == 0)
        let audit = try demo.run(["audit", "--deep", "--json"])
        #expect(audit.exitCode == 0, "\(audit.stdout)\(audit.stderr)")
        #expect(try Self.digest(audit).isEmpty)
    }

    @Test func theConvergedDemoAuditsCleanWithEveryCheck() throws {
        let demo = try Demo()
        let text = try demo.run(["audit", "--deep"])
        #expect(text.exitCode == 0, "\(text.stdout)\(text.stderr)")
        #expect(text.stdout.contains("Clean: no findings (18 checks: 18 passed, 0 failed, 0 skipped)."))
        #expect(text.stdout.contains("sheet   customer  both    5       5       5        0      0         0         0  100 %"))
        let json = try demo.run(["audit", "--deep", "--json"])
        #expect(json.exitCode == 0)
        let doc = try #require(try json.json().objectValue)
        #expect(doc["format_version"] == "1.0" && doc["command"] == "audit")
        let result = try #require(doc["result"]?.objectValue)
        #expect(result["clean"] == true && result["deep"] == true)
        #expect(result["summary"]?.arrayValue?.count == 5)
        #expect(result["checks"]?.arrayValue?.count == 18)
    }

    /// One kind of defect planted in a converged demo, and what the audit must say about it.
    struct Plant: Sendable, CustomTestStringConvertible {
        var name: String
        var deep: Bool
        var plant: @Sendable (Demo) throws -> Void
        var digest: [String]
        var check: String
        var ids: [String]
        var testDescription: String { name }
    }

    static let plants: [Plant] = [
        Plant(name: "a record deleted in a system", deep: true,
              plant: { try $0.sql("crm.db", "DELETE FROM contacts WHERE contact_id = 2") },
              digest: ["dangling_link crm customer 1"], check: "dangling_link", ids: ["2"]),
        Plant(name: "a record no link knows", deep: true,
              plant: { try $0.sql("app.db", "INSERT INTO users (id, email, full_name) VALUES ('u-900', 'zoe@example.com', 'Zoe Ray')") },
              digest: ["orphan_record app customer 1"], check: "orphan_record", ids: ["u-900"]),
        Plant(name: "a value changed behind the change tracking", deep: true,
              plant: {
                  try $0.sql("crm.db", "UPDATE contacts SET given_name = 'Zed', modified_at = '2000-01-01T00:00:00.000Z' WHERE contact_id = 3")
              },
              digest: ["field_drift crm customer 1"], check: "field_drift", ids: ["3"]),
        Plant(name: "a link removed from the hub", deep: false,
              plant: { try $0.hub.execute("DELETE FROM xref WHERE system = 'sheet' AND external_id = 'r1'") },
              digest: ["missing_link sheet customer 1"], check: "missing_link", ids: []),
        Plant(name: "one external ID linked to two entities", deep: false,
              plant: {
                  try $0.hub.execute("""
                      DROP INDEX xref_by_external_id;
                      UPDATE xref SET external_id = 'u-100' WHERE system = 'app' AND external_id = 'u-101';
                      """)
              },
              digest: ["duplicate_external_id app customer 1"], check: "duplicate_external_id", ids: ["u-100"]),
        Plant(name: "a link to an entity the hub does not have", deep: false,
              plant: {
                  try $0.hub.execute("""
                      INSERT INTO xref (entity, system, external_id, hub_id, state, base_data, linked_by, linked_at)
                      VALUES ('customer', 'crm', '99', 'no-such-hub-id', 'linked', '{}', 'created', '2026-01-01T00:00:00.000Z')
                      """)
              },
              digest: ["link_to_missing_entity crm customer 1"], check: "link_to_missing_entity", ids: ["99"]),
    ]

    @Test(arguments: plants)
    func eachPlantedDefectIsNamedWithItsSystemEntityAndIDsAndExitsOne(_ plant: Plant) throws {
        let demo = try Demo()
        try plant.plant(demo)
        let deep = plant.deep ? ["--deep"] : []
        let json = try demo.run(["audit", "--json"] + deep)
        #expect(json.exitCode == 1, "\(json.stderr)")
        #expect(try Self.digest(json) == plant.digest)
        if !plant.ids.isEmpty { #expect(try Self.sampleIDs(json, plant.check) == plant.ids) }
        let text = try demo.run(["audit"] + deep)
        #expect(text.exitCode == 1)
        let place = plant.digest[0].split(separator: " ").dropFirst().prefix(2).joined(separator: " ")
        #expect(text.stdout.contains("\(plant.check) \(place): "), "\(text.stdout)")
        for id in plant.ids { #expect(text.stdout.contains("\(place.split(separator: " ")[0]) \(id)")) }
    }

    @Test func aFixPlanRepairsLostOrphanAndDriftedRecordsAndTheNextSyncConverges() throws {
        let demo = try Demo()
        try demo.sql("crm.db", """
            DELETE FROM contacts WHERE contact_id = 2;
            UPDATE contacts SET given_name = 'Zed', modified_at = '2000-01-01T00:00:00.000Z' WHERE contact_id = 3;
            """)
        try demo.hub.execute("DELETE FROM xref WHERE system = 'sheet' AND external_id = 'r2'")
        let plan = demo.dir + "/plan.json"
        let audit = try demo.run(["audit", "--deep", "--fix-plan", plan])
        #expect(audit.exitCode == 1)
        #expect(audit.stderr.contains("Wrote 3 repairs to \(plan)"), "\(audit.stderr)")
        let actions = try JSONParser.parse(String(contentsOfFile: plan, encoding: .utf8)).objectValue?["repairs"]?.arrayValue?
            .compactMap { $0.objectValue?["action"]?.stringValue }
        #expect(actions?.sorted() == ["link", "repush", "repush"])

        let dry = try demo.run(["repair", plan, "--dry-run"])
        #expect(dry.exitCode == 0)
        #expect(dry.stdout.contains("3 would be applied"))
        #expect(try demo.run(["audit", "--deep"]).exitCode == 1)

        let repair = try demo.run(["repair", plan, "--by", "ana"])
        #expect(repair.exitCode == 0, "\(repair.stdout)\(repair.stderr)")
        #expect(repair.stdout.contains("3 applied, 0 already in place, 0 refused."))
        #expect(try demo.run(["sync-all"]).exitCode == 0)
        let after = try demo.run(["audit", "--deep"])
        #expect(after.exitCode == 0, "\(after.stdout)")
        #expect(try SyncAllEndToEndTests.rows(demo.dir + "/crm.db", "SELECT given_name FROM contacts WHERE contact_id = 3")
            .first?["given_name"] == "Carla")
        #expect(try SyncAllEndToEndTests.rows(demo.dir + "/crm.db", "SELECT count(*) AS n FROM contacts WHERE lower(email_address) = 'bob@example.com'")
            .first?["n"] == 1)
        // Applying the same plan again: each repair is refused or already in place, nothing breaks.
        let again = try demo.run(["history"])
        #expect(again.stdout.contains("repush customer"))
        #expect(again.stdout.contains("by ana: \"repair plan plan.json: field_drift\""))
    }

    @Test func unknownSystemsAndBadAgesAreUsageErrors() throws {
        let demo = try Demo()
        let unknown = try demo.run(["audit", "--system", "erp"])
        #expect(unknown.exitCode == 64)
        #expect(unknown.stderr.contains("unknown system 'erp' in --system; the topology has: crm, app, sheet"))
        #expect(try demo.run(["audit", "--stale-after", "soon"]).exitCode == 64)
        let scoped = try demo.run(["audit", "--system", "crm", "--entity", "employee", "--json"])
        #expect(scoped.exitCode == 0)
        #expect(try scoped.json().objectValue?["result"]?.objectValue?["summary"]?.arrayValue?.count == 1)
    }

    @Test func aBrokenFixPlanIsRefusedWithWhereItIsWrong() throws {
        let demo = try Demo()
        let plan = demo.dir + "/plan.json"
        try #"{"format_version": "1.0", "kind": "hubctl-fix-plan", "repairs": [{"action": "explode"}]}"#
            .write(toFile: plan, atomically: true, encoding: .utf8)
        let result = try demo.run(["repair", plan])
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("repairs[0].action: unknown value 'explode'; expected one of unlink, link, relink, repush"))
    }
}
