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

/// The webhook delivery IDs a hub has accepted, in a small SQLite file of their own beside the
/// hub (`<hub>-webhooks`, WAL, `synchronous = FULL`).
///
/// A file of its own because SQLite has one writer per file: in the hub file, recording a
/// delivery would wait for the page transaction a cycle holds (a second or more for a page of
/// a large first sync), and the sender for its answer. Here a commit waits only for the
/// commit before it. Deleting the file only forgets the last hour's IDs.
public struct WebhookDeliveryStore: Sendable {
    private let writer: DatabaseQueue
    /// The file, or nil in memory.
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
        writer = queue
        self.path = path
    }

    /// A store in memory, for tests and in-memory hubs.
    public static func inMemory() throws -> WebhookDeliveryStore { try WebhookDeliveryStore(inMemory: ()) }

    private init(inMemory: Void) throws {
        writer = try DatabaseQueue()
        try writer.write { try Self.createTable($0) }
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
        return try writer.write { db in
            try db.execute(sql: "DELETE FROM webhook_delivery WHERE received_at < ?",
                           arguments: [Timestamp.string(now.addingTimeInterval(-keepFor))])
            let insert = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO webhook_delivery (system, delivery_id, received_at) VALUES (?, ?, ?)")
            let stamp = Timestamp.string(now)
            return try deliveries.map { d in
                try insert.execute(arguments: [d.system.rawValue, d.id, stamp])
                return db.changesCount > 0
            }
        }
    }

    /// How many delivery IDs are kept.
    public func count() throws -> Int {
        try writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM webhook_delivery") ?? 0 }
    }
}

extension HubStore {
    /// The webhook delivery store beside this hub (`<hub>-webhooks`); for a hub in memory, one
    /// in memory shared by every caller.
    public func webhookDeliveries() throws -> WebhookDeliveryStore {
        if let path { return try WebhookDeliveryStore(hubPath: path) }
        guard let memoryDeliveries else { throw HubStoreError("this hub has no webhook delivery store") }
        return memoryDeliveries
    }
}
