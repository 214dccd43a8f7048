import Foundation
import HubCore
import HubMapping
import HubStore
import HubTopology

/// The sync engine: one `sync-all` cycle is pull from every system, merge into the hub, push to
/// every system (docs/architecture.md).
///
/// Stateless between runs: everything it remembers is in the hub. Built by the CLI from a
/// topology, the hub store and one spoke per system; time and IDs are injected so a run can be
/// reproduced in a test.
///
/// For example:
/// ```swift
/// let engine = SyncEngine(topology: topology, store: store, spokes: spokes)
/// let report = try await engine.syncAll()
/// print(report.status)
/// ```
public struct SyncEngine: Sendable {
    /// Every system's spoke and mappers, built in one place.
    public let runtime: TopologyRuntime
    public let store: HubStore
    let clock: WallClock
    let hubIDs: IDGenerator
    let runIDs: IDGenerator
    let settings: EngineSettings

    public var topology: Topology { runtime.topology }
    public var spokes: [SystemName: any Spoke] { runtime.spokes }

    /// - Parameters:
    ///   - runtime: every system's spoke and mappers (`SpokeFactory.runtime(topology)`).
    ///   - clock: the time source for timestamps.
    ///   - hubIDs: makes hub IDs (default: UUIDv7).
    ///   - runIDs: makes run IDs (default: UUIDv7).
    public init(runtime: TopologyRuntime, store: HubStore, clock: WallClock = .system, hubIDs: IDGenerator? = nil,
                runIDs: IDGenerator? = nil, settings: EngineSettings = EngineSettings()) {
        self.runtime = runtime
        self.settings = settings
        self.store = store
        self.clock = clock
        self.hubIDs = hubIDs ?? .uuidV7(clock: clock)
        self.runIDs = runIDs ?? .uuidV7(clock: clock)
    }

    /// An engine over these spokes, one per system; records map as each spoke's adapter declares.
    public init(topology: Topology, store: HubStore, spokes: [SystemName: any Spoke], clock: WallClock = .system,
                hubIDs: IDGenerator? = nil, runIDs: IDGenerator? = nil, settings: EngineSettings = EngineSettings()) {
        self.init(runtime: TopologyRuntime(topology, spokes: spokes), store: store, clock: clock, hubIDs: hubIDs,
                  runIDs: runIDs, settings: settings)
    }

    /// The mapper of an entity in a system.
    public func mapper(_ system: SystemName, _ entity: EntityName) -> EntityMapper? { runtime.mapper(system, entity) }

    /// Runs one full cycle: pull from every system whose direction allows it, merge into the
    /// hub, push to every system whose direction allows it.
    ///
    /// A system that fails (unreachable, unreadable) is skipped for the rest of the run with its
    /// cursor and push marks untouched; the others complete and the report says `partial`.
    /// With `dryRun`, the cycle runs against a scratch copy of the hub and writes nothing to any
    /// system; the report's `plan` lists what would be written.
    ///
    /// One run at a time per hub: a second concurrent run throws `HubLocked`. A lock left by a
    /// killed run is taken over, and creates that run sent without recording their answer are
    /// looked up in their systems before anything else happens.
    public func syncAll(_ options: SyncOptions = SyncOptions()) async throws -> SyncReport {
        if options.dryRun { return try await dryRun(options) }
        let runID = RunID(runIDs.next())
        let ctx = RunContext(runID: runID, report: SyncReport(runID: runID, dryRun: false, startedAt: Timestamp.string(clock.now())),
                             clock: clock)
        let lease = try store.acquireRunLock(runID, now: clock.now(), staleAfter: settings.lockTimeout)
        ctx.fence = .run(lease)
        defer { try? store.releaseRunLock(lease) }
        try faultPoint(.runAfterLock)
        try write(ctx) { try $0.beginRun(runID, startedAt: ctx.report.startedAt, dryRun: false, topologyHash: nil) }
        do {
            try await recoverIntents(options, ctx)
            try await cycle(options, ctx)
        } catch is RunStopped {
            ctx.report.stopped = true
        }
        try faultPoint(.runBeforeComplete)
        return try finish(ctx)
    }

    /// Runs `body` in one hub transaction of the run; the run's fence (its run lock, or a
    /// worker's unit) is checked first, so a run that lost its lock or lease cannot write.
    func write<T>(_ ctx: RunContext, _ body: (HubTransaction) throws -> T) throws -> T {
        let now = clock.now()
        return try store.write { tx in
            if let fence = ctx.fence { try tx.checkFence(fence, now: now) }
            return try body(tx)
        }
    }

    /// The phases of a cycle, shared by real and dry runs.
    func cycle(_ options: SyncOptions, _ ctx: RunContext) async throws {
        let entities = topology.referenceOrder.filter { options.entities?.contains($0) ?? true }
        let systems = topology.systems.filter { options.only?.contains($0.name) ?? true }
        for system in systems {
            for entity in entities where mapper(system.name, entity) != nil {
                ctx.report.add(system.name, entity)
            }
        }
        // Pull: every system, entities in reference order (parents first).
        for system in systems where system.direction.pulls {
            try await pullSystem(system, entities, options, ctx)
        }
        // A targeted cycle reads the records it is about to write to systems it did not read.
        try await readBeforePush(systems, entities, options, ctx)
        try resolvePendingPullReferences(ctx)
        // Push: every system that did not fail, entities in reference order.
        for system in systems where system.direction.pushes {
            try await pushSystem(system, entities, options, ctx)
        }
    }

    /// The pull of one system: its entities in reference order (parents first), then the deletes
    /// found, children first. A failure is recorded for the system and ends its part of the run.
    func pullSystem(_ system: SystemDefinition, _ entities: [EntityName], _ options: SyncOptions, _ ctx: RunContext) async throws {
        guard ctx.report.systemErrors[system.name] == nil else { return }
        do {
            var deletes: [PendingDeletes] = []
            for entity in entities where options.pulls(system.name, entity) {
                guard let mapper = self.mapper(system.name, entity) else { continue }
                if let pending = try await pull(system, mapper, options, ctx) { deletes.append(pending) }
            }
            // Children first: an order deleted with its customer no longer holds the customer back.
            for pending in deletes.reversed() { try applyPendingDeletes(pending, options, ctx) }
        } catch {
            try fail(system.name, error, ctx)
        }
    }

    /// The push of one system: its entities in reference order, the deletes waiting for their
    /// children, then the references written without their target.
    func pushSystem(_ system: SystemDefinition, _ entities: [EntityName], _ options: SyncOptions, _ ctx: RunContext) async throws {
        guard ctx.report.systemErrors[system.name] == nil else { return }
        do {
            for entity in entities {
                guard let mapper = self.mapper(system.name, entity) else { continue }
                try await push(system, mapper, options, ctx)
            }
            try await pushWaitingDeletes(system, ctx)
            try await resolvePendingPushReferences(system, options, ctx)
        } catch {
            try fail(system.name, error, ctx)
        }
    }

    /// Records that a system failed this run; errors that concern the whole run are rethrown.
    func fail(_ system: SystemName, _ error: any Error, _ ctx: RunContext) throws {
        if error is FencedOut || error is CancellationError || error is RunStopped { throw error }
        ctx.report.systemErrors[system] = describe(error)
    }

    /// Records the end of the run in the hub.
    func finish(_ ctx: RunContext) throws -> SyncReport {
        // What waits for each failed system: nothing is lost, the next healthy run sends it.
        for system in ctx.report.systemErrors.keys {
            guard let definition = topology.system(system), definition.direction.pushes else { continue }
            var waiting: [EntityName: Int] = [:]
            try store.read { tx in
                for mapping in definition.entities {
                    let mark = try tx.pushMark(system: system, entity: mapping.entity)
                    let n = try tx.countChanged(mapping.entity, after: mark)
                    if n > 0 { waiting[mapping.entity] = n }
                }
            }
            ctx.report.deferredPushes[system] = waiting
        }
        ctx.report.finishedAt = ctx.now()
        let report = ctx.report
        let counts = report.rows.flatMap { row in
            [(row.system, row.entity, "pull", row.pull), (row.system, row.entity, "push", row.push)]
        }.map { (system: $0.0, entity: $0.1, direction: $0.2, counts: $0.3) }
        try write(ctx) { tx in
            try tx.finishRun(report.runID, finishedAt: report.finishedAt, status: report.stopped ? .stopped : report.status,
                             exitCode: Int(report.exitCode), report: report.json, counts: counts)
        }
        return report
    }

    func describe(_ error: any Error) -> String {
        topology.secrets.redact(String(describing: error))
    }
}
