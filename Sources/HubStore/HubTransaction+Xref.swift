import GRDB
import HubCore

extension HubTransaction {
    static let linkColumns =
        "entity, system, external_id, hub_id, state, base_hash, base_data, base_version, linked_by, linked_at, last_seen_run"

    static func link(_ row: Row) -> Link {
        Link(entity: EntityName(row["entity"]), system: SystemName(row["system"]),
             externalID: (row["external_id"] as String?).map(ExternalID.init), hubID: HubID(row["hub_id"]),
             state: LinkState(rawValue: row["state"]) ?? .linked, baseHash: row["base_hash"],
             baseData: decodeObject(row["base_data"]), baseVersion: row["base_version"], linkedBy: row["linked_by"],
             linkedAt: row["linked_at"], lastSeenRun: (row["last_seen_run"] as String?).map(RunID.init))
    }

    /// The link of an external ID in one system.
    public func link(entity: EntityName, system: SystemName, externalID: ExternalID) throws -> Link? {
        try rows("SELECT \(Self.linkColumns) FROM xref WHERE entity = ? AND system = ? AND external_id = ?",
                 [entity.rawValue, system.rawValue, externalID.rawValue]).first.map(Self.link)
    }

    /// The link of a hub entity in one system.
    public func link(entity: EntityName, system: SystemName, hubID: HubID) throws -> Link? {
        try rows("SELECT \(Self.linkColumns) FROM xref WHERE entity = ? AND system = ? AND hub_id = ?",
                 [entity.rawValue, system.rawValue, hubID.rawValue]).first.map(Self.link)
    }

    /// The links of several external IDs in one system.
    public func links(entity: EntityName, system: SystemName, externalIDs: [ExternalID]) throws -> [ExternalID: Link] {
        var out: [ExternalID: Link] = [:]
        for chunk in Self.chunks(externalIDs) {
            // The index is named: without statistics SQLite's planner would walk the whole
            // system's links (PostgreSQL's dialect drops the hint).
            let sql = "SELECT \(Self.linkColumns) FROM xref INDEXED BY xref_by_external_id "
                + "WHERE entity = ? AND system = ? AND external_id IN (\(Self.placeholders(chunk.count)))"
            let args = HubArguments([entity.rawValue, system.rawValue] + chunk.map(\.rawValue))
            for row in try rows(sql, args) {
                let l = Self.link(row)
                if let id = l.externalID { out[id] = l }
            }
        }
        return out
    }

    /// The base hashes of the live links (state `linked`, with a hash) of several external IDs
    /// in one system: enough to tell which records are unchanged without decoding any base.
    public func linkedBaseHashes(entity: EntityName, system: SystemName, externalIDs: [ExternalID]) throws
        -> [ExternalID: String]
    {
        var out: [ExternalID: String] = [:]
        out.reserveCapacity(externalIDs.count)
        // A page of a thousand records in one statement (one set of index seeks, sorted once).
        for chunk in Self.chunks(externalIDs, size: 1000) {
            let args = HubArguments([entity.rawValue, system.rawValue] + chunk.map(\.rawValue))
            // Columns by name: a PostgreSQL hub's rows do not keep the column order.
            try forEachRow(Self.linkedBaseHashesSQL(count: chunk.count), args) { row in
                out[ExternalID(row["external_id"] as String)] = row["base_hash"] as String
            }
        }
        return out
    }

    /// The statement of ``linkedBaseHashes(entity:system:externalIDs:)`` for `count` IDs. Its
    /// columns are all in the index it names (PostgreSQL's unique index on the external ID
    /// includes them), so no row of xref is read.
    static func linkedBaseHashesSQL(count: Int) -> String {
        "SELECT external_id, base_hash FROM xref INDEXED BY xref_linked_base_hash "
            + "WHERE entity = ? AND system = ? AND external_id IN (\(placeholders(count))) "
            + "AND state = 'linked' AND base_hash IS NOT NULL"
    }

    /// ``linkedBaseHashes(entity:system:externalIDs:)`` read as one range of the index, from
    /// the least to the greatest of the IDs, when that range holds at most twice as many live
    /// links as there are IDs (a page of IDs hubctl created, UUIDv7 in file order, is one short
    /// range); nil when it holds more (a table's integer IDs, as text, spread over the whole
    /// index). Links in the range that are not asked for come too, and are harmless: only an
    /// ID's own hash can make it unchanged, and an ID the range misses reads as changed.
    public func linkedBaseHashesInRange(entity: EntityName, system: SystemName, externalIDs: [ExternalID]) throws
        -> [ExternalID: String]?
    {
        let byBytes: (ExternalID, ExternalID) -> Bool = { $0.rawValue.utf8.lexicographicallyPrecedes($1.rawValue.utf8) }
        guard let least = externalIDs.min(by: byBytes), let greatest = externalIDs.max(by: byBytes) else { return [:] }
        let most = 2 * externalIDs.count
        var out: [ExternalID: String] = [:]
        out.reserveCapacity(externalIDs.count)
        var seen = 0
        try forEachRow(Self.linkedBaseHashesInRangeSQL, [entity.rawValue, system.rawValue, least.rawValue, greatest.rawValue, most + 1]) { row in
            seen += 1
            out[ExternalID(row["external_id"] as String)] = row["base_hash"] as String
        }
        return seen > most ? nil : out
    }

    /// The statement of ``linkedBaseHashesInRange(entity:system:externalIDs:)``: one range of
    /// the index that holds the live links' hashes (SQLite's holds nothing else, so the limit
    /// bounds the entries walked), no row of xref read.
    static let linkedBaseHashesInRangeSQL = "SELECT external_id, base_hash FROM xref INDEXED BY xref_linked_base_hash "
        + "WHERE entity = ? AND system = ? AND external_id BETWEEN ? AND ? "
        + "AND state = 'linked' AND base_hash IS NOT NULL LIMIT ?"

    /// The links of several hub entities in one system.
    public func links(entity: EntityName, system: SystemName, hubIDs: [HubID]) throws -> [HubID: Link] {
        var out: [HubID: Link] = [:]
        for chunk in Self.chunks(hubIDs) {
            let sql = "SELECT \(Self.linkColumns) FROM xref WHERE entity = ? AND system = ? AND hub_id IN (\(Self.placeholders(chunk.count)))"
            let args = HubArguments([entity.rawValue, system.rawValue] + chunk.map(\.rawValue))
            for row in try rows(sql, args) {
                let l = Self.link(row)
                out[l.hubID] = l
            }
        }
        return out
    }

    /// Every link of one hub entity, across systems.
    public func links(hubID: HubID) throws -> [Link] {
        try rows("SELECT \(Self.linkColumns) FROM xref WHERE hub_id = ? ORDER BY system", [hubID.rawValue]).map(Self.link)
    }

    /// Creates or replaces a link (keyed by entity, system and hub ID).
    ///
    /// A live link takes its external ID from any link of another entity that still names it
    /// and is closed or belongs to a deleted entity: the system has given that ID to a new
    /// record (SQLite reuses the highest rowid after a delete, for one), so the old record is
    /// gone; its link is closed and keeps no ID, and a delete whose answer was lost is never
    /// sent again to the new record.
    public func saveLink(_ link: Link) throws {
        if link.state != .deleted, let id = link.externalID {
            try execute("""
                UPDATE xref SET external_id = NULL, state = 'deleted'
                WHERE entity = ? AND system = ? AND external_id = ? AND hub_id <> ?
                  AND (state = 'deleted' OR hub_id IN (SELECT hub_id FROM entity WHERE deleted_at IS NOT NULL))
                """, [link.entity.rawValue, link.system.rawValue, id.rawValue, link.hubID.rawValue])
        }
        try execute(
            """
            INSERT INTO xref (\(Self.linkColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (entity, system, hub_id) DO UPDATE SET
                external_id = excluded.external_id, state = excluded.state, base_hash = excluded.base_hash,
                base_data = excluded.base_data, base_version = excluded.base_version, linked_by = excluded.linked_by,
                linked_at = excluded.linked_at, last_seen_run = excluded.last_seen_run
            """,
            [link.entity.rawValue, link.system.rawValue, link.externalID?.rawValue, link.hubID.rawValue, link.state.rawValue,
             link.baseHash, Self.encode(link.baseData), link.baseVersion, link.linkedBy, link.linkedAt,
             link.lastSeenRun?.rawValue])
    }

    /// Removes the link of a hub entity in one system.
    public func deleteLink(entity: EntityName, system: SystemName, hubID: HubID) throws {
        try execute("DELETE FROM xref WHERE entity = ? AND system = ? AND hub_id = ?",
                    [entity.rawValue, system.rawValue, hubID.rawValue])
    }

    /// How many links a system has for an entity, by state.
    public func linkCounts(entity: EntityName, system: SystemName) throws -> [LinkState: Int] {
        var out: [LinkState: Int] = [:]
        for row in try rows("SELECT state, count(*) AS n FROM xref WHERE entity = ? AND system = ? GROUP BY state",
                            [entity.rawValue, system.rawValue]) {
            if let s = LinkState(rawValue: row["state"]) { out[s] = row["n"] }
        }
        return out
    }
}
