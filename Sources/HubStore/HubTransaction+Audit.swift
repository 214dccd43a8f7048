import GRDB
import HubCore

/// Read-only queries behind `hubctl audit`: the invariants of the ID cross-reference that the
/// schema cannot enforce (or that a hub edited by hand or by an older version may break).
extension HubTransaction {
    // MARK: - Cross-reference integrity

    /// Links that share their external ID with a link to another hub entity (same entity and
    /// system). The unique index forbids this; a hub edited by hand can still hold it.
    public func linksSharingAnExternalID() throws -> [Link] {
        try rows(
            """
            SELECT \(Self.linkColumns) FROM xref JOIN (
                SELECT entity, system, external_id FROM xref WHERE external_id IS NOT NULL
                GROUP BY entity, system, external_id HAVING count(DISTINCT hub_id) > 1
            ) dup USING (entity, system, external_id)
            ORDER BY entity, system, external_id, linked_at
            """
        ).map(Self.link)
    }

    /// Links of a hub entity that has several links in the same system. The primary key forbids
    /// this; a hub edited by hand can still hold it.
    public func linksSharingAHubEntity() throws -> [Link] {
        try rows(
            """
            SELECT \(Self.linkColumns) FROM xref JOIN (
                SELECT entity, system, hub_id FROM xref GROUP BY entity, system, hub_id HAVING count(*) > 1
            ) dup USING (entity, system, hub_id)
            ORDER BY entity, system, hub_id, linked_at
            """
        ).map(Self.link)
    }

    /// Links to hub IDs the hub has no entity for.
    public func linksToMissingEntities() throws -> [Link] {
        try rows(
            """
            SELECT \(Self.linkColumns) FROM xref x
            WHERE NOT EXISTS (SELECT 1 FROM entity e WHERE e.hub_id = x.hub_id)
            ORDER BY x.entity, x.system, x.external_id
            """
        ).map(Self.link)
    }

    /// Links whose hub entity is of another kind than the link says, with the entity's kind.
    public func linksToEntitiesOfAnotherKind() throws -> [(link: Link, actual: EntityName)] {
        try rows(
            """
            SELECT \(Self.linkColumns), (SELECT e.entity FROM entity e WHERE e.hub_id = x.hub_id) AS actual
            FROM xref x
            WHERE EXISTS (SELECT 1 FROM entity e WHERE e.hub_id = x.hub_id AND e.entity <> x.entity)
            ORDER BY x.entity, x.system, x.external_id
            """
        ).map { (Self.link($0), EntityName($0["actual"])) }
    }

    /// Live links (state `linked`) whose hub entity is deleted.
    public func liveLinksToDeletedEntities() throws -> [Link] {
        try rows(
            """
            SELECT \(Self.linkColumns) FROM xref x
            WHERE x.state = 'linked' AND EXISTS (
                SELECT 1 FROM entity e WHERE e.hub_id = x.hub_id AND e.deleted_at IS NOT NULL)
            ORDER BY x.entity, x.system, x.external_id
            """
        ).map(Self.link)
    }

    /// Links whose create was started but never confirmed (state `pending_create`).
    public func pendingCreateLinks() throws -> [Link] {
        try rows("SELECT \(Self.linkColumns) FROM xref WHERE state = 'pending_create' ORDER BY entity, system, linked_at")
            .map(Self.link)
    }

    /// References in live entities of `entity` through `field` whose target (an entity of
    /// `target`) is missing or deleted.
    public func brokenReferences(entity: EntityName, field: FieldName, target: EntityName) throws -> [BrokenReference] {
        let path = dialect.jsonFieldArgument(field.rawValue)
        return try rows(
            """
            SELECT e.hub_id, \(dialect.jsonText("e.data")) AS ref, t.deleted_at IS NOT NULL AS target_deleted
            FROM entity e LEFT JOIN entity t ON t.hub_id = \(dialect.jsonText("e.data")) AND t.entity = ?
            WHERE e.entity = ? AND e.deleted_at IS NULL AND \(dialect.jsonIsString("e.data"))
              AND (t.hub_id IS NULL OR t.deleted_at IS NOT NULL)
            ORDER BY e.seq
            """, [path, path, target.rawValue, entity.rawValue, path]
        ).map { BrokenReference(hubID: HubID($0["hub_id"]), target: HubID($0["ref"]), targetDeleted: $0["target_deleted"]) }
    }

    // MARK: - Coverage

    /// Live entities of `entity` after `seq` (in `seq` order) with their link in `system`, if any.
    /// With `withData`, each row carries the entity's values (for filters).
    public func coveragePage(entity: EntityName, system: SystemName, afterSeq seq: Int64, limit: Int,
                             withData: Bool) throws -> [CoverageRow] {
        let data = withData ? "e.data" : "NULL"
        var out: [CoverageRow] = []
        for row in try rows(
            """
            SELECT e.hub_id, e.seq, \(data) AS data, x.state, x.external_id FROM entity e
            LEFT JOIN xref x ON x.entity = e.entity AND x.system = ? AND x.hub_id = e.hub_id
            WHERE e.entity = ? AND e.deleted_at IS NULL AND e.seq > ? ORDER BY e.seq LIMIT ?
            """, [system.rawValue, entity.rawValue, seq, limit])
        {
            let r = CoverageRow(hubID: HubID(row["hub_id"]), seq: row["seq"],
                                data: withData ? Self.decodeObject(row["data"]) : nil,
                                linkState: (row["state"] as String?).flatMap(LinkState.init(rawValue:)),
                                externalID: (row["external_id"] as String?).map(ExternalID.init))
            // A hub holding two links for one entity (edited by hand) yields two rows: keep a live one.
            if let last = out.last, last.hubID == r.hubID {
                if last.linkState != .linked { out[out.count - 1] = r }
                continue
            }
            out.append(r)
        }
        return out
    }

    /// Live links of a system's entity after `externalID`, in external ID order.
    public func liveLinks(entity: EntityName, system: SystemName, after externalID: ExternalID?, limit: Int) throws -> [Link] {
        try rows(
            """
            SELECT \(Self.linkColumns) FROM xref
            WHERE entity = ? AND system = ? AND state = 'linked' AND external_id IS NOT NULL AND external_id > ?
            ORDER BY external_id LIMIT ?
            """, [entity.rawValue, system.rawValue, externalID?.rawValue ?? "", limit]
        ).map(Self.link)
    }

    /// The fields of each entity with an open conflict (entities without one are left out).
    public func openConflictFields(_ hubIDs: [HubID]) throws -> [HubID: Set<String>] {
        var out: [HubID: Set<String>] = [:]
        for chunk in Self.chunks(hubIDs) {
            let sql = "SELECT hub_id, field FROM conflict WHERE status = 'open' AND hub_id IN (\(Self.placeholders(chunk.count)))"
            for row in try rows(sql, HubArguments(chunk.map(\.rawValue))) {
                out[HubID(row["hub_id"]), default: []].insert(row["field"])
            }
        }
        return out
    }

    // MARK: - Operations

    /// Every read cursor, with when it last moved.
    public func cursors() throws -> [CursorState] {
        try rows("SELECT system, entity, value, updated_at FROM cursor ORDER BY system, entity").map {
            CursorState(system: SystemName($0["system"]), entity: EntityName($0["entity"]), value: $0["value"],
                        updatedAt: $0["updated_at"])
        }
    }

    /// Open write intents: creates recorded before they were sent whose answer was never
    /// recorded (closing an intent deletes its row).
    public func unfinishedIntents(sample: Int) throws -> UnfinishedIntents {
        let count = try value(Int.self, "SELECT count(*) FROM intent") ?? 0
        let samples = try rows("SELECT hub_id, system, entity, run_id, created_at FROM intent ORDER BY id LIMIT ?", [sample])
            .map { row in
                WriteIntentSample(hubID: HubID(row["hub_id"]), system: SystemName(row["system"]), entity: EntityName(row["entity"]),
                                  run: RunID(row["run_id"]), createdAt: row["created_at"])
            }
        return UnfinishedIntents(count: count, samples: samples)
    }
}
