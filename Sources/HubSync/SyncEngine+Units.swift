import Foundation
import HubCore
import HubMapping
import HubStore
import HubTopology

extension SyncEngine {
    /// Seconds after which a silent run's lock on the hub is taken over (`HUBCTL_LOCK_TIMEOUT`).
    public var lockTimeout: TimeInterval { settings.lockTimeout }

    /// Runs one worker's unit as its own run (one `runs` row per unit): the part of
    /// ``syncAll(_:)``'s cycle that concerns one entity of one system, or a system's finishing step.
    ///
    /// - `pull:S/E` reads E from S (its parents there were read before it, in this round) and
    ///   settles the references whose target it read itself (a manager read after their report).
    ///   The deletes it finds are applied at once when no other entity of S refers to E;
    ///   otherwise they wait in the hub for `pull-deletes:S`.
    /// - `pull:S/E/2of4` reads one part of E from S (a table read in parts) and records what it
    ///   saw; the deletes are looked for by `pull-deletes:S`, once every part was read.
    /// - `pull-deletes:S` applies the deletes S's pull units found, children first, as
    ///   ``syncAll(_:)`` does at the end of a system's pull; for a table read in parts, it first
    ///   looks for them as a whole read would.
    /// - `push:S/E` first settles E's creates an earlier holder sent to S without recording the
    ///   answer (it was killed); when `options` has a pull scope without S's E (its pull was not
    ///   due this round), it fetches and merges the records of S it is about to write (see
    ///   `readBeforePush`); then it pushes E, the references written without their target, and
    ///   the deletes that waited for E's own records (an employee's manager).
    /// - `push-deletes:S` sends S's deletes that waited for the records referring to them.
    ///
    /// Every hub write checks `claim`'s token first: a worker whose unit was taken over cannot
    /// commit (``FencedOut``).
    public func runUnit(_ claim: UnitClaim, _ options: SyncOptions = SyncOptions()) async throws -> SyncReport {
        guard let system = topology.system(claim.unit.system) else {
            throw HubStoreError("the unit \(claim.unit) names a system the topology does not have; stop this worker and "
                                + "start it again with the topology the other workers use")
        }
        let entity = claim.unit.entity
        if let entity, mapper(system.name, entity) == nil {
            throw HubStoreError("the unit \(claim.unit) names an entity '\(system.name)' does not map; stop this worker and "
                                + "start it again with the topology the other workers use")
        }
        let runID = RunID(runIDs.next())
        let ctx = RunContext(runID: runID, report: SyncReport(runID: runID, dryRun: false, startedAt: Timestamp.string(clock.now())),
                             clock: clock)
        ctx.fence = .unit(claim)
        try write(ctx) { try $0.beginRun(runID, startedAt: ctx.report.startedAt, dryRun: false, topologyHash: nil) }
        for e in topology.referenceOrder where (entity == nil || e == entity) && mapper(system.name, e) != nil {
            ctx.report.add(system.name, e)
        }
        do {
            if !claim.unit.phase.reads, let failed = try unreadSystem(system, claim) {
                ctx.report.systemErrors[system.name] = failed
                return try finish(ctx)
            }
            switch (claim.unit.phase, entity) {
            case (.pull, let entity?):
                try await pullUnit(system, entity, options, ctx, partition: claim.unit.partition, round: claim.round)
            case (.push, let entity?):
                try await recoverIntents(options, ctx, only: system.name, entity: entity)
                // A system not read this round (not due): the records about to be written are
                // fetched and merged first, as in `hubctl run`'s targeted cycle.
                try await readBeforePush([system], [entity], options, ctx)
                try await pushUnit(system, entity, options, ctx)
            case (.pullDeletes, _):
                try await applyFoundDeletes(system, options, ctx, round: claim.round)
            case (.pushDeletes, _):
                try await catchingFailure(system.name, ctx) { try await pushWaitingDeletes(system, ctx) }
            case (.pull, nil), (.push, nil):
                throw HubStoreError("the unit \(claim.unit) names no entity")
            }
        } catch is RunStopped {
            ctx.report.stopped = true
        } catch let fenced as FencedOut {
            // The unit is another worker's now: record this run's end (its own row), nothing else.
            ctx.fence = nil
            ctx.report.stopped = true
            _ = try? finish(ctx)
            throw fenced
        }
        return try finish(ctx)
    }

    /// Why nothing may be written to `system` in `claim`'s round, or nil: a read of it failed this
    /// round (as ``syncAll(_:)`` skips a system whose pull failed). Its records the hub has not
    /// read yet would otherwise be created there a second time, from another system's copy.
    func unreadSystem(_ system: SystemDefinition, _ claim: UnitClaim) throws -> String? {
        let failed = try store.read { try $0.failedReads(system: system.name, round: claim.round) }
        guard !failed.isEmpty else { return nil }
        return "not written this round: reading \(system.name) failed (\(failed.map(\.description).joined(separator: ", "))), "
            + "so records it holds that the hub has not read could be created there twice; the next round reads it again, then writes"
    }

    /// `pull:S/E`: one entity's pull, its deletes applied or kept for `pull-deletes:S`, then the
    /// references it read before their target. `pull:S/E/2of4`: one part of it, what it saw
    /// recorded for `pull-deletes:S`.
    func pullUnit(_ system: SystemDefinition, _ entity: EntityName, _ options: SyncOptions, _ ctx: RunContext,
                  partition: IDPartition? = nil, round: Int64 = 0) async throws {
        guard options.pulls(system.name, entity), let mapper = self.mapper(system.name, entity) else { return }
        try await catchingFailure(system.name, ctx) {
            guard let pending = try await pull(system, mapper, options, ctx, partition: partition) else { return }
            if let partition {
                let read = PartitionRead(system: system.name, entity: entity, partition: partition, round: round,
                                         linkedSeen: pending.linkedSeen, malformed: pending.malformed)
                try write(ctx) { try $0.recordPartitionRead(read) }
            } else if topology.referrers(of: entity, in: system.name).isEmpty {
                try applyPendingDeletes(pending, options, ctx)
            } else if !pending.missing.isEmpty {
                let found = FoundDeletes(system: system.name, entity: entity, hubIDs: pending.missing.map(\.hubID),
                                         tombstones: pending.tombstones, startCursor: pending.startCursor)
                try write(ctx) { try $0.recordFoundDeletes(found) }
            }
        }
        try resolvePendingPullReferences(ctx)
    }

    /// `pull-deletes:S`: the deletes S's pull units found, children first (reverse reference
    /// order), each entity's forgotten once applied. A record found deleted that is no longer
    /// linked (a unit done twice found it twice) is passed over. The deletes of a table read in
    /// parts are looked for here, as a whole read looks for them, when every part was read in
    /// `round`.
    func applyFoundDeletes(_ system: SystemDefinition, _ options: SyncOptions, _ ctx: RunContext, round: Int64) async throws {
        try await catchingFailure(system.name, ctx) {
            for entity in topology.referenceOrder.reversed() {
                guard let mapper = self.mapper(system.name, entity) else { continue }
                if let parts = system.mapping(for: entity)?.partitions, parts > 1 {
                    if options.pulls(system.name, entity), let pending = try await partsDeletes(system, mapper, parts: parts, round: round, ctx) {
                        try applyPendingDeletes(pending, options, ctx)
                    }
                    continue
                }
                guard let found = try store.read({ try $0.foundDeletes(system: system.name, entity: entity) }) else { continue }
                let links = try store.read { tx in
                    try tx.links(entity: entity, system: system.name, hubIDs: found.hubIDs)
                }
                let missing = found.hubIDs.compactMap { links[$0] }.filter { $0.state == .linked }
                try applyPendingDeletes(PendingDeletes(system: system, mapper: mapper, missing: missing, tombstones: found.tombstones,
                                                       startCursor: found.startCursor), options, ctx)
                try write(ctx) { try $0.clearFoundDeletes(system: system.name, entity: entity) }
            }
        }
    }

    /// The deletes of a table read in `parts` parts in `round`, found as a whole read finds them
    /// (none when the parts saw every linked record, else by the system's IDs), and the
    /// malformed rows no part found any more resolved. Nil when a part was not read this round
    /// (its unit failed or was stopped, or the entity was not due): its records were not all
    /// seen, so nothing can be called deleted; the next round looks again.
    func partsDeletes(_ system: SystemDefinition, _ mapper: EntityMapper, parts: Int, round: Int64,
                      _ ctx: RunContext) async throws -> PendingDeletes? {
        let entity = mapper.entity.name
        let reads = try store.read { try $0.partitionReads(system: system.name, entity: entity, parts: parts, round: round) }
        guard reads.count == parts else {
            // No part read this round: the entity was not due (a schedule), or every part failed
            // (each unit says why). Some parts read: say which were not.
            guard !reads.isEmpty else { return nil }
            let unread = Set(IDPartition.all(parts)).subtracting(reads.map(\.partition)).sorted { $0.number < $1.number }
            ctx.report.notices.append("deletes of \(entity) in \(system.name) were not looked for this round: its part "
                                      + unread.map(\.description).joined(separator: ", ") + " was not read; the next round looks again")
            return nil
        }
        guard let spoke = spokes[system.name] else { throw missingSpoke(system.name) }
        let malformed = reads.reduce(into: Set<String>()) { $0.formUnion($1.malformed) }
        try write(ctx) { tx in
            try tx.resolveQuarantine(system: system.name, entity: entity, reason: .malformed, except: malformed, at: ctx.now())
        }
        let missing = try await missingLinks(spoke, mapper, fullRead: true, linkedSeen: reads.reduce(0) { $0 + $1.linkedSeen }, ctx)
        return PendingDeletes(system: system, mapper: mapper, missing: missing, tombstones: false, startCursor: nil)
    }

    /// `push:S/E`: one entity's push, the references it wrote without their target, and the
    /// deletes waiting for its own records when no other entity of S refers to it.
    func pushUnit(_ system: SystemDefinition, _ entity: EntityName, _ options: SyncOptions, _ ctx: RunContext) async throws {
        guard ctx.report.systemErrors[system.name] == nil, let mapper = self.mapper(system.name, entity) else { return }
        try await catchingFailure(system.name, ctx) {
            try await push(system, mapper, options, ctx)
            if topology.referrers(of: entity, in: system.name).isEmpty { try await pushWaitingDeletes(system, ctx, only: entity) }
            try await resolvePendingPushReferences(system, options, ctx)
        }
    }

    /// Runs `body`; a failure is recorded for the system (the run is `partial`), as in a cycle.
    func catchingFailure(_ system: SystemName, _ ctx: RunContext, _ body: () async throws -> Void) async throws {
        do { try await body() } catch { try fail(system, error, ctx) }
    }

    func catchingFailure(_ system: SystemName, _ ctx: RunContext, _ body: () throws -> Void) throws {
        do { try body() } catch { try fail(system, error, ctx) }
    }
}
