import Foundation
import GRDB
import HubCore

/// A webhook delivery whose ID is kept, so that a replay of it is refused.
public struct WebhookDeliveryID: Sendable, Hashable {
    public var system: SystemName
    /// The sender's delivery ID (`webhook-id`, `X-GitHub-Delivery`).
    public var id: String

    public init(system: SystemName, id: String) {
        self.system = system
        self.id = id
    }
}

/// The webhook delivery IDs a hub has accepted.
///
/// A SQLite hub keeps them in a small SQLite file of their own beside the hub (`<hub>-webhooks`,
/// WAL, `synchronous = FULL`), because SQLite has one writer per file: in the hub file, recording
/// a delivery would wait for the page transaction a cycle holds (a second or more for a page of
/// a large first sync), and the sender for its answer. Here a commit waits only for the commit
/// before it. Deleting the file only forgets the last hour's IDs.
///
/// A hub held by a database with concurrent writers (PostgreSQL) keeps them in its own
/// `webhook_delivery` table: a delivery's short transaction does not wait for a cycle's page.
public struct WebhookDeliveryStore: Sendable {
    private enum Backend: Sendable {
        case file(DatabaseQueue)
        indirect case hub(HubStore)
    }

    private let backend: Backend
    /// The file, or nil in memory or in the hub's own database.
    public let path: String?

    /// Opens (creating if needed) the delivery store of the hub at `hubPath`.
    public init(hubPath: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let path = hubPath + "-webhooks"
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
        } catch {
            throw HubStoreError("cannot open the webhook delivery file \(path) (\(error)); it must be a file that hubctl can "
                                + "write, next to the hub (delete it if it is not one: it only holds the last hour's delivery IDs)")
        }
        try queue.writeWithoutTransaction { db in
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            if mode?.lowercased() != "wal" {
                throw HubStoreError("the webhook delivery store at \(path) cannot use WAL journaling (got \(mode ?? "nothing")); put the hub on a local disk")
            }
            try Self.createTable(db)
        }
        backend = .file(queue)
        self.path = path
    }

    /// The store inside a hub held by another database (its `webhook_delivery` table).
    init(hub: HubStore) {
        backend = .hub(hub)
        path = nil
    }

    /// A store in memory, for tests and in-memory hubs.
    public static func inMemory() throws -> WebhookDeliveryStore { try WebhookDeliveryStore(inMemory: ()) }

    private init(inMemory: Void) throws {
        let queue = try DatabaseQueue()
        try queue.write { try Self.createTable($0) }
        backend = .file(queue)
        path = nil
    }

    private static func createTable(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS webhook_delivery (
                system TEXT NOT NULL,
                delivery_id TEXT NOT NULL,
                received_at TEXT NOT NULL,
                PRIMARY KEY (system, delivery_id)
            ) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS webhook_delivery_by_time ON webhook_delivery(received_at);
            """)
    }

    /// Records these delivery IDs in one transaction (one fsync however many there are) and
    /// says, for each in order, whether it is new: false for an ID recorded before, or earlier
    /// in the same list (a replay). IDs older than `keepFor` seconds are forgotten first: a
    /// sender's signature window is shorter, so an older replay is refused as stale anyway.
    public func record(_ deliveries: [WebhookDeliveryID], at now: Date, keepFor: TimeInterval) throws -> [Bool] {
        guard !deliveries.isEmpty else { return [] }
        let cutoff = Timestamp.string(now.addingTimeInterval(-keepFor))
        let stamp = Timestamp.string(now)
        switch backend {
        case .file(let writer):
            return try writer.write { db in
                try db.execute(sql: "DELETE FROM webhook_delivery WHERE received_at < ?", arguments: [cutoff])
                let insert = try db.cachedStatement(
                    sql: "INSERT OR IGNORE INTO webhook_delivery (system, delivery_id, received_at) VALUES (?, ?, ?)")
                return try deliveries.map { d in
                    try insert.execute(arguments: [d.system.rawValue, d.id, stamp])
                    return db.changesCount > 0
                }
            }
        case .hub(let hub):
            return try hub.write { tx in
                try tx.execute("DELETE FROM webhook_delivery WHERE received_at < ?", [cutoff])
                return try deliveries.map { d in
                    try tx.executeCounted("INSERT OR IGNORE INTO webhook_delivery (system, delivery_id, received_at) VALUES (?, ?, ?)",
                                          [d.system.rawValue, d.id, stamp]) > 0
                }
            }
        }
    }

    /// How many delivery IDs are kept.
    public func count() throws -> Int {
        switch backend {
        case .file(let writer): try writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM webhook_delivery") ?? 0 }
        case .hub(let hub): try hub.read { try $0.value(Int.self, "SELECT COUNT(*) FROM webhook_delivery") ?? 0 }
        }
    }
}

extension WebhookDeliveryStore {
    /// A kept delivery ID and when it was received (a timestamp).
    public typealias Kept = (delivery: WebhookDeliveryID, receivedAt: String)

    /// Where the IDs are kept, for people: the file, or the table of the hub at `hubLocation`.
    func place(hubLocation: String) -> String { path ?? "the webhook_delivery table of \(hubLocation)" }

    /// Every kept delivery ID, oldest first.
    func all() throws -> [Kept] {
        let sql = "SELECT system, delivery_id, received_at FROM webhook_delivery ORDER BY received_at, system, delivery_id"
        switch backend {
        case .file(let reader):
            return try reader.read { db in
                try Row.fetchAll(db, sql: sql).map { (WebhookDeliveryID(system: SystemName($0["system"] as String), id: $0["delivery_id"]),
                                                      $0["received_at"]) }
            }
        case .hub(let hub):
            return try hub.read { tx in
                try tx.rows(sql).map { (WebhookDeliveryID(system: SystemName($0["system"] as String), id: $0["delivery_id"]),
                                        $0["received_at"]) }
            }
        }
    }

    /// Adds delivery IDs as they were received (their times kept, so they are forgotten when
    /// they would have been), in one transaction; returns how many were not kept yet.
    func add(_ kept: [Kept]) throws -> Int {
        let sql = "INSERT OR IGNORE INTO webhook_delivery (system, delivery_id, received_at) VALUES (?, ?, ?)"
        switch backend {
        case .file(let writer):
            return try writer.write { db in
                let insert = try db.cachedStatement(sql: sql)
                return try kept.reduce(0) { added, k in
                    try insert.execute(arguments: [k.delivery.system.rawValue, k.delivery.id, k.receivedAt])
                    return added + db.changesCount
                }
            }
        case .hub(let hub):
            return try hub.write { tx in
                try kept.reduce(0) { added, k in
                    added + (try tx.executeCounted(sql, [k.delivery.system.rawValue, k.delivery.id, k.receivedAt]))
                }
            }
        }
    }
}

/// What ``HubStore/copyWebhookDeliveries(to:)`` copied.
public struct WebhookDeliveryCopy: Sendable {
    /// Where the source hub keeps its delivery IDs (its `<hub>-webhooks` file, or its own
    /// table); nil for a hub file that has no delivery file beside it.
    public var from: String?
    /// Where the copy's delivery IDs went; nil when there was nothing to copy.
    public var to: String?
    /// How many delivery IDs the source keeps.
    public var count: Int
    /// How many of them the target did not hold yet (a PostgreSQL hub's own table was already
    /// copied with the hub's tables).
    public var added: Int
}

extension HubStore {
    /// Copies the webhook delivery IDs this hub keeps into `target`'s delivery store, with the
    /// times they were received, so that a delivery accepted before a move is still refused as a
    /// replay after it. A SQLite hub keeps them in its `<hub>-webhooks` file, outside the hub's
    /// tables, which ``copy(to:options:)`` copies; a hub file without one has none (nothing is
    /// created). The target's store is created only when there is something to put in it.
    public func copyWebhookDeliveries(to target: HubStore) throws -> WebhookDeliveryCopy {
        let source: WebhookDeliveryStore
        if let path {
            guard FileManager.default.fileExists(atPath: path + "-webhooks") else {
                return WebhookDeliveryCopy(from: nil, to: nil, count: 0, added: 0)
            }
            source = try WebhookDeliveryStore(hubPath: path)
        } else {
            source = try webhookDeliveries()
        }
        let kept = try source.all()
        let from = source.place(hubLocation: location)
        guard !kept.isEmpty else { return WebhookDeliveryCopy(from: from, to: nil, count: 0, added: 0) }
        let destination = try target.webhookDeliveries()
        return WebhookDeliveryCopy(from: from, to: destination.place(hubLocation: target.location), count: kept.count,
                                   added: try destination.add(kept))
    }

    /// The webhook delivery store beside this hub (`<hub>-webhooks`); for a hub in memory, one
    /// in memory shared by every caller; for a hub held by another database, its own table.
    public func webhookDeliveries() throws -> WebhookDeliveryStore {
        if let path { return try WebhookDeliveryStore(hubPath: path) }
        if !isSQLite { return WebhookDeliveryStore(hub: self) }
        guard let memoryDeliveries else { throw HubStoreError("this hub has no webhook delivery store") }
        return memoryDeliveries
    }
}
