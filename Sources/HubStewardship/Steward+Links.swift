import HubAudit
import HubCore
import HubMapping
import HubStore
import HubTopology

/// Link, unlink and relink one system record by hand.
extension Steward {
    /// Links record `externalID` of `system` to the entity `target` names.
    ///
    /// The record is read first: the hub fills its gaps from it (when the system is pulled), the
    /// link's base is what the record holds, and the entity gets a new version, so the next
    /// `sync-all` writes the hub's values where the record differs. Refused when the record is
    /// linked to another entity (use ``relink(_:system:externalID:to:expectedFrom:as:dryRun:)``)
    /// or the entity already has another record in the system.
    public func link(_ entity: EntityName, _ target: EntityReference, system: SystemName, externalID: ExternalID,
                     as who: Attribution, dryRun: Bool = false) async throws -> StewardshipOutcome {
        let mapper = try mapper(system, entity)
        let record = try await require(mapper, externalID)
        return try perform(newEntry(.link, entity, system: system, externalID: externalID, as: who), dryRun: dryRun) {
            tx, entry, changes in
            let target = try live(entity, target, tx)
            entry.hubID = target.hubID
            if let existing = try tx.link(entity: entity, system: system, externalID: externalID) {
                if existing.hubID == target.hubID && existing.state == .linked {
                    throw nothingToDo(entry, "\(system) \(externalID) is already linked to \(entity) \(target.hubID)", dryRun: dryRun)
                }
                guard existing.state == .deleted else {
                    throw StewardshipError(.refused, "\(system) \(externalID) is linked to \(entity) \(existing.hubID)",
                                           hint: "move it with `hubctl relink \(entity) --system \(system) --id \(externalID) "
                                               + "--to \(target.hubID)`")
                }
                try tx.forgetLink(entity: entity, system: system, hubID: existing.hubID, externalID: externalID)
                changes.append("removed the closed link of \(system) \(externalID) (to \(existing.hubID))")
            }
            try freeSlot(of: target, in: system, for: externalID, tx, &changes)
            try attach(record, to: target, mapper, &entry, &changes, tx)
        }
    }

    /// Moves record `externalID` of `system` from the entity it is linked to, to the entity `target`
    /// names (read and linked as ``link(_:_:system:externalID:as:dryRun:)`` does). The entity it
    /// leaves keeps no link in the system: `hubctl audit` reports it missing there if it belongs.
    /// - Parameter expectedFrom: when given, the entity the record must be linked to now (a
    ///   fix plan written before the link changed is refused).
    public func relink(_ entity: EntityName, system: SystemName, externalID: ExternalID, to target: EntityReference,
                       expectedFrom: HubID? = nil, as who: Attribution, dryRun: Bool = false) async throws -> StewardshipOutcome {
        let mapper = try mapper(system, entity)
        let record = try await require(mapper, externalID)
        return try perform(newEntry(.relink, entity, system: system, externalID: externalID, as: who), dryRun: dryRun) {
            tx, entry, changes in
            guard let current = try tx.link(entity: entity, system: system, externalID: externalID) else {
                throw StewardshipError(.notFound, "\(system) \(externalID) is not linked to any \(entity)",
                                       hint: "link it with `hubctl link \(entity) HUB_ID --system \(system) --id \(externalID)`")
            }
            if let expectedFrom, expectedFrom != current.hubID {
                throw StewardshipError(.refused, "\(system) \(externalID) is linked to \(current.hubID), not \(expectedFrom)",
                                       hint: "the hub changed since the plan was written; audit again")
            }
            let target = try live(entity, target, tx)
            entry.hubID = target.hubID
            entry.otherHubID = current.hubID
            if current.hubID == target.hubID {
                throw nothingToDo(entry, "\(system) \(externalID) is already linked to \(entity) \(target.hubID)", dryRun: dryRun)
            }
            try freeSlot(of: target, in: system, for: externalID, tx, &changes)
            try tx.forgetLink(entity: entity, system: system, hubID: current.hubID, externalID: externalID)
            entry.detail["from"] = linkDetail(current)
            changes.append("moved \(system) \(externalID) from \(entity) \(current.hubID) to \(target.hubID)")
            try attach(record, to: target, mapper, &entry, &changes, tx)
            changes.append("\(current.hubID) has no \(system) link now (`hubctl audit` reports it missing there if it belongs)")
        }
    }

    /// Unlinks one record: `forget` deletes the link (the record reads as new at the next sync,
    /// the entity as missing in the system); `close` keeps it closed (neither is synced to the
    /// other again, and no match links them again).
    ///
    /// The link is named by the record (`externalID`), by the entity (`entityReference`), or by both.
    public func unlink(_ entity: EntityName, system: SystemName, externalID: ExternalID?, entityReference: EntityReference?,
                       mode: Repair.UnlinkMode, as who: Attribution, dryRun: Bool = false) throws -> StewardshipOutcome {
        _ = try mapperOrLinkedSystem(system, entity)
        return try perform(newEntry(.unlink, entity, system: system, externalID: externalID, as: who), dryRun: dryRun) {
            tx, entry, changes in
            let link = try find(entity, system: system, externalID: externalID, entityReference: entityReference, tx)
            entry.hubID = link.hubID
            entry.externalID = link.externalID
            entry.detail["link"] = linkDetail(link)
            entry.detail["mode"] = .string(mode.rawValue)
            let record = link.externalID.map { "\(system) \($0)" } ?? "its \(system) link"
            switch mode {
            case .forget:
                try tx.forgetLink(entity: entity, system: system, hubID: link.hubID, externalID: link.externalID)
                changes.append("forgot the link of \(record) to \(entity) \(link.hubID): the record reads as new at the next "
                               + "sync (its match rules apply), the entity has no \(system) record")
            case .close:
                guard link.state != .deleted else {
                    throw nothingToDo(entry, "the link of \(record) to \(link.hubID) is already closed", dryRun: dryRun)
                }
                try tx.closeLink(entity: entity, system: system, hubID: link.hubID, externalID: link.externalID)
                changes.append("closed the link of \(record) to \(entity) \(link.hubID): both stay, neither is synced to the "
                               + "other again")
            }
        }
    }

    /// The link an unlink names.
    func find(_ entity: EntityName, system: SystemName, externalID: ExternalID?, entityReference: EntityReference?,
              _ tx: HubTransaction) throws -> Link {
        var hubID: HubID?
        if let entityReference { hubID = try entityReference.resolve(entity, topology: topology, tx).hubID }
        let candidates: [Link]
        if let hubID {
            candidates = try tx.links(hubID: hubID).filter { $0.entity == entity && $0.system == system }
        } else if let externalID {
            candidates = try tx.link(entity: entity, system: system, externalID: externalID).map { [$0] } ?? []
        } else {
            throw StewardshipError(.refused, "name the link by its record (--id) or its entity (HUB_ID or SYSTEM:ID)")
        }
        let matching = candidates.filter { externalID == nil || $0.externalID == externalID }
        guard let link = matching.first else {
            let what = [externalID.map { "\(system) \($0)" }, hubID.map { "\(entity) \($0)" }].compactMap { $0 }
            throw StewardshipError(.notFound, "no \(system) link for " + what.joined(separator: " and "),
                                   hint: "`hubctl links \(entity) …` shows the entity's links")
        }
        return link
    }

    /// Makes room for `externalID` as the entity's link in `system`: a closed link of the
    /// entity there is dropped; a live one to another record refuses the change.
    func freeSlot(of target: EntityRecord, in system: SystemName, for externalID: ExternalID, _ tx: HubTransaction,
                  _ changes: inout [String]) throws {
        guard let other = try tx.link(entity: target.entity, system: system, hubID: target.hubID),
            other.externalID != externalID
        else { return }
        guard other.state == .deleted else {
            let id = other.externalID.map { "\(system) \($0)" } ?? "a \(system) record being created"
            throw StewardshipError(.refused, "\(target.entity) \(target.hubID) is already linked to \(id)",
                                   hint: "unlink that one first (`hubctl unlink \(target.entity) \(target.hubID) --system "
                                       + "\(system)`), or merge the two entities if both records stand for it")
        }
        try tx.forgetLink(entity: target.entity, system: system, hubID: target.hubID, externalID: other.externalID)
        changes.append("removed the closed link of \(target.hubID) to \(system) \(other.externalID?.rawValue ?? "-")")
    }

    /// Unlinking works for systems the topology no longer maps too (their links can linger).
    func mapperOrLinkedSystem(_ system: SystemName, _ entity: EntityName) throws -> EntityMapper? {
        _ = try topology.requireEntity(entity)
        return runtime.mapper(system, entity)
    }

    /// A link as kept in a stewardship entry's detail.
    func linkDetail(_ link: Link) -> Value {
        var o: [String: Value] = ["state": .string(link.state.rawValue), "linked_by": .string(link.linkedBy),
                                  "linked_at": .string(link.linkedAt), "hub_id": .string(link.hubID.rawValue)]
        if let id = link.externalID { o["external_id"] = .string(id.rawValue) }
        return .object(o)
    }
}
