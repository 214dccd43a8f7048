import Foundation
import HubCore
import HubStore
import HubTopology

/// Where every system and entity stands under `hubctl run`: `hubctl status` and the dashboard's
/// overview read it from here.
public struct StatusReport: Sendable {
    /// The state of one system × entity.
    public enum State: String, Sendable, CaseIterable {
        /// Synced, next read not overdue.
        case onTime = "on_time"
        /// Its read is overdue by more than one interval (the run is stopped, stuck or behind).
        case delayed
        /// Its last read failed; it is retried with a growing backoff.
        case failing
        /// A schema change holds it until a person looks (`hubctl schema-drift`, docs/systems.md).
        case paused
        /// `hubctl run` has not read it yet.
        case notRun = "not_run"
    }

    /// One system × entity.
    public struct Row: Sendable {
        public var system: SystemName
        public var entity: EntityName
        /// The schedule that reads it (the system's, or the entity's own); nil for a system
        /// that is only written to.
        public var schedule: Schedule?
        public var state: State
        public var lastSuccessAt: Date?
        public var lastAttemptAt: Date?
        public var nextRunAt: Date?
        /// How far past its next run it is, in seconds (0 when not due yet).
        public var lagSeconds: Double
        public var consecutiveFailures: Int
        public var lastError: String?
        public var openQuarantine: Int
        /// Open conflicts of the entity (conflicts belong to an entity, not to one system).
        public var openConflicts: Int
    }

    public var generatedAt: Date
    public var rows: [Row]

    /// True when every system × entity is on time.
    public var healthy: Bool { rows.allSatisfy { $0.state == .onTime } }

    /// Reads the hub's schedule states, quarantine, conflicts and schema drift for `planner`'s
    /// topology.
    public static func compute(planner: SchedulePlanner, store: HubStore, now: Date) throws -> StatusReport {
        var states: [ScheduleTarget: ScheduleStateRecord] = [:]
        for s in try store.scheduleStates() { states[ScheduleTarget(system: s.system, entity: s.entity)] = s }
        let quarantine = try store.openQuarantineCounts()
        let conflicts = try store.openConflictCounts()
        let paused = try store.read { tx in
            Set(try tx.openSchemaDrift().filter(\.pauses).map { "\($0.system.rawValue)\u{0}\($0.entity.rawValue)" })
        }
        var rows: [Row] = []
        for system in planner.topology.systems {
            for mapping in system.entities {
                let pulls = system.direction.pulls
                let target = ScheduleTarget(system: system.name, entity: mapping.schedule == nil ? nil : mapping.entity)
                let schedule = pulls ? planner.schedule(for: target) : nil
                let state = states[target]
                let lag = state?.nextDueAt.map { max(0, now.timeIntervalSince($0)) } ?? 0
                var s: State
                if paused.contains("\(system.name.rawValue)\u{0}\(mapping.entity.rawValue)") {
                    s = .paused
                } else if let state, state.consecutiveFailures > 0 {
                    s = .failing
                } else if state?.lastSuccessAt == nil {
                    s = .notRun
                } else if let schedule, lag > max(schedule.every, 60) {
                    s = .delayed
                } else {
                    s = .onTime
                }
                rows.append(Row(system: system.name, entity: mapping.entity, schedule: schedule, state: s,
                                lastSuccessAt: state?.lastSuccessAt, lastAttemptAt: state?.lastAttemptAt,
                                nextRunAt: state?.nextDueAt, lagSeconds: lag,
                                consecutiveFailures: state?.consecutiveFailures ?? 0, lastError: state?.lastError,
                                openQuarantine: quarantine[system.name]?[mapping.entity] ?? 0,
                                openConflicts: conflicts[mapping.entity] ?? 0))
            }
        }
        return StatusReport(generatedAt: now, rows: rows)
    }

    /// The report as the `result` of `hubctl status --json`.
    public var json: Value {
        func time(_ d: Date?) -> Value { d.map { .string(Timestamp.string($0)) } ?? .null }
        return .object([
            "healthy": .bool(healthy),
            "systems": .array(rows.map { r in
                .object([
                    "system": .string(r.system.rawValue), "entity": .string(r.entity.rawValue), "state": .string(r.state.rawValue),
                    "every_seconds": r.schedule.map { .double($0.every) } ?? .null,
                    "last_success_at": time(r.lastSuccessAt), "last_attempt_at": time(r.lastAttemptAt),
                    "next_run_at": time(r.nextRunAt), "lag_seconds": .double((r.lagSeconds * 1000).rounded() / 1000),
                    "consecutive_failures": .int(Int64(r.consecutiveFailures)),
                    "last_error": r.lastError.map(Value.string) ?? .null,
                    "open_quarantine": .int(Int64(r.openQuarantine)), "open_conflicts": .int(Int64(r.openConflicts)),
                ])
            }),
        ])
    }
}
