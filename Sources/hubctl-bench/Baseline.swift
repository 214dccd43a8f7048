import Foundation
import GRDB
import HubCore
import HubStore

/// The practical limit on this machine: the database writes an initial sync needs — hub
/// entities, history rows, cross-reference rows, identity keys, and the rows created in each
/// system — made with prepared statements in one transaction per database, into a hub with the
/// real schema, without any sync logic (no reads, no mapping, no merging).
enum Baseline {
    /// Performs the writes for `workload`'s systems (already created in its folder).
    static func run(_ workload: Workload) throws {
        let n = workload.size
        let ids = IDGenerator.uuidV7()
        let hubIDs = (0..<n).map { _ in ids.next() }
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        // The hub's own schema (tables, indexes, triggers), made by its migrations.
        let hubPath = workload.dir + "/baseline.hub.sqlite"
        _ = try HubStore(path: hubPath)
        let hub = try DatabaseQueue(path: hubPath, configuration: config)
        try hub.write { db in
            let entity = try db.makeStatement(sql: """
                INSERT INTO entity (entity, hub_id, data, version, seq, field_meta, created_at, updated_at) VALUES ('customer', ?, ?, 1, ?, ?, ?, ?)
                """)
            let version = try db.makeStatement(sql: "INSERT INTO entity_version (hub_id, version, data, source_system, run_id, at) VALUES (?, 1, ?, 'crm', 'r', ?)")
            let xref = try db.makeStatement(sql: """
                INSERT INTO xref (entity, system, external_id, hub_id, state, base_hash, base_data, base_version, linked_by, linked_at)
                VALUES ('customer', ?, ?, ?, 'linked', ?, ?, 1, 'created', ?)
                """)
            let key = try db.makeStatement(sql: "INSERT INTO match_key (entity, rule, key, hub_id) VALUES ('customer', 0, ?, ?)")
            let now = "2026-01-01T00:00:00.000Z"
            for i in 0..<n {
                let data = """
                    {"country":"\(Workload.countries[i % 4])","email":"user\(i)@example.com","first_name":"First\(i)","last_name":"Last\(i)","phone":"+1 555 \(i)"}
                    """
                try entity.execute(arguments: [hubIDs[i], data, i + 1, "{}", now, now])
                try version.execute(arguments: [hubIDs[i], data, now])
                for system in ["crm", "billing", "app"] {
                    try xref.execute(arguments: [system, "\(system)-\(i)", hubIDs[i], "0123456789abcdef0123456789abcdef", data, now])
                }
                try key.execute(arguments: ["[\"user\(i)@example.com\"]", hubIDs[i]])
            }
        }
        try hub.close()
        // The rows created in each system for the people it did not have.
        for (index, file) in ["crm.db", "billing.db", "app.db"].enumerated() {
            let db = try DatabaseQueue(path: workload.dir + "/" + file)
            try db.write { db in
                let sql: String
                switch index {
                case 0: sql = "INSERT INTO contacts (email_address, given_name, family_name, country_code, phone) VALUES (?, ?, ?, ?, ?)"
                case 1: sql = "INSERT INTO accounts (email, full_name, country, balance, modified_at) VALUES (?, ?, ?, ?, ?)"
                default: sql = "INSERT INTO users (id, email, first_name, last_name, country, phone) VALUES (?, ?, ?, ?, ?, ?)"
                }
                let insert = try db.makeStatement(sql: sql)
                for i in 0..<n where !Workload.systems(of: i).contains(index) {
                    switch index {
                    case 0: try insert.execute(arguments: ["user\(i)@example.com", "First\(i)", "Last\(i)", Workload.codes[i % 4], "+1 555 \(i)"])
                    case 1: try insert.execute(arguments: ["user\(i)@example.com", "First\(i) Last\(i)", Workload.countries[i % 4], nil, "2026-01-01T00:00:00.000Z"])
                    default: try insert.execute(arguments: [hubIDs[i], "user\(i)@example.com", "First\(i)", "Last\(i)", Workload.countries[i % 4], "+1 555 \(i)"])
                    }
                }
            }
            try db.close()
        }
    }
}
