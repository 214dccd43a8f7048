import Foundation
import GRDB
import HubCore
import HubTesting
import Testing

/// Deletes, the mass-delete guard and parked conflicts, through the `hubctl` binary on SQLite and
/// CSV systems.
@Suite struct PoliciesEndToEndTests {
    static let topology = """
    {
      "version": 1,
      "name": "policies",
      "entities": {
        "customer": {
          "fields": {
            "email": { "type": "string", "required": true, "normalize": "lowercase" },
            "name":  { "type": "string" },
            "tier":  { "type": "string" },
            "active": { "type": "boolean" }
          },
          "match": [["email"]],
          "conflicts": { "resolve": "manual" }
        }
      },
      "systems": {
        "crm": {
          "adapter": "sqlite",
          "connection": { "path": "crm.db" },
          "entities": { "customer": { "object": "contacts", "cursor": "modified_at",
                                      "fields": { "email": "email", "name": "name", "tier": "tier" },
                                      "deletes": { "max_share": 0.5, "min_count": 2 } } }
        },
        "billing": {
          "adapter": "sqlite",
          "connection": { "path": "billing.db" },
          "entities": { "customer": { "object": "accounts",
                                      "fields": { "email": "email", "name": "name", "active": { "field": "active", "type": "integer" } },
                                      "deletes": { "push": { "set": { "active": false } } } } }
        },
        "sheet": {
          "adapter": "csv",
          "entities": { "customer": { "object": "gold.csv", "id": "ID", "filter": { "tier": "gold" }, "on_unmatch": "delete",
                                      "fields": { "email": "Email", "name": "Name", "tier": "Tier" } } }
        }
      }
    }
    """

    static func setUp(_ dir: String) throws {
        try topology.write(toFile: dir + "/topology.json", atomically: true, encoding: .utf8)
        try SyncAllEndToEndTests.execute(dir + "/crm.db", """
            CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, tier TEXT,
                modified_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
            CREATE TRIGGER touch AFTER UPDATE ON contacts FOR EACH ROW WHEN NEW.modified_at = OLD.modified_at
            BEGIN UPDATE contacts SET modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id; END;
            INSERT INTO contacts (email, name, tier) VALUES
                ('ann@example.com', 'Ann', 'gold'), ('bob@example.com', 'Bob', 'silver'),
                ('cleo@example.com', 'Cleo', 'gold'), ('dan@example.com', 'Dan', 'silver');
            """)
        try SyncAllEndToEndTests.execute(dir + "/billing.db",
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, active INTEGER NOT NULL DEFAULT 1);")
    }

    static func sync(_ dir: String, _ extra: [String] = []) throws -> HubctlProcess.Result {
        try HubctlProcess.run(["sync-all", "-t", dir + "/topology.json"] + extra)
    }

    static func gold(_ dir: String) throws -> String { try String(contentsOfFile: dir + "/gold.csv", encoding: .utf8) }

    @Test func filtersDeletesAndTheGuardWorkOnRealFiles() throws {
        let tmp = try TemporaryDirectory()
        let dir = tmp.path
        try Self.setUp(dir)
        let first = try Self.sync(dir)
        #expect(first.exitCode == 0, "\(first.stderr)\(first.stdout)")
        // The sheet only gets gold customers.
        var sheet = try Self.gold(dir)
        #expect(sheet.contains("ann@example.com") && sheet.contains("cleo@example.com"))
        #expect(!sheet.contains("bob@example.com"))
        #expect(try SyncAllEndToEndTests.rows(dir + "/billing.db", "SELECT * FROM accounts").count == 4)

        // Ann drops to silver: on_unmatch removes her from the sheet.
        try SyncAllEndToEndTests.execute(dir + "/crm.db", "UPDATE contacts SET tier = 'silver' WHERE email = 'ann@example.com'")
        #expect(try Self.sync(dir).exitCode == 0)
        sheet = try Self.gold(dir)
        #expect(!sheet.contains("ann@example.com") && sheet.contains("cleo@example.com"))

        // Cleo is deleted in the CRM: soft-deleted in billing, deleted from the sheet.
        try SyncAllEndToEndTests.execute(dir + "/crm.db", "DELETE FROM contacts WHERE email = 'cleo@example.com'")
        #expect(try Self.sync(dir).exitCode == 0)
        #expect(!(try Self.gold(dir)).contains("cleo@example.com"))
        let cleo = try SyncAllEndToEndTests.rows(dir + "/billing.db", "SELECT active FROM accounts WHERE email = 'cleo@example.com'")
        #expect(cleo.first?["active"] as Int? == 0)

        // Two of the three remaining CRM customers vanish: the guard (50 %) holds the deletes back.
        try SyncAllEndToEndTests.execute(dir + "/crm.db", "DELETE FROM contacts WHERE email IN ('ann@example.com', 'bob@example.com')")
        let guarded = try Self.sync(dir, ["--json"])
        #expect(guarded.exitCode == 3)
        let trips = try guarded.result().objectValue?["mass_delete_guard"]?.arrayValue ?? []
        #expect(trips.first?.stringValue?.hasPrefix("mass-delete guard: 2 of 3 linked customer records (67 %") == true)
        #expect(try SyncAllEndToEndTests.rows(dir + "/billing.db", "SELECT * FROM accounts WHERE active = 1").count == 3)
        let allowed = try Self.sync(dir, ["--allow-mass-delete"])
        #expect(allowed.exitCode == 0, "\(allowed.stdout)")
        #expect(try SyncAllEndToEndTests.rows(dir + "/billing.db", "SELECT * FROM accounts WHERE active = 1").count == 1)
    }

    @Test func aParkedConflictIsListedResolvedFromTheCommandLineAndPropagated() throws {
        let tmp = try TemporaryDirectory()
        let dir = tmp.path
        try Self.setUp(dir)
        #expect(try Self.sync(dir).exitCode == 0)
        try SyncAllEndToEndTests.execute(dir + "/crm.db", "UPDATE contacts SET name = 'Daniel' WHERE email = 'dan@example.com'")
        try SyncAllEndToEndTests.execute(dir + "/billing.db", "UPDATE accounts SET name = 'Danny' WHERE email = 'dan@example.com'")
        let parked = try Self.sync(dir)
        #expect(parked.exitCode == 3)
        #expect(parked.stdout.contains("1 parked for a person"))

        let list = try HubctlProcess.run(["conflicts", "list", "--open", "--json", "-t", dir + "/topology.json"])
        #expect(list.exitCode == 0)
        let conflicts = try list.result().objectValue?["conflicts"]?.arrayValue ?? []
        #expect(conflicts.count == 1)
        let conflict = try #require(conflicts.first?.objectValue)
        #expect(conflict["field"] == "name")
        #expect(conflict["candidates"]?.objectValue?["crm"] == "Daniel")
        #expect(conflict["candidates"]?.objectValue?["billing"] == "Danny")
        let id = try #require(conflict["id"]?.intValue)

        let table = try HubctlProcess.run(["conflicts", "list", "-t", dir + "/topology.json"])
        #expect(table.stdout.contains("billing=Danny") && table.stdout.contains("crm=Daniel"))

        let bad = try HubctlProcess.run(["conflicts", "resolve", "\(id)", "--take", "sheet", "-t", dir + "/topology.json"])
        #expect(bad.exitCode == 1)
        #expect(bad.stderr.contains("has no side 'sheet'; choose one of: billing, crm, hub"))
        let resolve = try HubctlProcess.run(["conflicts", "resolve", "\(id)", "--take", "billing", "--by", "pat",
                                              "-t", dir + "/topology.json"])
        #expect(resolve.exitCode == 0, "\(resolve.stderr)")
        #expect(try Self.sync(dir).exitCode == 0)
        let crmName = try SyncAllEndToEndTests.rows(dir + "/crm.db", "SELECT name FROM contacts WHERE email = 'dan@example.com'")
        #expect(crmName.first?["name"] as String? == "Danny")
        let none = try HubctlProcess.run(["conflicts", "list", "--open", "-t", dir + "/topology.json"])
        #expect(none.stdout.contains("No open conflicts."))
    }
}
