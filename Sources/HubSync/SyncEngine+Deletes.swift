import HubCore
import HubMapping
import HubStore
import HubTopology

extension SyncEngine {
    /// Applies the system's pull delete policy to its linked records found deleted (by
    /// tombstones, or missing from a complete read or ID scan), unless that would delete more
    /// than the mass-delete guard allows.
    func applyDeletes(_ missing: [Link], _ system: SystemDefinition, _ mapper: EntityMapper, _ options: SyncOptions,
                      _ ctx: RunContext) throws -> RunCounts {
        guard !missing.isEmpty else { return RunCounts() }
        let entity = mapper.entity.name
        let policy = mapper.mapping.deletes
        let live = try store.read { try $0.liveLinkCount(entity: entity, system: system.name) }
        if let trip = guardTrip(count: missing.count, of: live, policy: policy, options: options) {
            ctx.report.guardTrips.append(
                "mass-delete guard: \(missing.count) of \(live) linked \(entity) records (\(trip)) are gone from "
                    + "'\(system.name)'; nothing was deleted. Check '\(system.name)', then run again with "
                    + "--allow-mass-delete to apply the deletes")
            return RunCounts()
        }
        var counts = RunCounts()
        for chunk in stride(from: 0, to: missing.count, by: options.pageSize) {
            let links = Array(missing[chunk..<min(chunk + options.pageSize, missing.count)])
            try write(ctx) { tx in
                var merger = PageMerger(engine: self, tx: tx, mapper: mapper, ctx: ctx)
                let referrers = policy.pull == .propagate ? try merger.liveReferrers(links.map(\.hubID)) : [:]
                for link in links { try merger.applyDelete(link, referrers: referrers[link.hubID] ?? []) }
                counts = counts + merger.counts
            }
            try faultPoint(.deletesAfterCommit)
        }
        return counts
    }

    /// A description of the tripped guard ("45 %, above 20 %"), or nil when the deletes may go.
    ///
    /// Every linked record gone at once (N ≥ 1 → 0) trips it whatever `min_count` says: that is
    /// what an emptied file or a wrong connection looks like, and closing every link (or
    /// deleting every record everywhere) is what it would cost. `restore` re-creates records
    /// instead of deleting, so it is never held back.
    func guardTrip(count: Int, of live: Int, policy: DeletePolicy, options: SyncOptions) -> String? {
        guard !options.allowMassDelete, live > 0 else { return nil }
        if count >= live, policy.pull != .restore { return "every one of them" }
        guard policy.pull == .propagate, count >= policy.minCount else { return nil }
        let share = Double(count) / Double(live)
        guard share > policy.maxShare else { return nil }
        return "\(Int((share * 100).rounded())) %, above the limit of \(Int((policy.maxShare * 100).rounded())) %"
    }
}

extension PageMerger {
    /// The live links of records a system reports deleted (tombstones).
    func linkedRecords(_ ids: [ExternalID]) throws -> [Link] {
        guard !ids.isEmpty else { return [] }
        let links = try tx.links(entity: entity.name, system: system, externalIDs: ids)
        return ids.compactMap { id in links[id].flatMap { $0.state == .linked ? $0 : nil } }
    }

    /// A linked record was deleted in the system: apply the system's pull delete policy.
    /// - Parameter referrers: the live entities referring to it, when already looked up.
    mutating func applyDelete(_ link: Link, referrers: [EntityReferrer]? = nil) throws {
        let now = ctx.now()
        switch mapper.mapping.deletes.pull {
        case .propagate:
            let referrers = try referrers ?? liveReferrers([link.hubID])[link.hubID] ?? []
            if !referrers.isEmpty, try settleReferencedDelete(link, referrers) { return }
            if quarantineOpen, let id = link.externalID {
                try tx.resolveQuarantine(system: system, entity: entity.name, externalID: id, hubID: nil, direction: .pull,
                                         at: now, resolution: .deleted)
            }
            // The record is gone from the system, so its ID no longer names it: a record the
            // system gives that ID later (a reused rowid) is a new one, read like any other.
            var dead = link
            dead.state = .deleted
            dead.externalID = nil
            dead.lastSeenRun = ctx.runID
            try tx.saveLink(dead)
            if let current = try tx.entity(link.hubID), !current.isDeleted {
                _ = try tx.deleteEntity(current, at: now, sourceSystem: system, run: ctx.runID)
                counts.deleted += 1
            }
        case .ignore:
            var dead = link
            dead.state = .deleted
            dead.lastSeenRun = ctx.runID
            try tx.saveLink(dead)
            counts.skipped += 1
        case .restore:
            // Forget the link and move the entity's seq: every push looks at it again, so the
            // record is re-created here (in this run, or the next if this one stops).
            try tx.deleteLink(entity: entity.name, system: system, hubID: link.hubID)
            try tx.touchEntity(link.hubID)
        }
    }
}
