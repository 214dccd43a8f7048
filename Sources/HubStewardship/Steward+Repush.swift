import HubAudit
import HubCore
import HubMapping
import HubStore
import HubTopology

/// Re-push: make the next `sync-all` send an entity's values to a system again.
extension Steward {
    /// The records of `system` that refer to `target` forget the reference their link last held
    /// and get a new version, so the next push writes them the ID of `target`'s new record; their
    /// base keeps `old`, the ID they still hold, as a ``RepointedReference``.
    /// - Returns: how many.
    func repointReferrers(to target: HubID, of entity: EntityName, in system: SystemName, from old: ExternalID?,
                          _ entry: StewardshipEntry, _ tx: HubTransaction) throws -> Int {
        var count = 0
        for referring in topology.entities {
            guard let mapper = runtime.mapper(system, referring.name) else { continue }
            let fields = mapper.refFields.filter { $0.value == entity }.map(\.key)
            for field in fields {
                let referrers = try tx.referrers(of: [target], entity: referring.name, field: FieldName(field), liveOnly: true,
                                                 linkedIn: system)[target] ?? []
                for hubID in referrers where hubID != target {
                    guard var link = try tx.link(entity: referring.name, system: system, hubID: hubID), link.state == .linked,
                        link.baseData[field]?.stringValue == target.rawValue, let current = try tx.entity(hubID)
                    else { continue }
                    link.baseData[field] = old.map(RepointedReference.marker)
                    link.baseHash = ContentHash.of(link.baseData, fields: mapper.inboundFields)
                    try tx.saveLink(link)
                    try writeVersion(current, data: current.data, origins: current.fieldOrigins, entry, tx)
                    count += 1
                }
            }
        }
        return count
    }

    /// Makes the next `sync-all` write the hub's values for an entity to `system`, exactly where
    /// the system differs.
    ///
    /// - A linked record is read and the link's base set to what it holds now, so the push
    ///   sends every field that differs from the hub (a drift the system's change tracking missed).
    /// - A linked record that is gone is unlinked, so the push creates it again.
    /// - An entity with no link there is created by the push (when it belongs).
    /// - A deleted entity has its delete applied again by the system's push delete policy.
    ///
    /// In every case the entity gets a new version with the next `seq` and unchanged values:
    /// systems that already hold them receive nothing.
    public func repush(_ entity: EntityName, _ target: EntityReference, system: SystemName, as who: Attribution,
                       dryRun: Bool = false) async throws -> StewardshipOutcome {
        let mapper = try mapper(system, entity)
        guard topology.system(system)?.direction.pushes == true else {
            throw StewardshipError(.refused, "\(system) is not pushed to (direction pull)", hint: "hubctl never writes it")
        }
        // Read what the record holds now, outside the transaction.
        let link = try store.read { tx -> Link? in
            let record = try target.resolve(entity, topology: topology, tx)
            return record.isDeleted ? nil : try tx.link(entity: entity, system: system, hubID: record.hubID)
        }
        var fetched: SpokeRecord?
        if let link, link.state == .linked, let id = link.externalID { fetched = try await fetch(mapper, id) }
        return try perform(newEntry(.repush, entity, system: system, as: who), dryRun: dryRun) { tx, entry, changes in
            let record = try target.resolve(entity, topology: topology, tx)
            entry.hubID = record.hubID
            let now = try tx.link(entity: entity, system: system, hubID: record.hubID)
            if !record.isDeleted, let now {
                guard now == link else {
                    throw StewardshipError(.refused, "the \(system) link of \(record.hubID) changed while it was read",
                                           hint: "run the command again")
                }
                entry.externalID = now.externalID
                switch now.state {
                case .deleted:
                    throw StewardshipError(.refused, "the \(system) link of \(entity) \(record.hubID) is closed (unlinked or "
                                           + "deleted there), so nothing is pushed to it",
                                           hint: "link a record again with `hubctl link \(entity) \(record.hubID) --system "
                                               + "\(system) --id ID`")
                case .pendingCreate:
                    throw StewardshipError(.refused, "a create of \(record.hubID) in \(system) is unfinished",
                                           hint: "run `hubctl sync-all`, which settles it first")
                case .linked:
                    if let fetched {
                        let (base, hash) = base(try reading(mapper, fetched, tx, base: now.baseData), over: now.baseData, mapper)
                        var updated = now
                        updated.baseData = base
                        updated.baseHash = hash
                        try tx.saveLink(updated)
                        changes.append("base of \(system) \(fetched.id) set to what it holds now: the next sync-all writes "
                                       + "the hub's values to it where they differ")
                        entry.detail["mode"] = "rebase"
                    } else {
                        try tx.forgetLink(entity: entity, system: system, hubID: record.hubID, externalID: now.externalID)
                        changes.append("\(system) \(now.externalID?.rawValue ?? "-") is gone: link forgotten, the next "
                                       + "sync-all creates the record again")
                        // A delete held for a person is settled, and the records there that refer to
                        // the old record are written the new one's ID.
                        if let id = now.externalID {
                            try tx.resolveQuarantine(system: system, entity: entity, externalID: id, hubID: nil,
                                                     direction: .pull, at: entry.at, resolution: .restored)
                        }
                        let repointed = try repointReferrers(to: record.hubID, of: entity, in: system, from: now.externalID, entry, tx)
                        if repointed > 0 {
                            changes.append("\(repointed) record\(repointed == 1 ? "" : "s") in \(system) referring to it get "
                                           + "the new record's ID at the next sync-all")
                        }
                        entry.detail["mode"] = "recreate"
                    }
                }
            } else if record.isDeleted {
                changes.append("\(record.hubID) is deleted: the next sync-all applies \(system)'s delete policy again")
                entry.detail["mode"] = "delete"
            } else {
                changes.append("\(record.hubID) has no \(system) link: the next sync-all creates it there if it belongs")
                entry.detail["mode"] = "create"
            }
            let next = try writeVersion(record, data: record.data, origins: record.fieldOrigins, entry, tx)
            entry.detail["version"] = .int(next.version)
            changes.append("new version \(next.version) (values unchanged): systems that hold them receive nothing")
        }
    }
}
