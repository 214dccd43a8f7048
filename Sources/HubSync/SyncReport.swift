import HubCore
import HubStore

/// What a sync run did (or, for a dry run, would do): per system and entity, both directions.
public struct SyncReport: Sendable {
    /// How a run ended.
    /// A run's outcome (`running` only in the hub, while a run is under way).
    public typealias Status = RunStatus

    public var runID: RunID
    public var dryRun: Bool
    public var startedAt: String
    public var finishedAt: String = ""
    /// Rows per system and entity, in topology order.
    public var rows: [Row] = []
    /// Systems that failed this run, with why. Their cursors and push marks did not move.
    public var systemErrors: [SystemName: String] = [:]
    /// For each failed system: per entity, how many hub changes wait to be pushed to it.
    public var deferredPushes: [SystemName: [EntityName: Int]] = [:]
    /// Creates of an earlier, interrupted run found in their systems and linked.
    public var recoveredCreates = 0
    /// Deletes held back by the mass-delete guard, one message per system and entity.
    public var guardTrips: [String] = []
    /// Things an operator should know that needed no person (a delete undone by
    /// `on_referenced_delete: restore`, a cascade), one line each.
    public var notices: [String] = []
    /// Records quarantined this run.
    public var quarantined: [QuarantineEntry] = []
    /// Conflicts settled or parked this run.
    public var conflicts: [ConflictRecord] = []
    /// What a dry run would write, one line each (only for dry runs).
    public var plan: [PlannedWrite] = []
    /// Schema changes this run noticed: new ones, and every one that pauses a system × entity
    /// (nothing read from it or written to it this run).
    public var schemaDrift: [SchemaDriftRecord] = []
    /// The run stopped between two pages when asked to (`SyncOptions.stopRequested`); what it
    /// committed stays, the next run goes on from there.
    public var stopped = false

    public init(runID: RunID, dryRun: Bool, startedAt: String) {
        self.runID = runID
        self.dryRun = dryRun
        self.startedAt = startedAt
    }

    /// Counts for one system and entity.
    public struct Row: Sendable {
        public var system: SystemName
        public var entity: EntityName
        public var pull = RunCounts()
        public var push = RunCounts()

        public init(system: SystemName, entity: EntityName, pull: RunCounts = RunCounts(), push: RunCounts = RunCounts()) {
            self.system = system
            self.entity = entity
            self.pull = pull
            self.push = push
        }
    }

    /// A write a dry run would have made.
    public struct PlannedWrite: Sendable, Hashable {
        public var system: SystemName
        public var entity: EntityName
        /// `create`, `update`, `delete`, `soft-delete`, or `delete (no longer matches the filter)`.
        public var operation: String
        public var externalID: ExternalID?
        public var hubID: HubID?
        /// The system fields that would be written (names only; values stay private).
        public var fields: [String]
    }

    public var openConflicts: Int { conflicts.filter { $0.status == .open }.count }

    /// True when a schema change paused the system × entity this run.
    public func isPaused(_ system: SystemName, _ entity: EntityName) -> Bool {
        schemaDrift.contains { $0.pauses && $0.system == system && $0.entity == entity }
    }

    public var status: Status {
        let anySucceeded = rows.contains { systemErrors[$0.system] == nil }
        if !systemErrors.isEmpty && !anySucceeded { return .failed }
        if !systemErrors.isEmpty || !quarantined.isEmpty || openConflicts > 0 || !guardTrips.isEmpty
            || schemaDrift.contains(where: \.pauses) { return .partial }
        return .ok
    }

    /// The process exit status for this report: ok, partial (3) or failure (1).
    public var exitStatus: ExitStatus {
        switch status {
        case .ok: return .ok
        case .partial: return .partial
        case .failed, .running, .stopped: return .failure
        }
    }

    /// The process exit code for this report: 0 ok, 3 partial, 1 failed.
    public var exitCode: Int32 { exitStatus.rawValue }

    /// Totals over all rows.
    public var totals: (pull: RunCounts, push: RunCounts) {
        rows.reduce((RunCounts(), RunCounts())) { ($0.0 + $1.pull, $0.1 + $1.push) }
    }

    mutating func add(_ system: SystemName, _ entity: EntityName, pull: RunCounts = RunCounts(), push: RunCounts = RunCounts()) {
        if let i = rows.firstIndex(where: { $0.system == system && $0.entity == entity }) {
            rows[i].pull = rows[i].pull + pull
            rows[i].push = rows[i].push + push
        } else {
            rows.append(Row(system: system, entity: entity, pull: pull, push: push))
        }
    }
}

extension RunCounts {
    /// The counts as a JSON object.
    public var json: Value {
        ["read": .int(Int64(read)), "created": .int(Int64(created)), "updated": .int(Int64(updated)),
         "deleted": .int(Int64(deleted)), "linked": .int(Int64(linked)), "unchanged": .int(Int64(unchanged)),
         "skipped": .int(Int64(skipped)), "failed": .int(Int64(failed))]
    }
}

extension SyncReport {
    /// The report as one JSON document (the `--json` output of `sync-all`, and what the hub
    /// stores for the run).
    public var json: Value {
        var systems: [String: Value] = [:]
        for row in rows {
            var s = systems[row.system.rawValue]?.objectValue ?? ["entities": .object([:])]
            var entities = s["entities"]?.objectValue ?? [:]
            var counts: [String: Value] = ["pull": row.pull.json, "push": row.push.json]
            if isPaused(row.system, row.entity) { counts["paused"] = true }
            entities[row.entity.rawValue] = .object(counts)
            s["entities"] = .object(entities)
            s["status"] = .string(systemErrors[row.system] == nil ? "ok" : "failed")
            if let e = systemErrors[row.system] { s["error"] = .string(e) }
            if let waiting = deferredPushes[row.system] {
                s["deferred_pushes"] = .object(Dictionary(uniqueKeysWithValues: waiting.map { ($0.key.rawValue, Value.int(Int64($0.value))) }))
            }
            systems[row.system.rawValue] = .object(s)
        }
        for (system, error) in systemErrors where systems[system.rawValue] == nil {
            systems[system.rawValue] = .object(["status": "failed", "error": .string(error), "entities": .object([:])])
        }
        let t = totals
        var doc: [String: Value] = [
            "format_version": "1.0",
            "command": "sync-all",
            "run_id": .string(runID.rawValue),
            "status": .string((stopped ? RunStatus.stopped : status).rawValue),
            "exit_code": .int(Int64(exitCode)),
            "dry_run": .bool(dryRun),
            "started_at": .string(startedAt),
            "finished_at": .string(finishedAt),
            "systems": .object(systems),
            "totals": .object(["pull": t.pull.json, "push": t.push.json]),
            "quarantined": .array(quarantined.map { q in
                .object(["system": .string(q.system.rawValue), "entity": .string(q.entity.rawValue),
                         "external_id": q.externalID.map { .string($0.rawValue) } ?? .null,
                         "hub_id": q.hubID.map { .string($0.rawValue) } ?? .null,
                         "direction": .string(q.direction.rawValue), "reason": .string(q.reason.rawValue), "message": .string(q.message)])
            }),
            "mass_delete_guard": .array(guardTrips.map(Value.string)),
            "notices": .array(notices.map(Value.string)),
            "schema_drift": .array(schemaDrift.map(\.json)),
            "recovered_creates": .int(Int64(recoveredCreates)),
            "conflicts": .array(conflicts.map { c in
                .object(["entity": .string(c.entity.rawValue), "hub_id": .string(c.hubID.rawValue), "field": .string(c.field),
                         "winner": c.winner.map(Value.string) ?? .null, "rule": .string(c.rule.rawValue), "status": .string(c.status.rawValue),
                         "candidates": .array(c.candidates.keys.sorted().map(Value.string))])
            }),
        ]
        if dryRun {
            doc["plan"] = .array(plan.map { p in
                .object(["system": .string(p.system.rawValue), "entity": .string(p.entity.rawValue),
                         "operation": .string(p.operation),
                         "external_id": p.externalID.map { .string($0.rawValue) } ?? .null,
                         "hub_id": p.hubID.map { .string($0.rawValue) } ?? .null,
                         "fields": .array(p.fields.sorted().map(Value.string))])
            })
        }
        return .object(doc)
    }
}
