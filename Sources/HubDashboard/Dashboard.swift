import Foundation
import HubAudit
import HubCore
import HubSchedule
import HubStore
import HubTopology

/// Reads what the dashboard's pages show from the hub, through HubStore's public queries.
///
/// Page models are plain values; rendering them to HTML is ``DashboardPages``' job.
public struct Dashboard: Sendable {
    public let topology: Topology
    public let store: HubStore
    /// The schedule of systems whose topology names none (`hubctl run --every`), for the
    /// overview's next run and delayed state.
    public let defaultSchedule: Schedule
    let clock: WallClock

    public init(topology: Topology, store: HubStore, defaultSchedule: Schedule = .standard, clock: WallClock = .system) {
        self.topology = topology
        self.store = store
        self.defaultSchedule = defaultSchedule
        self.clock = clock
    }

    /// How many runs the activity chart draws.
    public static let recentRuns = 30

    /// Text safe to show: every secret of the topology replaced by `*****`.
    func redact(_ text: String) -> String { topology.secrets.redact(text) }

    /// The time now, as the hub writes it.
    func now() -> String { Timestamp.string(clock.now()) }
}

// MARK: - Overview

/// The overview page: one row per system × entity, and the activity of the last runs.
public struct Overview: Sendable {
    public var rows: [Row]
    public var activity: [RunActivity]
    public var openConflicts: Int
    public var openQuarantine: Int
    public var entityCounts: [EntityName: Int]
    public var generatedAt: String

    /// One system × entity.
    public struct Row: Sendable {
        /// Where it stands under the schedule (`hubctl status`): state, last success, next run, lag.
        public var status: StatusReport.Row
        public var direction: Direction
        public var system: SystemName { status.system }
        public var entity: EntityName { status.entity }
        public var state: StatusReport.State { status.state }
        /// Why the state is failing (its last error, redacted) or paused.
        public var detail: String? {
            switch status.state {
            case .failing: status.lastError
            case .paused: "a schema change holds it (hubctl schema-drift)"
            default: nil
            }
        }
        public var linked: Int
        /// Linked records over the hub's live entities of the kind (nil when the hub has none).
        public var coverage: Double?
        /// Creates sent but not answered, and hub changes not pushed yet.
        public var pendingWrites: Int
        /// Open quarantine entries of pushes (writes the system refused).
        public var failedWrites: Int
        public var openConflicts: Int
        public var quarantined: Int
    }
}

extension Dashboard {
    /// Reads the overview: each system × entity's ``StatusReport`` row (the same as
    /// `hubctl status`) with its links, pending and failed writes, conflicts and quarantine.
    public func overview() throws -> Overview {
        let now = clock.now()
        var status = try StatusReport.compute(planner: SchedulePlanner(topology: topology, defaultSchedule: defaultSchedule),
                                              store: store, now: now)
        for i in status.rows.indices { status.rows[i].lastError = status.rows[i].lastError.map(redact) }
        return try store.read { tx in
            let tallies = try tx.linkTallies()
            let counts = try tx.liveEntityCounts()
            let quarantine = try tx.openQuarantine(limit: 100_000)
            let conflicts = try tx.conflicts(openOnly: true, limit: 100_000)
            var rows: [Overview.Row] = []
            for row in status.rows {
                guard let system = topology.system(row.system) else { continue }
                let entity = row.entity
                let tally = tallies.first { $0.system == system.name && $0.entity == entity }
                var pending = tally?.pending ?? 0
                // Hub changes past the push mark, once the system has been pushed to.
                if system.direction.pushes {
                    let mark = try tx.pushMark(system: system.name, entity: entity)
                    if mark > 0 { pending += try tx.countChanged(entity, after: mark) }
                }
                let mine = quarantine.filter { $0.system == system.name && $0.entity == entity }
                let live = counts[entity] ?? 0
                rows.append(Overview.Row(
                    status: row, direction: system.direction, linked: tally?.linked ?? 0,
                    coverage: live > 0 ? Double(tally?.linked ?? 0) / Double(live) : nil, pendingWrites: pending,
                    failedWrites: mine.filter { $0.direction == .push }.count,
                    openConflicts: conflicts.filter { $0.entity == entity && $0.candidates[system.name.rawValue] != nil }.count,
                    quarantined: mine.count))
            }
            return Overview(rows: rows, activity: try tx.activity(lastRuns: Self.recentRuns), openConflicts: conflicts.count,
                            openQuarantine: quarantine.count, entityCounts: counts, generatedAt: Timestamp.string(now))
        }
    }
}
