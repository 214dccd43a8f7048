import Foundation
import HubCore
import HubSchedule
import HubStore
import HubSync
import HubTopology
import Logging

/// How a worker claims and holds units.
public struct WorkerSettings: Sendable {
    /// How long a claim holds its unit without a heartbeat (renewed every third of it).
    public var lease: TimeInterval
    /// How long a round lasts at least: the next round starts this long after the last began.
    public var interval: TimeInterval
    /// How long to wait before looking again when there is nothing to claim.
    public var poll: TimeInterval
    /// When a run lock's holder counts as gone (`HUBCTL_LOCK_TIMEOUT`).
    public var runLockStaleAfter: TimeInterval

    public init(lease: TimeInterval = 30, interval: TimeInterval = 300, poll: TimeInterval = 1, runLockStaleAfter: TimeInterval = 600) {
        self.lease = lease
        self.interval = interval
        self.poll = poll
        self.runLockStaleAfter = runLockStaleAfter
    }
}

/// One `hubctl run --worker`: claims a unit (the pull or the push of one entity in one system,
/// or a system's finishing step), runs it while a heartbeat renews its lease, marks it done, and
/// claims the next, until asked to stop.
///
/// Several workers on one PostgreSQL hub share the work: the hub decides who holds what (see
/// ``HubStore/claimUnit(worker:plan:interval:lease:runLockStaleAfter:now:)``, in the order of
/// ``WorkPlan/init(_:)``). A worker that
/// loses its lease (stopped, or cut off longer than the lease) stops its unit after the current
/// page, and that page's hub write is refused by the fence.
public final class WorkerLoop: Sendable {
    public let id: String
    let store: HubStore
    let plan: WorkPlan
    let settings: WorkerSettings
    let logger: Logger
    let runUnit: @Sendable (UnitClaim, SyncOptions) async throws -> SyncReport
    let planner: SchedulePlanner
    let clock: WallClock
    let secrets: SecretRedactor
    public let stopFlag = StopFlag()
    let wakeup = Wakeup()

    /// - Parameter runUnit: the engine's ``SyncEngine/runUnit(_:_:)``.
    /// - Parameter planner: the schedules `hubctl status` judges by; a pull unit records its
    ///   system's success or failure in them, as `hubctl run` does after a cycle.
    public init(id: String, planner: SchedulePlanner, store: HubStore, settings: WorkerSettings, logger: Logger,
                clock: WallClock = .system, runUnit: @escaping @Sendable (UnitClaim, SyncOptions) async throws -> SyncReport) {
        let topology = planner.topology
        self.id = id
        self.planner = planner
        self.store = store
        self.plan = WorkPlan(topology)
        self.settings = settings
        var logger = logger
        logger[metadataKey: "worker"] = .string(id)
        self.logger = logger
        self.clock = clock
        self.secrets = topology.secrets
        self.runUnit = runUnit
    }

    /// Asks the loop to stop: the unit in progress stops after its current page and is released.
    public func requestStop() {
        stopFlag.raise()
        Task { await wakeup.signal() }
    }

    /// A webhook or a trigger says a system changed: the next round starts as soon as the
    /// current one is done (recorded in the hub, so every worker sees it), and this worker looks
    /// for a unit at once.
    public func wake(_ system: SystemName) {
        do {
            try store.requestRound()
            logger.debug("woken", metadata: ["event": "trigger.wake", "system": .string(system.rawValue)])
        } catch {
            logger.error("cannot record the wakeup: \(secrets.redact(String(describing: error)))", metadata: ["event": "worker.wake_failed"])
        }
        Task { await wakeup.signal() }
    }

    /// Claims and runs units until ``requestStop()``; the worker's units are released when it ends.
    public func run() async throws {
        try store.registerWorker(id, units: plan.units)
        logger.info("worker started", metadata: ["event": "worker.started", "units": .string(plan.units.map(\.description).joined(separator: ","))])
        var lastIdle = ""
        while !stopFlag.isSet && !Task.isCancelled {
            let outcome: ClaimOutcome
            do {
                outcome = try store.claimUnit(worker: id, plan: plan, interval: settings.interval, lease: settings.lease,
                                              runLockStaleAfter: settings.runLockStaleAfter, now: clock.now())
            } catch {
                logger.error("cannot claim a unit: \(secrets.redact(String(describing: error)))", metadata: ["event": "worker.claim_failed"])
                await wakeup.wait(seconds: settings.poll, sleep: { try await Task.sleep(nanoseconds: UInt64($0 * 1e9)) })
                continue
            }
            switch outcome {
            case .claimed(let claim):
                lastIdle = ""
                await work(claim)
            case .idle, .runLocked:
                if case .runLocked(let holder) = outcome, lastIdle != holder.description {
                    lastIdle = holder.description
                    logger.notice("the hub is held by \(holder); claiming nothing meanwhile", metadata: ["event": "worker.locked"])
                }
                await wakeup.wait(seconds: settings.poll, sleep: { try await Task.sleep(nanoseconds: UInt64($0 * 1e9)) })
            }
        }
        try store.retireWorker(id)
        logger.info("worker stopped", metadata: ["event": "worker.stopped"])
    }

    /// Runs one claimed unit with a heartbeat beside it.
    func work(_ claim: UnitClaim) async {
        var logger = self.logger
        logger[metadataKey: "unit"] = .string(claim.unit.description)
        logger[metadataKey: "token"] = .stringConvertible(claim.token)
        logger.info("unit claimed", metadata: ["event": "unit.claimed", "round": .stringConvertible(claim.round)])
        let lost = StopFlag()
        let store = self.store
        let lease = settings.lease
        let secrets = self.secrets
        let heartbeat = Task { [logger] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(lease / 3 * 1e9))
                guard !Task.isCancelled else { return }
                do {
                    if try !store.renewLease(claim, lease: lease) {
                        lost.raise()
                        logger.warning("lease lost: another worker took the unit over; stopping it after this page",
                                       metadata: ["event": "unit.lease_lost"])
                        return
                    }
                } catch {
                    logger.error("cannot renew the lease: \(secrets.redact(String(describing: error)))", metadata: ["event": "unit.heartbeat_failed"])
                }
            }
        }
        defer { heartbeat.cancel() }
        let stop = stopFlag
        let options = SyncOptions(stopRequested: { stop.isSet || lost.isSet || Task.isCancelled })
        do {
            let report = try await runUnit(claim, options)
            heartbeat.cancel()
            if report.stopped {
                try store.releaseUnit(claim)
                logger.info("unit stopped before its end; released", metadata: ["event": "unit.released", "run_id": .string(report.runID.rawValue)])
            } else if try store.completeUnit(claim, run: report.runID) {
                recordSchedule(claim, report)
                var metadata: Logger.Metadata = ["event": "unit.done", "run_id": .string(report.runID.rawValue),
                                                 "status": .string(report.status.rawValue)]
                // Why the unit's system failed (already redacted), so that the log says what to fix.
                if let error = report.systemErrors[claim.unit.system] { metadata["error"] = .string(secrets.redact(error)) }
                logger.info("unit done: \(report.status.rawValue)", metadata: metadata)
            } else {
                logger.warning("unit finished after its lease was taken over; its last writes were refused",
                               metadata: ["event": "unit.lease_lost"])
            }
        } catch let fenced as FencedOut {
            try? store.noteFencedWrite(worker: id)
            logger.warning("hub write refused: \(fenced)", metadata: ["event": "unit.fenced"])
        } catch {
            logger.error("unit failed: \(secrets.redact(String(describing: error)))", metadata: ["event": "unit.failed"])
            try? store.releaseUnit(claim)
        }
    }

    /// After a pull unit: the schedule state covering its entity (the entity's own schedule, or
    /// its system's), succeeded or failed (for `hubctl status`).
    func recordSchedule(_ claim: UnitClaim, _ report: SyncReport) {
        guard claim.unit.phase == .pull else { return }
        let now = clock.now()
        do {
            let states = try store.scheduleStates()
            let targets = planner.targets(of: claim.unit.system)
            let covering = targets.first { $0.entity != nil && $0.entity == claim.unit.entity } ?? targets.first { $0.entity == nil }
            let changed = (covering.map { [$0] } ?? []).map { target in
                let state = states.first { $0.system == target.system && $0.entity == target.entity }
                    ?? ScheduleStateRecord(system: target.system, entity: target.entity)
                if let error = report.systemErrors[claim.unit.system] { return planner.failed(state, at: now, error: error) }
                return planner.succeeded(state, at: now)
            }
            try store.saveScheduleStates(changed)
        } catch {
            logger.error("cannot record the schedule in the hub: \(secrets.redact(String(describing: error)))",
                         metadata: ["event": "schedule.save_failed"])
        }
    }
}
