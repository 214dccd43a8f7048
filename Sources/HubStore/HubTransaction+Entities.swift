import Foundation
import GRDB
import HubCore

extension HubTransaction {
    static let entityColumns = "hub_id, entity, data, version, seq, field_meta, created_at, updated_at, deleted_at"

    static func entityRecord(_ row: Row) -> EntityRecord {
        var origins: [String: FieldOrigin] = [:]
        for (field, value) in row.hasColumn("field_meta") ? decodeObject(row["field_meta"]) : [:] {
            guard case .object(let o) = value, let s = o["s"]?.stringValue, let r = o["r"]?.stringValue,
                let at = o["t"]?.stringValue
            else { continue }
            origins[field] = FieldOrigin(system: SystemName(s), run: RunID(r), changedAt: at, observed: o["o"] == .bool(true))
        }
        return EntityRecord(
            hubID: HubID(row["hub_id"]), entity: EntityName(row["entity"]), data: decodeObject(row["data"]),
            version: row["version"], seq: row["seq"], fieldOrigins: origins, createdAt: row["created_at"],
            updatedAt: row["updated_at"], deletedAt: row["deleted_at"])
    }

    static func encodeOrigins(_ origins: [String: FieldOrigin]) -> String {
        // {"field":{"r":run,"s":system,"t":time[,"o":true]},…}, written directly: it is encoded
        // per change. "o" marks a time hubctl observed (the system has no change time).
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(origins.count * 90)
        for (i, field) in origins.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
            let origin = origins[field]!
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.write(.string(field), to: &out)
            out.append(contentsOf: Array(":{\"r\":".utf8))
            JSONWriter.write(.string(origin.run.rawValue), to: &out)
            out.append(contentsOf: Array(",\"s\":".utf8))
            JSONWriter.write(.string(origin.system.rawValue), to: &out)
            out.append(contentsOf: Array(",\"t\":".utf8))
            JSONWriter.write(.string(origin.changedAt), to: &out)
            if origin.observed { out.append(contentsOf: Array(",\"o\":true".utf8)) }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// The entity with this hub ID.
    public func entity(_ hubID: HubID) throws -> EntityRecord? {
        try rows("SELECT \(Self.entityColumns) FROM entity WHERE hub_id = ?", [hubID.rawValue]).first.map(Self.entityRecord)
    }

    /// The entities with these hub IDs.
    public func entities(_ hubIDs: [HubID]) throws -> [HubID: EntityRecord] {
        var out: [HubID: EntityRecord] = [:]
        for chunk in Self.chunks(hubIDs) {
            let sql = "SELECT \(Self.entityColumns) FROM entity WHERE hub_id IN (\(Self.placeholders(chunk.count)))"
            for row in try rows(sql, HubArguments(chunk.map(\.rawValue))) {
                let r = Self.entityRecord(row)
                out[r.hubID] = r
            }
        }
        return out
    }

    /// Entities of `entity` changed after `seq`, in `seq` order.
    /// Entities of `entity` changed after `seq`, in `seq` order. Without `origins` the
    /// per-field origins are not decoded (pushes do not need them).
    public func entitiesChanged(_ entity: EntityName, after seq: Int64, limit: Int, origins: Bool = true) throws
        -> [EntityRecord]
    {
        let columns = origins ? Self.entityColumns : Self.entityColumns.replacingOccurrences(of: "field_meta, ", with: "")
        return try rows(
            "SELECT \(columns) FROM entity WHERE entity = ? AND seq > ? ORDER BY seq LIMIT ?",
            [entity.rawValue, seq, limit]
        ).map(Self.entityRecord)
    }

    /// How many entities of `entity` changed after `seq` (waiting to be pushed past a mark).
    public func countChanged(_ entity: EntityName, after seq: Int64) throws -> Int {
        try value(Int.self, "SELECT count(*) FROM entity WHERE entity = ? AND seq > ?", [entity.rawValue, seq]) ?? 0
    }

    /// The highest `seq` in the hub (0 when empty).
    public func maxSeq() throws -> Int64 {
        try value(Int64.self, "SELECT coalesce(max(seq), 0) FROM entity") ?? 0
    }

    /// How many live entities of a kind the hub holds.
    public func entityCount(_ entity: EntityName) throws -> Int {
        try value(Int.self, "SELECT count(*) FROM entity WHERE entity = ? AND deleted_at IS NULL", [entity.rawValue]) ?? 0
    }

    /// Stores a new entity and its first history row. The store gives it the next `seq` (so every
    /// system's push sees it); the stored record is returned.
    @discardableResult
    public func insertEntity(_ new: EntityRecord, sourceSystem: SystemName?, run: RunID) throws -> EntityRecord {
        var record = new
        record.seq = try maxSeq() + 1
        let data = Self.encode(record.data)
        try execute(
            """
            INSERT INTO entity (hub_id, entity, data, version, seq, field_meta, created_at, updated_at, deleted_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [record.hubID.rawValue, record.entity.rawValue, data, record.version, record.seq,
             Self.encodeOrigins(record.fieldOrigins), record.createdAt, record.updatedAt, record.deletedAt])
        try insertVersion(record, encoded: data, sourceSystem: sourceSystem, run: run)
        return record
    }

    /// Stores a new version of an existing entity (the caller has bumped `version`) and its
    /// history row. The store gives it the next `seq`; the stored record is returned.
    @discardableResult
    public func updateEntity(_ changed: EntityRecord, sourceSystem: SystemName?, run: RunID) throws -> EntityRecord {
        var record = changed
        record.seq = try maxSeq() + 1
        let data = Self.encode(record.data)
        try execute(
            "UPDATE entity SET data = ?, version = ?, seq = ?, field_meta = ?, updated_at = ?, deleted_at = ? WHERE hub_id = ?",
            [data, record.version, record.seq, Self.encodeOrigins(record.fieldOrigins), record.updatedAt,
             record.deletedAt, record.hubID.rawValue])
        try insertVersion(record, encoded: data, sourceSystem: sourceSystem, run: run)
        return record
    }

    func insertVersion(_ record: EntityRecord, encoded: String, sourceSystem: SystemName?, run: RunID) throws {
        // A tombstone's history row holds no values.
        let data = record.deletedAt != nil ? "{}" : encoded
        try execute(
            "INSERT INTO entity_version (hub_id, version, data, source_system, run_id, at) VALUES (?, ?, ?, ?, ?, ?)",
            [record.hubID.rawValue, record.version, data, sourceSystem?.rawValue, run.rawValue, record.updatedAt])
    }

    /// One version of an entity from its history.
    public func version(_ hubID: HubID, _ version: Int64) throws -> [String: Value]? {
        try rows("SELECT data FROM entity_version WHERE hub_id = ? AND version = ?", [hubID.rawValue, version])
            .first.map { Self.decodeObject($0["data"]) }
    }

    // MARK: - Match keys

    /// Replaces the identity keys of an entity (one per match rule it has values for); a new
    /// entity has none to replace.
    public func setMatchKeys(_ hubID: HubID, entity: EntityName, data: [String: Value], rules: [[FieldName]],
                             isNew: Bool = false) throws {
        if !isNew { try execute("DELETE FROM match_key WHERE hub_id = ?", [hubID.rawValue]) }
        for k in MatchKey.keys(data, rules: rules) {
            try execute("INSERT OR IGNORE INTO match_key (entity, rule, key, hub_id) VALUES (?, ?, ?, ?)",
                        [entity.rawValue, k.rule, k.key, hubID.rawValue])
        }
    }

    /// Hub entities whose identity key for `rule` is `key` (at most `limit`).
    public func matchCandidates(_ entity: EntityName, rule: Int, key: String, limit: Int = 10) throws -> [HubID] {
        try rows("SELECT hub_id FROM match_key WHERE entity = ? AND rule = ? AND key = ? LIMIT ?",
                 [entity.rawValue, rule, key, limit]).map { HubID($0["hub_id"]) }
    }
}
