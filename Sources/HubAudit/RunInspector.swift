import HubCore
import HubStore

/// One run in detail (`hubctl runs show`): per system and entity counts, what it quarantined,
/// the conflicts it met, and the systems that failed.
public struct RunInspector: Sendable {
    public let store: HubStore

    public init(store: HubStore) { self.store = store }

    /// The run whose ID is `id`, or starts with it when that names one run.
    /// - Throws: ``AuditError`` `notFound` when no run (or several) match.
    public func run(_ id: String) throws -> RunDetails {
        try store.read { tx in
            let run: RunRecord
            if let exact = try tx.run(RunID(id)) {
                run = exact
            } else {
                let candidates = try tx.runs(idPrefix: id, limit: 2)
                guard let only = candidates.first else {
                    throw AuditError(.notFound, "no run \(id) in this hub", hint: "`hubctl history` lists the runs")
                }
                guard candidates.count == 1 else {
                    throw AuditError(.notFound, "several runs start with \(id)", hint: "give more of the run ID")
                }
                run = only
            }
            let report = run.report?.objectValue ?? [:]
            var errors: [SystemName: String] = [:]
            for (name, system) in report["systems"]?.objectValue ?? [:] {
                if let e = system.objectValue?["error"]?.stringValue { errors[SystemName(name)] = e }
            }
            return RunDetails(run: run, counts: try tx.runCounts(run.id), quarantine: try tx.quarantine(run: run.id),
                              conflicts: try tx.conflicts(run: run.id), systemErrors: errors,
                              guardTrips: report["mass_delete_guard"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                              schemaDrift: report["schema_drift"]?.arrayValue?.compactMap(SchemaDriftRecord.init(json:)) ?? [])
        }
    }
}

/// What one run did.
public struct RunDetails: Sendable {
    public var run: RunRecord
    /// Per system, entity and direction.
    public var counts: [RunCountRow]
    /// Records the run quarantined (closed since, or still open).
    public var quarantine: [QuarantineRecord]
    /// Conflicts the run recorded.
    public var conflicts: [ConflictRecord]
    /// Systems that failed during the run, with why.
    public var systemErrors: [SystemName: String]
    /// Deletes the mass-delete guard held back.
    public var guardTrips: [String]
    /// Schema changes the run noticed (new ones, and those that paused a system × entity).
    public var schemaDrift: [SchemaDriftRecord] = []
}
