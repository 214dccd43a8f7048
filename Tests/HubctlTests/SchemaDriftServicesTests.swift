import Foundation
import HubCore
import HubTesting
import HubTestServers
import Testing

/// Schema drift in PostgreSQL (`ALTER TABLE … ADD / RENAME / ALTER TYPE / DROP COLUMN`) and in
/// a Kinto collection (records that gain a field, records whose field is renamed), in the
/// four-system world of topologies/four-systems-kinto.json, every system read back.
@Suite(.enabled(if: TestServices.runPostgresTests && TestServices.runKintoTests,
                "needs PostgreSQL and Kinto: run scripts/with-test-services.sh swift test"))
struct SchemaDriftServicesTests {
    func psql(_ world: FourSystems, _ sql: String) async throws {
        try await SystemTools.must("psql", FourSystems.psql(world.postgres) + ["-c", "SET search_path TO \(world.schema); " + sql],
                                   environment: ["PGPASSWORD": world.postgres.password])
    }

    func applySuggestedMapping(_ world: FourSystems, _ system: String) async throws -> Value {
        let diff = try await world.hubctl(["discover", system, "--diff", "--json"])
        #expect(diff.exitCode == 0, "\(diff.stdout)\(diff.stderr)")
        let patch = try diff.result().value(atPath: "patch") ?? .null
        try SchemaDriftEndToEndTests.apply(patch, to: world.topology)
        return patch
    }

    /// The customers of crm (Kinto), app and sheet, as `FourSystems.contents` shows them;
    /// billing's table is the one whose columns these tests change.
    func others(_ world: FourSystems) async throws -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        let app = try await SystemTools.must("sqlite3", ["-separator", ",", world.directory.path + "/app.db",
                                                         "SELECT email, given, family, phone FROM users ORDER BY email"])
        out["app"] = FourSystems.rows(app, separator: ",")
        out["sheet"] = FourSystems.rows(try String(contentsOfFile: world.directory.path + "/sheet/customers.csv", encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).dropFirst()
                .joined(separator: ",") }.joined(separator: "\n"), separator: ",")
        let body = try await SystemTools.must("curl", ["-fsS", "-u", "\(world.kinto!.user):\(world.kinto!.password)", world.records])
        var crm: [String: String] = [:]
        for r in try JSONParser.parse(body).value(atPath: "data")?.arrayValue ?? [] {
            guard let email = r.value(atPath: "email")?.stringValue else { continue }
            crm[email] = ["first_name", "last_name", "phone"].map { r.value(atPath: $0)?.stringValue ?? "" }.joined(separator: "|")
        }
        out["crm"] = crm
        return out
    }

    /// The hub's value of one canonical field for one customer.
    func hubValue(_ world: FourSystems, _ email: String, _ field: String) throws -> String? {
        let hub = FixtureHub(world.directory.path, "four-systems-kinto.hub.sqlite")
        return try hub.value("SELECT \(hub.jsonText("data", field)) FROM entity WHERE \(hub.jsonText("data", "email")) = '\(email)'")
    }

    @Test func postgresColumnsAddedRenamedRetypedAndDroppedAreReportedAndNeverEmptyAnotherSystem() async throws {
        let world = try await FourSystems.make(api: .kinto)
        let first = try await world.hubctl(["sync-all", "--json"])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")
        let converged = try await others(world)

        // ADD COLUMN: reported once, nothing paused.
        try await psql(world, "ALTER TABLE customers ADD COLUMN plan text; UPDATE customers SET plan = 'pro' WHERE email = 'ann@example.com'")
        let added = try await world.hubctl(["sync-all", "--json"])
        #expect(added.exitCode == 0, "\(added.stdout)")
        let addedDrift = try SchemaDriftEndToEndTests.drift(added)
        #expect(addedDrift.map { $0.value(atPath: "change") } == ["added"])
        #expect(addedDrift.first?.value(atPath: "field") == "plan")
        #expect(addedDrift.first?.value(atPath: "new_type") == "text")

        // RENAME COLUMN: billing × customer pauses; the other systems keep every phone.
        try await psql(world, "ALTER TABLE customers RENAME COLUMN phone TO mobile")
        let renamed = try await world.hubctl(["sync-all", "--json"])
        #expect(renamed.exitCode == 3, "\(renamed.stdout)")
        let drift = try SchemaDriftEndToEndTests.drift(renamed)
        #expect(drift.count == 1)
        #expect(drift.first?.value(atPath: "change") == "renamed")
        #expect(drift.first?.value(atPath: "new_field") == "mobile")
        #expect(drift.first?.value(atPath: "message")?.stringValue?.contains("same values on 4 of 4 linked records") == true,
                "\(drift)")
        #expect(try renamed.result().value(atPath: "quarantined")?.arrayValue?.isEmpty == true)
        var seen = try await others(world)
        for system in ["crm", "app", "sheet"] { #expect(seen[system] == converged[system], "\(system) keeps its phones") }

        // The suggested mapping: phone → mobile (and plan, new). The next run syncs, and an
        // edit to the renamed column reaches the others.
        let patch = try await applySuggestedMapping(world, "billing")
        #expect(patch.value(atPath: "systems.billing.entities.customer.fields.phone") == ["field": "mobile"])
        #expect(patch.value(atPath: "systems.billing.entities.customer.fields.plan") == "plan")
        #expect(patch.value(atPath: "entities.customer.fields.plan") == ["type": "string"])
        let fixed = try await world.hubctl(["sync-all", "--json"])
        #expect(fixed.exitCode == 0, "\(fixed.stdout)")
        #expect(try FourSystems.writes(fixed) == 0, "the values are the same")
        #expect(try hubValue(world, "ann@example.com", "plan") == "pro", "the newly mapped column is read from unchanged rows")
        try await psql(world, "UPDATE customers SET mobile = '111-9' WHERE email = 'ann@example.com'")
        let edit = try await world.hubctl(["sync-all", "--json"])
        #expect(edit.exitCode == 0)
        seen = try await others(world)
        for system in ["crm", "app", "sheet"] { #expect(seen[system]?["ann@example.com"] == "Ann|Archer|111-9") }

        // ALTER TYPE to one the mapping cannot convert (binary): paused, nothing quarantined;
        // back to text: syncs again, writing nothing.
        try await psql(world, "ALTER TABLE customers ALTER COLUMN mobile TYPE bytea USING convert_to(mobile, 'UTF8')")
        let retyped = try await world.hubctl(["sync-all", "--json"])
        #expect(retyped.exitCode == 3, "\(retyped.stdout)")
        let typeDrift = try SchemaDriftEndToEndTests.drift(retyped)
        #expect(typeDrift.map { $0.value(atPath: "change") } == ["type_changed"])
        #expect(typeDrift.first?.value(atPath: "old_type") == "text" && typeDrift.first?.value(atPath: "new_type") == "bytea")
        #expect(try retyped.result().value(atPath: "quarantined")?.arrayValue?.isEmpty == true)
        try await psql(world, "ALTER TABLE customers ALTER COLUMN mobile TYPE text USING convert_from(mobile, 'UTF8')")
        let back = try await world.hubctl(["sync-all", "--json"])
        #expect(back.exitCode == 0, "\(back.stdout)")
        #expect(try FourSystems.writes(back) == 0)

        // DROP COLUMN: paused; nobody's last name is emptied anywhere.
        let before = try await others(world)
        try await psql(world, "ALTER TABLE customers DROP COLUMN last_name")
        let dropped = try await world.hubctl(["sync-all", "--json"])
        #expect(dropped.exitCode == 3, "\(dropped.stdout)")
        #expect(try SchemaDriftEndToEndTests.drift(dropped).map { $0.value(atPath: "change") } == ["removed"])
        seen = try await others(world)
        for system in ["crm", "app", "sheet"] { #expect(seen[system] == before[system]) }
    }

    @Test func kintoRecordsThatGainAFieldAreReportedAndTheSuggestedMappingFillsItEverywhere() async throws {
        let world = try await FourSystems.make(api: .kinto)
        let first = try await world.hubctl(["sync-all", "--json"])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")
        let auth = "\(world.kinto!.user):\(world.kinto!.password)"
        let list = try JSONParser.parse(try await SystemTools.must("curl", ["-fsS", "-u", auth, world.records]))
        let records = list.value(atPath: "data")?.arrayValue ?? []
        #expect(records.count == 5)
        var ids: [String: String] = [:]
        for r in records {
            if let email = r.value(atPath: "email")?.stringValue, let id = r.value(atPath: "id")?.stringValue { ids[email] = id }
        }
        for email in ["ann@example.com", "carl@example.com"] {
            try await SystemTools.must("curl", ["-fsS", "-u", auth, "-X", "PATCH", "\(world.records)/\(ids[email]!)",
                                                "-H", "Content-Type: application/json", "-d", #"{"data": {"loyalty": "gold"}}"#])
        }
        try await SystemTools.must("sqlite3", [world.directory.path + "/app.db", "ALTER TABLE users ADD COLUMN loyalty TEXT"])
        let gained = try await world.hubctl(["sync-all", "--json"])
        #expect(gained.exitCode == 0, "\(gained.stdout)")
        let drift = try SchemaDriftEndToEndTests.drift(gained)
        #expect(Set(drift.compactMap { d in d.value(atPath: "system")?.stringValue.map { "\($0) \(d.value(atPath: "field")?.stringValue ?? "")" } })
                == ["crm loyalty", "app loyalty"])
        #expect(drift.allSatisfy { $0.value(atPath: "pauses") == false })

        let crmPatch = try await applySuggestedMapping(world, "crm")
        #expect(crmPatch.value(atPath: "entities.customer.fields.loyalty") == ["type": "string"])
        let appPatch = try await applySuggestedMapping(world, "app")
        #expect(appPatch.value(atPath: "systems.app.entities.customer.fields.loyalty") == "loyalty")
        let filled = try await world.hubctl(["sync-all", "--json"])
        #expect(filled.exitCode == 0, "\(filled.stdout)")
        let app = try await SystemTools.must("sqlite3", [world.directory.path + "/app.db",
                                                         "SELECT email || '|' || coalesce(loyalty, '') FROM users ORDER BY email"])
        #expect(app == "ann@example.com|gold\nbob@example.com|\ncarl@example.com|gold\ndora@example.com|\neve@example.com|\n")
        let quiet = try await world.hubctl(["sync-all", "--json"])
        #expect(try FourSystems.writes(quiet) == 0, "\(quiet.stdout)")

        // Every record's `phone` renamed `mobile` (a PUT each): not four phones deleted.
        let converged = try await world.contents()
        let now = try JSONParser.parse(try await SystemTools.must("curl", ["-fsS", "-u", auth, world.records]))
        for r in now.value(atPath: "data")?.arrayValue ?? [] {
            guard var fields = r.objectValue, let id = fields["id"]?.stringValue else { continue }
            fields["mobile"] = fields["phone"]
            for key in ["phone", "id", "last_modified"] { fields[key] = nil }
            try await SystemTools.must("curl", ["-fsS", "-u", auth, "-X", "PUT", "\(world.records)/\(id)",
                                                "-H", "Content-Type: application/json",
                                                "-d", JSONWriter.string(["data": .object(fields)])])
        }
        let renamed = try await world.hubctl(["sync-all", "--json"])
        #expect(renamed.exitCode == 3, "\(renamed.stdout)")
        let lost = try SchemaDriftEndToEndTests.drift(renamed)
        #expect(lost.first?.value(atPath: "change") == "renamed")
        #expect(lost.first?.value(atPath: "new_field") == "mobile")
        let seen = try await world.contents()
        for system in ["billing", "app", "sheet"] { #expect(seen[system] == converged[system], "\(system) keeps its phones") }
    }
}
