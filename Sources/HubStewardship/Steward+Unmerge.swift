import HubAudit
import HubCore
import HubMapping
import HubStore
import HubTopology

/// Undo a merge.
extension Steward {
    /// Undoes the merge that absorbed the entity `absorbed` names (its hub ID, as `hubctl merge`
    /// and `hubctl links` show it).
    ///
    /// - The absorbed entity lives again with the values it had before the merge.
    /// - Links the merge moved or swapped go back, and links it closed open again, where they
    ///   still are as the merge left them.
    /// - Records the sync after the merge deleted (the duplicates) are unlinked, so the next
    ///   `sync-all` creates them again (with new IDs: a deleted record cannot be brought back).
    /// - The survivor gets its values from before the merge back if nothing changed it since;
    ///   otherwise it keeps its current values.
    /// - References the merge pointed at the survivor point at the absorbed entity again.
    public func unmerge(_ entity: EntityName, _ absorbed: EntityReference, as who: Attribution,
                        dryRun: Bool = false) throws -> StewardshipOutcome {
        _ = try topology.requireEntity(entity)
        return try perform(newEntry(.unmerge, entity, as: who), dryRun: dryRun) { tx, entry, changes in
            let a = try absorbed.resolve(entity, topology: topology, tx)
            guard let merge = try tx.activeMerge(absorbed: a.hubID), let mergeID = merge.id else {
                throw StewardshipError(.notFound, "\(entity) \(a.hubID) was not merged into another entity (or the merge "
                                       + "was undone)",
                                       hint: "give the hub ID of the absorbed entity, as `hubctl links` of the survivor lists it")
            }
            guard let s = try tx.entity(merge.hubID) else {
                throw StewardshipError(.notFound, "the survivor \(merge.hubID) of merge #\(mergeID) is gone from the hub")
            }
            entry.hubID = a.hubID
            entry.otherHubID = s.hubID
            let d = merge.detail
            func int(_ key: String) -> Int64? { d[key]?.intValue }
            func list(_ key: String) -> [[String: Value]] { d[key]?.arrayValue?.compactMap(\.objectValue) ?? [] }
            func text(_ o: [String: Value]?, _ key: String) -> String? { o?[key]?.stringValue }

            // The absorbed entity lives again, with its values from before the merge.
            let before = try int("absorbed_version_before").flatMap { try tx.version(a.hubID, $0) } ?? [:]
            var restored = try writeVersion(a, data: before, origins: a.fieldOrigins.filter { before[$0.key] != nil }, entry, tx,
                                            deleted: false)
            try tx.setMergedInto(a.hubID, nil)
            changes.append("\(a.hubID) lives again with its values from before merge #\(mergeID) (version \(restored.version))")

            var revive: [(SystemName, HubID, ExternalID?)] = []
            // Links moved to the survivor go back.
            for m in list("moved") {
                guard let system = text(m, "system").map(SystemName.init), let link = m["link"]?.objectValue,
                    let id = text(link, "external_id").map(ExternalID.init)
                else { continue }
                guard var current = try tx.link(entity: entity, system: system, externalID: id), current.hubID == s.hubID else {
                    changes.append("\(system) \(id) is no longer linked to \(s.hubID): left as it is")
                    continue
                }
                try tx.forgetLink(entity: entity, system: system, hubID: s.hubID, externalID: id)
                current.hubID = a.hubID
                current.linkedBy = text(link, "linked_by") ?? current.linkedBy
                current.linkedAt = text(link, "linked_at") ?? current.linkedAt
                try tx.saveLink(current)
                if current.state == .deleted { revive.append((system, a.hubID, id)) }
                changes.append("moved \(system) \(id) back to \(a.hubID)")
                if let closed = m["replaced_closed"]?.objectValue, try tx.link(entity: entity, system: system, hubID: s.hubID) == nil {
                    try tx.saveLink(Link(entity: entity, system: system, externalID: text(closed, "external_id").map(ExternalID.init),
                                         hubID: s.hubID, state: .deleted, baseHash: nil, baseData: [:], baseVersion: nil,
                                         linkedBy: text(closed, "linked_by") ?? "manual",
                                         linkedAt: text(closed, "linked_at") ?? entry.at, lastSeenRun: nil))
                }
            }
            // Records kept from the absorbed entity go back to it, the survivor's own back to the survivor.
            for m in list("swapped") {
                guard let system = text(m, "system").map(SystemName.init),
                    let kept = text(m["kept"]?.objectValue, "external_id").map(ExternalID.init),
                    let dropped = text(m["dropped"]?.objectValue, "external_id").map(ExternalID.init),
                    var onSurvivor = try tx.link(entity: entity, system: system, externalID: kept), onSurvivor.hubID == s.hubID,
                    var onAbsorbed = try tx.link(entity: entity, system: system, externalID: dropped),
                    onAbsorbed.hubID == a.hubID
                else {
                    changes.append("the links of \(text(m, "system") ?? "?") changed since the merge: left as they are")
                    continue
                }
                try tx.forgetLink(entity: entity, system: system, hubID: s.hubID, externalID: kept)
                try tx.forgetLink(entity: entity, system: system, hubID: a.hubID, externalID: dropped)
                onSurvivor.hubID = a.hubID
                onSurvivor.linkedBy = text(m["kept"]?.objectValue, "linked_by") ?? onSurvivor.linkedBy
                onSurvivor.linkedAt = text(m["kept"]?.objectValue, "linked_at") ?? onSurvivor.linkedAt
                onAbsorbed.hubID = s.hubID
                try tx.saveLink(onSurvivor)
                try tx.saveLink(onAbsorbed)
                if onAbsorbed.state == .deleted { revive.append((system, s.hubID, dropped)) }
                changes.append("\(system) \(kept) goes back to \(a.hubID), \(system) \(dropped) to \(s.hubID)")
            }
            // Records the merge left in their system with a closed link are linked again.
            for m in list("closed") {
                guard let system = text(m, "system").map(SystemName.init),
                    let id = text(m["link"]?.objectValue, "external_id").map(ExternalID.init),
                    var link = try tx.link(entity: entity, system: system, externalID: id), link.hubID == a.hubID,
                    link.state == .deleted
                else { continue }
                link.state = .linked
                try tx.saveLink(link)
                changes.append("\(system) \(id) is linked to \(a.hubID) again")
            }
            // Duplicates the sync after the merge deleted: unlinked, so the next sync-all creates them again.
            for m in list("left") where text(m["link"]?.objectValue, "state") != LinkState.deleted.rawValue {
                guard let system = text(m, "system").map(SystemName.init),
                    let link = try tx.link(entity: entity, system: system, hubID: a.hubID), link.state == .deleted
                else { continue }
                revive.append((system, a.hubID, link.externalID))
            }
            for (system, hubID, id) in revive {
                try tx.forgetLink(entity: entity, system: system, hubID: hubID, externalID: id)
                changes.append("\(system) \(id?.rawValue ?? "-") was deleted after the merge: the next sync-all creates "
                               + "\(hubID) in \(system) again")
            }

            // The survivor's values from before the merge, unless it changed since.
            let survivor = try tx.entity(s.hubID) ?? s
            if survivor.version == int("survivor_version_after"),
                let old = try int("survivor_version_before").flatMap({ try tx.version(s.hubID, $0) })
            {
                let next = try writeVersion(survivor, data: old, origins: survivor.fieldOrigins.filter { old[$0.key] != nil },
                                            entry, tx)
                changes.append("\(s.hubID) gets its values from before the merge back (version \(next.version))")
            } else {
                let next = try writeVersion(survivor, data: survivor.data, origins: survivor.fieldOrigins, entry, tx)
                changes.append("\(s.hubID) changed since the merge and keeps its current values (version \(next.version))")
            }

            // References the merge pointed at the survivor point at the absorbed entity again.
            for r in list("references") {
                guard let hubID = text(r, "hub_id").map(HubID.init), let field = text(r, "field"),
                    let referrer = try tx.entity(hubID), !referrer.isDeleted,
                    referrer.data[field] == .string(s.hubID.rawValue)
                else { continue }
                var data = referrer.data
                data[field] = .string(a.hubID.rawValue)
                var origins = referrer.fieldOrigins
                origins[field] = FieldOrigin(system: Self.manual, run: entry.runID, changedAt: entry.at)
                try writeVersion(referrer, data: data, origins: origins, entry, tx)
                changes.append("\(text(r, "entity") ?? "") \(hubID) \(field) points at \(a.hubID) again")
            }
            restored = try tx.entity(a.hubID) ?? restored
            try tx.markStewardshipUndone(mergeID, by: entry.id!)
            entry.detail = ["merge": .int(mergeID), "absorbed_version": .int(restored.version),
                            "revived": .array(revive.map { .string("\($0.0)") })]
        }
    }
}
