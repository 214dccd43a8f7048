import HubCore
import HubMapping
import HubStore
import HubTopology

/// A live entity that refers to another through a `ref` field.
struct EntityReferrer: Hashable {
    var entity: EntityName
    var hubID: HubID
}

extension SyncEngine {
    /// The `ref` fields that point at `entity`, with the entity that has them.
    func referringFields(to entity: EntityName) -> [(entity: EntityName, field: FieldName)] {
        topology.entities.flatMap { e in e.fields.filter { $0.refEntity == entity }.map { (e.name, $0.name) } }
    }
}

extension PageMerger {
    /// For each of `targets` (entities of `kind`, by default this merger's), the live entities
    /// that refer to it (one scan per reference field).
    func liveReferrers(_ targets: [HubID], of kind: EntityName? = nil) throws -> [HubID: [EntityReferrer]] {
        var out: [HubID: [EntityReferrer]] = [:]
        for (e, field) in engine.referringFields(to: kind ?? entity.name) {
            for (target, ids) in try tx.referrers(of: targets, entity: e, field: field, liveOnly: true) {
                out[target, default: []] += ids.filter { $0 != target }.map { EntityReferrer(entity: e, hubID: $0) }
            }
        }
        return out
    }

    /// A system deleted a record that live entities still refer to: the entity's
    /// `on_referenced_delete` policy decides. Returns true when the delete is not to be applied.
    mutating func settleReferencedDelete(_ link: Link, _ referrers: [EntityReferrer]) throws -> Bool {
        let described = Self.describe(referrers)
        switch entity.onReferencedDelete {
        case .hold:
            // Nothing is deleted anywhere; the link stays, so the next run looks again.
            let target = link.externalID ?? ExternalID("?")
            try quarantine(target, hubID: link.hubID, reason: .referencedDelete,
                           message: "deleted in '\(system)', but \(described) still refer to it: nothing was deleted anywhere. "
                               + "Delete or re-point those first (the next run then applies this delete), or have it "
                               + "re-created in '\(system)' with `hubctl repush \(entity.name) \(link.hubID) --system \(system) "
                               + "--reason …`; on_referenced_delete: cascade or restore make this automatic")
            return true
        case .restore:
            try tx.deleteLink(entity: entity.name, system: system, hubID: link.hubID)
            try tx.touchEntity(link.hubID)
            try repointReferrers(referrers, to: link.hubID, from: link.externalID)
            counts.skipped += 1
            ctx.report.notices.append("\(entity.name) \(link.hubID) was deleted in '\(system)', but \(described) still "
                                      + "refer to it: it is re-created there (on_referenced_delete: restore)")
            return true
        case .cascade:
            var seen: Set<HubID> = [link.hubID]
            var queue = referrers
            var deleted = 0
            while let next = queue.popLast() {
                guard seen.insert(next.hubID).inserted, let record = try tx.entity(next.hubID), !record.isDeleted else { continue }
                _ = try tx.deleteEntity(record, at: ctx.now(), sourceSystem: system, run: ctx.runID)
                deleted += 1
                queue += try liveReferrers([next.hubID], of: next.entity)[next.hubID] ?? []
            }
            counts.deleted += deleted
            ctx.report.notices.append("\(entity.name) \(link.hubID) was deleted in '\(system)': \(deleted) entities "
                                      + "referring to it were deleted with it (on_referenced_delete: cascade)")
            return false
        }
    }

    /// The entity `target` gets another record in this system (re-created, or re-added with
    /// another ID): the records here that refer to it must be written the new ID, so their link
    /// forgets the reference it last held and the next push sends it.
    ///
    /// The base keeps the ID the system's records still hold, `from` (the target's old record),
    /// as a ``RepointedReference``: until the push writes the new one, a pull reading that old ID
    /// knows it is not an edit, even when the system has since given the ID to another record
    /// (SQLite reuses the largest rowid once its row is deleted).
    func repointReferrers(_ referrers: [EntityReferrer], to target: HubID, from old: ExternalID?) throws {
        for r in referrers {
            guard let referrer = engine.mapper(system, r.entity),
                var link = try tx.link(entity: r.entity, system: system, hubID: r.hubID), link.state == .linked
            else { continue }
            var changed = false
            for (field, targetEntity) in referrer.refFields where targetEntity == entity.name
                && link.baseData[field]?.stringValue == target.rawValue
            {
                link.baseData[field] = old.map(RepointedReference.marker)
                changed = true
            }
            guard changed else { continue }
            link.baseHash = ContentHash.of(link.baseData, fields: referrer.inboundFields)
            try tx.saveLink(link)
            try tx.touchEntity(r.hubID)
        }
    }

    /// `2 order records (01…, 01…)`.
    static func describe(_ referrers: [EntityReferrer]) -> String {
        let byEntity = Dictionary(grouping: referrers, by: \.entity)
        return byEntity.keys.sorted().map { e in
            let ids = byEntity[e]!.map(\.hubID.rawValue)
            let sample = ids.prefix(3).joined(separator: ", ") + (ids.count > 3 ? ", …" : "")
            return "\(ids.count) live \(e) record\(ids.count == 1 ? "" : "s") (\(sample))"
        }.joined(separator: " and ")
    }

    /// True when `otherID`, the record a hub entity is linked to in this system, is gone with its
    /// delete held for a person: the link is dropped (and its entry closed) so that a record
    /// re-added with another ID can take its place.
    func replacesHeldDelete(_ otherID: ExternalID, of hubID: HubID) throws -> Bool {
        guard try tx.hasOpenQuarantine(system: system, entity: entity.name, externalID: otherID, reason: .referencedDelete,
                                       direction: .pull)
        else { return false }
        try tx.deleteLink(entity: entity.name, system: system, hubID: hubID)
        try repointReferrers(try liveReferrers([hubID])[hubID] ?? [], to: hubID, from: otherID)
        try tx.resolveQuarantine(system: system, entity: entity.name, externalID: otherID, hubID: nil, direction: .pull,
                                 at: ctx.now(), resolution: .replaced)
        return true
    }
}
