import Foundation
import HubCore
import HubStore

extension SchedulePlanner {
    /// The schedule states after a cycle run outside `hubctl run` (`sync-all`, `demo`): every
    /// target the cycle read fully (its system in `systems`, and all its entities in `entities`
    /// when the cycle was limited to some) succeeded at `now`, or failed with its system's error.
    /// So `hubctl status` and the dashboard show a hub synced by hand or by cron as it is.
    public func afterCycle(_ states: [ScheduleStateRecord], systems: Set<SystemName>?, entities: Set<EntityName>?,
                           errors: [SystemName: String], at now: Date) -> [ScheduleStateRecord]
    {
        let current = Dictionary(states.map { (ScheduleTarget(system: $0.system, entity: $0.entity), $0) }, uniquingKeysWith: { a, _ in a })
        return targets.compactMap { entry -> ScheduleStateRecord? in
            let target = entry.target
            guard systems?.contains(target.system) ?? true else { return nil }
            if let entities, !self.entities(of: target).isSubset(of: entities) { return nil }
            let state = current[target] ?? ScheduleStateRecord(system: target.system, entity: target.entity)
            if let error = errors[target.system] { return failed(state, at: now, error: error) }
            return succeeded(state, at: now)
        }
    }
}
