import Foundation
import GRDB
import HubCore
import HubTesting
import Testing

/// `hubctl sync-all` on three real systems: two SQLite databases with different schemas and a CSV
/// file, written from the topology contract alone.
@Suite struct SyncAllEndToEndTests {
    static let topology = """
    {
      "version": 1,
      "name": "e2e",
      "entities": {
        "customer": {
          "fields": {
            "email":      { "type": "string", "required": true, "normalize": "lowercase" },
            "first_name": { "type": "string" },
            "last_name":  { "type": "string" },
            "country":    { "type": "string" },
            "balance":    { "type": "number" },
            "active":     { "type": "boolean" },
            "since":      { "type": "date" }
          },
          "match": [["email"]]
        }
      },
      "systems": {
        "crm": {
          "adapter": "sqlite",
          "connection": { "path": "crm.db" },
          "entities": {
            "customer": {
              "object": "contacts", "id": "contact_id", "cursor": "modified_at",
              "fields": {
                "email": "email_address", "first_name": "given_name", "last_name": "family_name",
                "country": { "field": "country_code", "values": { "Germany": "DE", "Brazil": "BR", "France": "FR" } },
                "active": { "field": "status", "values": { "true": "active", "false": "inactive" } },
                "since": { "field": "customer_since", "format": "DD/MM/YYYY" }
              }
            }
          }
        },
        "billing": {
          "adapter": "sqlite",
          "connection": { "path": "billing.db" },
          "entities": {
            "customer": {
              "object": "accounts",
              "fields": {
                "email": "email",
                "first_name": { "field": "full_name", "parts": ["first_name", "last_name"] },
                "balance": "balance",
                "active": { "field": "is_active", "type": "integer" }
              }
            }
          }
        },
        "sheet": {
          "adapter": "csv",
          "connection": { "path": "exports" },
          "entities": {
            "customer": { "object": "customers.csv", "id": "Row ID",
                          "fields": { "email": "Email", "first_name": "First", "last_name": "Last", "country": "Country" } }
          }
        }
      }
    }
    """

    /// Creates the three systems with overlapping customers and write counters.
    static func makeSystems(in dir: String) throws {
        try topology.write(toFile: dir + "/topology.json", atomically: true, encoding: .utf8)
        let crm = try DatabaseQueue(path: dir + "/crm.db")
        try crm.write { db in
            try db.execute(sql: """
                CREATE TABLE contacts (
                    contact_id INTEGER PRIMARY KEY, email_address TEXT NOT NULL, given_name TEXT, family_name TEXT,
                    country_code TEXT, status TEXT, customer_since TEXT,
                    modified_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
                CREATE TRIGGER touch AFTER UPDATE ON contacts FOR EACH ROW WHEN NEW.modified_at = OLD.modified_at
                BEGIN UPDATE contacts SET modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE contact_id = NEW.contact_id; END;
                INSERT INTO contacts (email_address, given_name, family_name, country_code, status, customer_since) VALUES
                    ('Ann@Example.com', 'Ann', 'Lee', 'DE', 'active', '01/02/2020'),
                    ('bob@example.com', 'Bob', 'Stone', 'BR', 'inactive', '15/07/2021');
                """)
            try Self.addWriteCounter(db, table: "contacts")
        }
        try crm.close()
        let billing = try DatabaseQueue(path: dir + "/billing.db")
        try billing.write { db in
            try db.execute(sql: """
                CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT NOT NULL, full_name TEXT, balance REAL, is_active INTEGER);
                INSERT INTO accounts (email, full_name, balance, is_active) VALUES
                    ('ann@example.com', 'Ann Lee', 120.5, 1),
                    ('cleo@example.com', 'Cleo Park', 0, 1);
                """)
            try Self.addWriteCounter(db, table: "accounts")
        }
        try billing.close()
        try FileManager.default.createDirectory(atPath: dir + "/exports", withIntermediateDirectories: true)
        try "Row ID,Email,First,Last,Country\nr1,dan@example.com,Dan,Wu,France\n"
            .write(toFile: dir + "/exports/customers.csv", atomically: true, encoding: .utf8)
    }

    /// Counts every insert, update and delete on a table (hubctl's and anyone else's).
    static func addWriteCounter(_ db: Database, table: String) throws {
        try db.execute(sql: """
            CREATE TABLE write_count (n INTEGER NOT NULL);
            INSERT INTO write_count VALUES (0);
            CREATE TRIGGER count_insert AFTER INSERT ON \(table) BEGIN UPDATE write_count SET n = n + 1; END;
            CREATE TRIGGER count_update AFTER UPDATE ON \(table) BEGIN UPDATE write_count SET n = n + 1; END;
            CREATE TRIGGER count_delete AFTER DELETE ON \(table) BEGIN UPDATE write_count SET n = n + 1; END;
            """)
    }

    static func writeCount(_ path: String) throws -> Int {
        let db = try DatabaseQueue(path: path)
        defer { try? db.close() }
        return try db.read { try Int.fetchOne($0, sql: "SELECT n FROM write_count") ?? -1 }
    }

    static func rows(_ path: String, _ sql: String) throws -> [Row] {
        let db = try DatabaseQueue(path: path)
        defer { try? db.close() }
        return try db.read { try Row.fetchAll($0, sql: sql) }
    }

    static func execute(_ path: String, _ sql: String) throws {
        let db = try DatabaseQueue(path: path)
        defer { try? db.close() }
        try db.write { try $0.execute(sql: sql) }
    }

    static func csv(_ dir: String) throws -> String {
        try String(contentsOfFile: dir + "/exports/customers.csv", encoding: .utf8)
    }

    @Test func threeSystemsConvergePropagateEditsAndThenStayQuiet() async throws {
        let tmp = try TemporaryDirectory()
        let dir = tmp.path
        try Self.makeSystems(in: dir)

        // 1. Converge from overlapping data.
        let first = try HubctlProcess.run(["sync-all", "-t", dir + "/topology.json", "--json"])
        #expect(first.exitCode == 0, "\(first.stderr)\(first.stdout)")
        let doc = try first.result()
        #expect(doc.objectValue?["status"] == "ok")
        let crm = try Self.rows(dir + "/crm.db", "SELECT * FROM contacts ORDER BY contact_id")
        let billing = try Self.rows(dir + "/billing.db", "SELECT * FROM accounts ORDER BY id")
        #expect(crm.count == 4)
        #expect(billing.count == 4)
        let sheet = try Self.csv(dir)
        #expect(sheet.split(separator: "\n").count == 5)
        // Mapped to each schema: value maps, composites, formats, types.
        let dan = try #require(crm.first { ($0["email_address"] as String?) == "dan@example.com" })
        #expect(dan["country_code"] as String? == "FR")
        let cleoInCRM = try #require(crm.first { ($0["email_address"] as String?) == "cleo@example.com" })
        #expect(cleoInCRM["given_name"] as String? == "Cleo")
        #expect(cleoInCRM["status"] as String? == "active")
        let bobInBilling = try #require(billing.first { ($0["email"] as String?) == "bob@example.com" })
        #expect(bobInBilling["full_name"] as String? == "Bob Stone")
        #expect(bobInBilling["is_active"] as Int? == 0)
        #expect(sheet.contains("ann@example.com,Ann,Lee,Germany"))
        #expect(sheet.contains("cleo@example.com,Cleo,Park,"))
        // Ann was linked, not duplicated.
        #expect(billing.filter { ($0["email"] as String?) == "ann@example.com" }.count == 1)

        // 2. A run right after converging writes nothing anywhere.
        let crmWrites = try Self.writeCount(dir + "/crm.db")
        let billingWrites = try Self.writeCount(dir + "/billing.db")
        let sheetBefore = try Self.csv(dir)
        let quiet = try HubctlProcess.run(["sync-all", "-t", dir + "/topology.json", "--json"])
        #expect(quiet.exitCode == 0, "\(quiet.stderr)")
        #expect(try Self.writeCount(dir + "/crm.db") == crmWrites)
        #expect(try Self.writeCount(dir + "/billing.db") == billingWrites)
        #expect(try Self.csv(dir) == sheetBefore)
        let totals = try #require(try quiet.result().objectValue?["totals"]?.objectValue)
        for dir in ["pull", "push"] {
            for key in ["created", "updated", "deleted", "linked"] {
                #expect(totals[dir]?.objectValue?[key] == 0, "\(dir).\(key)")
            }
        }

        // 3. An edit in each system reaches all the others in one run.
        try await Task.sleep(nanoseconds: 5_000_000)
        try Self.execute(dir + "/crm.db", "UPDATE contacts SET given_name = 'Anna' WHERE email_address = 'Ann@Example.com'")
        try Self.execute(dir + "/billing.db", "UPDATE accounts SET full_name = 'Cleo Parker' WHERE email = 'cleo@example.com'")
        let edited = try Self.csv(dir).replacingOccurrences(of: "dan@example.com,Dan,Wu,France", with: "dan@example.com,Daniel,Wu,France")
        try edited.write(toFile: dir + "/exports/customers.csv", atomically: true, encoding: .utf8)
        let propagate = try HubctlProcess.run(["sync-all", "-t", dir + "/topology.json"])
        #expect(propagate.exitCode == 0, "\(propagate.stderr)\(propagate.stdout)")
        let billing2 = try Self.rows(dir + "/billing.db", "SELECT email, full_name FROM accounts")
        #expect(billing2.contains { ($0["full_name"] as String?) == "Anna Lee" })
        #expect(billing2.contains { ($0["full_name"] as String?) == "Daniel Wu" })
        let crm2 = try Self.rows(dir + "/crm.db", "SELECT given_name, family_name FROM contacts")
        #expect(crm2.contains { ($0["given_name"] as String?) == "Daniel" })
        #expect(crm2.contains { ($0["family_name"] as String?) == "Parker" })
        let sheet2 = try Self.csv(dir)
        #expect(sheet2.contains("ann@example.com,Anna,Lee,Germany"))
        #expect(sheet2.contains("cleo@example.com,Cleo,Parker,"))

        // 4. And quiet again.
        let crmWrites2 = try Self.writeCount(dir + "/crm.db")
        let billingWrites2 = try Self.writeCount(dir + "/billing.db")
        let sheetBefore2 = try Self.csv(dir)
        for _ in 0..<2 {
            let again = try HubctlProcess.run(["sync-all", "-t", dir + "/topology.json"])
            #expect(again.exitCode == 0)
        }
        #expect(try Self.writeCount(dir + "/crm.db") == crmWrites2)
        #expect(try Self.writeCount(dir + "/billing.db") == billingWrites2)
        #expect(try Self.csv(dir) == sheetBefore2)
    }

    @Test func aDryRunReadsTheSystemsButWritesNothing() throws {
        let tmp = try TemporaryDirectory()
        try Self.makeSystems(in: tmp.path)
        let sheetBefore = try Self.csv(tmp.path)
        let result = try HubctlProcess.run(["sync-all", "--dry-run", "-t", tmp.path + "/topology.json"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdout.contains("dry run"))
        #expect(result.stdout.contains("create crm customer"))
        #expect(try Self.writeCount(tmp.path + "/crm.db") == 0)
        #expect(try Self.writeCount(tmp.path + "/billing.db") == 0)
        #expect(try Self.csv(tmp.path) == sheetBefore)
        #expect(try !FixtureHub(tmp.path, "e2e.hub.sqlite").exists())
    }

    @Test func onlyAndEntityRejectUnknownNames() throws {
        let tmp = try TemporaryDirectory()
        try Self.makeSystems(in: tmp.path)
        let result = try HubctlProcess.run(["sync-all", "--only", "crn", "-t", tmp.path + "/topology.json"])
        #expect(result.exitCode == 64)
        #expect(result.stderr.contains("unknown system 'crn' in --only; the topology has: crm, billing, sheet"))
    }

    @Test func anUnreachableSystemGivesAPartialRunAndTheOthersSync() throws {
        let tmp = try TemporaryDirectory()
        try Self.makeSystems(in: tmp.path)
        try FileManager.default.removeItem(atPath: tmp.path + "/billing.db")
        let result = try HubctlProcess.run(["sync-all", "-t", tmp.path + "/topology.json", "--json"])
        #expect(result.exitCode == 3, "\(result.stderr)")
        let doc = try result.result().objectValue
        #expect(doc?["status"] == "partial")
        #expect(doc?["systems"]?.objectValue?["billing"]?.objectValue?["status"] == "failed")
        #expect(try Self.rows(tmp.path + "/crm.db", "SELECT * FROM contacts").count == 3)
    }
}
