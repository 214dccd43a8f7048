import Foundation
import HubAudit
import HubCore
import HubStore
import HubTopology

/// Reads what the dashboard's pages show from the hub, through HubStore's public queries.
///
/// Page models are plain values; rendering them to HTML is ``DashboardPages``' job.
public struct Dashboard: Sendable {
    public let topology: Topology
    public let store: HubStore
    let clock: WallClock

    public init(topology: Topology, store: HubStore, clock: WallClock = .system) {
        self.topology = topology
        self.store = store
        self.clock = clock
    }

    /// How many runs the overview looks back through for each system's state and last success,
    /// and the activity chart draws.
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
    public struct Row: Sendable, Hashable {
        public enum State: String, Sendable { case onTime = "on time", failing, paused, neverSynced = "never synced" }
        public var system: SystemName
        public var entity: EntityName
        public var direction: Direction
        public var state: State
        /// Why the state is failing or paused (redacted).
        public var detail: String?
        public var lastSuccess: String?
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
    /// Reads the overview.
    public func overview() throws -> Overview {
        try store.read { tx in
            let runs = try tx.runs(limit: Self.recentRuns * 3).filter { !$0.dryRun }
            let tallies = try tx.linkTallies()
            let counts = try tx.liveEntityCounts()
            let quarantine = try tx.openQuarantine(limit: 100_000)
            let conflicts = try tx.conflicts(openOnly: true, limit: 100_000)
            var rows: [Overview.Row] = []
            for system in topology.systems {
                for mapping in system.entities {
                    let entity = mapping.entity
                    let tally = tallies.first { $0.system == system.name && $0.entity == entity }
                    let (state, detail, lastSuccess) = Self.state(of: system.name, entity, in: runs)
                    var pending = tally?.pending ?? 0
                    if system.direction.pushes, state != .neverSynced {
                        pending += try tx.countChanged(entity, after: tx.pushMark(system: system.name, entity: entity))
                    }
                    let mine = quarantine.filter { $0.system == system.name && $0.entity == entity }
                    let live = counts[entity] ?? 0
                    rows.append(Overview.Row(
                        system: system.name, entity: entity, direction: system.direction, state: state,
                        detail: detail.map(redact), lastSuccess: lastSuccess, linked: tally?.linked ?? 0,
                        coverage: live > 0 ? Double(tally?.linked ?? 0) / Double(live) : nil, pendingWrites: pending,
                        failedWrites: mine.filter { $0.direction == .push }.count,
                        openConflicts: conflicts.filter { $0.entity == entity && $0.candidates[system.name.rawValue] != nil }.count,
                        quarantined: mine.count))
                }
            }
            return Overview(rows: rows, activity: try tx.activity(lastRuns: Self.recentRuns), openConflicts: conflicts.count,
                            openQuarantine: quarantine.count, entityCounts: counts, generatedAt: now())
        }
    }

    /// A system × entity's state from the newest run that synced it: failing when the system
    /// failed, paused when a schema change held it; and the newest run it synced without error.
    static func state(of system: SystemName, _ entity: EntityName, in runs: [RunRecord])
        -> (Overview.Row.State, String?, String?)
    {
        var state: Overview.Row.State = .neverSynced
        var detail: String?
        var lastSuccess: String?
        for run in runs {  // newest first
            guard let s = run.report?.objectValue?["systems"]?.objectValue?[system.rawValue]?.objectValue else { continue }
            let failed = s["status"]?.stringValue == "failed"
            let paused = s["entities"]?.objectValue?[entity.rawValue]?.objectValue?["paused"] == .bool(true)
            if state == .neverSynced {
                state = failed ? .failing : paused ? .paused : .onTime
                detail = failed ? s["error"]?.stringValue : paused ? "a schema change paused it (see the run)" : nil
            }
            if !failed && !paused {
                lastSuccess = run.finishedAt ?? run.startedAt
                break
            }
        }
        return (state, detail, lastSuccess)
    }
}
