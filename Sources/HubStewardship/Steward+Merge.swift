import HubAudit
import HubCore
import HubMapping
import HubStore
import HubTopology

/// Merge two hub entities that are the same real thing.
extension Steward {
    /// Merges `absorbed` into `survivor`.
    ///
    /// - Values: the survivor keeps its values; fields it has no value for take the absorbed
    ///   entity's (with their origin).
    /// - Links: in a system where only the absorbed entity is linked, its link moves to the
    ///   survivor. Where both are, one record is kept — the system's own over a copy hubctl
    ///   created (`linked_by: pushed`), else the survivor's. The other one, when hubctl created
    ///   it, stays linked to the absorbed entity, whose tombstone the next `sync-all` pushes: that
    ///   system's push delete policy removes the copy. When the system created it itself, it is
    ///   left in the system with its link closed (hubctl only deletes what it created), unless
    ///   `deleteDuplicates` says to treat it like a copy.
    /// - The absorbed entity becomes a tombstone pointing at the survivor; references to it from
    ///   other entities are pointed at the survivor; its open conflicts are closed.
    /// - The survivor gets a new version, so the next `sync-all` writes the merged values to every
    ///   record that differs; the run after that is quiet.
    ///
    /// Everything needed to undo it is kept in the entry's detail (``unmerge(_:_:as:dryRun:)``).
    public func merge(_ entity: EntityName, survivor: EntityReference, absorbed: EntityReference,
                      deleteDuplicates: Bool = false, as who: Attribution, dryRun: Bool = false) throws -> StewardshipOutcome {
        let definition = try topology.requireEntity(entity)
        return try perform(newEntry(.merge, entity, as: who), dryRun: dryRun) { tx, entry, changes in
            entry.detail["delete_duplicates"] = .bool(deleteDuplicates)
            let s = try live(entity, survivor, tx)
            let a = try live(entity, absorbed, tx)
            guard s.hubID != a.hubID else {
                throw StewardshipError(.refused, "both references name \(entity) \(s.hubID)", hint: "name two different entities")
            }
            entry.hubID = s.hubID
            entry.otherHubID = a.hubID
            var moved: [Value] = [], swapped: [Value] = [], left: [Value] = [], closed: [Value] = []
            let absorbedLinks = try tx.links(hubID: a.hubID).filter { $0.entity == entity }
            for la in absorbedLinks {
                let system = la.system
                let ls = try tx.link(entity: entity, system: system, hubID: s.hubID)
                if la.state == .deleted {
                    left.append(.object(["system": .string(system.rawValue), "link": linkDetail(la)]))
                    continue
                }
                if ls == nil || ls?.state == .deleted {
                    var record: [String: Value] = ["system": .string(system.rawValue), "link": linkDetail(la)]
                    if let ls {
                        try tx.forgetLink(entity: entity, system: system, hubID: s.hubID, externalID: ls.externalID)
                        record["replaced_closed"] = linkDetail(ls)
                    }
                    try move(la, to: s.hubID, entry, tx)
                    moved.append(.object(record))
                    changes.append("moved \(system) \(la.externalID?.rawValue ?? "-") from \(a.hubID) to \(s.hubID)")
                    continue
                }
                let ls_ = ls!
                let keepAbsorbed = la.state == .linked && la.linkedBy != "pushed" && ls_.linkedBy == "pushed"
                if keepAbsorbed {
                    try tx.forgetLink(entity: entity, system: system, hubID: s.hubID, externalID: ls_.externalID)
                    try move(la, to: s.hubID, entry, tx)
                    var back = ls_
                    back.hubID = a.hubID
                    try tx.saveLink(back)
                    swapped.append(.object(["system": .string(system.rawValue), "kept": linkDetail(la),
                                            "dropped": linkDetail(ls_)]))
                    changes.append("\(system) holds both: kept \(system) \(la.externalID?.rawValue ?? "-") (its own record), "
                                   + "\(system) \(ls_.externalID?.rawValue ?? "-") (created by hubctl) goes with \(a.hubID)'s "
                                   + "tombstone: the next sync-all applies \(system)'s delete policy to it")
                } else if la.state == .linked && la.linkedBy != "pushed" && !deleteDuplicates {
                    try tx.closeLink(entity: entity, system: system, hubID: a.hubID, externalID: la.externalID)
                    closed.append(.object(["system": .string(system.rawValue), "link": linkDetail(la)]))
                    changes.append("\(system) holds both, each its own: kept \(system) \(ls_.externalID?.rawValue ?? "-"); "
                                   + "\(system) \(la.externalID?.rawValue ?? "-") stays in \(system), unlinked (closed): delete it "
                                   + "there if it is a duplicate, or merge with --delete-duplicates")
                } else {
                    left.append(.object(["system": .string(system.rawValue), "link": linkDetail(la)]))
                    changes.append("\(system) holds both: kept \(system) \(ls_.externalID?.rawValue ?? "-"), "
                                   + "\(system) \(la.externalID?.rawValue ?? "-") goes with \(a.hubID)'s tombstone: "
                                   + "the next sync-all applies \(system)'s delete policy to it")
                }
            }

            // Values: the survivor's, gaps filled from the absorbed entity.
            var data = s.data
            var origins = s.fieldOrigins
            var filled: [String] = []
            for f in definition.fields.map(\.name.rawValue) {
                guard (data[f] ?? .null).isNull, let v = a.data[f], !v.isNull else { continue }
                data[f] = v
                origins[f] = a.fieldOrigins[f] ?? FieldOrigin(system: Self.manual, run: entry.runID, changedAt: entry.at)
                filled.append(f)
            }
            let next = try writeVersion(s, data: data, origins: origins, entry, tx)
            let tombstone = try tx.deleteEntity(a, at: entry.at, sourceSystem: Self.manual, run: entry.runID)
            try tx.setMergedInto(a.hubID, s.hubID)
            changes.append(filled.isEmpty ? "\(s.hubID) keeps its values (new version \(next.version))"
                           : "\(s.hubID) keeps its values and takes \(filled.joined(separator: ", ")) from \(a.hubID) "
                               + "(new version \(next.version))")
            changes.append("\(a.hubID) is now a tombstone pointing at \(s.hubID)")

            // References to the absorbed entity now point at the survivor.
            var references: [Value] = []
            for other in topology.entities {
                for field in other.fields where field.refEntity == entity {
                    for hubID in try tx.entitiesReferring(to: a.hubID, entity: other.name, field: field.name) {
                        guard let referrer = try tx.entity(hubID) else { continue }
                        var d = referrer.data
                        d[field.name.rawValue] = .string(s.hubID.rawValue)
                        var o = referrer.fieldOrigins
                        o[field.name.rawValue] = FieldOrigin(system: Self.manual, run: entry.runID, changedAt: entry.at)
                        try writeVersion(referrer, data: d, origins: o, entry, tx)
                        references.append(.object(["entity": .string(other.name.rawValue), "hub_id": .string(hubID.rawValue),
                                                   "field": .string(field.name.rawValue)]))
                    }
                }
            }
            if !references.isEmpty { changes.append("\(references.count) reference(s) to \(a.hubID) now point at \(s.hubID)") }

            var settled: [Value] = []
            for c in try tx.conflicts(hubID: a.hubID) where c.status == .open {
                guard let id = c.id else { continue }
                try tx.resolveConflict(id, winner: "merged", by: entry.by, at: entry.at)
                settled.append(.int(id))
            }
            if !settled.isEmpty { changes.append("closed \(settled.count) open conflict(s) of \(a.hubID)") }

            entry.detail = [
                "survivor_version_before": .int(s.version), "survivor_version_after": .int(next.version),
                "absorbed_version_before": .int(a.version), "absorbed_version_after": .int(tombstone.version),
                "filled": .array(filled.map(Value.string)), "moved": .array(moved), "swapped": .array(swapped),
                "left": .array(left), "closed": .array(closed), "references": .array(references),
                "closed_conflicts": .array(settled), "delete_duplicates": .bool(deleteDuplicates),
            ]
        }
    }

    /// Moves a link to another entity; it is now a link made by a merge.
    func move(_ link: Link, to hubID: HubID, _ entry: StewardshipEntry, _ tx: HubTransaction) throws {
        try tx.forgetLink(entity: link.entity, system: link.system, hubID: link.hubID, externalID: link.externalID)
        var moved = link
        moved.hubID = hubID
        moved.linkedBy = "merge"
        moved.linkedAt = entry.at
        try tx.saveLink(moved)
    }
}
