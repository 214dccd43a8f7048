import Foundation
import GRDB
import HubCore
import HubTesting
import HubTestServers

/// Three real systems (a SQLite CRM with a change cursor, a SQLite billing database read in full,
/// a CSV sheet) with overlapping customers, a workload of edits, and the oracles the battery
/// judges runs by: per-system snapshots, duplicates, orphans and write counters.
struct BatteryFixture {
    let dir: String
    /// The schema of the test cluster holding the hub, when the hub is in PostgreSQL; nil for the
    /// SQLite hub in `hubPath`.
    var postgresSchema: String? = nil
    var topologyPath: String { dir + "/topology.json" }
    var hubPath: String { dir + "/battery.hub.sqlite" }

    /// The topology with its hub in `schema` of the test cluster (the password from the
    /// environment, as a user would write it).
    static func topology(postgresSchema schema: String) throws -> String {
        let pg = try TestServices.requirePostgres()
        let hub = "\"hub\": {\"url\": \"postgres://\(pg.user):${HUBCTL_TEST_POSTGRES_PASSWORD}@\(pg.host):\(pg.port)/"
            + "\(pg.database)?sslmode=disable\", \"schema\": \"\(schema)\"},"
        return topology.replacingOccurrences(of: "\"name\": \"battery\",", with: "\"name\": \"battery\",\n  " + hub)
    }

    static func newSchema() -> String {
        "battery_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    }

    static let topology = """
    {
      "version": 1,
      "name": "battery",
      "entities": {
        "customer": {
          "fields": {
            "email": { "type": "string", "required": true, "normalize": ["trim", "lowercase"] },
            "name":  { "type": "string" },
            "tier":  { "type": "string" },
            "score": { "type": "integer" }
          },
          "match": [["email"]],
          "conflicts": { "resolve": "priority", "priority": ["crm", "billing", "sheet"] }
        }
      },
      "systems": {
        "crm": {
          "adapter": "sqlite", "connection": { "path": "crm.db" },
          "entities": { "customer": { "object": "contacts", "cursor": "modified_at",
            "fields": { "email": "email", "name": "name", "tier": "tier" } } }
        },
        "billing": {
          "adapter": "sqlite", "connection": { "path": "billing.db" },
          "entities": { "customer": { "object": "accounts",
            "fields": { "email": "email", "name": "full_name", "score": "score" } } }
        },
        "sheet": {
          "adapter": "csv",
          "entities": { "customer": { "object": "customers.csv", "id": "ID",
            "fields": { "email": "Email", "name": "Name", "tier": "Tier", "score": "Score" } } }
        }
      }
    }
    """

    /// Creates the systems with their initial, overlapping data.
    static func create(in dir: String, postgresHub: Bool = false) throws -> BatteryFixture {
        let schema = postgresHub ? newSchema() : nil
        try (schema.map { try topology(postgresSchema: $0) } ?? topology)
            .write(toFile: dir + "/topology.json", atomically: true, encoding: .utf8)
        try execute(dir + "/crm.db", """
            CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, tier TEXT,
                modified_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
            CREATE TRIGGER touch AFTER UPDATE ON contacts FOR EACH ROW WHEN NEW.modified_at = OLD.modified_at
            BEGIN UPDATE contacts SET modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id; END;
            INSERT INTO contacts (email, name, tier) VALUES
                ('ann@example.com', 'Ann', 'gold'), ('bob@example.com', 'Bob', 'silver'),
                ('cleo@example.com', 'Cleo', 'gold'), ('dan@example.com', 'Dan', 'bronze');
            """ + writeCounter("contacts"))
        try execute(dir + "/billing.db", """
            CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT NOT NULL, full_name TEXT, score INTEGER);
            INSERT INTO accounts (email, full_name, score) VALUES
                ('ANN@example.com', 'Ann', 10), ('eve@example.com', 'Eve', 20), ('bob@example.com', 'Bob', 30);
            """ + writeCounter("accounts"))
        try "ID,Email,Name,Tier,Score\nr1,fay@example.com,Fay,gold,40\nr2,cleo@example.com,Cleo,,\n"
            .write(toFile: dir + "/customers.csv", atomically: true, encoding: .utf8)
        return BatteryFixture(dir: dir, postgresSchema: schema)
    }

    static func writeCounter(_ table: String) -> String {
        """

        CREATE TABLE write_count (n INTEGER NOT NULL);
        INSERT INTO write_count VALUES (0);
        CREATE TRIGGER count_insert AFTER INSERT ON \(table) BEGIN UPDATE write_count SET n = n + 1; END;
        CREATE TRIGGER count_update AFTER UPDATE ON \(table) BEGIN UPDATE write_count SET n = n + 1; END;
        CREATE TRIGGER count_delete AFTER DELETE ON \(table) BEGIN UPDATE write_count SET n = n + 1; END;
        """
    }

    /// The edits the crash runs sync: creates in two systems, updates of different fields in
    /// two systems, a delete, and the same field changed in two systems.
    func applyWorkload() throws {
        try Self.execute(dir + "/crm.db", """
            INSERT INTO contacts (email, name, tier) VALUES ('gus@example.com', 'Gus', 'silver'), ('hal@example.com', 'Hal', 'gold');
            UPDATE contacts SET tier = 'platinum' WHERE email = 'cleo@example.com';
            UPDATE contacts SET name = 'Robert' WHERE email = 'bob@example.com';
            DELETE FROM contacts WHERE email = 'dan@example.com';
            """)
        try Self.execute(dir + "/billing.db", """
            UPDATE accounts SET score = 99 WHERE email = 'eve@example.com';
            UPDATE accounts SET full_name = 'Bobby' WHERE email = 'bob@example.com';
            """)
        var csv = try String(contentsOfFile: dir + "/customers.csv", encoding: .utf8)
        csv += "r9,ivy@example.com,Ivy,silver,5\n"
        try csv.write(toFile: dir + "/customers.csv", atomically: true, encoding: .utf8)
    }

    /// Copies the whole fixture (systems and hub) to a new folder; a PostgreSQL hub is copied
    /// into a new schema with `hubctl hub migrate`.
    func copy(to target: String) throws -> BatteryFixture {
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            try FileManager.default.copyItem(atPath: dir + "/" + name, toPath: target + "/" + name)
        }
        guard postgresSchema != nil else { return BatteryFixture(dir: target) }
        let schema = Self.newSchema()
        let pg = try TestServices.requirePostgres()
        let url = "postgres://\(pg.user):${HUBCTL_TEST_POSTGRES_PASSWORD}@\(pg.host):\(pg.port)/\(pg.database)?sslmode=disable"
        let migrated = try HubctlProcess.run(["hub", "migrate", "-t", topologyPath, "--to", url, "--schema", schema])
        guard migrated.exitCode == 0 else { throw BatteryError("copying the hub failed: \(migrated.stderr)\(migrated.stdout)") }
        try Self.topology(postgresSchema: schema).write(toFile: target + "/topology.json", atomically: true, encoding: .utf8)
        return BatteryFixture(dir: target, postgresSchema: schema)
    }

    func sync(_ environment: [String: String] = [:]) throws -> HubctlProcess.Result {
        try HubctlProcess.run(["sync-all", "-t", topologyPath], environment: environment)
    }

    // MARK: - Oracles

    /// Every system's records, keyed by normalised email, with their synced fields (IDs and
    /// change columns left out), plus the emails seen more than once.
    struct Snapshot: Equatable {
        var systems: [String: [String: [String: String]]]
        var duplicates: Int

        /// Fields that differ from `other`, counted per system, record and field.
        func divergentFields(from other: Snapshot) -> Int {
            var n = 0
            for system in Set(systems.keys).union(other.systems.keys) {
                let a = systems[system] ?? [:], b = other.systems[system] ?? [:]
                for email in Set(a.keys).union(b.keys) {
                    let x = a[email] ?? [:], y = b[email] ?? [:]
                    if a[email] == nil || b[email] == nil { n += max(x.count, y.count, 1); continue }
                    for field in Set(x.keys).union(y.keys) where x[field] != y[field] { n += 1 }
                }
            }
            return n
        }
    }

    func snapshot() throws -> Snapshot {
        var systems: [String: [String: [String: String]]] = [:]
        var duplicates = 0
        func add(_ system: String, _ rows: [[String: String]]) {
            var out: [String: [String: String]] = [:]
            for row in rows {
                let email = (row["email"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
                if out[email] != nil { duplicates += 1 }
                var fields = row
                fields["email"] = email
                out[email] = fields
            }
            systems[system] = out
        }
        add("crm", try Self.rows(dir + "/crm.db", "SELECT email, name, tier FROM contacts"))
        add("billing", try Self.rows(dir + "/billing.db", "SELECT email, full_name AS name, score FROM accounts"))
        let lines = try String(contentsOfFile: dir + "/customers.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        add("sheet", lines.map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return ["email": cells[safe: 1] ?? "", "name": cells[safe: 2] ?? "", "tier": cells[safe: 3] ?? "",
                    "score": cells[safe: 4] ?? ""]
        })
        return Snapshot(systems: systems, duplicates: duplicates)
    }

    /// Records in the SQLite systems that no live link knows.
    func orphans() throws -> Int {
        var n = 0
        for (system, file, table) in [("crm", "crm.db", "contacts"), ("billing", "billing.db", "accounts")] {
            let linked = try linkedIDs(system)
            let ids = try Self.rows(dir + "/" + file, "SELECT CAST(id AS TEXT) AS id FROM \(table)").compactMap { $0["id"] }
            n += ids.filter { !linked.contains($0) }.count
        }
        return n
    }

    /// Inserts, updates and deletes made in the SQLite systems so far, and the CSV's bytes.
    func writeState() throws -> (crm: Int, billing: Int, csv: String) {
        (Int(try Self.rows(dir + "/crm.db", "SELECT n FROM write_count")[0]["n"] ?? "") ?? -1,
         Int(try Self.rows(dir + "/billing.db", "SELECT n FROM write_count")[0]["n"] ?? "") ?? -1,
         try String(contentsOfFile: dir + "/customers.csv", encoding: .utf8))
    }

    /// The external IDs of a system's live links in the hub.
    func linkedIDs(_ system: String) throws -> Set<String> {
        Set(try hubColumn("SELECT external_id FROM xref WHERE system = '\(system)' AND state = 'linked'"))
    }

    /// The first column of a query on the hub (SQL both databases read alike), as text: with
    /// GRDB on a SQLite hub, with `psql` on the hub's schema of the test cluster.
    func hubColumn(_ sql: String) throws -> [String] {
        if let schema = postgresSchema {
            let pg = try TestServices.requirePostgres()
            let out = try ExternalTool.runSync("psql", ["-h", pg.host, "-p", String(pg.port), "-U", pg.user, "-d", pg.database,
                                                        "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", "SET search_path TO \"\(schema)\"",
                                                        "-c", sql],
                                               environment: ["PGPASSWORD": pg.password, "PGSSLMODE": "disable"])
            guard out.status == 0 else { throw BatteryError("psql failed: \(out.stderr)") }
            return out.stdout.split(separator: "\n").map(String.init)
        }
        let hub = try DatabaseQueue(path: hubPath)
        defer { try? hub.close() }
        return try hub.read { try String.fetchAll($0, sql: sql) }
    }

    /// The highest change sequence number of the hub's entities.
    func hubSeq() throws -> Int64 { Int64(try hubColumn("SELECT coalesce(max(seq), 0) FROM entity").first ?? "") ?? -1 }

    /// `PRAGMA integrity_check` of a SQLite hub; a PostgreSQL hub's pages are the server's to
    /// keep whole (its write-ahead log), so it answers "ok".
    func hubIntegrity() throws -> String {
        guard postgresSchema == nil else { return "ok" }
        let hub = try DatabaseQueue(path: hubPath)
        defer { try? hub.close() }
        return try hub.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") ?? "" }
    }

    /// Opens a system's SQLite file as its other programs do: waiting (up to 10 s) while a
    /// sync writes it, instead of failing with "database is locked".
    static func open(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    static func execute(_ path: String, _ sql: String) throws {
        let db = try open(path)
        defer { try? db.close() }
        try db.write { try $0.execute(sql: sql) }
    }

    static func rows(_ path: String, _ sql: String) throws -> [[String: String]] {
        let db = try open(path)
        defer { try? db.close() }
        return try db.read { db in
            try Row.fetchAll(db, sql: sql).map { row in
                var out: [String: String] = [:]
                for column in row.columnNames {
                    let v: DatabaseValue = row[column]
                    switch v.storage {
                    case .null: out[column] = ""
                    case .int64(let i): out[column] = String(i)
                    case .double(let d): out[column] = d == d.rounded() ? String(Int64(d)) : String(d)
                    case .string(let s): out[column] = s
                    case .blob(let b): out[column] = "blob(\(b.count))"
                    }
                }
                return out
            }
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
