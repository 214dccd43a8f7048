import HubCore

/// Records a worker's pull unit found deleted in its system, kept in the hub until the system's
/// `pull-deletes` unit applies them (after the pulls of the entities referring to them).
public struct FoundDeletes: Sendable, Hashable {
    public var system: SystemName
    public var entity: EntityName
    /// The hub IDs of the records' links.
    public var hubIDs: [HubID]
    /// The deletes came as tombstones: when they are held back, the read rewinds to `startCursor`.
    public var tombstones: Bool
    /// Where the pull that found them started reading (nil: from the start).
    public var startCursor: HubCore.Cursor?

    public init(system: SystemName, entity: EntityName, hubIDs: [HubID], tombstones: Bool, startCursor: HubCore.Cursor?) {
        self.system = system
        self.entity = entity
        self.hubIDs = hubIDs
        self.tombstones = tombstones
        self.startCursor = startCursor
    }
}

extension HubTransaction {
    /// Keeps deletes a pull found for its system's `pull-deletes` unit. A pull done again (its
    /// worker was killed before the unit was marked done) adds to them; a record found twice
    /// keeps what the first pull recorded.
    public func recordFoundDeletes(_ found: FoundDeletes) throws {
        for id in found.hubIDs {
            try execute(
                """
                INSERT INTO found_delete (system, entity, hub_id, tombstone, start_cursor) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (system, entity, hub_id) DO NOTHING
                """, [found.system.rawValue, found.entity.rawValue, id.rawValue, found.tombstones ? 1 : 0, found.startCursor?.value])
        }
    }

    /// The deletes waiting for `system`'s `pull-deletes` unit, for one entity; nil when none.
    /// `tombstones` when any came as one, with the start cursor of a pull that found them (a
    /// read from the start when any did).
    public func foundDeletes(system: SystemName, entity: EntityName) throws -> FoundDeletes? {
        let rows = try rows("SELECT hub_id, tombstone, start_cursor FROM found_delete WHERE system = ? AND entity = ? ORDER BY hub_id",
                            [system.rawValue, entity.rawValue])
        guard !rows.isEmpty else { return nil }
        let cursors = rows.filter { ($0["tombstone"] as Int64) != 0 }.map { $0["start_cursor"] as String? }
        let start: HubCore.Cursor? = cursors.contains { $0 == nil } ? nil : cursors.first.flatMap { $0 }.map(HubCore.Cursor.init)
        return FoundDeletes(system: system, entity: entity, hubIDs: rows.map { HubID($0["hub_id"] as String) },
                            tombstones: !cursors.isEmpty, startCursor: start)
    }

    /// Forgets the deletes waiting for `system`'s entity once they were applied (or held back).
    public func clearFoundDeletes(system: SystemName, entity: EntityName) throws {
        try execute("DELETE FROM found_delete WHERE system = ? AND entity = ?", [system.rawValue, entity.rawValue])
    }
}
