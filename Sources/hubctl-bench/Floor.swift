import Foundation
import GRDB
import HubCore

/// The floor of an initial sync: the irreducible work written plainly, independent of hubctl's
/// own hub schema (so a heavier schema cannot make the ratio look better).
///
/// It reads every source row of the three systems, matches people by lower-cased email in
/// memory, writes one hub row per entity (its canonical JSON) and one link row per system it is
/// in (integer keys, the external ID and a SHA-256 of the canonical JSON), and creates the rows
/// each system lacks — prepared statements, one transaction per database, the hub in WAL mode
/// with `synchronous = FULL` as hubctl's.
enum Floor {
    /// One person as the three systems describe them, merged.
    struct Person {
        var email: String
        var first: String?
        var last: String?
        var country: String?
        var phone: String?
        var balance: Double?
        /// The person's ID in crm, billing and app (nil: created there).
        var ids: [String?] = [nil, nil, nil]
    }

    static func run(_ workload: Workload) throws {
        var people: [Person] = []
        var byEmail: [String: Int] = [:]
        func person(_ email: String) -> Int {
            let key = email.lowercased()
            if let i = byEmail[key] { return i }
            byEmail[key] = people.count
            people.append(Person(email: key))
            return people.count - 1
        }
        let codes = Dictionary(uniqueKeysWithValues: zip(Workload.codes, Workload.countries))

        // Read every source row.
        let crm = try DatabaseQueue(path: workload.dir + "/crm.db")
        let billing = try DatabaseQueue(path: workload.dir + "/billing.db")
        let app = try DatabaseQueue(path: workload.dir + "/app.db")
        try crm.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT contact_id, email_address, given_name, family_name, country_code, phone FROM contacts")
            while let row = try rows.next() {
                let i = person(row[1])
                people[i].ids[0] = String(row[0] as Int64)
                people[i].first = row[2]
                people[i].last = row[3]
                people[i].country = (row[4] as String?).map { codes[$0] ?? $0 }
                people[i].phone = row[5]
            }
        }
        try billing.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT account_id, email, full_name, country, balance FROM accounts")
            while let row = try rows.next() {
                let i = person(row[1])
                people[i].ids[1] = String(row[0] as Int64)
                if people[i].first == nil, let full = row[2] as String? {
                    let parts = full.split(separator: " ", maxSplits: 1)
                    people[i].first = parts.first.map(String.init)
                    people[i].last = parts.count > 1 ? String(parts[1]) : nil
                }
                people[i].country = people[i].country ?? row[3]
                people[i].balance = row[4]
            }
        }
        try app.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT id, email, first_name, last_name, country, phone FROM users")
            while let row = try rows.next() {
                let i = person(row[1])
                people[i].ids[2] = row[0]
                people[i].first = people[i].first ?? row[2]
                people[i].last = people[i].last ?? row[3]
                people[i].country = people[i].country ?? row[4]
                people[i].phone = people[i].phone ?? row[5]
            }
        }

        // The rows each system lacks, one transaction per database.
        try crm.write { db in
            let insert = try db.makeStatement(sql: """
                INSERT INTO contacts (email_address, given_name, family_name, country_code, phone) VALUES (?, ?, ?, ?, ?)
                """)
            let reverse = Dictionary(uniqueKeysWithValues: zip(Workload.countries, Workload.codes))
            for i in people.indices where people[i].ids[0] == nil {
                let p = people[i]
                try insert.execute(arguments: [p.email, p.first, p.last, p.country.map { reverse[$0] ?? $0 }, p.phone])
                people[i].ids[0] = String(db.lastInsertedRowID)
            }
        }
        try billing.write { db in
            let insert = try db.makeStatement(sql: "INSERT INTO accounts (email, full_name, country, balance) VALUES (?, ?, ?, ?)")
            for i in people.indices where people[i].ids[1] == nil {
                let p = people[i]
                let full = [p.first, p.last].compactMap { $0 }.joined(separator: " ")
                try insert.execute(arguments: [p.email, full.isEmpty ? nil : full, p.country, p.balance])
                people[i].ids[1] = String(db.lastInsertedRowID)
            }
        }
        try app.write { db in
            let insert = try db.makeStatement(sql: """
                INSERT INTO users (id, email, first_name, last_name, country, phone) VALUES (?, ?, ?, ?, ?, ?)
                """)
            for i in people.indices where people[i].ids[2] == nil {
                let p = people[i]
                let id = "e\(i)"
                try insert.execute(arguments: [id, p.email, p.first, p.last, p.country, p.phone])
                people[i].ids[2] = id
            }
        }
        for db in [crm, billing, app] { try db.close() }

        // One hub row per entity and one link row per system.
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let hub = try DatabaseQueue(path: workload.dir + "/floor.hub.sqlite", configuration: config)
        try hub.write { db in
            try db.execute(sql: """
                CREATE TABLE entity (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
                CREATE TABLE link (system INTEGER NOT NULL, external_id TEXT NOT NULL, entity_id INTEGER NOT NULL,
                                   base_hash TEXT NOT NULL, PRIMARY KEY (system, external_id)) WITHOUT ROWID;
                """)
            let entity = try db.makeStatement(sql: "INSERT INTO entity (id, data) VALUES (?, ?)")
            let link = try db.makeStatement(sql: "INSERT INTO link (system, external_id, entity_id, base_hash) VALUES (?, ?, ?, ?)")
            for (i, p) in people.enumerated() {
                var fields: [String: Value] = ["email": .string(p.email)]
                if let v = p.first { fields["first_name"] = .string(v) }
                if let v = p.last { fields["last_name"] = .string(v) }
                if let v = p.country { fields["country"] = .string(v) }
                if let v = p.phone { fields["phone"] = .string(v) }
                if let v = p.balance { fields["balance"] = .double(v) }
                let json = JSONWriter.bytes(.object(fields))
                try entity.execute(arguments: [i + 1, String(decoding: json, as: UTF8.self)])
                let hash = SHA256.hexString(SHA256.hash(json), length: 32)
                for (system, id) in p.ids.enumerated() {
                    try link.execute(arguments: [system, id, i + 1, hash])
                }
            }
        }
        try hub.close()
    }
}
