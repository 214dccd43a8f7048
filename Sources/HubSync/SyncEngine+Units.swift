import Foundation
import HubCore
import HubStore
import HubTopology

extension SyncEngine {
    /// Seconds after which a silent run's lock on the hub is taken over (`HUBCTL_LOCK_TIMEOUT`).
    public var lockTimeout: TimeInterval { settings.lockTimeout }

    /// Runs one worker's unit: exactly the pull part or the push part of ``syncAll(_:)``'s cycle
    /// for one system, as its own run (one `runs` row per unit).
    ///
    /// A pull unit reads the system's entities in reference order, applies the deletes found
    /// (children first) and settles the references whose target it read. A push unit first
    /// settles the creates an earlier holder sent without recording the answer (it was killed),
    /// then pushes every entity, the deletes waiting for their children and the references
    /// written without their target. Every hub write checks `claim`'s token first: a worker
    /// whose unit was taken over cannot commit (``FencedOut``).
    public func runUnit(_ claim: UnitClaim, _ options: SyncOptions = SyncOptions()) async throws -> SyncReport {
        guard let system = topology.system(claim.unit.system) else {
            throw HubStoreError("the unit \(claim.unit) names a system the topology does not have")
        }
        let runID = RunID(runIDs.next())
        let ctx = RunContext(runID: runID, report: SyncReport(runID: runID, dryRun: false, startedAt: Timestamp.string(clock.now())),
                             clock: clock)
        ctx.fence = .unit(claim)
        try write(ctx) { try $0.beginRun(runID, startedAt: ctx.report.startedAt, dryRun: false, topologyHash: nil) }
        let entities = topology.referenceOrder
        for entity in entities where mapper(system.name, entity) != nil { ctx.report.add(system.name, entity) }
        do {
            switch claim.unit.phase {
            case .pull:
                try await pullSystem(system, entities, options, ctx)
                try resolvePendingPullReferences(ctx)
            case .push:
                try await recoverIntents(options, ctx, only: system.name)
                try await pushSystem(system, entities, options, ctx)
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
}
