import Foundation
import HubCore
import HubStore
import HubTopology

/// Decides when each system (and each entity with a schedule of its own) is read next: the
/// schedule's interval with jitter after a success, an exponential backoff after failures.
///
/// Pure: time and randomness are passed in, so every rule is tested without sleeping.
public struct SchedulePlanner: Sendable {
    public let topology: Topology
    /// The schedule of systems whose topology names none (`hubctl run --every`).
    public let defaultSchedule: Schedule
    /// A number in 0..<1 for each jittered wait.
    let random: @Sendable () -> Double

    public init(topology: Topology, defaultSchedule: Schedule = .standard,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.topology = topology
        self.defaultSchedule = defaultSchedule
        self.random = random
    }

    /// Every target with its schedule: one per system that pulls, plus one per entity that has a
    /// schedule of its own. Systems that are only pushed to need none: every cycle pushes to them.
    public var targets: [(target: ScheduleTarget, schedule: Schedule)] {
        topology.systems.filter(\.direction.pulls).flatMap { system -> [(target: ScheduleTarget, schedule: Schedule)] in
            let own = system.entities.compactMap { mapping in
                mapping.schedule.map { (target: ScheduleTarget(system: system.name, entity: mapping.entity), schedule: $0) }
            }
            let rest = system.entities.contains { $0.schedule == nil }
                ? [(target: ScheduleTarget(system: system.name), schedule: system.schedule ?? defaultSchedule)] : []
            return rest + own
        }
    }

    /// The schedule of a target.
    public func schedule(for target: ScheduleTarget) -> Schedule {
        if let entity = target.entity, let s = topology.system(target.system)?.mapping(for: entity)?.schedule { return s }
        return topology.system(target.system)?.schedule ?? defaultSchedule
    }

    /// The entities a target reads.
    public func entities(of target: ScheduleTarget) -> Set<EntityName> {
        guard let system = topology.system(target.system) else { return [] }
        if let entity = target.entity { return [entity] }
        return Set(system.entities.filter { $0.schedule == nil }.map(\.entity))
    }

    /// `interval` stretched or shortened at random by up to `jitter` of it.
    public func jittered(_ interval: TimeInterval, _ schedule: Schedule) -> TimeInterval {
        interval * (1 + schedule.jitter * (2 * random() - 1))
    }

    /// The wait after the `failures`-th failure in a row: the interval doubled each time,
    /// capped at `max_backoff`.
    public func backoff(after failures: Int, _ schedule: Schedule) -> TimeInterval {
        let doubled = schedule.every * pow(2, Double(max(0, failures - 1)))
        return min(doubled, schedule.maxBackoff)
    }

    /// The state after a successful read at `now`.
    public func succeeded(_ state: ScheduleStateRecord, at now: Date) -> ScheduleStateRecord {
        let schedule = schedule(for: target(of: state))
        var s = state
        s.lastAttemptAt = now
        s.lastSuccessAt = now
        s.lastError = nil
        s.consecutiveFailures = 0
        s.nextDueAt = now.addingTimeInterval(jittered(schedule.every, schedule))
        return s
    }

    /// The state after a failed read at `now`: due again after the backoff.
    public func failed(_ state: ScheduleStateRecord, at now: Date, error: String) -> ScheduleStateRecord {
        let schedule = schedule(for: target(of: state))
        var s = state
        s.lastAttemptAt = now
        s.lastFailureAt = now
        s.lastError = error
        s.consecutiveFailures += 1
        s.nextDueAt = now.addingTimeInterval(jittered(backoff(after: s.consecutiveFailures, schedule), schedule))
        return s
    }

    /// A state read back from the hub, under the schedule in force now: a next run set under a
    /// longer interval (the topology or `--every` changed since) is brought forward.
    public func reconciled(_ state: ScheduleStateRecord) -> ScheduleStateRecord {
        guard let last = state.lastAttemptAt, let next = state.nextDueAt else { return state }
        let schedule = schedule(for: target(of: state))
        let wait = state.consecutiveFailures > 0 ? backoff(after: state.consecutiveFailures, schedule) : schedule.every
        let latest = last.addingTimeInterval(wait * (1 + schedule.jitter))
        var s = state
        if next > latest { s.nextDueAt = latest }
        return s
    }

    /// The targets due at `now`: never read, or past their next due time.
    public func due(_ states: [ScheduleTarget: ScheduleStateRecord], at now: Date) -> [ScheduleTarget] {
        targets.map(\.target).filter { target in
            guard let next = states[target]?.nextDueAt else { return true }
            return next <= now
        }.sorted()
    }

    /// When the next target falls due (nil: no target at all).
    public func nextDue(_ states: [ScheduleTarget: ScheduleStateRecord]) -> Date? {
        targets.map { states[$0.target]?.nextDueAt ?? .distantPast }.min()
    }

    /// The pull scope of a cycle over `targets`: each system with the entities those targets read.
    public func pullScope(_ targets: [ScheduleTarget]) -> [SystemName: Set<EntityName>] {
        var scope: [SystemName: Set<EntityName>] = [:]
        for t in targets { scope[t.system, default: []].formUnion(entities(of: t)) }
        return scope
    }

    /// The targets of `system` (a webhook or a notification wakes all of them).
    public func targets(of system: SystemName) -> [ScheduleTarget] {
        targets.map(\.target).filter { $0.system == system }
    }

    func target(of state: ScheduleStateRecord) -> ScheduleTarget {
        ScheduleTarget(system: state.system, entity: state.entity)
    }
}
