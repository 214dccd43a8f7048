import Foundation
import GRDB
import HubCore

/// A webhook delivery whose ID the hub keeps, so that a replay of it is refused.
public struct WebhookDeliveryID: Sendable, Hashable {
    public var system: SystemName
    /// The sender's delivery ID (`webhook-id`, `X-GitHub-Delivery`).
    public var id: String

    public init(system: SystemName, id: String) {
        self.system = system
        self.id = id
    }
}

extension HubStore {
    /// Records these delivery IDs in one transaction (one fsync however many there are) and
    /// says, for each in order, whether it is new: false for an ID recorded before, or earlier
    /// in the same list (a replay). IDs older than `keepFor` seconds are forgotten first: a
    /// sender's signature window is shorter, so an older replay is refused as stale anyway.
    ///
    /// The transaction is `BEGIN IMMEDIATE`: it waits for the write lock (behind at most the one
    /// transaction that holds it) instead of failing when another connection wrote meanwhile.
    public func recordWebhookDeliveries(_ deliveries: [WebhookDeliveryID], at now: Date,
                                        keepFor: TimeInterval) throws -> [Bool] {
        guard !deliveries.isEmpty else { return [] }
        return try immediateWrite { db in
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

    /// Records one delivery ID; false when it was seen before (a replay).
    public func recordWebhookDelivery(system: SystemName, id: String, at now: Date, keepFor: TimeInterval) throws -> Bool {
        try recordWebhookDeliveries([WebhookDeliveryID(system: system, id: id)], at: now, keepFor: keepFor)[0]
    }

    /// Another connection to the same hub file (this store itself for a hub in memory). Its
    /// transactions do not queue behind this connection's reads and writes, only behind SQLite's
    /// write lock, which a sync holds for one page at a time: `hubctl run` records webhook
    /// delivery IDs through one so that a delivery is answered while a cycle runs.
    public func secondConnection() throws -> HubStore {
        guard let path else { return self }
        return try HubStore(path: path)
    }
}
