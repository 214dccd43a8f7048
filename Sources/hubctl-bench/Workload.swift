import Foundation
import GRDB
import HubCore

/// The benchmark's deterministic workload: N customers spread over three SQLite systems with
/// different schemas; two thirds live in one system, one third in two or three (matched by email).
struct Workload {
    let size: Int
    let dir: String
    /// The cursors' lookback window, when not hubctl's default.
    var lookback: String? = nil

    static let topology = """
    {
      "version": 1,
      "name": "bench",
      "hub": { "path": "bench.hub.sqlite" },
      "entities": {
        "customer": {
          "fields": {
            "email":      { "type": "string", "required": true, "normalize": "lowercase" },
            "first_name": { "type": "string" },
            "last_name":  { "type": "string" },
            "country":    { "type": "string" },
            "phone":      { "type": "string" },
            "balance":    { "type": "number" }
          },
          "match": [["email"]]
        }
      },
      "systems": {
        "crm": {
          "adapter": "sqlite", "connection": { "path": "crm.db" },
          "entities": { "customer": { "object": "contacts", "id": "contact_id", "cursor": "modified_at",
            "fields": { "email": "email_address", "first_name": "given_name", "last_name": "family_name",
                        "country": { "field": "country_code", "values": { "Germany": "DE", "France": "FR", "Brazil": "BR", "Japan": "JP" } },
                        "phone": "phone" } } }
        },
        "billing": {
          "adapter": "sqlite", "connection": { "path": "billing.db" },
          "entities": { "customer": { "object": "accounts", "id": "account_id", "cursor": "modified_at",
            "fields": { "email": "email", "first_name": { "field": "full_name", "parts": ["first_name", "last_name"] },
                        "country": "country", "balance": "balance" } } }
        },
        "app": {
          "adapter": "sqlite", "connection": { "path": "app.db" },
          "entities": { "customer": { "object": "users", "cursor": "updated_at",
            "fields": { "email": "email", "first_name": "first_name", "last_name": "last_name", "country": "country",
                        "phone": "phone" } } }
        }
      }
    }
    """

    static let countries = ["Germany", "France", "Brazil", "Japan"]
    static let codes = ["DE", "FR", "BR", "JP"]

    /// Which systems person `i` starts in: 0 crm, 1 billing, 2 app.
    static func systems(of i: Int) -> [Int] {
        switch i % 6 {
        case 0, 1, 2, 3: return [i % 3]  // two thirds in one system
        case 4: return [0, 1]  // a sixth in two
        default: return [0, 1, 2]  // a sixth in all three
        }
    }

    static func touchSQL(_ table: String, _ id: String, _ column: String) -> String {
        """
        CREATE TRIGGER \(table)_touch AFTER UPDATE ON \(table) FOR EACH ROW WHEN NEW.\(column) = OLD.\(column)
        BEGIN UPDATE \(table) SET \(column) = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE \(id) = NEW.\(id); END;
        """
    }

    /// When row `i` last changed: a millisecond apart, as rows written over time are (rows sharing
    /// one change time would all sit on the cursor's boundary and be read again every run).
    static func stamp(_ i: Int) -> String {
        let ms = Int64(i)
        return CivilTime(unixSeconds: 1_767_225_600 + ms / 1000).rfc3339(millis: Int(ms % 1000))
    }

    /// Writes the three systems and the topology.
    func create() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var topology = Self.topology
        if let lookback {
            for field in ["modified_at", "updated_at"] {
                topology = topology.replacingOccurrences(
                    of: "\"cursor\": \"\(field)\"", with: "\"cursor\": {\"field\": \"\(field)\", \"lookback\": \"\(lookback)\"}")
            }
        }
        try topology.write(toFile: dir + "/topology.json", atomically: true, encoding: .utf8)
        let crm = try DatabaseQueue(path: dir + "/crm.db")
        try crm.write { db in
            try db.execute(sql: """
                CREATE TABLE contacts (contact_id INTEGER PRIMARY KEY, email_address TEXT NOT NULL, given_name TEXT,
                    family_name TEXT, country_code TEXT, phone TEXT,
                    modified_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
                CREATE INDEX contacts_modified ON contacts(modified_at, contact_id);
                """ + Self.touchSQL("contacts", "contact_id", "modified_at"))
            let insert = try db.makeStatement(sql: """
                INSERT INTO contacts (email_address, given_name, family_name, country_code, phone, modified_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
            for i in 0..<size where Self.systems(of: i).contains(0) {
                try insert.execute(arguments: ["user\(i)@example.com", "First\(i)", "Last\(i)", Self.codes[i % 4], "+1 555 \(i)",
                                               Self.stamp(i)])
            }
        }
        try crm.close()
        let billing = try DatabaseQueue(path: dir + "/billing.db")
        try billing.write { db in
            try db.execute(sql: """
                CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email TEXT NOT NULL, full_name TEXT, country TEXT,
                    balance REAL, modified_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
                CREATE INDEX accounts_modified ON accounts(modified_at, account_id);
                """ + Self.touchSQL("accounts", "account_id", "modified_at"))
            let insert = try db.makeStatement(sql: "INSERT INTO accounts (email, full_name, country, balance, modified_at) VALUES (?, ?, ?, ?, ?)")
            for i in 0..<size where Self.systems(of: i).contains(1) {
                try insert.execute(arguments: ["USER\(i)@example.com", "First\(i) Last\(i)", Self.countries[i % 4], Double(i % 1000) / 4,
                                               Self.stamp(i)])
            }
        }
        try billing.close()
        let app = try DatabaseQueue(path: dir + "/app.db")
        try app.write { db in
            try db.execute(sql: """
                CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL, first_name TEXT, last_name TEXT, country TEXT,
                    phone TEXT, updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
                CREATE INDEX users_updated ON users(updated_at, id);
                """ + Self.touchSQL("users", "id", "updated_at"))
            let insert = try db.makeStatement(sql: "INSERT INTO users (id, email, first_name, last_name, country, phone, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            for i in 0..<size where Self.systems(of: i).contains(2) {
                try insert.execute(arguments: ["u\(i)", "user\(i)@example.com", "First\(i)", "Last\(i)", Self.countries[i % 4], "+1 555 \(i)",
                                               Self.stamp(i)])
            }
        }
        try app.close()
    }

    /// Edits `share` of the entities, each in one system chosen by a seeded generator, across
    /// different fields.
    func edit(share: Double, seed: UInt64) throws -> Int {
        var rng = SplitMix64(seed: seed)
        let count = max(1, Int(Double(size) * share))
        var edits: [[(sql: String, args: StatementArguments)]] = [[], [], []]
        for n in 0..<count {
            let i = Int(rng.next() % UInt64(size))
            let system = Int(rng.next() % 3)
            switch system {
            case 0 where n % 2 == 0:
                edits[0].append(("UPDATE contacts SET given_name = ? WHERE email_address = ?", ["Edited\(n)", "user\(i)@example.com"]))
            case 0:
                edits[0].append(("UPDATE contacts SET phone = ? WHERE email_address = ?", ["+49 \(n)", "user\(i)@example.com"]))
            case 1:
                edits[1].append(("UPDATE accounts SET balance = ? WHERE lower(email) = ?", [Double(n), "user\(i)@example.com"]))
            default:
                edits[2].append(("UPDATE users SET country = ? WHERE email = ?", [Self.countries[(i + 1) % 4], "user\(i)@example.com"]))
            }
        }
        var changed = 0
        for (file, list) in zip(["crm.db", "billing.db", "app.db"], edits) where !list.isEmpty {
            let db = try DatabaseQueue(path: dir + "/" + file)
            try db.write { db in
                // Emails are looked up by value, so index them for the edit (the sync never needs it).
                for (table, column) in [("contacts", "email_address"), ("accounts", "email"), ("users", "email")]
                    where try db.tableExists(table) {
                    try db.execute(sql: "CREATE INDEX IF NOT EXISTS bench_\(table)_email ON \(table)(\(column))")
                    if table == "accounts" { try db.execute(sql: "CREATE INDEX IF NOT EXISTS bench_accounts_lower ON accounts(lower(email))") }
                }
                for e in list {
                    try db.execute(sql: e.sql, arguments: e.args)
                    changed += db.changesCount
                }
            }
            try db.close()
        }
        return changed
    }
}

