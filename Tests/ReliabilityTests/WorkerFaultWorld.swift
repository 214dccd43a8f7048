import Foundation
import HubCore
import HubTestServers
import HubTesting

/// Four systems shared by `hubctl run --worker` processes, with the hub in a PostgreSQL cluster of
/// the test's own (its server can be restarted): `billing` (a PostgreSQL table read by an
/// `updated_at` cursor), `app` and `books` (SQLite, read in full; the books in 3 parts, each its own
/// unit) and `sheet` (a CSV file). The
/// world keeps a model of what every system must hold, edits the systems with their own tools,
/// and reads every row back.
final class WorkerFaultWorld {
    static let systems = ["billing", "app", "books", "sheet"]
    /// The systems edited between rounds (the sheet only receives: a CSV file edited while a
    /// worker rewrites it keeps the last writer's version, a documented limit).
    static let edited = ["billing", "app", "books"]

    let cluster: OwnPostgresCluster
    let directory: TemporaryDirectory
    let topology: String
    var environment: [String: String] { ["HUB_PGPASSWORD": cluster.password] }

    /// Every worker started, to end the ones still running when the test ends.
    private var running: [HubctlProcess.Running] = []
    /// What every system must hold: `email → first|last|phone`.
    private(set) var model: [String: String] = [:]

    private init(cluster: OwnPostgresCluster, directory: TemporaryDirectory, topology: String) {
        self.cluster = cluster
        self.directory = directory
        self.topology = topology
    }

    /// Starts a cluster, creates the systems with 12 customers, each held by one or two systems.
    static func make() async throws -> WorkerFaultWorld {
        let cluster = try await OwnPostgresCluster.start()
        do {
            let directory = try TemporaryDirectory()
            let world = WorkerFaultWorld(cluster: cluster, directory: directory, topology: directory.path + "/topology.json")
            try await world.create()
            return world
        } catch {
            cluster.stop()
            throw error
        }
    }

    static func row(_ i: Int) -> (email: String, first: String, last: String, phone: String) {
        ("c\(i)@example.com", "F\(i)", "L\(i)", "\(i)")
    }

    private func create() async throws {
        let holders: [String: [Int]] = ["billing": [0, 1, 2, 3, 4], "app": [3, 4, 5, 6, 7], "books": [6, 7, 8, 9, 10], "sheet": [9, 10, 11, 0]]
        func values(_ system: String) -> String {
            holders[system]!.map(Self.row).map { "('\($0.email)', '\($0.first)', '\($0.last)', '\($0.phone)')" }.joined(separator: ", ")
        }
        _ = try await cluster.psql("""
            CREATE SCHEMA billing;
            CREATE TABLE billing.customers (id serial PRIMARY KEY, email text NOT NULL, first_name text, last_name text, phone text,
                                            updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
            CREATE FUNCTION billing.touch() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN NEW.updated_at = clock_timestamp(); RETURN NEW; END $$;
            CREATE TRIGGER touch BEFORE UPDATE ON billing.customers FOR EACH ROW EXECUTE FUNCTION billing.touch();
            INSERT INTO billing.customers (email, first_name, last_name, phone) VALUES \(values("billing"));
            """)
        try BatteryFixture.execute(directory.path + "/app.db", """
            CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL, given TEXT, family TEXT, phone TEXT);
            INSERT INTO users (email, given, family, phone) VALUES \(values("app"));
            """)
        try BatteryFixture.execute(directory.path + "/books.db", """
            CREATE TABLE clients (client_no INTEGER PRIMARY KEY AUTOINCREMENT, mail TEXT NOT NULL, fname TEXT, lname TEXT, tel TEXT);
            INSERT INTO clients (mail, fname, lname, tel) VALUES \(values("books"));
            """)
        try FileManager.default.createDirectory(atPath: directory.path + "/sheet", withIntermediateDirectories: true)
        let csv = holders["sheet"]!.map(Self.row).map { "r\($0.phone),\($0.email),\($0.first),\($0.last),\($0.phone)\n" }.joined()
        try ("Row ID,Email,First,Last,Phone\n" + csv).write(toFile: directory.path + "/sheet/customers.csv", atomically: true, encoding: .utf8)
        for i in 0..<12 {
            let r = Self.row(i)
            model[r.email] = "\(r.first)|\(r.last)|\(r.phone)"
        }
        func fields(_ email: String, _ first: String, _ last: String, _ phone: String) -> String {
            #"{"email": "\#(email)", "first_name": "\#(first)", "last_name": "\#(last)", "phone": "\#(phone)"}"#
        }
        let c = cluster
        try """
            {
              "version": 1, "name": "t11",
              "hub": {"url": "postgres://\(c.user):${HUB_PGPASSWORD}@\(c.host):\(c.port)/\(c.database)?sslmode=disable", "schema": "hub"},
              "entities": {"customer": {"fields": {"email": {"type": "string", "required": true, "normalize": ["trim", "lowercase"]},
                "first_name": {"type": "string"}, "last_name": {"type": "string"}, "phone": {"type": "string"}}, "match": [["email"]]}},
              "systems": {
                "billing": {"adapter": "postgres",
                  "connection": {"host": "\(c.host)", "port": "\(c.port)", "database": "\(c.database)", "user": "\(c.user)",
                                 "password": "${HUB_PGPASSWORD}", "schema": "billing", "sslmode": "disable"},
                  "entities": {"customer": {"object": "customers", "id": "id", "cursor": "updated_at",
                                            "fields": \(fields("email", "first_name", "last_name", "phone"))}}},
                "app": {"adapter": "sqlite", "connection": {"path": "app.db"},
                  "entities": {"customer": {"object": "users", "id": "id", "fields": \(fields("email", "given", "family", "phone"))}}},
                "books": {"adapter": "sqlite", "connection": {"path": "books.db"},
                  "entities": {"customer": {"object": "clients", "id": "client_no", "partitions": 3,
                                            "fields": \(fields("mail", "fname", "lname", "tel"))}}},
                "sheet": {"adapter": "csv", "connection": {"path": "sheet"},
                  "entities": {"customer": {"object": "customers.csv", "id": "Row ID", "fields": \(fields("Email", "First", "Last", "Phone"))}}}
              }
            }
            """.write(toFile: topology, atomically: true, encoding: .utf8)
    }

    /// Ends every worker still running (SIGCONT first, in case it is stopped) and the cluster.
    func stop() {
        for worker in running where worker.process.isRunning {
            kill(worker.pid, SIGCONT)
            kill(worker.pid, SIGKILL)
        }
        cluster.stop()
    }

    // MARK: - Workers

    /// Starts `hubctl run --worker` (2-second leases and 1-second rounds unless told otherwise).
    func startWorker(faults: String? = nil, lease: String = "2s") throws -> HubctlProcess.Running {
        var environment = self.environment
        if let faults { environment["HUBCTL_FAULTS"] = faults }
        let worker = try HubctlProcess.start(["run", "--worker", "--lease", lease, "--every", "1s", "-t", topology],
                                             environment: environment)
        running.append(worker)
        return worker
    }

    /// A query on the hub's schema.
    func hub(_ sql: String) async throws -> String {
        try await cluster.psql("SET search_path TO hub; " + sql)
    }

    /// Waits until every system has been read again since now and what was read pushed everywhere
    /// (``WorkerRounds/waitForReadsAndPushes(query:poll:)``): the edits made before the call have
    /// then reached every system. (Rounds alone do not say so: a round reads only what is due.)
    func waitForReadsAndPushes() async throws {
        try await WorkerRounds.waitForReadsAndPushes(query: { try await self.hub($0) }, poll: { try await eventually($0, $1) })
    }

    /// The units `pid` holds a lease on (owner set), with their tokens.
    func leases(of pid: Int32) async throws -> [String: Int] {
        let text = try await hub("SELECT u.unit || '=' || u.token FROM work_unit u JOIN worker w ON w.id = u.owner WHERE w.pid = \(pid)")
        var out: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=")
            if parts.count == 2 { out[String(parts[0])] = Int(parts[1]) }
        }
        return out
    }

    /// A worker's `fenced_writes` and `units_done` in the hub.
    func counters(of pid: Int32) async throws -> (fenced: Int, done: Int) {
        let row = try await hub("SELECT fenced_writes || '|' || units_done FROM worker WHERE pid = \(pid)").split(separator: "|")
        return (Int(row.first ?? "") ?? 0, Int(row.last ?? "") ?? 0)
    }

    // MARK: - Edits

    /// Round `k`'s edits: one field of a different customer in each of billing, app and books,
    /// and a new customer in one of them; the model follows.
    func edit(round k: Int) async throws {
        let emails = model.keys.sorted()
        func pick(_ offset: Int) -> (email: String, fields: [String]) {
            let email = emails[(3 * k + offset) % emails.count]
            return (email, model[email]!.split(separator: "|", omittingEmptySubsequences: false).map(String.init))
        }
        var (email, f) = pick(0)
        f[0] = "B\(k)"
        _ = try await cluster.psql("UPDATE billing.customers SET first_name = '\(f[0])' WHERE email = '\(email)'")
        model[email] = f.joined(separator: "|")
        (email, f) = pick(1)
        f[1] = "A\(k)"
        try BatteryFixture.execute(directory.path + "/app.db", "UPDATE users SET family = '\(f[1])' WHERE email = '\(email)'")
        model[email] = f.joined(separator: "|")
        (email, f) = pick(2)
        f[2] = "\(k)00"
        try BatteryFixture.execute(directory.path + "/books.db", "UPDATE clients SET tel = '\(f[2])' WHERE mail = '\(email)'")
        model[email] = f.joined(separator: "|")

        let new = "n\(k)@example.com"
        switch Self.edited[k % Self.edited.count] {
        case "billing":
            _ = try await cluster.psql("INSERT INTO billing.customers (email, first_name, last_name, phone) VALUES ('\(new)', 'N\(k)', 'New', '\(k)')")
        case "app":
            try BatteryFixture.execute(directory.path + "/app.db", "INSERT INTO users (email, given, family, phone) VALUES ('\(new)', 'N\(k)', 'New', '\(k)')")
        default:
            try BatteryFixture.execute(directory.path + "/books.db", "INSERT INTO clients (mail, fname, lname, tel) VALUES ('\(new)', 'N\(k)', 'New', '\(k)')")
        }
        model[new] = "N\(k)|New|\(k)"
    }

    // MARK: - Reading back

    /// Every system's customers, read with its own tool: `email → [first|last|phone]`, one entry
    /// per row (two entries for one email are a duplicate).
    func contents() async throws -> [String: [String: [String]]] {
        func add(_ rows: [[String]]) -> [String: [String]] {
            var out: [String: [String]] = [:]
            for row in rows where !row.isEmpty { out[row[0], default: []].append(row.dropFirst().joined(separator: "|")) }
            return out
        }
        func sqlite(_ file: String, _ sql: String) throws -> [[String]] {
            try BatteryFixture.rows(directory.path + "/" + file, sql).map { row in ["e", "a", "b", "c"].map { row[$0] ?? "" } }
        }
        var out: [String: [String: [String]]] = [:]
        out["billing"] = add(try await cluster.psql("SELECT email, first_name, last_name, coalesce(phone, '') FROM billing.customers")
            .split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) })
        out["app"] = add(try sqlite("app.db", "SELECT email AS e, given AS a, family AS b, phone AS c FROM users"))
        out["books"] = add(try sqlite("books.db", "SELECT mail AS e, fname AS a, lname AS b, tel AS c FROM clients"))
        let csv = try String(contentsOfFile: directory.path + "/sheet/customers.csv", encoding: .utf8)
        out["sheet"] = add(csv.split(separator: "\n").dropFirst().map {
            Array($0.split(separator: ",", omittingEmptySubsequences: false).dropFirst().map(String.init))
        })
        return out
    }

    /// Compares every system with the model: rows beyond the first for one email (duplicates),
    /// and customers missing or holding another value than the model's (lost updates).
    func check() async throws -> (duplicates: Int, lost: Int, notes: [String]) {
        var duplicates = 0, lost = 0, notes: [String] = []
        for (system, rows) in try await contents().sorted(by: { $0.key < $1.key }) {
            for (email, values) in rows where values.count > 1 {
                duplicates += values.count - 1
                notes.append("\(system): \(email) \(values.count) times")
            }
            for (email, expected) in model where rows[email]?.first != expected {
                lost += 1
                notes.append("\(system): \(email) is \(rows[email]?.first ?? "missing"), not \(expected)")
            }
            for email in rows.keys where model[email] == nil {
                lost += 1
                notes.append("\(system): \(email) should not exist")
            }
        }
        return (duplicates, lost, notes)
    }
}

/// Waits for `condition` (polling, at most three minutes): a bound, never a timed assertion.
func eventually(_ what: String, within seconds: Double = 180, detail: () -> String = { "" },
                _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while try await !condition() {
        guard Date() < deadline else { throw BatteryError("waited \(Int(seconds)) s for: \(what)\n\(detail())") }
        try await Task.sleep(nanoseconds: 100_000_000)
    }
}
