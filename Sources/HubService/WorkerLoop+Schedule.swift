import Foundation
import HubCore
import HubSchedule
import HubStore

/// What a worker does with a unit it claimed.
enum UnitDecision: Sendable, Equatable {
    /// Run it, reading only `pullScope` when set (a push to a system not read this round).
    case run(pullScope: [SystemName: Set<EntityName>]?)
    /// Mark it done for the round without running it, for this reason.
    case skip(String)
}

extension WorkerLoop {
    /// How long after a round began the next may start, for ``HubStore/claimUnit(worker:plan:interval:lease:runLockStaleAfter:now:)``:
    /// at once (as soon as every unit of this one is done) when a system or entity is due by its
    /// schedule, else only when a trigger asks (``wake(_:trigger:)``) — as `hubctl run` runs a
    /// cycle only when something is due. A hub that cannot be read starts no round.
    func roundInterval(now: Date) -> TimeInterval {
        let due = (try? scheduleStates()).map { !planner.due($0, at: now).isEmpty } ?? false
        return due ? 0 : Self.notDue
    }

    /// An interval no round waits for: only a trigger starts the next round.
    static let notDue: TimeInterval = 100 * 365 * 86400

    /// The hub's schedule states under the schedules in force now (as `hubctl run` loads them).
    func scheduleStates() throws -> [ScheduleTarget: ScheduleStateRecord] {
        var states: [ScheduleTarget: ScheduleStateRecord] = [:]
        for s in try store.scheduleStates() { states[ScheduleTarget(system: s.system, entity: s.entity)] = planner.reconciled(s) }
        return states
    }

    /// Whether a claimed unit runs in its round, mirroring `hubctl run`'s targeted cycle (read
    /// what is due, push to every system):
    ///
    /// - `pull:S/E` follows the first decision the round took for the schedule target covering E
    ///   (E's own, or S's): run when another entity of the target was read this round (its
    ///   success moved the target's next read on), skipped when one was skipped, so that a round
    ///   reads a target whole or not at all; the target's first unit runs when it is due now.
    /// - `pull-deletes:S` runs when a pull unit of S ran this round; else there is nothing to apply.
    /// - `push:S/E` always runs. When pulls of S were skipped this round, it runs with a pull
    ///   scope without them, so that the records of S it is about to write are fetched and
    ///   merged first (an edit in S that the hub has not read is settled, never overwritten).
    /// - `push-deletes:S` always runs.
    func decide(_ claim: UnitClaim, now: Date) throws -> UnitDecision {
        let unit = claim.unit
        switch unit.phase {
        case .pull:
            guard let target = covering(unit) else { return .run(pullScope: nil) }
            let states = try scheduleStates()
            // Read after the states: a sibling that completed before they were read is seen here.
            let entities = planner.entities(of: target)
            let round = try store.roundUnits(claim.round)
            let sibling = { (units: Set<WorkUnit>) in
                units.contains { $0.phase == .pull && $0.system == unit.system && $0.entity.map(entities.contains) == true }
            }
            if sibling(round.ran) { return .run(pullScope: nil) }
            if sibling(round.skipped) { return .skip("\(target) was not due when this round came to it; the next round reads it whole") }
            if planner.due(states, at: now).contains(target) { return .run(pullScope: nil) }
            let next = states[target]?.nextDueAt.map { " (next read at \(Timestamp.string($0)))" } ?? ""
            return .skip("\(target) is not due\(next)")
        case .pullDeletes:
            let ran = try store.roundUnits(claim.round).ran
            if ran.contains(where: { $0.phase == .pull && $0.system == unit.system }) { return .run(pullScope: nil) }
            return .skip("no entity of \(unit.system.rawValue) was read this round")
        case .push:
            let skipped = try store.roundUnits(claim.round).skipped.filter { $0.phase == .pull && $0.system == unit.system }
            guard !skipped.isEmpty, let system = planner.topology.system(unit.system) else { return .run(pullScope: nil) }
            let read = Set(system.entities.map(\.entity)).subtracting(skipped.compactMap(\.entity))
            return .run(pullScope: [unit.system: read])
        case .pushDeletes:
            return .run(pullScope: nil)
        }
    }

    /// Makes `targets` due at `now` in the hub (a trigger woke their system). A read of them in
    /// progress keeps them due when it ends (see `recordSchedule`).
    func makeDue(_ targets: [ScheduleTarget], at now: Date) throws {
        let stored = try store.scheduleStates()
        let changed = targets.map { target in
            var state = stored.first { $0.system == target.system && $0.entity == target.entity }
                ?? ScheduleStateRecord(system: target.system, entity: target.entity)
            state.nextDueAt = now
            return state
        }
        try store.saveScheduleStates(changed)
    }
}
