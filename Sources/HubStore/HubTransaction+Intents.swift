import GRDB
import HubCore

/// A create recorded before it is sent to a system.
public struct WriteIntent: Sendable, Hashable {
    public var id: Int64?
    public var run: RunID
    public var generation: Int64
    public var system: SystemName
    public var entity: EntityName
    public var hubID: HubID
    /// The key the create carries to the system (the hub ID), to find it again.
    public var key: String
    /// What the system will hold once the create is applied: the new link's base.
    public var baseData: [String: Value]
    /// The entity version the create was made from.
    public var version: Int64
    public var createdAt: String

    public init(id: Int64? = nil, run: RunID, generation: Int64, system: SystemName, entity: EntityName, hubID: HubID,
                key: String, baseData: [String: Value], version: Int64, createdAt: String) {
        self.id = id
        self.run = run
        self.generation = generation
        self.system = system
        self.entity = entity
        self.hubID = hubID
        self.key = key
        self.baseData = baseData
        self.version = version
        self.createdAt = createdAt
    }
}

extension HubTransaction {
    /// Records a create before it is sent.
    public func addIntent(_ intent: WriteIntent) throws {
        try execute(
            """
            INSERT OR REPLACE INTO intent (run_id, generation, system, entity, hub_id, op, key, base_data, version, created_at)
            VALUES (?, ?, ?, ?, ?, 'create', ?, ?, ?, ?)
            """,
            [intent.run.rawValue, intent.generation, intent.system.rawValue, intent.entity.rawValue, intent.hubID.rawValue,
             intent.key, Self.encode(intent.baseData), intent.version, intent.createdAt])
    }

    /// Records several creates before they are sent: one multi-row statement per chunk instead
    /// of one per create, with the same outcome as ``addIntent(_:)`` called for each in order
    /// (a create listed twice keeps its last intent, recorded last).
    public func addIntents(_ intents: [WriteIntent]) throws {
        var seen: Set<HubID> = []
        var last: [WriteIntent] = []
        for intent in intents.reversed() where seen.insert(intent.hubID).inserted { last.append(intent) }
        for chunk in Self.chunks(Array(last.reversed()), size: 100) {
            let rows = Array(repeating: "(?, ?, ?, ?, ?, 'create', ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
            var args = HubArguments()
            args.values.reserveCapacity(chunk.count * 9)
            for intent in chunk {
                args += [intent.run.rawValue, intent.generation, intent.system.rawValue, intent.entity.rawValue,
                         intent.hubID.rawValue, intent.key, Self.encode(intent.baseData), intent.version, intent.createdAt]
            }
            try execute(
                """
                INSERT OR REPLACE INTO intent (run_id, generation, system, entity, hub_id, op, key, base_data, version, created_at)
                VALUES \(rows)
                """, args)
        }
    }

    /// Closes the intent of a create (its outcome is recorded).
    public func closeIntent(system: SystemName, entity: EntityName, hubID: HubID) throws {
        try execute("DELETE FROM intent WHERE system = ? AND entity = ? AND hub_id = ?",
                    [system.rawValue, entity.rawValue, hubID.rawValue])
    }

    /// Closes the intents of several creates.
    public func closeIntents(system: SystemName, entity: EntityName, hubIDs: [HubID]) throws {
        for chunk in Self.chunks(hubIDs) {
            let sql = "DELETE FROM intent WHERE system = ? AND entity = ? AND hub_id IN (\(Self.placeholders(chunk.count)))"
            try execute(sql, HubArguments([system.rawValue, entity.rawValue] + chunk.map(\.rawValue)))
        }
    }

    /// Creates whose outcome was never recorded (the process stopped in between).
    public func openIntents() throws -> [WriteIntent] {
        try rows("SELECT * FROM intent ORDER BY id").map(Self.intent)
    }

    /// Up to `limit` open intents one run recorded for a system and entity, in the order they
    /// were recorded, after the intent with ID `after`.
    public func openIntents(run: RunID, system: SystemName, entity: EntityName, after: Int64, limit: Int) throws
        -> [WriteIntent]
    {
        // In ID order from `after` (a range of the table), not through the (system, entity)
        // index, which would sort every open intent for each page.
        try rows(
            """
            SELECT * FROM intent NOT INDEXED
            WHERE id > ? AND run_id = ? AND system = ? AND entity = ? ORDER BY id LIMIT ?
            """, [after, run.rawValue, system.rawValue, entity.rawValue, limit]
        ).map(Self.intent)
    }

    private static func intent(_ row: Row) -> WriteIntent {
        WriteIntent(id: row["id"], run: RunID(row["run_id"]), generation: row["generation"],
                    system: SystemName(row["system"]), entity: EntityName(row["entity"]), hubID: HubID(row["hub_id"]),
                    key: row["key"], baseData: decodeObject(row["base_data"]), version: row["version"],
                    createdAt: row["created_at"])
    }

    /// Gives an entity the next `seq` without a new version, so every system's next push
    /// looks at it again (a record to re-create, a reference to patch).
    public func touchEntity(_ hubID: HubID) throws {
        let next = try maxSeq() + 1
        try execute("UPDATE entity SET seq = ? WHERE hub_id = ?", [next, hubID.rawValue])
    }
}
