import Foundation
import GRDB

/// The demo: three systems with different schemas and overlapping customers.
///
/// - `crm` (SQLite `crm.db`): sales reps and contacts; country codes; a `modified_at` column kept
///   by a trigger, so hubctl reads it incrementally.
/// - `app` (SQLite `app.db`): staff and users; one `full_name` column; text IDs.
/// - `sheet` (CSV `sheet/customers.csv`): a spreadsheet export anyone can edit.
///
/// Ann is in the CRM and the app (spelled differently), Bob in the CRM and the sheet (his email
/// in capitals in the CRM), Maria in both staff lists; the others live in one system each.
enum DemoFiles {
    static let topology = """
    {
      "version": 1,
      "name": "demo",
      "hub": { "path": "demo.hub.sqlite" },
      "entities": {
        "employee": {
          "fields": {
            "email":      { "type": "string", "required": true, "normalize": ["trim", "lowercase"] },
            "first_name": { "type": "string", "normalize": "trim" },
            "last_name":  { "type": "string", "normalize": "trim" },
            "manager":    { "type": "ref", "entity": "employee" }
          },
          "match": [["email"]],
          "conflicts": { "resolve": "priority", "priority": ["crm", "app"] }
        },
        "customer": {
          "fields": {
            "email":       { "type": "string", "required": true, "normalize": ["trim", "lowercase"] },
            "first_name":  { "type": "string", "normalize": "trim" },
            "last_name":   { "type": "string", "normalize": "trim" },
            "country":     { "type": "string" },
            "phone":       { "type": "string" },
            "plan":        { "type": "string" },
            "support_rep": { "type": "ref", "entity": "employee" }
          },
          "match": [["email"]],
          "conflicts": { "resolve": "newest", "priority": ["crm", "app", "sheet"], "fields": { "phone": { "owner": "crm" } } }
        }
      },
      "systems": {
        "crm": {
          "adapter": "sqlite",
          "connection": { "path": "crm.db" },
          "entities": {
            "employee": {
              "object": "reps", "id": "rep_id",
              "fields": { "email": "mail", "first_name": "first", "last_name": "last", "manager": "boss_id" }
            },
            "customer": {
              "object": "contacts", "id": "contact_id", "cursor": "modified_at",
              "fields": {
                "email": "email_address",
                "first_name": "given_name",
                "last_name": "family_name",
                "country": { "field": "country_code",
                             "values": { "Brazil": "BR", "France": "FR", "Germany": "DE", "Japan": "JP", "USA": "US" } },
                "phone": "phone",
                "support_rep": "owner_id"
              }
            }
          }
        },
        "app": {
          "adapter": "sqlite",
          "connection": { "path": "app.db" },
          "entities": {
            "employee": {
              "object": "staff",
              "fields": { "email": "email", "first_name": { "field": "full_name", "parts": ["first_name", "last_name"] } }
            },
            "customer": {
              "object": "users",
              "fields": {
                "email": "email",
                "first_name": { "field": "full_name", "parts": ["first_name", "last_name"] },
                "country": "country",
                "plan": { "field": "plan", "default": "free" },
                "support_rep": "account_manager"
              }
            }
          }
        },
        "sheet": {
          "adapter": "csv",
          "connection": { "path": "sheet" },
          "entities": {
            "customer": {
              "object": "customers.csv", "id": "Row ID",
              "fields": { "email": "Email", "first_name": "First", "last_name": "Last", "country": "Country" }
            }
          }
        }
      }
    }
    """

    static let crmSQL = """
        CREATE TABLE reps (
            rep_id INTEGER PRIMARY KEY,
            mail TEXT NOT NULL,
            first TEXT,
            last TEXT,
            boss_id INTEGER REFERENCES reps(rep_id)
        );
        CREATE TABLE contacts (
            contact_id INTEGER PRIMARY KEY,
            email_address TEXT NOT NULL,
            given_name TEXT,
            family_name TEXT,
            country_code TEXT,
            phone TEXT,
            owner_id INTEGER REFERENCES reps(rep_id),
            modified_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );
        -- Every change moves modified_at, so hubctl only reads what changed.
        CREATE TRIGGER contacts_touch AFTER UPDATE ON contacts FOR EACH ROW WHEN NEW.modified_at = OLD.modified_at
        BEGIN
            UPDATE contacts SET modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE contact_id = NEW.contact_id;
        END;
        INSERT INTO reps (rep_id, mail, first, last, boss_id) VALUES
            (1, 'maria@acme.test', 'Maria', 'Santos', NULL),
            (2, 'tom@acme.test', 'Tom', 'Becker', 1);
        INSERT INTO contacts (email_address, given_name, family_name, country_code, phone, owner_id) VALUES
            ('ann.lee@example.com', 'Ann', 'Lee', 'DE', '+49 30 1234567', 2),
            ('BOB@Example.com', 'Bob', 'Stone', 'BR', '+55 11 5550100', 1),
            ('carla@example.com', 'Carla', 'Diaz', 'US', NULL, 2);
        """

    static let appSQL = """
        CREATE TABLE staff (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL,
            full_name TEXT
        );
        CREATE TABLE users (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            full_name TEXT,
            country TEXT,
            plan TEXT NOT NULL DEFAULT 'free',
            account_manager TEXT REFERENCES staff(id)
        );
        INSERT INTO staff (id, email, full_name) VALUES ('st-1', 'maria@acme.test', 'Maria Santos');
        INSERT INTO users (id, email, full_name, country, plan, account_manager) VALUES
            ('u-100', 'ann.lee@example.com', 'Ann Lee', 'Germany', 'pro', NULL),
            ('u-101', 'dan@example.com', 'Dan Wu', 'Japan', 'free', 'st-1');
        """

    static let sheetCSV = """
        Row ID,Email,First,Last,Country
        r1,bob@example.com,Bob,Stone,Brazil
        r2,eve@example.com,Eve,Martin,France

        """

    /// Writes the demo's systems and topology into `directory`.
    static func create(in directory: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory + "/sheet", withIntermediateDirectories: true)
        for (file, sql) in [("crm.db", crmSQL), ("app.db", appSQL)] {
            let path = directory + "/" + file
            try? fm.removeItem(atPath: path)
            let db = try DatabaseQueue(path: path)
            try db.write { try $0.execute(sql: sql) }
            try db.close()
        }
        try sheetCSV.write(toFile: directory + "/sheet/customers.csv", atomically: true, encoding: .utf8)
        try (topology + "\n").write(toFile: directory + "/topology.json", atomically: true, encoding: .utf8)
    }
}
