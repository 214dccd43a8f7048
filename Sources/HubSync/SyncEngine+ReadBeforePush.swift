import HubCore
import HubMapping
import HubStore
import HubTopology

extension SyncEngine {
    /// In a targeted cycle (`hubctl run` woken by one system), a system that is written to but
    /// not read may hold edits of its own that hubctl has not seen yet. Before the push, the
    /// records about to be written to it are fetched by ID and merged like a read would merge
    /// them, so an unread edit is settled by the entity's conflict policy instead of being
    /// overwritten. Only those records are fetched (one `fetch` per page of them); the rest of the
    /// system waits for its own schedule. A system whose fetch fails is failed for this cycle,
    /// as a failed read would be, and is not written to.
    func readBeforePush(_ systems: [SystemDefinition], _ entities: [EntityName], _ options: SyncOptions,
                        _ ctx: RunContext) async throws {
        guard options.pullScope != nil else { return }
        for system in systems where system.direction.pulls && system.direction.pushes && ctx.report.systemErrors[system.name] == nil {
            do {
                for entity in entities where !options.pulls(system.name, entity) {
                    guard let mapper = self.mapper(system.name, entity), !ctx.report.isPaused(system.name, entity) else { continue }
                    try await readBeforePush(system, mapper, options, ctx)
                }
            } catch {
                try fail(system.name, error, ctx)
            }
        }
    }

    /// Fetches and merges the linked records of one system × entity that the push is about to
    /// write (the hub entities changed since the system's push mark).
    func readBeforePush(_ system: SystemDefinition, _ mapper: EntityMapper, _ options: SyncOptions,
                        _ ctx: RunContext) async throws {
        guard let spoke = spokes[system.name] else { throw missingSpoke(system.name) }
        let entity = mapper.entity.name
        var mark = try store.read { try $0.pushMark(system: system.name, entity: entity) }
        var ids: [ExternalID] = []
        while true {
            let batch = try store.read { try $0.entitiesChanged(entity, after: mark, limit: options.pageSize, origins: false) }
            guard let last = batch.last else { break }
            let links = try store.read { try $0.links(entity: entity, system: system.name, hubIDs: batch.map(\.hubID)) }
            ids += batch.compactMap { links[$0.hubID] }.filter { $0.state == .linked }.compactMap(\.externalID)
            mark = last.seq
            if batch.count < options.pageSize { break }
        }
        guard !ids.isEmpty else { return }
        var counts = RunCounts()
        for start in stride(from: 0, to: ids.count, by: options.pageSize) {
            try options.checkStop()
            let chunk = Array(ids[start..<min(start + options.pageSize, ids.count)])
            let records = try await settings.withRetries(spoke) { try await spoke.fetch(mapper.binding, ids: chunk) }
            try write(ctx) { tx in
                var merger = PageMerger(engine: self, tx: tx, mapper: mapper, ctx: ctx)
                try merger.apply(records)
                counts = counts + merger.counts
            }
        }
        ctx.report.add(system.name, entity, pull: counts)
    }
}
