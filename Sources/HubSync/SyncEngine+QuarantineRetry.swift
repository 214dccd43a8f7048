import HubCore
import HubMapping
import HubStore
import HubTopology

extension SyncEngine {
    /// Retries quarantined records now (all open ones, or the given entries): records that failed
    /// on the way in are fetched from their system again and merged; records that failed on the
    /// way out are sent again. Entries whose record syncs are closed; the others stay, with the
    /// latest reason. `sync-all` does the same for every open entry at the start of each run.
    public func retryQuarantine(_ ids: [Int64]? = nil) async throws -> SyncReport {
        let runID = RunID(runIDs.next())
        let ctx = RunContext(runID: runID, report: SyncReport(runID: runID, dryRun: false, startedAt: Timestamp.string(clock.now())),
                             clock: clock)
        let lease = try store.acquireRunLock(runID, now: clock.now(), staleAfter: settings.lockTimeout)
        ctx.fence = .run(lease)
        defer { try? store.releaseRunLock(lease) }
        try write(ctx) { try $0.beginRun(runID, startedAt: ctx.report.startedAt, dryRun: false, topologyHash: "quarantine-retry") }
        try await recoverIntents(SyncOptions(), ctx)
        let entries = try store.read { tx in
            if let ids { return try tx.quarantineEntries(ids) }
            return try tx.openQuarantine(limit: 1_000_000)
        }
        var groups: [String: [QuarantineEntry]] = [:]
        for e in entries { groups["\(e.system)\u{0}\(e.entity)", default: []].append(e) }
        var pushed: Set<SystemName> = []
        for key in groups.keys.sorted() {
            let group = groups[key]!
            let system = group[0].system
            guard ctx.report.systemErrors[system] == nil, let mapper = self.mapper(system, group[0].entity),
                let spoke = spokes[system]
            else { continue }
            ctx.report.add(system, mapper.entity.name)
            do {
                // Records that failed on the way in: their source is read again, as a sync-all
                // reads it (a fixed row of a file, a record fixed in its system), so rows without
                // an ID (unreadable lines) are retried too; records gone have nothing left to retry.
                if group.contains(where: { $0.direction == .pull }), let definition = topology.system(system),
                    definition.direction.pulls
                {
                    if let pending = try await pull(definition, mapper, SyncOptions(), ctx) {
                        try applyPendingDeletes(pending, SyncOptions(), ctx)
                    }
                }
                let pushes = group.filter { $0.direction == .push }.compactMap(\.hubID)
                if !pushes.isEmpty {
                    let records = try store.read { try $0.entities(pushes) }.values.sorted { $0.seq < $1.seq }
                    let counts = try await pushBatch(records, spoke, mapper, advanceMarkTo: nil, ctx)
                    ctx.report.add(system, mapper.entity.name, push: counts)
                    pushed.insert(system)
                }
            } catch {
                try fail(system, error, ctx)
            }
        }
        try resolvePendingPullReferences(ctx)
        for system in topology.systems where pushed.contains(system.name) && ctx.report.systemErrors[system.name] == nil {
            do {
                try await resolvePendingPushReferences(system, SyncOptions(), ctx)
            } catch {
                try fail(system.name, error, ctx)
            }
        }
        return try finish(ctx)
    }
}
