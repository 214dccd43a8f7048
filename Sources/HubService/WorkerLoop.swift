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
    /// How long to wait before looking again when there is nothing to claim.
    public var poll: TimeInterval
    /// When a run lock's holder counts as gone (`HUBCTL_LOCK_TIMEOUT`).
    public var runLockStaleAfter: TimeInterval

    public init(lease: TimeInterval = 30, poll: TimeInterval = 1, runLockStaleAfter: TimeInterval = 600) {
        self.lease = lease
        self.poll = poll
        self.runLockStaleAfter = runLockStaleAfter
    }
}

/// One `hubctl run --worker`: claims a unit (the pull or the push of one entity in one system,
/// or a system's finishing step), runs it while a heartbeat renews its lease, marks it done, and
/// claims the next, until asked to stop.
///
/// Schedules are `hubctl run`'s: a round starts when a system or entity is due by its schedule
/// (or woken), reads only what is due, and pushes to every system (see `decide(_:now:)`).
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
    /// The sync metrics `hubctl run` exports, fed from each unit's report, and the worker's own.
    public let metrics: RunMetrics
    let metricsFile: String?
    public let stopFlag = StopFlag()
    let wakeup = Wakeup()
    let state = Locked(LoopState())

    /// What the loop remembers between claims.
    struct LoopState {
        /// The run lock's holder last logged (logged once while it holds the hub).
        var lastHolder = ""
        /// The round of the latest claim.
        var round: Int64?
        /// When the hub was last checked for a newer hubctl's steps, and in which round.
        var checkedAt: Date?
        var checkedRound: Int64?
    }

    /// How often a worker with nothing to claim checks the hub for a newer hubctl's steps (it
    /// also checks before the first unit of every round it works in).
    public static let upgradeCheckInterval: TimeInterval = 60

    /// - Parameter runUnit: the engine's ``SyncEngine/runUnit(_:_:)``.
    /// - Parameter planner: the schedules `hubctl status` judges by; a pull unit records its
    ///   system's success or failure in them, as `hubctl run` does after a cycle.
    /// - Parameter metricsFile: where to write the metrics after every unit and at the end.
    public init(id: String, planner: SchedulePlanner, store: HubStore, settings: WorkerSettings, logger: Logger,
                clock: WallClock = .system, metrics: RunMetrics = RunMetrics(), metricsFile: String? = nil,
                runUnit: @escaping @Sendable (UnitClaim, SyncOptions) async throws -> SyncReport) {
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
        self.metrics = metrics
        self.metricsFile = metricsFile
        self.runUnit = runUnit
    }

    /// Asks the loop to stop: the unit in progress stops after its current page and is released.
    public func requestStop() {
        stopFlag.raise()
        Task { await wakeup.signal() }
    }

    /// A webhook or a trigger says a system changed: the system is due now, the next round
    /// starts as soon as the current one is done (both recorded in the hub, so every worker sees
    /// them), and this worker looks for a unit at once. A system that is only written to is not
    /// read, so waking it does nothing (as for `hubctl run`).
    public func wake(_ system: SystemName, trigger: String = "webhook") {
        let targets = planner.targets(of: system)
        guard !targets.isEmpty else { return }
        metrics.wakeup(trigger: trigger, system: system)
        do {
            try makeDue(targets, at: clock.now())
            try store.requestRound()
            logger.debug("woken", metadata: ["event": "trigger.wake", "system": .string(system.rawValue), "trigger": .string(trigger)])
        } catch {
            logger.error("cannot record the wakeup: \(secrets.redact(String(describing: error)))", metadata: ["event": "worker.wake_failed"])
        }
        Task { await wakeup.signal() }
    }

    /// Claims and runs units until ``requestStop()``; the worker's units are released when it ends.
    /// - Throws: ``HubFromNewerHubctl`` when a newer hubctl upgraded the hub meanwhile: the
    ///   worker stops before its next unit, its units released.
    public func run() async throws {
        try store.registerWorker(id, units: plan.units)
        logger.info("worker started", metadata: ["event": "worker.started", "units": .string(plan.units.map(\.description).joined(separator: ","))])
        updateGauges()
        // Another worker's unit done, or a round started: claim at once rather than at the next poll.
        let wakeup = self.wakeup
        let listening = store.listenForWork { await wakeup.signal() }
        defer { listening?.cancel() }
        do {
            while !stopFlag.isSet && !Task.isCancelled {
                if try await step() { continue }
                await wakeup.wait(seconds: settings.poll, sleep: { try await Task.sleep(nanoseconds: UInt64($0 * 1e9)) })
            }
        } catch let newer as HubFromNewerHubctl {
            // Released for the newer workers rather than left to their leases; the tables touched
            // are the workers' own, which a newer step is unlikely to have changed (best effort).
            try? store.retireWorker(id)
            writeMetricsFile()
            logger.critical("the hub \(newer.whileOpen); stopping", metadata: ["event": "worker.hub_upgraded"])
            throw newer
        }
        try store.retireWorker(id)
        writeMetricsFile()
        logger.info("worker stopped", metadata: ["event": "worker.stopped"])
    }

    /// Claims one unit and runs it. False when nothing was claimed: every unit of the round is
    /// done or held, the next round is not due, a run holds the hub, or the claim failed (logged).
    /// - Throws: ``HubFromNewerHubctl`` when the hub holds a step this hubctl does not know (a
    ///   unit just claimed is released first).
    public func step() async throws -> Bool {
        let outcome: ClaimOutcome
        do {
            outcome = try store.claimUnit(worker: id, plan: plan, interval: roundInterval(now: clock.now()), lease: settings.lease,
                                          runLockStaleAfter: settings.runLockStaleAfter, now: clock.now())
        } catch {
            logger.error("cannot claim a unit: \(secrets.redact(String(describing: error)))", metadata: ["event": "worker.claim_failed"])
            return false
        }
        switch outcome {
        case .claimed(let claim):
            state.withLock { $0.lastHolder = "" }
            do {
                try checkUpgrade(round: claim.round)
            } catch {
                try? store.releaseUnit(claim)
                throw error
            }
            claimed(claim)
            await work(claim)
            return true
        case .idle:
            try checkUpgrade(round: nil)
            return false
        case .runLocked(let holder):
            let first = state.withLock { state in
                defer { state.lastHolder = holder.description }
                return state.lastHolder != holder.description
            }
            if first {
                logger.notice("the hub is held by \(holder); claiming nothing meanwhile", metadata: ["event": "worker.locked"])
            }
            return false
        }
    }

    /// Throws ``HubFromNewerHubctl`` when the hub holds a step this hubctl does not know. Checked
    /// once per round (`round`: the round of a unit just claimed), and at most once per
    /// ``upgradeCheckInterval`` while there is nothing to claim (`round` nil). A check that
    /// cannot read the hub is logged and tried again at the next occasion.
    func checkUpgrade(round: Int64?) throws {
        let now = clock.now()
        let due = state.withLock { state in
            if let round { return state.checkedRound != round }
            return state.checkedAt.map { now.timeIntervalSince($0) >= Self.upgradeCheckInterval } ?? true
        }
        guard due else { return }
        do {
            try store.refuseIfUpgraded()
        } catch let newer as HubFromNewerHubctl {
            throw newer
        } catch {
            logger.error("cannot check the hub's version: \(secrets.redact(String(describing: error)))",
                         metadata: ["event": "worker.version_check_failed"])
            return
        }
        state.withLock { state in
            state.checkedAt = now
            if let round { state.checkedRound = round }
        }
    }

    /// A claim's round and takeover, in the metrics; the gauges read from the hub again when the round is new.
    func claimed(_ claim: UnitClaim) {
        metrics.round(claim.round)
        if let previous = claim.previousOwner {
            metrics.takeover(claim.unit.phase)
            logger.notice("unit taken over from worker \(previous), whose lease had run out",
                          metadata: ["event": "unit.taken_over", "unit": .string(claim.unit.description),
                                     "previous_owner": .string(previous)])
        }
        let newRound = state.withLock { state in
            defer { state.round = claim.round }
            return state.round != claim.round
        }
        if newRound { updateGauges() }
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
        let started = clock.now()
        // The run's result (`hubctl_runs_total`) and the unit's outcome (`hubctl_worker_units_total`).
        var result = "error", outcome = "error"
        do {
            let pullScope: [SystemName: Set<EntityName>]?
            switch try decide(claim, now: started) {
            case .skip(let reason):
                heartbeat.cancel()
                if try store.skipUnit(claim) {
                    logger.info("unit skipped: \(reason)", metadata: ["event": "unit.skipped"])
                    metrics.unit(claim.unit.phase, outcome: "skipped")
                } else {
                    logger.warning("unit taken over before it was skipped", metadata: ["event": "unit.lease_lost"])
                    metrics.unit(claim.unit.phase, outcome: "lease_lost")
                }
                writeMetricsFile()
                return
            case .run(let scope):
                pullScope = scope
            }
            let options = SyncOptions(pullScope: pullScope, stopRequested: { stop.isSet || lost.isSet || Task.isCancelled })
            let report = try await runUnit(claim, options)
            heartbeat.cancel()
            metrics.records(report)
            result = (report.stopped ? RunStatus.stopped : report.status).rawValue
            if report.stopped {
                outcome = lost.isSet ? "lease_lost" : "stopped"
                try store.releaseUnit(claim)
                logger.info("unit stopped before its end; released", metadata: ["event": "unit.released", "run_id": .string(report.runID.rawValue)])
            } else if try store.completeUnit(claim, run: report.runID) {
                outcome = report.status.rawValue
                recordSchedule(claim, report, startedAt: started)
                var metadata: Logger.Metadata = ["event": "unit.done", "run_id": .string(report.runID.rawValue),
                                                 "status": .string(report.status.rawValue)]
                // Why the unit's system failed (already redacted), so that the log says what to fix.
                if let error = report.systemErrors[claim.unit.system] { metadata["error"] = .string(secrets.redact(error)) }
                logger.info("unit done: \(report.status.rawValue)", metadata: metadata)
            } else {
                outcome = "lease_lost"
                logger.warning("unit finished after its lease was taken over; its last writes were refused",
                               metadata: ["event": "unit.lease_lost"])
            }
        } catch let fenced as FencedOut {
            // The engine recorded the unit's run as stopped.
            (result, outcome) = (RunStatus.stopped.rawValue, "fenced")
            try? store.noteFencedWrite(worker: id)
            logger.warning("hub write refused: \(fenced)", metadata: ["event": "unit.fenced"])
        } catch {
            logger.error("unit failed: \(secrets.redact(String(describing: error)))", metadata: ["event": "unit.failed"])
            try? store.releaseUnit(claim)
        }
        metrics.cycle(result: result, seconds: clock.now().timeIntervalSince(started))
        metrics.unit(claim.unit.phase, outcome: outcome)
        writeMetricsFile()
    }

    /// After a pull unit: the schedule state covering its entity (the entity's own schedule, or
    /// its system's), succeeded or failed (for `hubctl status`), and its metrics as `hubctl run`
    /// counts them for a target it read.
    func recordSchedule(_ claim: UnitClaim, _ report: SyncReport, startedAt: Date) {
        guard claim.unit.phase == .pull, let target = covering(claim.unit) else { return }
        let now = clock.now()
        do {
            let state = try store.scheduleStates().first { $0.system == target.system && $0.entity == target.entity }
                ?? ScheduleStateRecord(system: target.system, entity: target.entity)
            if state.consecutiveFailures > 0 { metrics.retry(target) }
            var next: ScheduleStateRecord
            if let error = report.systemErrors[claim.unit.system] {
                metrics.failure(target)
                next = planner.failed(state, at: now, error: error)
            } else {
                next = planner.succeeded(state, at: now)
            }
            // A trigger woke the target while this unit read it (the read may have passed the
            // change before it was made): it stays due, as `hubctl run` keeps it woken.
            if let woken = state.nextDueAt, woken > startedAt, woken <= now { next.nextDueAt = woken }
            try store.saveScheduleStates([next])
            metrics.state(target, next, lag: state.nextDueAt.map { startedAt.timeIntervalSince($0) } ?? 0)
        } catch {
            logger.error("cannot record the schedule in the hub: \(secrets.redact(String(describing: error)))",
                         metadata: ["event": "schedule.save_failed"])
        }
    }

    /// The schedule target that reads a pull unit's entity: the entity's own, or its system's.
    func covering(_ unit: WorkUnit) -> ScheduleTarget? {
        let targets = planner.targets(of: unit.system)
        return targets.first { $0.entity != nil && $0.entity == unit.entity } ?? targets.first { $0.entity == nil }
    }

    /// Every target's schedule gauges and the open quarantine and conflicts, read from the hub
    /// (other workers change them too): when the worker starts and once per round.
    func updateGauges() {
        metrics.update(from: store, planner: planner)
    }

    func writeMetricsFile() {
        guard let metricsFile else { return }
        do {
            try metrics.write(to: metricsFile)
        } catch {
            logger.error("\(error)", metadata: ["event": "metrics.write_failed"])
        }
    }
}
