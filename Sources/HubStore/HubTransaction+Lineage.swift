import GRDB
import HubCore

/// Queries behind `hubctl links`, `explain` and `runs show`: where values and links came from.
extension HubTransaction {
    /// Every version of an entity, oldest first.
    public func versions(_ hubID: HubID) throws -> [EntityVersion] {
        try rows("SELECT hub_id, version, data, source_system, run_id, at FROM entity_version WHERE hub_id = ? ORDER BY version",
                 [hubID.rawValue]).map { row in
            EntityVersion(hubID: HubID(row["hub_id"]), version: row["version"], data: Self.decodeObject(row["data"]),
                          sourceSystem: (row["source_system"] as String?).map(SystemName.init),
                          run: (row["run_id"] as String?).map(RunID.init), at: row["at"])
        }
    }

    /// Every conflict an entity went through, oldest first.
    public func conflicts(hubID: HubID) throws -> [ConflictRecord] {
        try rows("SELECT * FROM conflict WHERE hub_id = ? ORDER BY id", [hubID.rawValue]).map(Self.conflictRecord)
    }

    /// The conflicts recorded by one run, oldest first.
    public func conflicts(run: RunID) throws -> [ConflictRecord] {
        try rows("SELECT * FROM conflict WHERE run_id = ? ORDER BY id", [run.rawValue]).map(Self.conflictRecord)
    }

    /// The quarantine entries made by one run, open or closed since.
    public func quarantine(run: RunID) throws -> [QuarantineRecord] {
        try rows("SELECT * FROM quarantine WHERE run_id = ? ORDER BY id", [run.rawValue]).map {
            QuarantineRecord(entry: Self.quarantineEntry($0), resolvedAt: $0["resolved_at"])
        }
    }

    /// What a run did, per system, entity and direction.
    public func runCounts(_ run: RunID) throws -> [RunCountRow] {
        try rows("SELECT * FROM run_count WHERE run_id = ? ORDER BY system, entity, direction", [run.rawValue]).map { row in
            var c = RunCounts()
            c.read = row["read"]
            c.created = row["created"]
            c.updated = row["updated"]
            c.deleted = row["deleted"]
            c.linked = row["linked"]
            c.unchanged = row["unchanged"]
            c.skipped = row["skipped"]
            c.failed = row["failed"]
            return RunCountRow(system: SystemName(row["system"]), entity: EntityName(row["entity"]),
                               direction: row["direction"], counts: c)
        }
    }

    /// Runs whose ID starts with `prefix` (at most `limit`), newest first.
    public func runs(idPrefix prefix: String, limit: Int = 10) throws -> [RunRecord] {
        try rows("SELECT * FROM run WHERE substr(id, 1, ?) = ? ORDER BY started_at DESC LIMIT ?",
                 [prefix.count, prefix, limit]).map(Self.runRecord)
    }

    /// The run that was going on at `time` (a link's `linked_at`), if any.
    public func run(at time: String) throws -> RunID? {
        try rows(
            """
            SELECT id FROM run WHERE started_at <= ? AND (finished_at IS NULL OR finished_at >= ?)
            ORDER BY started_at DESC LIMIT 1
            """, [time, time]
        ).first.map { RunID($0["id"]) }
    }
}
