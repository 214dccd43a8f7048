import Foundation
import HubCore
import HubTesting
import HubTestServers
import Testing

/// T8 of the reliability battery: secrets never appear in output, the hub or the systems.
///
/// A distinct canary sits in every secret slot — a PostgreSQL password as a field and inside a
/// URL (both with `@`, `/`, `%` and quotes), a REST bearer token, a basic-auth password (Kinto),
/// an API-key header, a custom header, and a connector's settings — and wrong canaries stand in
/// for credentials in the failure runs. Every command runs with and without `--json` against
/// working systems, then with a wrong password, unreachable systems, a 401 and 500s whose bodies
/// echo the request's headers, and a connector that puts its token in its errors and on stderr.
/// Every stdout and stderr, the hub and its WAL, the systems' files and rows, and every request
/// the fake APIs received (but for each one's own credential header) are scanned for each canary
/// raw, base64, percent-encoded, hex and as any 12-character piece of its random part.
///
/// With a PostgreSQL hub (`T8-postgres-hub`) the hub's URL holds an eighth canary as its
/// password (a role of its own), a wrong one and an unreachable server are two more failure runs,
/// and every row of every table of the hub's schema is scanned as well.
@Suite(.enabled(if: TestServices.runPostgresTests && TestServices.runKintoTests,
                "needs PostgreSQL and Kinto: run scripts/with-test-services.sh swift test"))
struct SecretLeakTests {
    /// A canary: a recognisable prefix, the slot, random hex, and the characters that break URLs.
    static func canary(_ slot: String, awkward: Bool = false) -> String {
        let hex = (0..<3).map { _ in String(UInt64.random(in: .min ... .max), radix: 16) }.joined().prefix(24)
        return "hubctl-canary-\(slot)-\(hex)" + (awkward ? #"@/%"q'x"# : "")
    }

    @Test(arguments: TestHubStore.all)
    func noSecretLeaksFromAnyCommandOnAnyPath(_ hub: TestHubStore) async throws {
        let world = try await LeakWorld.make(hub: hub)
        var scanner = LeakScanner(canaries: world.canaries)

        // Working systems: every command, with and without --json.
        var connectorLines = 0, lastSync: Int32 = -1, syncs: [String] = []
        for arguments in try await world.commands() {
            let run = try await world.hubctl(arguments)
            scanner.scan(run.stdout, "stdout of \(arguments.joined(separator: " "))")
            scanner.scan(run.stderr, "stderr of \(arguments.joined(separator: " "))")
            connectorLines += run.stderr.components(separatedBy: "[notes] connector: handling").count - 1
            if arguments.first == "sync-all" && !arguments.contains("--dry-run") {
                lastSync = run.exitCode
                syncs.append("\(arguments.joined(separator: " ")) → \(run.exitCode)\n\(run.stdout)\(run.stderr)")
            }
        }
        // The success path is one: every system synced, and the connector spoke (its token scrubbed).
        #expect(lastSync == 0, "the last sync-all exited \(lastSync): \(syncs.joined(separator: "\n"))")
        #expect(connectorLines > 20, "\(connectorLines) connector lines on stderr")
        let people = try await world.curl(["\(world.kinto.root)/buckets/\(world.kinto.bucket)/collections/people/records"])
        #expect(people.contains("dora@example.com") && people.contains("cleo@example.com"), "the systems were synced")
        // Failure paths: each with the commands that open the systems.
        for (name, environment) in world.failures {
            await world.prepareFailure(name)
            for arguments in LeakWorld.failureCommands {
                let run = try await world.hubctl(arguments, extra: environment)
                scanner.scan(run.stdout, "stdout of \(arguments.joined(separator: " ")) (\(name))")
                scanner.scan(run.stderr, "stderr of \(arguments.joined(separator: " ")) (\(name))")
            }
        }
        try await world.scanStores(&scanner)
        await world.stop()

        for leak in scanner.leaks.prefix(20) { Issue.record("leak: \(leak)") }
        #expect(scanner.places > 100, "\(scanner.places) places scanned")
        Scorecard.record("T8" + hub.scorecardSuffix, ["leaks": Double(scanner.leaks.count), "canary_slots": Double(world.slots),
                                "places_scanned": Double(scanner.places), "bytes_scanned": Double(scanner.bytes)])
    }
}

extension SecretLeakTests {
    @Test func theScannerFindsACanaryInEveryForm() {
        let canary = Self.canary("self", awkward: true)
        var scanner = LeakScanner(canaries: [canary])
        var unreserved = CharacterSet.alphanumerics
        unreserved.insert(charactersIn: "-._~")
        let forms = [
            "x \(canary) y", "Authorization: Basic " + Data("user:\(canary)".utf8).base64EncodedString(),
            "q=" + canary.addingPercentEncoding(withAllowedCharacters: unreserved)!,
            Array(canary.utf8).map { String(format: "%02x", $0) }.joined(),
            "…" + String(canary.split(separator: "-")[3].prefix(14)) + "…",
        ]
        for (i, text) in forms.enumerated() { scanner.scan(text, "form \(i)") }
        #expect(scanner.leaks.count >= forms.count, "\(scanner.leaks)")
        scanner.scan("nothing secret here: hubctl-canary-self-", "clean")
        #expect(!scanner.leaks.contains { $0.hasSuffix("in clean") })
    }
}

/// Looks for canaries in text and bytes, in every encoding they could be written in.
struct LeakScanner {
    struct Pattern {
        var canary: String
        var form: String
        var bytes: [UInt8]
    }

    let patterns: [Pattern]
    private(set) var leaks: [String] = []
    private(set) var places = 0
    private(set) var bytes = 0

    init(canaries: [String]) {
        var patterns: [Pattern] = []
        for canary in canaries {
            let raw = Array(canary.utf8)
            func add(_ form: String, _ text: String) { patterns.append(Pattern(canary: canary, form: form, bytes: Array(text.utf8))) }
            add("raw", canary)
            var unreserved = CharacterSet.alphanumerics
            unreserved.insert(charactersIn: "-._~")
            add("percent-encoded", canary.addingPercentEncoding(withAllowedCharacters: unreserved)!)
            add("percent-encoded (form)", canary.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!)
            add("hex", raw.map { String(format: "%02x", $0) }.joined())
            add("HEX", raw.map { String(format: "%02X", $0) }.joined())
            // Base64 at each of the three alignments, without the characters the neighbours change.
            for shift in 0..<3 {
                let encoded = Data(Array(repeating: UInt8(0), count: shift) + raw).base64EncodedString()
                let core = String(encoded.dropFirst(shift == 0 ? 0 : 4).dropLast(4))
                add("base64", core)
                add("base64url", core.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_"))
            }
            // Any 12 characters of the random part.
            let random = canary.split(separator: "-").dropFirst(3).first.map(String.init) ?? ""
            if random.count >= 12 {
                for start in 0...(random.count - 12) {
                    let i = random.index(random.startIndex, offsetBy: start)
                    add("12-character piece", String(random[i..<random.index(i, offsetBy: 12)]))
                }
            }
        }
        self.patterns = patterns
    }

    mutating func scan(_ text: String, _ place: String) { scan(Array(text.utf8), place) }

    mutating func scan(_ data: [UInt8], _ place: String) {
        places += 1
        bytes += data.count
        guard !data.isEmpty else { return }
        for pattern in patterns where Self.contains(data, pattern.bytes) {
            leaks.append("\(pattern.canary.prefix(22))… (\(pattern.form)) in \(place)")
        }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, needle.count <= haystack.count else { return false }
        return haystack.withUnsafeBufferPointer { h in
            var i = 0
            let last = h.count - needle.count
            while i <= last {
                guard let hit = memchr(h.baseAddress! + i, Int32(first), last - i + 1) else { return false }
                let at = h.baseAddress!.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if memcmp(h.baseAddress! + at, needle, needle.count) == 0 { return true }
                i = at + 1
            }
            return false
        }
    }
}

/// The systems of the T8 battery and the canaries in their secret slots.
final class LeakWorld: @unchecked Sendable {
    // Set once in make(); read afterwards.
    let dir: TemporaryDirectory
    var environment: [String: String] = [:]
    var canaries: [String] = []
    var slots = 0
    var failures: [(String, [String: String])] = []
    var crm: FakeCRM!
    var keyed: FakeCRM!
    var postgres: TestServices.Postgres!
    var schema = ""
    var roles: [String] = []
    /// The hub's schema when the hub is in PostgreSQL, and the role that owns its tables.
    var hubSchema: String?
    var hubRole: (user: String, password: String)?
    var kinto: (root: String, user: String, password: String, bucket: String)!

    init(dir: TemporaryDirectory) { self.dir = dir }

    static let failureCommands: [[String]] = [
        ["check"], ["check", "--json"], ["sync-all"], ["sync-all", "--json"], ["sync-all", "--dry-run", "--json"],
        ["audit", "--deep"], ["audit", "--deep", "--json"], ["discover", "crm", "--json"], ["discover", "notes"],
        ["history", "--json"], ["quarantine", "list", "--json"],
    ]

    static let connectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("topologies/connectors").path

    static func make(hub: TestHubStore) async throws -> LeakWorld {
        let world = LeakWorld(dir: try TemporaryDirectory())
        try await world.build(postgresHub: hub == .postgres)
        return world
    }

    private func build(postgresHub: Bool) async throws {
        let c = SecretLeakTests.self
        let pgPassword = c.canary("pgfield", awkward: true), urlPassword = c.canary("pgurl", awkward: true)
        let bearer = c.canary("bearer"), tenant = c.canary("header"), apiKey = c.canary("apikey")
        let kintoPassword = c.canary("basic", awkward: true), connectorKey = c.canary("exec")
        let wrongPG = c.canary("wrongpg", awkward: true), wrongToken = c.canary("wrongtoken"), wrongKinto = c.canary("wrongbasic")
        canaries = [pgPassword, urlPassword, bearer, tenant, apiKey, kintoPassword, connectorKey, wrongPG, wrongToken, wrongKinto]
        slots = 7
        let hubPassword = c.canary("hubpw", awkward: true), wrongHub = c.canary("wronghub", awkward: true)
        if postgresHub {
            canaries += [hubPassword, wrongHub]
            slots += 1
        }

        // PostgreSQL: two roles with awkward passwords, one schema, a table each.
        postgres = try TestServices.requirePostgres()
        schema = "t8_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
        roles = ["r1_" + schema, "r2_" + schema]
        func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
        try await psql("""
            CREATE SCHEMA \(schema);
            CREATE ROLE \(roles[0]) LOGIN PASSWORD \(literal(pgPassword));
            CREATE ROLE \(roles[1]) LOGIN PASSWORD \(literal(urlPassword));
            GRANT USAGE, CREATE ON SCHEMA \(schema) TO \(roles[0]), \(roles[1]);
            CREATE TABLE \(schema).customers (id serial PRIMARY KEY, email text, name text);
            CREATE TABLE \(schema).accounts (id serial PRIMARY KEY, email text, name text);
            INSERT INTO \(schema).customers (email, name) VALUES ('ann@example.com', 'Ann'), ('bob@example.com', 'Bob');
            GRANT ALL ON ALL TABLES IN SCHEMA \(schema) TO \(roles[0]), \(roles[1]);
            GRANT ALL ON ALL SEQUENCES IN SCHEMA \(schema) TO \(roles[0]), \(roles[1]);
            """)
        if postgresHub {
            // The hub: a role of its own, creating its tables in a schema of its own.
            let hubRole = "r3_" + schema, hub = "hub_" + schema
            roles.append(hubRole)
            hubSchema = hub
            self.hubRole = (hubRole, hubPassword)
            try await psql("""
                CREATE ROLE \(hubRole) LOGIN PASSWORD \(literal(hubPassword));
                CREATE SCHEMA \(hub);
                GRANT USAGE, CREATE ON SCHEMA \(hub) TO \(hubRole);
                GRANT CREATE ON DATABASE \(postgres.database) TO \(hubRole);
                """)
        }
        // Two fake APIs: a bearer token and a custom header; an API-key header.
        crm = try await FakeCRM.start(token: bearer)
        await crm.add("contacts", ["email": "cleo@example.com", "name": "Cleo"])
        keyed = try await FakeCRM.start(token: "unused-\(UUID().uuidString)")
        await keyed.setAPIKey(header: "X-API-Key", value: apiKey)
        for fake in [crm!, keyed!] { await fake.setEchoesHeaders(true) }
        // Kinto: an account whose password is a canary.
        let root = try TestServices.requireKinto()
        let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        kinto = (root, "t8\(token.prefix(10))", kintoPassword, "t8\(token.prefix(8))")
        try await curl(["-X", "PUT", "\(root)/accounts/\(kinto.user)", "-H", "Content-Type: application/json",
                        "-d", JSONWriter.string(["data": ["password": .string(kintoPassword)]])], auth: false)
        try await curl(["-X", "PUT", "\(root)/buckets/\(kinto.bucket)"])
        try await curl(["-X", "PUT", "\(root)/buckets/\(kinto.bucket)/collections/people"])
        // A connector that prints its token on stderr and puts it in its errors.
        try """
            import os, sys
            sys.path.insert(0, \(JSONWriter.string(.string(Self.connectors))))
            import notes
            TOKEN = ""
            def traced(op):
                def run(req):
                    global TOKEN
                    if req["op"] == "open":
                        TOKEN = req["settings"]["api_key"]
                    print("connector: handling " + req["op"] + " with token " + TOKEN, file=sys.stderr, flush=True)
                    if req["op"] == "discover" or (req["op"] == "read" and os.environ.get("LEAKY_FAIL")):
                        raise notes.Refused("unavailable", "the API refused token " + TOKEN)
                    return op(req)
                return run
            for name in list(notes.OPS):
                notes.OPS[name] = traced(notes.OPS[name])
            notes.main()
            """.write(toFile: dir.path + "/leaky.py", atomically: true, encoding: .utf8)
        try "ID,Email,Name\nr1,dora@example.com,Dora\nr2,eve@example.com,Eve\nr3,ann@example.com,Ann\n"
            .write(toFile: dir.path + "/customers.csv", atomically: true, encoding: .utf8)
        let crmShape = #""records": "results", "record_fields": "properties", "envelope": "properties", "limit_param": "limit", "pagination": {"style": "cursor", "param": "after", "next": "paging.next.after"}"#
        let map = #""fields": {"email": "email", "name": "name"}"#
        let hubJSON = hubSchema.map { hub in
            #""hub": {"url": "postgres://\#(roles[2]):${HUB_PASSWORD}@${BILLING_HOST}:${HUB_PORT}/${BILLING_DB}?sslmode=disable", "schema": "\#(hub)"},"#
        } ?? ""
        try """
            {"version": 1, "name": "t8", \(hubJSON)
             "entities": {"customer": {"fields": {"email": {"type": "string", "required": true, "normalize": ["trim", "lowercase"]},
                                                  "name": {"type": "string"}}, "match": [["email"]]}},
             "systems": {
               "billing": {"adapter": "postgres", "connection": {"host": "${BILLING_HOST}", "port": "${BILLING_PORT}",
                 "database": "${BILLING_DB}", "user": "\(roles[0])", "password": "${BILLING_PASSWORD}", "schema": "\(schema)", "sslmode": "disable",
                 "connect_timeout": 3},
                 "entities": {"customer": {"object": "customers", \(map)}}},
               "ledger": {"adapter": "postgres", "connection": {"url": "postgres://\(roles[1]):${LEDGER_PASSWORD}@${BILLING_HOST}:${BILLING_PORT}/${BILLING_DB}?sslmode=disable",
                 "schema": "\(schema)", "connect_timeout": 3},
                 "entities": {"customer": {"object": "accounts", \(map)}}},
               "crm": {"adapter": "rest", "connection": {"base_url": "${CRM_URL}", "auth": {"type": "bearer", "token": "${CRM_TOKEN}"},
                 "headers": {"X-Tenant-Secret": "${TENANT_SECRET}"}, "timeout": 60, "retry": {"max_attempts": 2, "base_delay": 0.01},
                 "endpoint": {\(crmShape)}},
                 "entities": {"customer": {"object": "crm/v3/objects/contacts", \(map)}}},
               "keyed": {"adapter": "rest", "connection": {"base_url": "${KEYED_URL}", "auth": {"type": "header", "name": "X-API-Key", "value": "${KEYED_KEY}"},
                 "timeout": 60, "retry": {"max_attempts": 2, "base_delay": 0.01}, "endpoint": {\(crmShape)}},
                 "entities": {"customer": {"object": "crm/v3/objects/contacts", \(map)}}},
               "kinto": {"adapter": "rest", "connection": {"base_url": "${KINTO_URL}", "auth": {"type": "basic", "username": "\(kinto.user)", "password": "${KINTO_PASSWORD}"},
                 "timeout": 60, "retry": {"max_attempts": 2, "base_delay": 0.01},
                 "endpoint": {"records": "data", "record": "data", "envelope": "data", "limit_param": "_limit", "since_param": "_since",
                              "query": {"_sort": "last_modified"}, "pagination": {"style": "header", "header": "Next-Page"},
                              "tombstone": {"field": "deleted", "value": true}, "if_match": true}},
                 "entities": {"customer": {"object": "people", "cursor": "last_modified",
                   "endpoint": {"path": "buckets/\(kinto.bucket)/collections/people/records"}, \(map)}}},
               "notes": {"adapter": "exec", "connection": {"command": ["python3", "leaky.py"], "timeout": 20, "tombstones": true,
                 "settings": {"data_dir": "notes-data", "api_key": "${NOTES_KEY}"}},
                 "entities": {"customer": {"object": "customers", "cursor": "version", \(map)}}},
               "sheet": {"adapter": "csv", "entities": {"customer": {"object": "customers.csv", "id": "ID",
                 "fields": {"email": "Email", "name": "Name"}}}}
             }}
            """.write(toFile: dir.path + "/topology.json", atomically: true, encoding: .utf8)
        var unreserved = CharacterSet.alphanumerics
        unreserved.insert(charactersIn: "-._~")
        environment = [
            "BILLING_HOST": postgres.host, "BILLING_PORT": String(postgres.port), "BILLING_DB": postgres.database,
            "BILLING_PASSWORD": pgPassword, "LEDGER_PASSWORD": urlPassword.addingPercentEncoding(withAllowedCharacters: unreserved)!,
            "CRM_URL": await crm.url(), "CRM_TOKEN": bearer, "TENANT_SECRET": tenant,
            "KEYED_URL": await keyed.url(), "KEYED_KEY": apiKey, "KINTO_URL": root, "KINTO_PASSWORD": kintoPassword,
            "NOTES_KEY": connectorKey,
        ]
        if postgresHub {
            environment["HUB_PASSWORD"] = hubPassword.addingPercentEncoding(withAllowedCharacters: unreserved)!
            environment["HUB_PORT"] = String(postgres.port)
        }
        failures = [
            ("wrong passwords", ["BILLING_PASSWORD": wrongPG, "CRM_TOKEN": wrongToken, "KINTO_PASSWORD": wrongKinto]),
            ("unreachable systems", ["BILLING_PORT": "1", "CRM_URL": "http://127.0.0.1:1", "KINTO_URL": "http://127.0.0.1:1/v1"]),
            ("500s echoing the request", [:]),
            ("connector errors", ["LEAKY_FAIL": "1"]),
        ]
        if postgresHub {
            failures += [
                ("a wrong hub password", ["HUB_PASSWORD": wrongHub.addingPercentEncoding(withAllowedCharacters: unreserved)!]),
                ("an unreachable hub", ["HUB_PORT": "1"]),
            ]
        }
    }

    /// Makes the fake APIs answer 500 (echoing the request's headers) for the "500s" run.
    func prepareFailure(_ name: String) async {
        guard name.hasPrefix("500") else { return }
        for fake in [crm!, keyed!] {
            for n in 1...200 { await fake.inject(.init(nth: n, action: .status(500, retryAfter: nil))) }
        }
    }

    func stop() async {
        await crm.stop()
        await keyed.stop()
        if let hubSchema {
            _ = try? await psql("DROP SCHEMA \(hubSchema) CASCADE; REVOKE ALL ON DATABASE \(postgres.database) FROM \(roles[2]);")
        }
        _ = try? await psql("DROP SCHEMA \(schema) CASCADE; " + roles.map { "DROP ROLE \($0);" }.joined(separator: " "))
    }

    /// Runs hubctl in the world's folder with its environment (and `extra` over it).
    func hubctl(_ arguments: [String], extra: [String: String] = [:]) async throws -> HubctlProcess.Result {
        let environment = environment.merging(extra) { $1 }, dir = dir.path
        return try await offThread { try HubctlProcess.run(arguments + ["-t", "topology.json"], in: dir, environment: environment) }
    }

    /// Every command, with and without `--json`, in an order that gives each one something to do.
    func commands() async throws -> [[String]] {
        var out: [[String]] = [["validate"], ["validate", "--json"], ["check"], ["check", "--json"]]
        for system in ["billing", "ledger", "crm", "keyed", "kinto", "notes", "sheet"] {
            out += [["discover", system], ["discover", system, "--json"]]
        }
        out += [["sync-all", "--dry-run"], ["sync-all", "--dry-run", "--json"], ["sync-all"], ["sync-all", "--json"]]
        let history = try await hubctl(["history", "--json"])
        let runID = Self.find("run_id", in: (try? history.result()) ?? .null).first ?? "none"
        let links = try await hubctl(["links", "customer", "sheet:r1", "--json"])
        let linked = (try? links.result()) ?? .null
        let notesID = Self.links(linked).first { $0.system == "notes" }?.id ?? "none"
        let other = Self.find("hub_id", in: (try? (try await hubctl(["links", "customer", "sheet:r2", "--json"])).result()) ?? .null).first ?? "none"
        let plan = dir.path + "/fix-plan.json"
        out += [["history"], ["history", "--json"], ["runs", "show", runID], ["runs", "show", runID, "--json"],
                ["quarantine", "list"], ["quarantine", "list", "--json"], ["quarantine", "retry"], ["quarantine", "retry", "--json"],
                ["conflicts", "list"], ["conflicts", "list", "--json"],
                ["audit"], ["audit", "--json"], ["audit", "--deep"], ["audit", "--deep", "--json"],
                ["audit", "--deep", "--fix-plan", plan], ["repair", plan, "--dry-run"], ["repair", plan, "--dry-run", "--json"],
                ["repair", plan], ["repair", plan, "--json"],
                ["links", "customer", "sheet:r1"], ["links", "customer", "sheet:r1", "--json"],
                ["explain", "customer", "sheet:r1"], ["explain", "customer", "sheet:r1", "--json"]]
        for dry in [["--dry-run"], []] {
            out += [["unlink", "customer", "sheet:r1", "--system", "notes"] + dry,
                    ["unlink", "customer", "sheet:r1", "--system", "notes", "--json"] + dry,
                    ["link", "customer", "sheet:r1", "--system", "notes", "--id", notesID] + dry,
                    ["link", "customer", "sheet:r1", "--system", "notes", "--id", notesID, "--json"] + dry,
                    ["relink", "customer", "--system", "notes", "--id", notesID, "--to", "sheet:r2"] + dry,
                    ["relink", "customer", "--system", "notes", "--id", notesID, "--to", "sheet:r1", "--json"] + dry,
                    ["merge", "customer", "sheet:r1", "sheet:r2"] + dry,
                    ["unmerge", "customer", other] + dry,
                    ["merge", "customer", "sheet:r1", "sheet:r2", "--json"] + dry,
                    ["unmerge", "customer", other, "--json"] + dry]
        }
        out += [["sync-all"], ["sync-all", "--json"], ["audit", "--deep", "--json"]]
        return out
    }

    /// Every value of `key` anywhere in `value`, as text.
    static func find(_ key: String, in value: Value) -> [String] {
        switch value {
        case .object(let o): return (o[key]?.stringValue.map { [$0] } ?? []) + o.values.flatMap { find(key, in: $0) }
        case .array(let a): return a.flatMap { find(key, in: $0) }
        default: return []
        }
    }

    /// The (system, id) pairs of a `links --json` answer.
    static func links(_ value: Value) -> [(system: String, id: String)] {
        switch value {
        case .object(let o):
            var out: [(String, String)] = []
            if let system = o["system"]?.stringValue, let id = (o["external_id"] ?? o["id"])?.stringValue { out.append((system, id)) }
            return out + o.values.flatMap { links($0) }
        case .array(let a): return a.flatMap { links($0) }
        default: return []
        }
    }

    /// Scans the hub and its WAL, every file in the world's folder, the PostgreSQL rows, the
    /// Kinto records and every request the fake APIs received (but each one's own credential headers).
    func scanStores(_ scanner: inout LeakScanner) async throws {
        let files = FileManager.default.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []
        for file in files.sorted() {
            var isDirectory: ObjCBool = false
            let path = dir.path + "/" + file
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let data = FileManager.default.contents(atPath: path) else { continue }
            scanner.scan(Array(data), "file \(file)")
        }
        for table in ["customers", "accounts", "hubctl_create_keys"] {
            let rows = (try? await psql("SELECT row_to_json(t) FROM \(schema).\(table) t", quiet: true)) ?? ""
            scanner.scan(rows, "PostgreSQL table \(table)")
        }
        if let hubSchema, let hubRole {
            // As the hub's role, which owns its tables.
            let tables = try await psql("SELECT tablename FROM pg_tables WHERE schemaname = '\(hubSchema)' ORDER BY 1", as: hubRole)
            let names = tables.split(separator: "\n").map(String.init)
            #expect(names.contains("entity") && names.contains("xref"), "the hub's tables: \(names)")
            for table in names {
                scanner.scan(try await psql("SELECT row_to_json(t) FROM \(hubSchema).\"\(table)\" t", as: hubRole), "hub table \(table)")
            }
        }
        scanner.scan(try await curl(["\(kinto.root)/buckets/\(kinto.bucket)/collections/people/records"]), "Kinto records")
        for (fake, allowed) in [(crm!, ["authorization", "x-tenant-secret"]), (keyed!, ["x-api-key"])] {
            for request in await fake.requests {
                let headers = request.headers.filter { !allowed.contains($0.key.lowercased()) }
                scanner.scan("\(request.method) \(request.path) \(request.query) \(headers) \(request.body)",
                             "request \(request.method) \(request.path) to the fake API")
            }
        }
    }

    @discardableResult
    func psql(_ sql: String, quiet: Bool = false, as role: (user: String, password: String)? = nil) async throws -> String {
        try await tool("psql", ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", postgres.host, "-p", String(postgres.port),
                                "-U", role?.user ?? postgres.user, "-d", postgres.database, "-c", sql],
                       ["PGPASSWORD": role?.password ?? postgres.password])
    }

    @discardableResult
    func curl(_ arguments: [String], auth: Bool = true) async throws -> String {
        try await tool("curl", ["-fsS"] + (auth ? ["-u", "\(kinto.user):\(kinto.password)"] : []) + arguments, [:])
    }

    func tool(_ program: String, _ arguments: [String], _ environment: [String: String]) async throws -> String {
        let out = try await ExternalTool.run(program, arguments, environment: environment)
        guard out.status == 0 else { throw LeakWorldError(message: "\(program) exited \(out.status): \(out.stderr)") }
        return out.stdout
    }

    /// Runs blocking work on a thread of its own, so the fake APIs keep answering.
    func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }
}

struct LeakWorldError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
