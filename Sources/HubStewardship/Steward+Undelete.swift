import HubAudit
import HubCore
import HubMapping
import HubStore
import HubTopology

/// Undelete: bring back an entity the hub deleted, in every system it was deleted from.
extension Steward {
    /// Restores deleted entities: each gets a new, live version with the values it had, and the
    /// next `sync-all` brings it back to every system it was deleted from.
    ///
    /// - A system whose record is still there (a soft delete, a push delete policy of `ignore`)
    ///   is linked to it again; the next `sync-all` writes the hub's values where they differ.
    /// - A system whose record is gone has its closed link forgotten, so the next push creates
    ///   the record again (systems only read from are left alone).
    /// - A link a person closed (`hubctl unlink`) stays closed.
    ///
    /// Each entity is one transaction and one stewardship entry.
    /// - Parameters:
    ///   - targets: the entities to restore; with `run`, the entities that run deleted (filtered
    ///     by `entity` when given).
    /// - Throws: ``StewardshipError`` when an entity is live, merged into another, or another live
    ///   entity has taken its identity (its email, say) meanwhile.
    public func undelete(_ entity: EntityName?, _ targets: [EntityReference], run: RunID?, as who: Attribution,
                         dryRun: Bool = false) async throws -> [StewardshipOutcome] {
        var records: [EntityRecord] = []
        try store.read { tx in
            if let run {
                records = try tx.entitiesDeleted(inRun: run, entity: entity)
                guard !records.isEmpty else {
                    throw StewardshipError(.notFound, "run \(run) deleted no \(entity.map { "\($0) " } ?? "")entity",
                                           hint: "`hubctl runs show \(run)` lists what it deleted; `hubctl history` lists runs")
                }
            }
            for target in targets {
                guard let entity else { continue }
                records.append(try target.resolve(entity, topology: topology, tx))
            }
        }
        var outcomes: [StewardshipOutcome] = []
        for record in records {
            outcomes.append(try await undelete(record, as: who, dryRun: dryRun))
        }
        return outcomes
    }

    func undelete(_ target: EntityRecord, as who: Attribution, dryRun: Bool) async throws -> StewardshipOutcome {
        let entity = target.entity
        // Which closed links still have their record: read outside the transaction.
        let closed = try store.read { tx in
            try tx.links(hubID: target.hubID).filter { $0.state == .deleted && $0.entity == entity }
        }
        var present: Set<SystemName> = []
        for link in closed {
            guard let id = link.externalID, runtime.mapper(link.system, entity) != nil else { continue }
            if try await fetch(try mapper(link.system, entity), id) != nil { present.insert(link.system) }
        }
        return try perform(newEntry(.undelete, entity, as: who), dryRun: dryRun) { tx, entry, changes in
            guard let record = try tx.entity(target.hubID) else {
                throw StewardshipError(.notFound, "the hub has no \(entity) \(target.hubID)", hint: "check the hub ID")
            }
            entry.hubID = record.hubID
            if let survivor = try tx.mergedInto(record.hubID) {
                throw StewardshipError(.refused, "\(entity) \(record.hubID) was merged into \(survivor), not deleted",
                                       hint: "`hubctl unmerge \(entity) \(record.hubID)` restores it")
            }
            guard record.isDeleted else {
                throw nothingToDo(entry, "\(entity) \(record.hubID) is not deleted", dryRun: dryRun)
            }
            let definition = try topology.requireEntity(entity)
            for (rule, key) in MatchKey.keys(record.data, rules: definition.match) {
                if let other = try tx.matchCandidates(entity, rule: rule, key: key).first(where: { $0 != record.hubID }) {
                    throw StewardshipError(.refused, "live \(entity) \(other) has the same \(MatchKey.ruleName(definition.match[rule])) "
                                           + "as \(record.hubID): restoring it would make two of one",
                                           hint: "keep \(other), or `hubctl merge \(entity) \(other) \(record.hubID)` after restoring")
                }
            }
            let unlinkedByHand = Set(try tx.stewardship(hubID: record.hubID)
                .filter { $0.action == .unlink && $0.undoneBy == nil }.compactMap(\.system))
            var restoredIn: [String] = []
            for link in try tx.links(hubID: record.hubID) where link.state == .deleted && link.entity == entity {
                guard !unlinkedByHand.contains(link.system), let system = topology.system(link.system) else { continue }
                let id = link.externalID?.rawValue ?? "-"
                if present.contains(link.system) {
                    var relinked = link
                    relinked.state = .linked
                    try tx.saveLink(relinked)
                    changes.append("\(link.system) \(id) still exists: linked again; the next sync-all writes the hub's "
                                   + "values to it where they differ")
                    restoredIn.append(link.system.rawValue)
                } else if system.direction.pushes {
                    try tx.forgetLink(entity: entity, system: link.system, hubID: record.hubID, externalID: link.externalID)
                    // A record deleted in the system leaves a link without an ID (the system may reuse it).
                    changes.append(link.externalID == nil ? "\(link.system): its record was deleted there: the next sync-all creates it again"
                                   : "\(link.system) \(id) is gone: the next sync-all creates it again")
                    restoredIn.append(link.system.rawValue)
                } else {
                    changes.append("\(link.system) \(id) is gone and \(link.system) is only read from: it stays gone there")
                }
            }
            let next = try writeVersion(record, data: record.data, origins: record.fieldOrigins, entry, tx, deleted: false)
            changes.insert("\(entity) \(record.hubID) restored as version \(next.version) with the values it had", at: 0)
            entry.detail["version"] = .int(next.version)
            entry.detail["systems"] = .array(restoredIn.map(Value.string))
        }
    }
}
