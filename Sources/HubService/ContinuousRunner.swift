import Foundation
import HubCore
import HubSchedule
import HubStore
import HubSync
import HubTopology
import Logging

/// What one cycle of `hubctl run` did.
public struct CycleOutcome: Sendable {
    /// The targets whose systems were read this cycle.
    public var targets: [ScheduleTarget]
    /// `ok`, `partial`, `failed`, `stopped`, `locked` (another run held the hub) or `error`
    /// (the run itself could not complete).
    public var result: String
    public var report: SyncReport?
    public var seconds: Double
    /// Why the cycle could not run (`locked`, `error`), redacted.
    public var error: String?

    /// The exit code a `--once` run ends with: 0 ok or stopped, 3 partial, 1 failed or error, 75 locked.
    public var exitCode: Int32 {
        switch result {
        case "ok", "stopped": return 0
        case "partial": return 3
        case "locked": return 75
        default: return 1
        }
    }
}

/// Keeps a topology in sync: runs a targeted cycle whenever a system falls due by its schedule
/// or is woken by a trigger (webhook, notification), backs failing systems off, and records
/// every system's schedule state in the hub.
///
/// The cycle itself is the engine's (`SyncEngine.syncAll` with a pull scope): read the due
/// systems and entities, push to every system. Triggers only make a system due sooner; the
/// cursor-based read is what finds the changes, so a lost trigger costs latency, never data.
public actor ContinuousRunner {
    public nonisolated let planner: SchedulePlanner
    let store: HubStore
    let sync: @Sendable (SyncOptions) async throws -> SyncReport
    let clock: WallClock
    let sleep: @Sendable (TimeInterval) async throws -> Void
    let logger: Logger
    public nonisolated let metrics: RunMetrics
    let metricsFile: String?
    /// Told after every page of a cycle (the progress line on a terminal).
    let progress: (@Sendable (SyncProgress) -> Void)?
    /// How long to wait before trying again when another run holds the hub.
    let lockRetry: TimeInterval
    public nonisolated let stopFlag = StopFlag()
    let wakeup = Wakeup()

    private var states: [ScheduleTarget: ScheduleStateRecord] = [:]
    private var loaded = false
    /// Systems woken by a trigger, with the trigger and when its first delivery arrived.
    private var woken: [SystemName: (trigger: String, at: Date)] = [:]
    private var lockedUntil: Date?
    private var cycles = 0

    public init(planner: SchedulePlanner, store: HubStore, clock: WallClock = .system,
                sleep: @escaping @Sendable (TimeInterval) async throws -> Void = { try await Task.sleep(nanoseconds: UInt64(max(0, $0) * 1e9)) },
                logger: Logger, metrics: RunMetrics = RunMetrics(), metricsFile: String? = nil, lockRetry: TimeInterval = 2,
                progress: (@Sendable (SyncProgress) -> Void)? = nil,
                sync: @escaping @Sendable (SyncOptions) async throws -> SyncReport) {
        self.progress = progress
        self.planner = planner
        self.store = store
        self.clock = clock
        self.sleep = sleep
        self.logger = logger
        self.metrics = metrics
        self.metricsFile = metricsFile
        self.lockRetry = lockRetry
        self.sync = sync
    }

    /// The schedule states as they stand.
    public var currentStates: [ScheduleTarget: ScheduleStateRecord] { states }

    /// How many cycles ran (locked attempts included).
    public var cycleCount: Int { cycles }

    /// Makes `system` due now (a webhook or a notification arrived at `at`).
    public func wake(_ system: SystemName, trigger: String, at: Date) async {
        guard !planner.targets(of: system).isEmpty else { return }
        metrics.wakeup(trigger: trigger, system: system)
        if woken[system] == nil { woken[system] = (trigger, at) }
        logger.debug("woken", metadata: ["event": "trigger.wake", "system": .string(system.rawValue), "trigger": .string(trigger)])
        await wakeup.signal()
    }

    /// Asks the loop to stop: the current cycle stops after its current page, and `run` returns.
    public nonisolated func requestStop() {
        stopFlag.raise()
        Task { await wakeup.signal() }
    }

    /// Runs cycles until `requestStop`.
    public func run() async {
        logger.info("hubctl run started", metadata: ["event": "run.started",
                                                       "systems": .string(planner.targets.map(\.target.description).joined(separator: ","))])
        try? loadStates()
        updateGauges(lags: [:])
        // Cancelled (the listener failed to start, say): stop as on SIGTERM.
        while !stopFlag.isSet && !Task.isCancelled {
            if await runOnce() != nil { continue }
            let now = clock.now()
            var next = planner.nextDue(states) ?? now.addingTimeInterval(60)
            if let lockedUntil, lockedUntil > next { next = lockedUntil }
            // Wake at least once a minute to look again (the clock may jump).
            let wait = min(60, max(0.001, next.timeIntervalSince(now)))
            await wakeup.wait(seconds: wait, sleep: sleep)
        }
        if let metricsFile { try? metrics.write(to: metricsFile) }
        logger.info("hubctl run stopped", metadata: ["event": "run.stopped"])
    }

    /// Runs one cycle over the targets due now (and the woken ones); nil when none is due.
    public func runOnce() async -> CycleOutcome? {
        try? loadStates()
        let now = clock.now()
        // Held by another run: wait out the retry time, woken systems included (they stay woken).
        if let lockedUntil, now < lockedUntil { return nil }
        let wokenNow = woken
        var due = Set(planner.due(states, at: now))
        for system in wokenNow.keys { due.formUnion(planner.targets(of: system)) }
        guard !due.isEmpty, !stopFlag.isSet else { return nil }
        woken = [:]
        let targets = due.sorted()
        let lags = Dictionary(uniqueKeysWithValues: targets.map { t in
            (t, states[t]?.nextDueAt.map { now.timeIntervalSince($0) } ?? 0)
        })
        cycles += 1
        var logger = self.logger
        logger[metadataKey: "cycle"] = .stringConvertible(cycles)
        let stop = stopFlag
        let options = SyncOptions(pullScope: planner.pullScope(targets), stopRequested: { stop.isSet || Task.isCancelled }, progress: progress)
        logger.info("cycle started", metadata: ["event": "cycle.started",
                                                 "targets": .string(targets.map(\.description).joined(separator: ","))])
        var outcome: CycleOutcome
        var touched = targets
        do {
            let report = try await sync(options)
            let end = clock.now()
            outcome = CycleOutcome(targets: targets, result: (report.stopped ? RunStatus.stopped : report.status).rawValue, report: report,
                                   seconds: end.timeIntervalSince(now))
            lockedUntil = nil
            touched = record(report, targets: targets, at: end, logger)
            metrics.records(report)
            for (system, trigger) in wokenNow where report.systemErrors[system] == nil && !report.stopped {
                metrics.triggerLatency(trigger: trigger.trigger, system: system, seconds: end.timeIntervalSince(trigger.at))
            }
            log(report, outcome, logger)
        } catch let locked as HubLocked {
            // Another run holds the hub: nothing was read; try again shortly, woken systems included.
            for (system, trigger) in wokenNow where woken[system] == nil { woken[system] = trigger }
            lockedUntil = now.addingTimeInterval(lockRetry)
            outcome = CycleOutcome(targets: targets, result: "locked", seconds: clock.now().timeIntervalSince(now),
                                   error: locked.description)
            logger.notice("the hub is held by another run; trying again in \(DurationText.text(lockRetry))",
                          metadata: ["event": "cycle.locked", "holder": .string(locked.holder.description)])
        } catch is CancellationError {
            // The process is shutting down: nothing failed, what was due stays due.
            outcome = CycleOutcome(targets: targets, result: "stopped", seconds: clock.now().timeIntervalSince(now))
        } catch {
            let message = planner.topology.secrets.redact(String(describing: error))
            let end = clock.now()
            for t in targets { update(t) { planner.failed($0, at: end, error: message) } }
            outcome = CycleOutcome(targets: targets, result: "error", seconds: end.timeIntervalSince(now), error: message)
            logger.error("the cycle failed: \(message)", metadata: ["event": "cycle.error"])
        }
        metrics.cycle(result: outcome.result, seconds: outcome.seconds)
        updateGauges(lags: lags)
        do {
            try store.saveScheduleStates(touched.compactMap { states[$0] })
        } catch {
            logger.error("cannot record the schedule in the hub: \(error)", metadata: ["event": "schedule.save_failed"])
        }
        if let metricsFile {
            do {
                try metrics.write(to: metricsFile)
            } catch {
                logger.error("\(error)", metadata: ["event": "metrics.write_failed"])
            }
        }
        return outcome
    }

    /// Marks each target's success or failure by the report. A system only pushed to this
    /// cycle that failed is marked failing too (its next read stays when it was); a system that
    /// is only ever written to gets a state of its own (no next run).
    func record(_ report: SyncReport, targets: [ScheduleTarget], at now: Date, _ logger: Logger) -> [ScheduleTarget] {
        var touched = targets
        let due = Set(targets)
        for system in planner.topology.systems {
            let own = system.direction.pulls ? planner.targets(of: system.name).filter { !due.contains($0) }
                : [ScheduleTarget(system: system.name)]
            for t in own {
                if let error = report.systemErrors[system.name] {
                    update(t) { state in
                        var s = state
                        s.lastAttemptAt = now
                        s.lastFailureAt = now
                        s.lastError = error
                        s.consecutiveFailures += 1
                        return s
                    }
                    touched.append(t)
                } else if !system.direction.pulls && !report.stopped {
                    update(t) { state in
                        var s = planner.succeeded(state, at: now)
                        s.nextDueAt = nil
                        return s
                    }
                    touched.append(t)
                }
            }
        }
        for t in targets {
            if let error = report.systemErrors[t.system] {
                if (states[t]?.consecutiveFailures ?? 0) > 0 { metrics.retry(t) }
                update(t) { planner.failed($0, at: now, error: error) }
                metrics.failure(t)
                let next = states[t]?.nextDueAt.map(Timestamp.string) ?? ""
                logger.warning("\(t) failed; next try at \(next)",
                               metadata: ["event": "system.failed", "system": .string(t.system.rawValue),
                                          "entity": .string(t.entity?.rawValue ?? ""), "error": .string(error),
                                          "consecutive_failures": .stringConvertible(states[t]?.consecutiveFailures ?? 0)])
            } else if report.stopped {
                continue  // still due: the next start reads it again from its cursor
            } else {
                if (states[t]?.consecutiveFailures ?? 0) > 0 {
                    metrics.retry(t)
                    logger.notice("\(t) recovered", metadata: ["event": "system.recovered", "system": .string(t.system.rawValue),
                                                                "entity": .string(t.entity?.rawValue ?? "")])
                }
                update(t) { planner.succeeded($0, at: now) }
            }
        }
        return touched
    }

    func update(_ target: ScheduleTarget, _ change: (ScheduleStateRecord) -> ScheduleStateRecord) {
        let current = states[target] ?? ScheduleStateRecord(system: target.system, entity: target.entity)
        states[target] = change(current)
    }

    func loadStates() throws {
        guard !loaded else { return }
        for s in try store.scheduleStates() {
            states[ScheduleTarget(system: s.system, entity: s.entity)] = planner.reconciled(s)
        }
        loaded = true
    }

    func updateGauges(lags: [ScheduleTarget: Double]) {
        for (target, _) in planner.targets {
            guard let state = states[target] else { continue }
            metrics.state(target, state, lag: lags[target])
        }
        metrics.updateBacklog(from: store, topology: planner.topology)
    }

    func log(_ report: SyncReport, _ outcome: CycleOutcome, _ logger: Logger) {
        let run = Logger.MetadataValue.string(report.runID.rawValue)
        for row in report.rows where row.pull.read + row.pull.created + row.pull.updated + row.pull.deleted + row.push.created
            + row.push.updated + row.push.deleted + row.pull.failed + row.push.failed > 0 {
            logger.info("\(row.system.rawValue).\(row.entity.rawValue) synced",
                        metadata: ["event": "entity.synced", "run_id": run, "system": .string(row.system.rawValue),
                                   "entity": .string(row.entity.rawValue),
                                   "read": .stringConvertible(row.pull.read),
                                   "pulled_created": .stringConvertible(row.pull.created),
                                   "pulled_updated": .stringConvertible(row.pull.updated),
                                   "pulled_deleted": .stringConvertible(row.pull.deleted),
                                   "pushed_created": .stringConvertible(row.push.created),
                                   "pushed_updated": .stringConvertible(row.push.updated),
                                   "pushed_deleted": .stringConvertible(row.push.deleted),
                                   "failed": .stringConvertible(row.pull.failed + row.push.failed)])
        }
        for q in report.quarantined {
            logger.warning("record quarantined: \(q.message)",
                           metadata: ["event": "record.quarantined", "run_id": run, "system": .string(q.system.rawValue),
                                      "entity": .string(q.entity.rawValue), "reason": .string(q.reason.rawValue)])
        }
        let totals = report.totals
        logger.info("cycle finished: \(outcome.result)",
                    metadata: ["event": "cycle.finished", "run_id": run, "result": .string(outcome.result),
                               "seconds": .stringConvertible((outcome.seconds * 1000).rounded() / 1000),
                               "read": .stringConvertible(totals.pull.read),
                               "written": .stringConvertible(totals.push.created + totals.push.updated + totals.push.deleted),
                               "targets": .string(outcome.targets.map(\.description).joined(separator: ","))])
    }
}
