import GRDB
import HubCore

extension HubTransaction {
    static func conflictRecord(_ row: Row) -> ConflictRecord {
        var c = ConflictRecord(id: row["id"], run: RunID(row["run_id"]), entity: EntityName(row["entity"]),
                               hubID: HubID(row["hub_id"]), field: row["field"], candidates: decodeObject(row["candidates"]),
                               winner: row["winner"], rule: ConflictRule(rawValue: row["rule"]), status: ConflictStatus(rawValue: row["status"]) ?? .open, createdAt: row["created_at"])
        c.resolvedAt = row["resolved_at"]
        c.resolvedBy = row["resolved_by"]
        return c
    }

    /// One conflict.
    public func conflict(_ id: Int64) throws -> ConflictRecord? {
        try rows("SELECT * FROM conflict WHERE id = ?", [id]).first.map(Self.conflictRecord)
    }

    /// The fields of an entity with an open conflict: the hub keeps their value and holds them
    /// back from the systems until a person decides.
    public func openConflictFields(_ hubID: HubID) throws -> Set<String> {
        Set(try rows("SELECT field FROM conflict WHERE hub_id = ? AND status = 'open'", [hubID.rawValue]).map { $0["field"] as String })
    }

    /// Closes a conflict with the side (or value) a person chose.
    public func resolveConflict(_ id: Int64, winner: String, by: String, at: String) throws {
        try execute("UPDATE conflict SET status = 'resolved', winner = ?, resolved_by = ?, resolved_at = ? WHERE id = ?",
                    [winner, by, at, id])
    }

    /// Open conflicts of one field of an entity (a field is parked once; later runs add nothing).
    public func openConflict(_ hubID: HubID, field: String) throws -> ConflictRecord? {
        try rows("SELECT * FROM conflict WHERE hub_id = ? AND field = ? AND status = 'open' ORDER BY id DESC LIMIT 1",
                 [hubID.rawValue, field]).first.map(Self.conflictRecord)
    }

    /// Replaces the competing values of an open conflict (a system changed its value again).
    public func updateOpenConflict(_ id: Int64, candidates: [String: Value]) throws {
        try execute("UPDATE conflict SET candidates = ? WHERE id = ? AND status = 'open'", [Self.encode(candidates), id])
    }
}
