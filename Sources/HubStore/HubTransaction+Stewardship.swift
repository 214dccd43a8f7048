import GRDB
import HubCore

/// The stewardship log and merge tombstones: what people changed by hand.
extension HubTransaction {
    static func stewardshipEntry(_ row: Row) -> StewardshipEntry {
        StewardshipEntry(
            id: row["id"], action: StewardshipEntry.Action(rawValue: row["action"]) ?? .link, entity: EntityName(row["entity"]),
            hubID: HubID(row["hub_id"]), otherHubID: (row["other_hub_id"] as String?).map(HubID.init),
            system: (row["system"] as String?).map(SystemName.init),
            externalID: (row["external_id"] as String?).map(ExternalID.init), detail: decodeObject(row["detail"]),
            by: row["by"], reason: row["reason"], at: row["at"], undoneBy: row["undone_by"])
    }

    /// Stores a stewardship entry; returns its number, the next after the last one kept on either
    /// hub: an entry rolled back (a dry run) leaves no gap, although PostgreSQL's identity
    /// sequences do not roll back (the hub's write lock keeps two writers from taking one number).
    public func recordStewardship(_ entry: StewardshipEntry) throws -> Int64 {
        try insert(
            """
            INSERT INTO stewardship (id, action, entity, hub_id, other_hub_id, system, external_id, detail, by, reason, at)
            VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM stewardship), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [entry.action.rawValue, entry.entity.rawValue, entry.hubID.rawValue, entry.otherHubID?.rawValue,
             entry.system?.rawValue, entry.externalID?.rawValue, Self.encode(entry.detail), entry.by, entry.reason, entry.at])
    }

    /// Rewrites a stored entry with what the change turned out to be (its entities, record and
    /// detail are known once it is done).
    public func updateStewardship(_ entry: StewardshipEntry) throws {
        guard let id = entry.id else { return }
        try execute(
            "UPDATE stewardship SET hub_id = ?, other_hub_id = ?, system = ?, external_id = ?, detail = ? WHERE id = ?",
            [entry.hubID.rawValue, entry.otherHubID?.rawValue, entry.system?.rawValue, entry.externalID?.rawValue,
             Self.encode(entry.detail), id])
    }

    /// Marks an entry as undone by another.
    public func markStewardshipUndone(_ id: Int64, by undo: Int64) throws {
        try execute("UPDATE stewardship SET undone_by = ? WHERE id = ?", [undo, id])
    }

    /// One entry.
    public func stewardship(_ id: Int64) throws -> StewardshipEntry? {
        try rows("SELECT * FROM stewardship WHERE id = ?", [id]).first.map(Self.stewardshipEntry)
    }

    /// The entries about an entity (as the one acted on or the other one), oldest first.
    public func stewardship(hubID: HubID) throws -> [StewardshipEntry] {
        try rows("SELECT * FROM stewardship WHERE hub_id = ? OR other_hub_id = ? ORDER BY id", [hubID.rawValue, hubID.rawValue])
            .map(Self.stewardshipEntry)
    }

    /// The most recent entries, newest first.
    public func stewardship(limit: Int) throws -> [StewardshipEntry] {
        try rows("SELECT * FROM stewardship ORDER BY id DESC LIMIT ?", [limit]).map(Self.stewardshipEntry)
    }

    /// The merge that absorbed `hubID` and has not been undone, if any.
    public func activeMerge(absorbed hubID: HubID) throws -> StewardshipEntry? {
        try rows("SELECT * FROM stewardship WHERE action = 'merge' AND other_hub_id = ? AND undone_by IS NULL ORDER BY id DESC LIMIT 1",
                 [hubID.rawValue]).first.map(Self.stewardshipEntry)
    }

    // MARK: - Links by hand

    /// Removes one link, named by its hub entity and, when given, its external ID (so that a
    /// hub holding two links for one entity, edited by hand, loses only the one meant).
    public func forgetLink(entity: EntityName, system: SystemName, hubID: HubID, externalID: ExternalID?) throws {
        try execute(
            "DELETE FROM xref WHERE entity = ? AND system = ? AND hub_id = ? AND (? IS NULL OR external_id = ?)",
            [entity.rawValue, system.rawValue, hubID.rawValue, externalID?.rawValue, externalID?.rawValue])
    }

    /// Closes one link (state `deleted`): the record and the entity stay where they are and are
    /// no longer synced to each other; no match links them again.
    public func closeLink(entity: EntityName, system: SystemName, hubID: HubID, externalID: ExternalID?) throws {
        try execute(
            "UPDATE xref SET state = 'deleted' WHERE entity = ? AND system = ? AND hub_id = ? AND (? IS NULL OR external_id = ?)",
            [entity.rawValue, system.rawValue, hubID.rawValue, externalID?.rawValue, externalID?.rawValue])
    }

    // MARK: - Merge tombstones

    /// Points a merged entity's tombstone at the survivor (nil clears it).
    public func setMergedInto(_ hubID: HubID, _ survivor: HubID?) throws {
        try execute("UPDATE entity SET merged_into = ? WHERE hub_id = ?", [survivor?.rawValue, hubID.rawValue])
    }

    /// The entity a merged tombstone points at.
    public func mergedInto(_ hubID: HubID) throws -> HubID? {
        try rows("SELECT merged_into FROM entity WHERE hub_id = ?", [hubID.rawValue]).first
            .flatMap { ($0["merged_into"] as String?).map(HubID.init) }
    }

    /// The entities merged into `hubID`.
    public func mergedEntities(into hubID: HubID) throws -> [HubID] {
        try rows("SELECT hub_id FROM entity WHERE merged_into = ? ORDER BY seq", [hubID.rawValue]).map { HubID($0["hub_id"]) }
    }

    /// Live entities of `entity` whose reference `field` holds `target`.
    public func entitiesReferring(to target: HubID, entity: EntityName, field: FieldName) throws -> [HubID] {
        try rows("SELECT hub_id FROM entity WHERE entity = ? AND deleted_at IS NULL AND \(dialect.jsonText("data")) = ? ORDER BY seq",
                 [entity.rawValue, dialect.jsonFieldArgument(field.rawValue), target.rawValue]).map { HubID($0["hub_id"]) }
    }
}
