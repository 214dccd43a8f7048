import Foundation
import GRDB
import HubAdapters
import HubCore
@testable import HubStore
import HubStorePostgres
import HubSync
import HubTestServers
import HubTesting
import HubTopology

/// The four real systems of the T3 convergence battery, in one temporary folder: `app` (SQLite
/// read by a `modified_at` cursor), `billing` (SQLite read in full, a composite name and a value
/// map), `sheet` (two CSV files) and `export` (two JSON Lines files, a composite name and a JSON
/// field). Each holds customers and orders, an order referring to its customer by the system's
/// own ID. The world edits each system the way its users would and reads every row back. Its hub
/// is a SQLite file in the folder, or a schema of the PostgreSQL test cluster (``postgresHub``).
struct ConvergenceWorld: Sendable {
    enum System: String, CaseIterable, Comparable, CustomStringConvertible {
        case app, billing, sheet, export
        /// The conflict priority of the topology: the lower, the stronger.
        var rank: Int { Self.allCases.firstIndex(of: self)! }
        static func < (a: System, b: System) -> Bool { a.rank < b.rank }
        var description: String { rawValue }

        /// The customer fields the system maps (canonical names).
        var customerFields: [CustomerField] {
            switch self {
            case .app: [.first, .last, .tier, .prefs]
            case .billing: [.first, .last, .tier]
            case .sheet: [.first, .last, .tier]
            case .export: [.first, .last, .prefs]
            }
        }

        /// True when the system keeps first and last name in one composite field.
        var joinsNames: Bool { self == .billing || self == .export }

        /// The file moved away to make the system miss an object (`billing` loses its whole database).
        var movable: String {
            switch self {
            case .app: "app.db"
            case .billing: "billing.db"
            case .sheet: "sheet/customers.csv"
            case .export: "export/orders.jsonl"
            }
        }
    }

    enum CustomerField: String, CaseIterable, Hashable {
        case first = "first_name", last = "last_name", tier, prefs
    }

    let dir: String
    /// The hub when it is in PostgreSQL; nil for the SQLite file at ``hubPath``.
    var postgresHub: PostgresHub? = nil
    var topologyPath: String { dir + "/topology.json" }
    var hubPath: String { dir + "/t3.hub.sqlite" }

    /// A hub in a fresh schema of the PostgreSQL test cluster, opened once for every sync of a
    /// sequence, and dropped with ``drop()``.
    struct PostgresHub: Sendable {
        let database: PostgresHubDatabase
        let schema: String
        var store: HubStore { HubStore(database: database) }

        init() throws {
            let settings = try TestHubStore.freshSchema()
            database = try PostgresHubDatabase(settings: settings, applicationName: "hubctl-t3")
            schema = settings.schema
        }

        /// Drops the schema and closes the connection.
        func drop() {
            _ = try? store.write { try $0.executeCounted("DROP SCHEMA \"\(schema)\" CASCADE") }
            database.close()
        }
    }

    /// The world in `dir` with its hub moved into a new PostgreSQL schema: the SQLite hub file
    /// the folder holds (a copy of the synced start) is copied there, and the topology points
    /// `hubctl` at it (the password from the environment, as a user would write it).
    static func movingHubToPostgres(in dir: String) throws -> ConvergenceWorld {
        let hub = try PostgresHub()
        let file = dir + "/t3.hub.sqlite"
        if FileManager.default.fileExists(atPath: file) {
            var options = HubCopyOptions()
            options.lockSource = false
            let report = try HubStore(path: file).copy(to: hub.store, options: options)
            guard report.matches else { throw BatteryError("copying the T3 hub into PostgreSQL did not verify") }
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }
        }
        let pg = try TestServices.requirePostgres()
        let url = "postgres://\(pg.user):${HUBCTL_TEST_POSTGRES_PASSWORD}@\(pg.host):\(pg.port)/\(pg.database)?sslmode=disable"
        try topology.replacingOccurrences(of: #""hub": { "path": "t3.hub.sqlite" }"#,
                                          with: #""hub": { "url": "\#(url)", "schema": "\#(hub.schema)" }"#)
            .write(toFile: dir + "/topology.json", atomically: true, encoding: .utf8)
        return ConvergenceWorld(dir: dir, postgresHub: hub)
    }

    static let tierCodes = ["gold": "G", "silver": "S", "bronze": "B"]

    static let topology = """
    {
      "version": 1,
      "name": "t3",
      "hub": { "path": "t3.hub.sqlite" },
      "entities": {
        "customer": {
          "fields": {
            "email": { "type": "string", "required": true, "normalize": ["trim", "lowercase"] },
            "first_name": { "type": "string" },
            "last_name": { "type": "string" },
            "tier": { "type": "string" },
            "prefs": { "type": "json" }
          },
          "match": [["email"]],
          "conflicts": { "resolve": "priority", "priority": ["app", "billing", "sheet", "export"] },
          "on_referenced_delete": "restore"
        },
        "order": {
          "fields": {
            "number": { "type": "string", "required": true },
            "customer": { "type": "ref", "entity": "customer" },
            "amount": { "type": "integer" }
          },
          "match": [["number"]],
          "conflicts": { "resolve": "priority", "priority": ["app", "billing", "sheet", "export"] }
        }
      },
      "systems": {
        "app": {
          "adapter": "sqlite", "connection": { "path": "app.db" },
          "entities": {
            "customer": { "object": "customers", "cursor": "modified_at",
              "fields": { "email": "email", "first_name": "first_name", "last_name": "last_name", "tier": "tier",
                          "prefs": { "field": "prefs", "type": "json" } } },
            "order": { "object": "orders", "cursor": "modified_at",
              "fields": { "number": "number", "customer": "customer_id", "amount": "amount" } }
          }
        },
        "billing": {
          "adapter": "sqlite", "connection": { "path": "billing.db" },
          "entities": {
            "customer": { "object": "accounts",
              "fields": { "email": "email", "first_name": { "field": "full_name", "parts": ["first_name", "last_name"] },
                          "tier": { "field": "tier_code", "values": { "gold": "G", "silver": "S", "bronze": "B" } } } },
            "order": { "object": "invoices", "fields": { "number": "number", "customer": "account_id", "amount": "amount" } }
          }
        },
        "sheet": {
          "adapter": "csv", "connection": { "path": "sheet" },
          "entities": {
            "customer": { "object": "customers.csv", "id": "ID",
              "fields": { "email": "Email", "first_name": "First", "last_name": "Last", "tier": "Tier" } },
            "order": { "object": "orders.csv", "id": "ID", "fields": { "number": "Number", "customer": "Customer", "amount": "Amount" } }
          }
        },
        "export": {
          "adapter": "jsonl", "connection": { "path": "export" },
          "entities": {
            "customer": { "object": "customers.jsonl", "id": "id",
              "fields": { "email": "email", "first_name": { "field": "name", "parts": ["first_name", "last_name"] }, "prefs": "prefs" } },
            "order": { "object": "orders.jsonl", "id": "id", "fields": { "number": "number", "customer": "customer", "amount": "amount" } }
          }
        }
      }
    }
    """

    /// Creates the four systems, empty, and the topology.
    static func create(in dir: String, hub: TestHubStore = .sqlite) throws -> ConvergenceWorld {
        try topology.write(toFile: dir + "/topology.json", atomically: true, encoding: .utf8)
        let touch = { (table: String) in
            """
            CREATE TRIGGER touch_\(table) AFTER UPDATE ON \(table) FOR EACH ROW WHEN NEW.modified_at = OLD.modified_at
            BEGIN UPDATE \(table) SET modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id; END;
            """
        }
        try execute(dir + "/app.db", """
            CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, first_name TEXT, last_name TEXT, tier TEXT,
                prefs TEXT, modified_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
            CREATE TABLE orders (id INTEGER PRIMARY KEY, number TEXT NOT NULL, customer_id INTEGER, amount INTEGER,
                modified_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
            \(touch("customers"))
            \(touch("orders"))
            """ + writeCounter(["customers", "orders"]))
        try execute(dir + "/billing.db", """
            CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT NOT NULL, full_name TEXT, tier_code TEXT);
            CREATE TABLE invoices (id INTEGER PRIMARY KEY, number TEXT NOT NULL, account_id INTEGER, amount INTEGER);
            """ + writeCounter(["accounts", "invoices"]))
        for folder in ["sheet", "export"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + folder, withIntermediateDirectories: true)
        }
        try "ID,Email,First,Last,Tier\n".write(toFile: dir + "/sheet/customers.csv", atomically: true, encoding: .utf8)
        try "ID,Number,Customer,Amount\n".write(toFile: dir + "/sheet/orders.csv", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/export/customers.jsonl", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/export/orders.jsonl", atomically: true, encoding: .utf8)
        return hub == .postgres ? try movingHubToPostgres(in: dir) : ConvergenceWorld(dir: dir)
    }

    /// Triggers counting every insert, update and delete of the tables.
    static func writeCounter(_ tables: [String]) -> String {
        var sql = "\nCREATE TABLE write_count (n INTEGER NOT NULL);\nINSERT INTO write_count VALUES (0);\n"
        for table in tables {
            for op in ["INSERT", "UPDATE", "DELETE"] {
                sql += "CREATE TRIGGER count_\(op.lowercased())_\(table) AFTER \(op) ON \(table) BEGIN UPDATE write_count SET n = n + 1; END;\n"
            }
        }
        return sql
    }

    // MARK: - Running hubctl

    /// One `sync-all` in this process; with `fault`, that point throws at its n-th hit (the
    /// run then fails a system or the whole run, as a crash there would leave it).
    @discardableResult
    func sync(fault: (point: FaultPoint, hit: Int)? = nil) async throws -> SyncReport? {
        let topology = try TopologyLoader.load(path: topologyPath, environment: ProcessInfo.processInfo.environment)
        let store = try postgresHub?.store ?? HubStore(path: hubPath)
        let engine = SyncEngine(runtime: SpokeFactory.runtime(topology), store: store,
                                settings: EngineSettings(readAttempts: 1, retryDelay: 0))
        guard let fault else { return try await engine.syncAll() }
        let points = FaultPoints(environment: ["HUBCTL_FAULTS": "\(fault.point.rawValue)@\(fault.hit):throw"])
        return try? await FaultPoints.$scoped.withValue(points) { try await engine.syncAll() }
    }

    /// `hubctl sync-all` as a child process killed with SIGKILL at a fault point's n-th hit.
    func killedSync(at point: FaultPoint, hit: Int) throws -> HubctlProcess.Result {
        try HubctlProcess.run(["sync-all", "-t", topologyPath], environment: ["HUBCTL_FAULTS": "\(point.rawValue)@\(hit):crash"])
    }

    // MARK: - Files moved away

    func moveAway(_ system: System) throws {
        let path = dir + "/" + system.movable
        try FileManager.default.moveItem(atPath: path, toPath: dir + "/away-" + system.rawValue)
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.moveItem(atPath: path + suffix, toPath: dir + "/away-" + system.rawValue + suffix)
        }
    }

    /// Puts the file back (over anything a run left in its place).
    func restore(_ system: System) throws {
        let path = dir + "/" + system.movable
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.removeItem(atPath: path + suffix)
        }
        try FileManager.default.moveItem(atPath: dir + "/away-" + system.rawValue, toPath: path)
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: dir + "/away-" + system.rawValue + suffix) {
            try FileManager.default.moveItem(atPath: dir + "/away-" + system.rawValue + suffix, toPath: path + suffix)
        }
    }

    // MARK: - SQL helpers

    /// Rows of a query on the hub, written in SQLite's dialect (a PostgreSQL hub translates it).
    func hubRows(_ sql: String) throws -> [[String: String?]] {
        try (postgresHub?.store ?? HubStore(path: hubPath)).read { tx in
            try tx.rows(sql).map { row in
                var out: [String: String?] = [:]
                for column in row.columnNames { out[column] = Self.text(row[column]) }
                return out
            }
        }
    }

    /// A value as the battery compares it: integers without a fraction, blobs by their size.
    static func text(_ v: DatabaseValue) -> String? {
        switch v.storage {
        case .null: nil
        case .int64(let i): String(i)
        case .double(let d): d == d.rounded() ? String(Int64(d)) : String(d)
        case .string(let s): s
        case .blob(let b): "blob(\(b.count))"
        }
    }

    static func execute(_ path: String, _ sql: String, _ arguments: StatementArguments = []) throws {
        let db = try DatabaseQueue(path: path)
        defer { try? db.close() }
        try db.write { try $0.execute(sql: sql, arguments: arguments) }
    }

    static func rows(_ path: String, _ sql: String, _ arguments: StatementArguments = []) throws -> [[String: String?]] {
        let db = try DatabaseQueue(path: path)
        defer { try? db.close() }
        return try db.read { db in
            try GRDB.Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                var out: [String: String?] = [:]
                for column in row.columnNames { out[column] = .some(text(row[column])) }
                return out
            }
        }
    }
}

/// A folder for one T3 sequence, removed afterwards: in memory (`/dev/shm`) where the machine has
/// it, so hundreds of sequences do not wait on the disk's flushes; the systems are still real files.
final class ScratchDirectory: Sendable {
    let path: String

    init() throws {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        path = base + "/hubctl-t3-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// `HUBCTL_T3_KEEP=1` keeps every sequence's folder to look into.
    deinit {
        if ProcessInfo.processInfo.environment["HUBCTL_T3_KEEP"] == nil { try? FileManager.default.removeItem(atPath: path) }
    }
}
