import GRDB
import HubCore

extension HubTransaction {
    /// Marks an entity deleted: a tombstone version in its history, the next `seq` (so every
    /// system's push sees it), and no identity keys any more. The row and its history stay.
    public func deleteEntity(_ record: EntityRecord, at: String, sourceSystem: SystemName?, run: RunID) throws -> EntityRecord {
        var tombstone = record
        tombstone.version += 1
        tombstone.updatedAt = at
        tombstone.deletedAt = at
        let stored = try updateEntity(tombstone, sourceSystem: sourceSystem, run: run)
        try execute("DELETE FROM match_key WHERE hub_id = ?", [record.hubID.rawValue])
        return stored
    }

    // MARK: - ID scans

    /// Starts collecting the IDs a system presents (in a temporary table of this connection).
    public func beginIDScan() throws {
        try execute("CREATE TEMP TABLE IF NOT EXISTS scanned_id (external_id TEXT PRIMARY KEY) WITHOUT ROWID")
        try execute("DELETE FROM temp.scanned_id")
    }

    /// Adds IDs seen in the system.
    public func addScannedIDs(_ ids: [ExternalID]) throws {
        for id in ids { try execute("INSERT OR IGNORE INTO temp.scanned_id (external_id) VALUES (?)", [id.rawValue]) }
    }

    /// Linked records of a system that the scan did not see: deleted in the system.
    public func linksMissingFromScan(entity: EntityName, system: SystemName, limit: Int) throws -> [Link] {
        try rows(
            """
            SELECT \(Self.linkColumns) FROM xref
            WHERE entity = ? AND system = ? AND state = 'linked' AND external_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM temp.scanned_id s WHERE s.external_id = xref.external_id)
            ORDER BY external_id LIMIT ?
            """, [entity.rawValue, system.rawValue, limit]
        ).map(Self.link)
    }

    /// How many records of a system are linked (live links).
    public func liveLinkCount(entity: EntityName, system: SystemName) throws -> Int {
        // Kept by triggers on xref (see the "performance" migration): no count over the links.
        try value(Int.self, "SELECT live FROM link_count WHERE entity = ? AND system = ?", [entity.rawValue, system.rawValue]) ?? 0
    }

    /// Ends an ID scan.
    public func endIDScan() throws {
        try execute("DELETE FROM temp.scanned_id")
    }
}

extension HubTransaction {
    /// Entities whose delete was written by `run` (their tombstone is that run's version), not
    /// merged into another, in the order they were deleted.
    public func entitiesDeleted(inRun run: RunID, entity: EntityName?) throws -> [EntityRecord] {
        try rows(
            """
            SELECT e.* FROM entity e JOIN entity_version v ON v.hub_id = e.hub_id AND v.version = e.version
            WHERE e.deleted_at IS NOT NULL AND e.merged_into IS NULL AND v.run_id = ? AND (? IS NULL OR e.entity = ?)
            ORDER BY e.seq
            """, [run.rawValue, entity?.rawValue, entity?.rawValue]
        ).map(Self.entityRecord)
    }
}
