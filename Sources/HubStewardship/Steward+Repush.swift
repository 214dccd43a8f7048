import HubAudit
import HubCore
import HubMapping
import HubStore
import HubTopology

/// Re-push: make the next `sync-all` send an entity's values to a system again.
extension Steward {
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
