import HubCore
import HubStore
import HubTopology

/// Integrity of the ID cross-reference, from the hub alone.
extension Auditor {
    func checkIntegrity(_ state: inout AuditState) throws {
        let options = state.options
        func inScope(_ link: Link) -> Bool { options.covers(link.system) && options.covers(link.entity) }
        let (sharedIDs, sharedEntities, missing, mismatched, deleted) = try store.read { tx in
            (try tx.linksSharingAnExternalID().filter(inScope), try tx.linksSharingAHubEntity().filter(inScope),
             try tx.linksToMissingEntities().filter(inScope), try tx.linksToEntitiesOfAnotherKind().filter { inScope($0.link) },
             try tx.liveLinksToDeletedEntities().filter(inScope))
        }

        // One external ID linked to several hub entities: keep the oldest link, forget the others.
        for ((entity, system), links) in grouped(sharedIDs) {
            let byID = Dictionary(grouping: links) { $0.externalID! }
            var samples: [Finding.Sample] = []
            for (id, group) in byID.sorted(by: { $0.key < $1.key }) {
                samples.append(.init(hubID: group[0].hubID, externalID: id,
                                     detail: "linked to hub " + group.map(\.hubID.rawValue).joined(separator: ", ")))
                for extra in group.dropFirst() {
                    state.plan(Repair(action: .unlink, entity: entity, system: system, hubID: extra.hubID, externalID: id,
                                      mode: .forget, because: .duplicateExternalID))
                }
            }
            state.add(.duplicateExternalID, system: system, entity: entity, count: byID.count,
                      message: "\(counted(byID.count, "\(system) ID")) linked to more than one \(entity) entity "
                        + "(\(links.count) links in all)",
                      hint: "keep one link each: `hubctl unlink \(entity) HUB_ID --system \(system) --forget` the wrong ones, "
                        + "or `hubctl merge` the entities if they are the same", samples: samples)
        }

        // One hub entity with several IDs in one system: keep the oldest link, forget the others.
        for ((entity, system), links) in grouped(sharedEntities) {
            let byHub = Dictionary(grouping: links, by: \.hubID)
            var samples: [Finding.Sample] = []
            for (hubID, group) in byHub.sorted(by: { $0.key < $1.key }) {
                let ids = group.compactMap(\.externalID)
                samples.append(.init(hubID: hubID, externalID: ids.first,
                                     detail: "linked to \(system) " + ids.map(\.rawValue).joined(separator: ", ")))
                for extra in group.dropFirst() where extra.externalID != nil {
                    state.plan(Repair(action: .unlink, entity: entity, system: system, hubID: hubID,
                                      externalID: extra.externalID, mode: .forget, because: .duplicateSystemLink))
                }
            }
            state.add(.duplicateSystemLink, system: system, entity: entity, count: byHub.count,
                      message: "\(counted(byHub.count, "\(entity) entity", "\(entity) entities")) with more than one "
                        + "\(system) ID (\(links.count) links in all)",
                      hint: "two records of '\(system)' stand for one entity: unlink the duplicate "
                        + "(`hubctl unlink \(entity) --system \(system) --id ID`) and delete it in '\(system)' if it is one",
                      samples: samples)
        }

        for ((entity, system), links) in grouped(missing) {
            for l in links {
                state.plan(Repair(action: .unlink, entity: entity, system: system, hubID: l.hubID, externalID: l.externalID,
                                  mode: .forget, because: .linkToMissingEntity))
            }
            state.add(.linkToMissingEntity, system: system, entity: entity, count: links.count,
                      message: "\(links.counted("\(system) link")) to hub IDs the hub has no entity for",
                      hint: "forget them (`hubctl audit --fix-plan plan.json` then `hubctl repair plan.json`); the records "
                        + "are then read as new at the next sync",
                      samples: links.map { .init(hubID: $0.hubID, externalID: $0.externalID) })
        }

        for ((entity, system), pairs) in grouped(mismatched.map(\.link)) {
            let actual = Dictionary(mismatched.map { ($0.link.hubID, $0.actual) }, uniquingKeysWith: { a, _ in a })
            for l in pairs {
                state.plan(Repair(action: .unlink, entity: entity, system: system, hubID: l.hubID, externalID: l.externalID,
                                  mode: .forget, because: .linkKindMismatch))
            }
            state.add(.linkKindMismatch, system: system, entity: entity, count: pairs.count,
                      message: "\(pairs.counted("\(system) \(entity) link")) to hub entities of another kind",
                      hint: "forget them; the records are then read as new at the next sync",
                      samples: pairs.map { .init(hubID: $0.hubID, externalID: $0.externalID,
                                                 detail: "hub entity is a \(actual[$0.hubID].map(\.rawValue) ?? "?")") })
        }

        // A deleted entity keeps live links only where nothing pushed its delete yet.
        let pushed = deleted.filter { link in
            guard let system = topology.system(link.system) else { return false }
            return system.direction.pushes && system.mapping(for: link.entity) != nil
        }
        for ((entity, system), links) in grouped(pushed) {
            for l in links {
                state.plan(Repair(action: .repush, entity: entity, system: system, hubID: l.hubID, externalID: l.externalID,
                                  because: .linkToDeletedEntity))
            }
            state.add(.linkToDeletedEntity, system: system, entity: entity, count: links.count,
                      message: "\(links.counted("\(system) record")) still linked to deleted \(entity) entities",
                      hint: "run `hubctl sync-all`: the push applies \(system)'s delete policy to them",
                      samples: links.map { .init(hubID: $0.hubID, externalID: $0.externalID) })
        }

        try checkReferences(&state)
    }

    /// References inside canonical records whose target is missing or deleted.
    func checkReferences(_ state: inout AuditState) throws {
        for entity in topology.entities where state.options.covers(entity.name) {
            for field in entity.fields {
                guard let target = field.refEntity else { continue }
                let broken = try store.read { try $0.brokenReferences(entity: entity.name, field: field.name, target: target) }
                let missing = broken.filter { !$0.targetDeleted }
                let deleted = broken.filter(\.targetDeleted)
                state.add(.danglingReference, entity: entity.name, count: missing.count,
                          message: "\(counted(missing.count, "\(entity.name)")) whose \(field.name) refers to a \(target) "
                            + "the hub does not have",
                          hint: "set \(field.name) in a system to an existing \(target) (it syncs into the hub), or clear it",
                          samples: missing.map { .init(hubID: $0.hubID, detail: "\(field.name) → \($0.target)") })
                state.add(.referenceToDeleted, entity: entity.name, count: deleted.count,
                          message: "\(counted(deleted.count, "\(entity.name)")) whose \(field.name) refers to a deleted \(target)",
                          hint: "point \(field.name) at another \(target) in a system, or clear it",
                          samples: deleted.map { .init(hubID: $0.hubID, detail: "\(field.name) → \($0.target) (deleted)") })
            }
        }
    }

    /// Links grouped by entity and system, in a stable order.
    func grouped(_ links: [Link]) -> [((EntityName, SystemName), [Link])] { grouped(links, by: { ($0.entity, $0.system) }) }
}
