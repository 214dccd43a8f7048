import HubCore
import HubMapping
import HubStore
import HubTopology

extension SyncEngine {
    /// Patches references pulled before their target was linked (a customer read before its
    /// support rep, an employee before their manager): once every system has been pulled,
    /// each is translated again; what still has no target is quarantined, never written as a
    /// wrong ID.
    func resolvePendingPullReferences(_ ctx: RunContext) throws {
        let pending = ctx.pendingPullRefs
        ctx.pendingPullRefs = []
        for ref in pending {
            guard let mapper = self.mapper(ref.system, ref.entity) else { continue }
            try write(ctx) { tx in
                var merger = PageMerger(engine: self, tx: tx, mapper: mapper, ctx: ctx)
                guard let link = try tx.link(entity: ref.entity, system: ref.system, hubID: ref.hubID),
                    let current = try tx.entity(ref.hubID), !current.isDeleted
                else { return }
                guard let target = try tx.link(entity: ref.target, system: ref.system, externalID: ref.targetExternalID),
                    target.state == .linked
                else {
                    // Still no target: the entry written with the record stays open and is retried.
                    var entry = unresolvedPullReference(ref, record: link.externalID ?? ExternalID("?"), ctx)
                    entry.id = try tx.quarantine(entry)
                    ctx.noteQuarantined(entry)
                    return
                }
                let theirs: CanonicalRecord = [ref.field: .string(target.hubID.rawValue)]
                do {
                    _ = try merger.mergeLinked(link, current, theirs: theirs, fields: [ref.field], theirsAt: ChangeTime(at: ref.observedAt, observed: true))
                } catch let problem as RecordProblem {
                    try merger.quarantine(link.externalID ?? ExternalID("?"), hubID: ref.hubID, reason: problem.reason,
                                          message: problem.message)
                }
            }
        }
    }

    func unresolvedPullReference(_ ref: RunContext.PendingPullRef, record: ExternalID, _ ctx: RunContext) -> QuarantineEntry {
        QuarantineEntry(
            run: ctx.runID, system: ref.system, entity: ref.entity, externalID: record, hubID: ref.hubID, direction: .pull,
            reason: .unresolvedRef,
            message: "field '\(ref.field)' refers to \(ref.target) \(ref.targetExternalID) in '\(ref.system)', which is not "
                + "linked to the hub (not read, filtered out or quarantined); the reference was left unchanged",
            createdAt: ctx.now(), source: mapper(ref.system, ref.entity).map { "\($0.mapping.object) id \(record)" })
    }

    /// Sends references that were left out of writes because their target was not in the
    /// system yet (a manager created in the same run as their report).
    func resolvePendingPushReferences(_ system: SystemDefinition, _ options: SyncOptions, _ ctx: RunContext) async throws {
        let pending = ctx.pendingPushRefs.filter { $0.system == system.name }
        guard !pending.isEmpty else { return }
        ctx.pendingPushRefs.removeAll { $0.system == system.name }
        for entity in topology.referenceOrder {
            guard let mapper = self.mapper(system.name, entity), let spoke = spokes[system.name] else { continue }
            let hubIDs = Array(Set(pending.filter { $0.entity == entity }.map(\.hubID)))
            guard !hubIDs.isEmpty else { continue }
            let records = try store.read { try $0.entities(hubIDs) }.values.sorted { $0.seq < $1.seq }
            let counts = try await pushBatch(records, spoke, mapper, advanceMarkTo: nil, ctx)
            ctx.report.add(system.name, entity, push: counts)
        }
        // Whatever is still pending has no target in the system: it stays quarantined (its
        // entry was written with the write) and is retried on later runs.
        let stuck = ctx.pendingPushRefs.filter { $0.system == system.name }
        ctx.pendingPushRefs.removeAll { $0.system == system.name }
        guard !stuck.isEmpty else { return }
        try write(ctx) { tx in
            for ref in stuck {
                guard let mapper = self.mapper(system.name, ref.entity) else { continue }
                let externalID = try tx.link(entity: ref.entity, system: system.name, hubID: ref.hubID)?.externalID
                var entry = unresolvedPushReference(mapper, hubID: ref.hubID, field: ref.field, externalID: externalID, ctx)
                entry.id = try tx.quarantine(entry)
                ctx.noteQuarantined(entry)
            }
        }
    }
}
