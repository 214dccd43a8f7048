import HubSchedule
import HubStore
import Metrics

extension RunMetrics {
    /// How a worker's unit ended, by phase (`pull`, `pull-deletes`, `push`, `push-deletes`):
    /// `ok`, `partial`, `failed` (done, by its run's status), `skipped` (not due this round),
    /// `stopped` (released before its end), `lease_lost` (another worker took it over),
    /// `fenced` (the hub refused its write) or `error` (it could not run).
    public func unit(_ phase: WorkUnit.Phase, outcome: String) {
        Counter(label: "hubctl_worker_units_total", dimensions: [("phase", phase.rawValue), ("outcome", outcome)],
                factory: factory).increment()
    }

    /// This worker claimed a unit whose holder's lease had run out (the holder died, stopped, or
    /// lost the hub).
    public func takeover(_ phase: WorkUnit.Phase) {
        Counter(label: "hubctl_worker_lease_takeovers_total", dimensions: [("phase", phase.rawValue)], factory: factory).increment()
    }

    /// The round of this worker's latest claim.
    public func round(_ round: Int64) {
        Gauge(label: "hubctl_worker_round", dimensions: [], factory: factory).record(Double(round))
    }

    /// Every schedule target's gauges from the hub's schedule states, and the backlog (for a
    /// worker: other workers change them too).
    public func update(from store: HubStore, planner: SchedulePlanner) {
        if let states = try? store.scheduleStates() {
            for (target, _) in planner.targets {
                guard let state = states.first(where: { $0.system == target.system && $0.entity == target.entity }) else { continue }
                self.state(target, state, lag: nil)
            }
        }
        updateBacklog(from: store, topology: planner.topology)
    }
}
