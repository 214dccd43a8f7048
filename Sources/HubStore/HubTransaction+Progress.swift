import Foundation
import GRDB
import HubCore

extension HubTransaction {
    /// Where the last read of a system's object stopped.
    public func cursor(system: SystemName, entity: EntityName) throws -> HubCore.Cursor? {
        try value(String.self, "SELECT value FROM cursor WHERE system = ? AND entity = ?", [system.rawValue, entity.rawValue]).map(HubCore.Cursor.init)
    }

    /// Moves a read cursor (unchanged values are not rewritten).
    public func setCursor(_ cursor: HubCore.Cursor, system: SystemName, entity: EntityName, at: String) throws {
        try execute(
            """
            INSERT INTO cursor (system, entity, value, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (system, entity) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            WHERE cursor.value IS NOT excluded.value
            """, [system.rawValue, entity.rawValue, cursor.value, at])
    }

    /// Forgets a read cursor, so the next read starts from the beginning.
    public func clearCursor(system: SystemName, entity: EntityName) throws {
        try execute("DELETE FROM cursor WHERE system = ? AND entity = ?", [system.rawValue, entity.rawValue])
    }

    /// The highest hub `seq` already pushed to a system for an entity (0 when none).
    public func pushMark(system: SystemName, entity: EntityName) throws -> Int64 {
        try value(Int64.self, "SELECT seq FROM push_mark WHERE system = ? AND entity = ?", [system.rawValue, entity.rawValue]) ?? 0
    }

    /// Moves a push mark forward (never backward; unchanged values are not rewritten).
    public func setPushMark(_ seq: Int64, system: SystemName, entity: EntityName, at: String) throws {
        try execute(
            """
            INSERT INTO push_mark (system, entity, seq, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (system, entity) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at
            WHERE excluded.seq > push_mark.seq
            """, [system.rawValue, entity.rawValue, seq, at])
    }

    // MARK: - Runs

    /// Records the start of a run.
    public func beginRun(_ id: RunID, startedAt: String, dryRun: Bool, topologyHash: String?) throws {
        try execute("INSERT INTO run (id, started_at, status, dry_run, topology_hash) VALUES (?, ?, 'running', ?, ?)",
                    [id.rawValue, startedAt, dryRun, topologyHash])
    }

    /// Records how a run ended, with its counts and report.
    public func finishRun(_ id: RunID, finishedAt: String, status: RunStatus, exitCode: Int, report: Value,
                          counts: [(system: SystemName, entity: EntityName, direction: String, counts: RunCounts)]) throws {
        try execute("UPDATE run SET finished_at = ?, status = ?, exit_code = ?, report = ? WHERE id = ?",
                    [finishedAt, status.rawValue, exitCode, report.json, id.rawValue])
        for c in counts {
            try execute(
                """
                INSERT OR REPLACE INTO run_count (run_id, system, entity, direction, read, created, updated, deleted, linked,
                    unchanged, skipped, failed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [id.rawValue, c.system.rawValue, c.entity.rawValue, c.direction, c.counts.read, c.counts.created,
                 c.counts.updated, c.counts.deleted, c.counts.linked, c.counts.unchanged, c.counts.skipped, c.counts.failed])
        }
    }

    static func runRecord(_ row: Row) -> RunRecord {
        RunRecord(id: RunID(row["id"]), startedAt: row["started_at"], finishedAt: row["finished_at"], status: RunStatus(rawValue: row["status"]) ?? .failed,
                  exitCode: row["exit_code"], dryRun: row["dry_run"],
                  report: (row["report"] as String?).flatMap { try? JSONParser.parse($0) })
    }

    /// The most recent runs, newest first.
    public func runs(limit: Int) throws -> [RunRecord] {
        try rows("SELECT * FROM run ORDER BY started_at DESC, id DESC LIMIT ?", [limit]).map(Self.runRecord)
    }

    /// One run.
    public func run(_ id: RunID) throws -> RunRecord? {
        try rows("SELECT * FROM run WHERE id = ?", [id.rawValue]).first.map(Self.runRecord)
    }

    // MARK: - Quarantine and conflicts

    /// Stores a record that could not be synced. One record has one open entry per direction,
    /// with a stable number: a record failing again updates its entry (reason, message, run,
    /// shape) instead of opening another. Entries without a record ID (an unreadable line) are
    /// told apart by where they are (or, without that, by their message).
    /// - Returns: the entry's number.
    @discardableResult
    public func quarantine(_ entry: QuarantineEntry) throws -> Int64 {
        let existing: Int64?
        if entry.externalID != nil || entry.hubID != nil {
            existing = try value(Int64.self, """
                SELECT id FROM quarantine WHERE resolved_at IS NULL AND system = ? AND entity = ? AND direction = ?
                  AND coalesce(external_id, '') = coalesce(?, '') AND coalesce(hub_id, '') = coalesce(?, '')
                ORDER BY id LIMIT 1
                """, [entry.system.rawValue, entry.entity.rawValue, entry.direction.rawValue, entry.externalID?.rawValue,
                                  entry.hubID?.rawValue])
        } else {
            existing = try value(Int64.self, """
                SELECT id FROM quarantine WHERE resolved_at IS NULL AND system = ? AND entity = ? AND direction = ?
                  AND external_id IS NULL AND hub_id IS NULL AND reason = ? AND coalesce(source, message) = coalesce(?, ?)
                ORDER BY id LIMIT 1
                """, [entry.system.rawValue, entry.entity.rawValue, entry.direction.rawValue, entry.reason.rawValue, entry.source,
                                  entry.message])
        }
        if let existing {
            try execute(
                """
                UPDATE quarantine SET run_id = ?, reason = ?, message = ?, source = coalesce(?, source),
                    excerpt = coalesce(?, excerpt) WHERE id = ?
                """, [entry.run.rawValue, entry.reason.rawValue, entry.message, entry.source, entry.excerpt, existing])
            return existing
        }
        return try insert(
            """
            INSERT INTO quarantine (run_id, system, entity, external_id, hub_id, direction, reason, message, created_at,
                source, excerpt)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [entry.run.rawValue, entry.system.rawValue, entry.entity.rawValue, entry.externalID?.rawValue,
             entry.hubID?.rawValue, entry.direction.rawValue, entry.reason.rawValue, entry.message, entry.createdAt, entry.source,
             entry.excerpt])
    }

    /// Closes open entries by hand (`hubctl quarantine dismiss`): they no longer apply. A record
    /// that still fails is quarantined again (as a new entry) by the next run.
    /// - Returns: the entries closed (those of `ids` that were open).
    public func dismissQuarantine(_ ids: [Int64], by: String, reason: String, at: String) throws -> [QuarantineEntry] {
        let open = try quarantineEntries(ids)
        for entry in open {
            try execute("UPDATE quarantine SET resolved_at = ?, resolution = ?, resolved_by = ?, resolve_reason = ? WHERE id = ?",
                        [at, QuarantineResolution.dismissed.rawValue, by, reason, entry.id])
        }
        return open
    }

    /// Marks the open quarantine entries of a record as resolved (it synced).
    public func resolveQuarantine(system: SystemName, entity: EntityName, externalID: ExternalID?, hubID: HubID?,
                                  direction: SyncDirection, at: String, resolution: QuarantineResolution = .synced) throws {
        try execute(
            """
            UPDATE quarantine SET resolved_at = ?, resolution = ? WHERE resolved_at IS NULL AND system = ? AND entity = ?
              AND direction = ? AND ((? IS NOT NULL AND external_id = ?) OR (? IS NOT NULL AND hub_id = ?))
            """,
            [at, resolution.rawValue, system.rawValue, entity.rawValue, direction.rawValue, externalID?.rawValue, externalID?.rawValue, hubID?.rawValue,
             hubID?.rawValue])
    }

    /// Closes open entries of one reason for a system's object whose message is not in
    /// `current` (a malformed row that was fixed or removed).
    public func resolveQuarantine(system: SystemName, entity: EntityName, reason: QuarantineReason, except current: Set<String>,
                                  at: String) throws {
        for row in try rows("SELECT id, message FROM quarantine WHERE resolved_at IS NULL AND system = ? AND entity = ? AND reason = ?",
                            [system.rawValue, entity.rawValue, reason.rawValue]) where !current.contains(row["message"] as String) {
            try execute("UPDATE quarantine SET resolved_at = ?, resolution = ? WHERE id = ?", [at, QuarantineResolution.synced.rawValue, row["id"] as Int64])
        }
    }

    /// True when a system's object has open quarantine entries in a direction.
    public func hasOpenQuarantine(system: SystemName, entity: EntityName, direction: SyncDirection) throws -> Bool {
        try value(Bool.self, """
            SELECT EXISTS (SELECT 1 FROM quarantine WHERE resolved_at IS NULL AND system = ? AND entity = ? AND direction = ?)
            """, [system.rawValue, entity.rawValue, direction.rawValue]) ?? true
    }

    /// Open quarantine entries of one system and direction, of one entity or (nil) all.
    public func openQuarantine(system: SystemName, entity: EntityName?, direction: SyncDirection) throws -> [QuarantineEntry] {
        try rows("""
            SELECT * FROM quarantine WHERE resolved_at IS NULL AND system = ? AND (? IS NULL OR entity = ?) AND direction = ?
            ORDER BY id
            """, [system.rawValue, entity?.rawValue, entity?.rawValue, direction.rawValue]).map(Self.quarantineEntry)
    }

    /// True when `externalID` of this system and entity has an open quarantine entry for
    /// `reason` in `direction` (one index seek, for a check made record by record).
    public func hasOpenQuarantine(system: SystemName, entity: EntityName, externalID: ExternalID, reason: QuarantineReason,
                                  direction: SyncDirection) throws -> Bool {
        try !rows("""
            SELECT 1 FROM quarantine
            WHERE resolved_at IS NULL AND system = ? AND entity = ? AND external_id = ? AND reason = ? AND direction = ? LIMIT 1
            """, [system.rawValue, entity.rawValue, externalID.rawValue, reason.rawValue, direction.rawValue]).isEmpty
    }

    /// Open quarantine entries, oldest first.
    public func openQuarantine(limit: Int = 1000) throws -> [QuarantineEntry] {
        try rows("SELECT * FROM quarantine WHERE resolved_at IS NULL ORDER BY id LIMIT ?", [limit]).map(Self.quarantineEntry)
    }

    static func quarantineEntry(_ row: Row) -> QuarantineEntry {
        QuarantineEntry(id: row["id"], run: RunID(row["run_id"]), system: SystemName(row["system"]),
                        entity: EntityName(row["entity"]), externalID: (row["external_id"] as String?).map(ExternalID.init),
                        hubID: (row["hub_id"] as String?).map(HubID.init),
                        direction: SyncDirection(rawValue: row["direction"]) ?? .pull,
                        reason: QuarantineReason(row["reason"] as String), message: row["message"], createdAt: row["created_at"], source: row["source"],
                        excerpt: row["excerpt"])
    }

    /// Open quarantine entries with these IDs.
    public func quarantineEntries(_ ids: [Int64]) throws -> [QuarantineEntry] {
        guard !ids.isEmpty else { return [] }
        let sql = "SELECT * FROM quarantine WHERE resolved_at IS NULL AND id IN (\(Self.placeholders(ids.count))) ORDER BY id"
        return try rows(sql, HubArguments(ids)).map(Self.quarantineEntry)
    }

    /// Stores a conflict.
    public func recordConflict(_ c: ConflictRecord) throws {
        try execute(
            """
            INSERT INTO conflict (run_id, entity, hub_id, field, candidates, winner, rule, status, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [c.run.rawValue, c.entity.rawValue, c.hubID.rawValue, c.field, Self.encode(c.candidates), c.winner, c.rule.rawValue,
             c.status.rawValue, c.createdAt])
    }

    /// Conflicts, newest first; only open ones with `openOnly`.
    public func conflicts(openOnly: Bool, limit: Int = 1000) throws -> [ConflictRecord] {
        let filter = openOnly ? "WHERE status = 'open'" : ""
        return try rows("SELECT * FROM conflict \(filter) ORDER BY id DESC LIMIT ?", [limit]).map(Self.conflictRecord)
    }
}
