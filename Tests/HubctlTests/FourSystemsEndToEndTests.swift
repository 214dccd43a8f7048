import Foundation
import HubCore
import HubTesting
import HubTestServers
import Testing

/// Four real systems — PostgreSQL, a REST API (Kinto, or the fake HubSpot-like CRM), SQLite and
/// a CSV file — synced by the built `hubctl` with the example topologies of topologies/:
/// overlapping data converges, an edit made in each system with its own tool reaches all the
/// others in one run, and a run after that writes nothing.
@Suite(.enabled(if: TestServices.runPostgresTests && TestServices.runKintoTests,
                "needs PostgreSQL and Kinto: run scripts/with-test-services.sh swift test"))
struct FourSystemsEndToEndTests {
    @Test func postgresKintoSQLiteAndCSVConvergeAndPropagateAnEditFromEachSystem() async throws {
        let world = try await FourSystems.make(api: .kinto)
        try await world.scenario()
    }

    @Test func postgresTheCRMShapeSQLiteAndCSVConvergeAndPropagateAnEditFromEachSystem() async throws {
        let world = try await FourSystems.make(api: .crm)
        try await world.scenario()
        await world.stop()
    }

    @Test func checkPinpointsAMisspeltTableAColumnAndAWrongPassword() async throws {
        let world = try await FourSystems.make(api: .kinto)
        let good = try await world.hubctl(["check"])
        #expect(good.exitCode == 0, "\(good.stdout)\(good.stderr)")
        #expect(good.stdout.contains("All 4 systems passed."))

        let text = try String(contentsOfFile: world.topology, encoding: .utf8)
        try text.replacingOccurrences(of: #""object": "customers""#, with: #""object": "customer""#)
            .write(toFile: world.topology, atomically: true, encoding: .utf8)
        let table = try await world.hubctl(["check", "billing"])
        #expect(table.exitCode == 1)
        #expect(table.stdout.contains("table 'customer' does not exist in schema '\(world.schema)'; did you mean 'customers'?"), "\(table.stdout)")

        try text.replacingOccurrences(of: #""first_name": "given""#, with: #""first_name": "gvien""#)
            .write(toFile: world.topology, atomically: true, encoding: .utf8)
        let column = try await world.hubctl(["check", "app"])
        #expect(column.exitCode == 1)
        #expect(column.stdout.contains("no column 'gvien'"), "\(column.stdout)")

        try text.write(toFile: world.topology, atomically: true, encoding: .utf8)
        let wrong = "hubctl-canary-wrong-pw-7f3a"
        let password = try await world.hubctl(["check"], extra: ["BILLING_PGPASSWORD": wrong, "KINTO_PASSWORD": wrong])
        #expect(password.exitCode == 1)
        #expect(password.stdout.contains("✗ billing (postgres): PostgreSQL refused the login"), "\(password.stdout)")
        #expect(password.stdout.contains("✗ crm (rest):") && password.stdout.contains("authentication failed"))
        #expect(!(password.stdout + password.stderr).contains(wrong))
        #expect(!(password.stdout + password.stderr).contains(world.postgres.password))

        let discovered = try await world.hubctl(["discover", "billing", "--json"])
        #expect(discovered.exitCode == 0)
        let objects = try discovered.result().objectValue?["objects"]?.arrayValue ?? []
        #expect(objects.compactMap { $0.value(atPath: "name")?.stringValue } == ["customers"])
    }
}

/// One run of the four-system world: a PostgreSQL schema, a Kinto bucket or a fake CRM, a
/// SQLite file and a CSV file, with the example topology copied next to them.
struct FourSystems {
    enum API { case kinto, crm }

    let api: API
    let directory: TemporaryDirectory
    let topology: String
    let postgres: TestServices.Postgres
    let schema: String
    let environment: [String: String]
    let kinto: (root: String, user: String, password: String, bucket: String)?
    let crm: FakeCRM?

    var records: String {
        switch api {
        case .kinto: "\(kinto!.root)/buckets/\(kinto!.bucket)/collections/contacts/records"
        case .crm: ""
        }
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func make(api: API) async throws -> FourSystems {
        let postgres = try TestServices.requirePostgres()
        let directory = try TemporaryDirectory()
        let name = api == .kinto ? "four-systems-kinto.json" : "four-systems-crm.json"
        let topology = directory.path + "/topology.json"
        try FileManager.default.copyItem(atPath: repository.appendingPathComponent("topologies/\(name)").path, toPath: topology)
        let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let schema = "e2e_" + token.prefix(10)
        var environment = [
            "BILLING_PGHOST": postgres.host, "BILLING_PGPORT": String(postgres.port), "BILLING_PGDATABASE": postgres.database,
            "BILLING_PGUSER": postgres.user, "BILLING_PGPASSWORD": postgres.password, "BILLING_SCHEMA": schema,
            "BILLING_SSLMODE": "disable",
        ]
        // PostgreSQL: the billing table, with a trigger that moves updated_at on every change.
        try await seedBillingAndApp(postgres, schema: schema, directory: directory.path)
        // CSV.
        try FileManager.default.createDirectory(atPath: directory.path + "/sheet", withIntermediateDirectories: true)
        try "Row ID,Email,First,Last,Phone\nr1,carl@example.com,Carl,Clark,\nr2,eve@example.com,Eve,Evans,555\n"
            .write(toFile: directory.path + "/sheet/customers.csv", atomically: true, encoding: .utf8)
        // The REST system.
        var kinto: (root: String, user: String, password: String, bucket: String)?
        var crm: FakeCRM?
        let people: [[String: Value]] = [
            ["email": "ann@example.com", "first_name": "Ann", "last_name": "Archer"],
            ["email": "carl@example.com", "first_name": "Carl", "last_name": "Clark", "phone": "333"],
        ]
        switch api {
        case .kinto:
            let root = try TestServices.requireKinto()
            let k = (root: root, user: "e2e\(token.prefix(8))", password: "pw-\(token)", bucket: "crm\(token.prefix(8))")
            kinto = k
            try await SystemTools.must("curl", ["-fsS", "-X", "PUT", "\(root)/accounts/\(k.user)", "-H", "Content-Type: application/json",
                                                "-d", #"{"data": {"password": "\#(k.password)"}}"#])
            let auth = ["-u", "\(k.user):\(k.password)"]
            try await SystemTools.must("curl", ["-fsS", "-X", "PUT", "\(root)/buckets/\(k.bucket)"] + auth)
            try await SystemTools.must("curl", ["-fsS", "-X", "PUT", "\(root)/buckets/\(k.bucket)/collections/contacts"] + auth)
            for person in people {
                try await SystemTools.must("curl", ["-fsS", "-X", "POST", "\(root)/buckets/\(k.bucket)/collections/contacts/records",
                                                    "-H", "Content-Type: application/json", "-d", JSONWriter.string(["data": .object(person)])] + auth)
            }
            environment["KINTO_URL"] = root
            environment["KINTO_USER"] = k.user
            environment["KINTO_PASSWORD"] = k.password
            environment["KINTO_BUCKET"] = k.bucket
        case .crm:
            let server = try await FakeCRM.start(token: "crm-token-\(token)")
            crm = server
            for person in people {
                await server.add("contacts", ["email": person["email"]!, "firstname": person["first_name"]!,
                                              "lastname": person["last_name"]!, "phone": person["phone"] ?? .null])
            }
            environment["CRM_URL"] = await server.url()
            environment["CRM_TOKEN"] = server.token
        }
        return FourSystems(api: api, directory: directory, topology: topology, postgres: postgres, schema: schema,
                           environment: environment, kinto: kinto, crm: crm)
    }

    /// The billing table (a PostgreSQL schema, with a trigger that moves updated_at on every
    /// change) holding Ann and Bob, and app.db (SQLite) holding Bob and Dora.
    static func seedBillingAndApp(_ postgres: TestServices.Postgres, schema: String, directory: String) async throws {
        try await SystemTools.must("psql", psql(postgres) + ["-c", """
            CREATE SCHEMA \(schema); SET search_path TO \(schema);
            CREATE TABLE customers (id serial PRIMARY KEY, email text UNIQUE, first_name text, last_name text, phone text,
                                    updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
            CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS
              $$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$;
            CREATE TRIGGER customers_touch BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION touch();
            INSERT INTO customers (email, first_name, last_name, phone) VALUES
              ('ann@example.com', 'Ann', 'Archer', '111'), ('bob@example.com', 'Bob', 'Baker', NULL);
            """], environment: ["PGPASSWORD": postgres.password])
        try await SystemTools.must("sqlite3", [directory + "/app.db", """
            CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, given TEXT, family TEXT, phone TEXT);
            INSERT INTO users (email, given, family, phone) VALUES ('bob@example.com', 'Bob', 'Baker', '222'),
                                                                  ('dora@example.com', 'Dora', 'Dunn', NULL);
            """])
    }

    static func psql(_ p: TestServices.Postgres) -> [String] {
        ["-h", p.host, "-p", String(p.port), "-U", p.user, "-d", p.database, "-v", "ON_ERROR_STOP=1", "-qAtX"]
    }

    func stop() async { await crm?.stop() }

    func hubctl(_ arguments: [String], extra: [String: String] = [:]) async throws -> HubctlProcess.Result {
        try await SystemTools.hubctl(arguments + ["-t", topology], environment: environment.merging(extra) { $1 })
    }

    /// Every system's customers as `email → first|last|phone`.
    func contents() async throws -> [String: [String: String]] {
        func line(_ values: [String?]) -> String { values.map { $0 ?? "" }.joined(separator: "|") }
        var out: [String: [String: String]] = [:]
        let pg = try await SystemTools.must("psql", Self.psql(postgres) + ["-F", ",", "-c",
            "SELECT email, first_name, last_name, phone FROM \(schema).customers ORDER BY email"],
            environment: ["PGPASSWORD": postgres.password])
        out["billing"] = Self.rows(pg, separator: ",")
        let app = try await SystemTools.must("sqlite3", ["-separator", ",", "-cmd", ".timeout 5000", directory.path + "/app.db",
                                                         "SELECT email, given, family, phone FROM users ORDER BY email"])
        out["app"] = Self.rows(app, separator: ",")
        let csv = try String(contentsOfFile: directory.path + "/sheet/customers.csv", encoding: .utf8)
        out["sheet"] = Self.rows(csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).dropFirst().joined(separator: ",") }
            .joined(separator: "\n"), separator: ",")
        switch api {
        case .kinto:
            let body = try await SystemTools.must("curl", ["-fsS", "-u", "\(kinto!.user):\(kinto!.password)", records])
            let data = try JSONParser.parse(body).value(atPath: "data")?.arrayValue ?? []
            out["crm"] = Dictionary(uniqueKeysWithValues: data.compactMap { r -> (String, String)? in
                guard let email = r.value(atPath: "email")?.stringValue else { return nil }
                return (email, line(["first_name", "last_name", "phone"].map { r.value(atPath: $0)?.stringValue }))
            })
        case .crm:
            let records = await crm!.records("contacts")
            out["crm"] = Dictionary(uniqueKeysWithValues: records.compactMap { r -> (String, String)? in
                guard let email = r.properties["email"]?.stringValue else { return nil }
                return (email, line(["firstname", "lastname", "phone"].map { r.properties[$0]?.stringValue }))
            })
        }
        return out
    }

    static func rows(_ text: String, separator: Character) -> [String: String] {
        var out: [String: String] = [:]
        for row in text.split(separator: "\n") where !row.isEmpty {
            let cells = row.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
            out[cells[0]] = cells.dropFirst().joined(separator: "|")
        }
        return out
    }

    /// Pushes written in a run: created + updated + deleted, over every system.
    static func writes(_ result: HubctlProcess.Result) throws -> Int64 {
        let push = try result.result().value(atPath: "totals.push")
        return ["created", "updated", "deleted"].compactMap { push?.value(atPath: $0)?.intValue }.reduce(0, +)
    }

    func scenario() async throws {
        // Overlapping data converges: each system held two of five customers.
        let first = try await hubctl(["sync-all", "--json"])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")
        #expect(try Self.writes(first) >= 12, "each system receives the three customers it lacked")
        let expected = [
            "ann@example.com": "Ann|Archer|111", "bob@example.com": "Bob|Baker|222", "carl@example.com": "Carl|Clark|333",
            "dora@example.com": "Dora|Dunn|", "eve@example.com": "Eve|Evans|555",
        ]
        var seen = try await contents()
        for system in ["billing", "crm", "app", "sheet"] { #expect(seen[system] == expected, "\(system) after the first run") }
        let quiet = try await hubctl(["sync-all", "--json"])
        #expect(quiet.exitCode == 0)
        #expect(try Self.writes(quiet) == 0, "a run after convergence writes nothing: \(quiet.stdout)")

        // An edit in each system, with each system's own tool.
        try await SystemTools.must("psql", Self.psql(postgres) + ["-c",
            "UPDATE \(schema).customers SET last_name = 'Archer-Smith' WHERE email = 'ann@example.com'"],
            environment: ["PGPASSWORD": postgres.password])
        switch api {
        case .kinto:
            let auth = "\(kinto!.user):\(kinto!.password)"
            let found = try await SystemTools.must("curl", ["-fsS", "-u", auth, records + "?email=carl@example.com"])
            let id = try #require(try JSONParser.parse(found).value(atPath: "data")?.arrayValue?.first?.value(atPath: "id")?.stringValue)
            try await SystemTools.must("curl", ["-fsS", "-u", auth, "-X", "PATCH", "\(records)/\(id)", "-H", "Content-Type: application/json",
                                                "-d", #"{"data": {"phone": "333-0"}}"#])
        case .crm:
            let id = try #require(await crm!.records("contacts").first { $0.properties["email"] == "carl@example.com" }?.id)
            try await SystemTools.must("curl", ["-fsS", "-X", "PATCH", "\(environment["CRM_URL"]!)/crm/v3/objects/contacts/\(id)",
                                                "-H", "Authorization: Bearer \(crm!.token)", "-H", "Content-Type: application/json",
                                                "-d", #"{"properties": {"phone": "333-0"}}"#])
        }
        try await SystemTools.must("sqlite3", [directory.path + "/app.db", "UPDATE users SET given = 'Dorothy' WHERE email = 'dora@example.com'"])
        let csvPath = directory.path + "/sheet/customers.csv"
        try String(contentsOfFile: csvPath, encoding: .utf8).replacingOccurrences(of: ",Evans,", with: ",Evans-Lee,")
            .write(toFile: csvPath, atomically: true, encoding: .utf8)

        let edits = try await hubctl(["sync-all", "--json"])
        #expect(edits.exitCode == 0, "\(edits.stdout)\(edits.stderr)")
        var edited = expected
        edited["ann@example.com"] = "Ann|Archer-Smith|111"
        edited["carl@example.com"] = "Carl|Clark|333-0"
        edited["dora@example.com"] = "Dorothy|Dunn|"
        edited["eve@example.com"] = "Eve|Evans-Lee|555"
        seen = try await contents()
        for system in ["billing", "crm", "app", "sheet"] { #expect(seen[system] == edited, "\(system) after one run with edits") }
        let after = try await hubctl(["sync-all", "--json"])
        #expect(after.exitCode == 0)
        #expect(try Self.writes(after) == 0, "a run after the edits converged writes nothing: \(after.stdout)")
    }
}
