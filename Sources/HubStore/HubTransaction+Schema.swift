import GRDB
import HubCore

extension HubTransaction {
    // MARK: - Fingerprints

    /// The last fingerprint of a system × entity's object, if a run took one.
    public func schemaFingerprint(system: SystemName, entity: EntityName) throws -> SchemaFingerprint? {
        try rows("SELECT * FROM schema_fingerprint WHERE system = ? AND entity = ?", [system.rawValue, entity.rawValue])
            .first.map(Self.fingerprint)
    }

    /// Every fingerprint, by system and entity.
    public func schemaFingerprints() throws -> [SchemaFingerprint] {
        try rows("SELECT * FROM schema_fingerprint ORDER BY system, entity").map(Self.fingerprint)
    }

    /// Stores a fingerprint in place of the last one; one with the same hash is not rewritten.
    public func saveSchemaFingerprint(_ f: SchemaFingerprint) throws {
        let document = f.json.objectValue ?? [:]
        try execute(
            """
            INSERT INTO schema_fingerprint (system, entity, object, hash, fields, sampled, mapping, run_id, taken_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (system, entity) DO UPDATE SET object = excluded.object, hash = excluded.hash,
                fields = excluded.fields, sampled = excluded.sampled, mapping = excluded.mapping, run_id = excluded.run_id,
                taken_at = excluded.taken_at
            WHERE schema_fingerprint.hash IS NOT excluded.hash OR schema_fingerprint.object IS NOT excluded.object
            """,
            [f.system.rawValue, f.entity.rawValue, f.object, f.hash, JSONWriter.string(document["fields"] ?? .array([])),
             f.sampled, JSONWriter.string(document["mapping"] ?? .object([:])), f.run.rawValue, f.takenAt])
    }

    static func fingerprint(_ row: Row) -> SchemaFingerprint {
        let fields = ((row["fields"] as String?).flatMap { try? JSONParser.parse($0) }?.arrayValue ?? [])
            .compactMap(DiscoveredField.init(json:))
        return SchemaFingerprint(system: SystemName(row["system"]), entity: EntityName(row["entity"]), object: row["object"],
                                 fields: fields, sampled: row["sampled"],
                                 mapping: decodeObject(row["mapping"]).compactMapValues(\.stringValue),
                                 run: RunID(row["run_id"]), takenAt: row["taken_at"])
    }

    // MARK: - Drift events

    /// Records a schema change a run noticed. A change already open for the same system,
    /// entity, kind and field is updated (latest run, types, message) rather than repeated.
    /// - Returns: the stored change (with the run that first noticed it), and true when it is
    ///   new (not open before).
    @discardableResult
    public func recordSchemaDrift(_ d: SchemaDriftRecord) throws -> (record: SchemaDriftRecord, isNew: Bool) {
        let open = try rows(
            """
            SELECT * FROM schema_drift WHERE resolved_at IS NULL AND system = ? AND entity = ? AND change = ? AND field = ?
            """, [d.system.rawValue, d.entity.rawValue, d.change.rawValue, d.field]).first.map(Self.drift)
        if let open, let id = open.id {
            try execute(
                """
                UPDATE schema_drift SET last_run_id = ?, object = ?, new_field = ?, old_type = ?, new_type = ?, message = ?,
                    pauses = ? WHERE id = ?
                """, [d.lastRun.rawValue, d.object, d.newField, d.oldType, d.newType, d.message, d.pauses, id])
            var stored = d
            stored.id = id
            stored.run = open.run
            stored.detectedAt = open.detectedAt
            return (stored, false)
        }
        let id = try insert(
            """
            INSERT INTO schema_drift (run_id, last_run_id, system, entity, object, change, field, new_field, old_type,
                new_type, message, pauses, detected_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [d.run.rawValue, d.lastRun.rawValue, d.system.rawValue, d.entity.rawValue, d.object, d.change.rawValue, d.field,
             d.newField, d.oldType, d.newType, d.message, d.pauses, d.detectedAt])
        var stored = d
        stored.id = id
        return (stored, true)
    }

    /// Closes the open changes of a system × entity whose ``SchemaDriftRecord/key`` is not in
    /// `current`: what a run no longer sees is over.
    public func resolveSchemaDrift(system: SystemName, entity: EntityName, except current: Set<String>, run: RunID,
                                   at: String) throws {
        for d in try openSchemaDrift(system: system, entity: entity) where !current.contains(d.key) {
            guard let id = d.id else { continue }
            try execute("UPDATE schema_drift SET resolved_at = ?, resolved_run_id = ? WHERE id = ?", [at, run.rawValue, id])
        }
    }

    /// Open schema changes (of one system, or one system × entity), pausing ones first, oldest first.
    public func openSchemaDrift(system: SystemName? = nil, entity: EntityName? = nil) throws -> [SchemaDriftRecord] {
        try rows(
            """
            SELECT * FROM schema_drift WHERE resolved_at IS NULL AND (? IS NULL OR system = ?) AND (? IS NULL OR entity = ?)
            ORDER BY pauses DESC, id
            """, [system?.rawValue, system?.rawValue, entity?.rawValue, entity?.rawValue]).map(Self.drift)
    }

    /// The schema changes a run noticed first or saw again, oldest first.
    public func schemaDrift(run: RunID) throws -> [SchemaDriftRecord] {
        try rows("SELECT * FROM schema_drift WHERE run_id = ? OR last_run_id = ? ORDER BY id", [run.rawValue, run.rawValue])
            .map(Self.drift)
    }

    static func drift(_ row: Row) -> SchemaDriftRecord {
        SchemaDriftRecord(id: row["id"], run: RunID(row["run_id"]), lastRun: RunID(row["last_run_id"]),
                          system: SystemName(row["system"]), entity: EntityName(row["entity"]), object: row["object"],
                          change: SchemaDriftRecord.Change(rawValue: row["change"]) ?? .removed, field: row["field"],
                          newField: row["new_field"], oldType: row["old_type"], newType: row["new_type"], message: row["message"],
                          pauses: row["pauses"], detectedAt: row["detected_at"], resolvedAt: row["resolved_at"],
                          resolvedRun: (row["resolved_run_id"] as String?).map(RunID.init))
    }

    // MARK: - What the links remember

    /// True when one of the first `sample` live links of a system × entity has a value for one
    /// of `fields` in its base: the system held values there when hubctl last read or wrote it.
    /// Bounded, so asking costs the same at a million links.
    public func linkBasesHoldValues(entity: EntityName, system: SystemName, fields: [String], sample: Int = 1000) throws -> Bool {
        guard !fields.isEmpty else { return false }
        let bases = try rows("SELECT base_data FROM xref WHERE entity = ? AND system = ? AND state = 'linked' LIMIT ?",
                             [entity.rawValue, system.rawValue, sample]).map { $0["base_data"] as String }
        return bases.contains { text in
            let base = Self.decodeObject(text)
            return fields.contains { !(base[$0] ?? .null).isNull }
        }
    }

    /// Moves a push mark back to the start, so the next push of the system × entity compares
    /// every entity with what the system holds (after a field was newly mapped).
    public func resetPushMark(system: SystemName, entity: EntityName) throws {
        try execute("DELETE FROM push_mark WHERE system = ? AND entity = ?", [system.rawValue, entity.rawValue])
    }
}
