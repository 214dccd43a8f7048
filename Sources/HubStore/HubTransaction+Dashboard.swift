import GRDB
import HubCore

/// Records written in one run, per direction: one bar pair of the dashboard's activity chart.
public struct RunActivity: Sendable, Hashable {
    public var run: RunID
    public var startedAt: String
    public var status: String
    /// Hub writes from pulls: created, updated, linked and deleted.
    public var pulled: Int
    /// System writes from pushes: created, updated and deleted.
    public var pushed: Int
}

/// One system × entity's link counts, for the dashboard's overview.
public struct LinkTally: Sendable, Hashable {
    public var system: SystemName
    public var entity: EntityName
    /// Live links.
    public var linked: Int
    /// Creates sent but not yet answered (`pending_create`).
    public var pending: Int
}

/// Read-only summaries the dashboard shows, each one aggregate query so that a page of a large
/// hub costs a few index scans.
extension HubTransaction {
    /// Per-direction writes of the last `limit` runs that were not dry runs, oldest first.
    public func activity(lastRuns limit: Int) throws -> [RunActivity] {
        try rows("""
            SELECT r.id, r.started_at, r.status,
                   coalesce(sum(CASE WHEN c.direction = 'pull' THEN c.created + c.updated + c.linked + c.deleted END), 0) AS pulled,
                   coalesce(sum(CASE WHEN c.direction = 'push' THEN c.created + c.updated + c.deleted END), 0) AS pushed
            FROM (SELECT id, started_at, status FROM run WHERE dry_run = 0 ORDER BY started_at DESC, id DESC LIMIT ?) r
            LEFT JOIN run_count c ON c.run_id = r.id
            GROUP BY r.id, r.started_at, r.status ORDER BY r.started_at, r.id
            """, [limit]
        ).map { row in
            RunActivity(run: RunID(row["id"]), startedAt: row["started_at"], status: row["status"],
                        pulled: row["pulled"], pushed: row["pushed"])
        }
    }

    /// Live and pending links of every system × entity that has any.
    public func linkTallies() throws -> [LinkTally] {
        var out: [String: LinkTally] = [:]
        for row in try rows("SELECT system, entity, live FROM link_count", []) {
            let t = LinkTally(system: SystemName(row["system"]), entity: EntityName(row["entity"]), linked: row["live"], pending: 0)
            out["\(t.system)\u{0}\(t.entity)"] = t
        }
        for row in try rows("SELECT system, entity, count(*) AS n FROM xref WHERE state = 'pending_create' GROUP BY system, entity", []) {
            let key = "\(row["system"] as String)\u{0}\(row["entity"] as String)"
            var t = out[key] ?? LinkTally(system: SystemName(row["system"]), entity: EntityName(row["entity"]), linked: 0, pending: 0)
            t.pending = row["n"]
            out[key] = t
        }
        return Array(out.values)
    }

    /// Live entities per kind.
    public func liveEntityCounts() throws -> [EntityName: Int] {
        // All (a covering index scan) less the deleted (a partial index): no entity row is read.
        var out: [EntityName: Int] = [:]
        for row in try rows("SELECT entity, count(*) AS n FROM entity GROUP BY entity", []) {
            out[EntityName(row["entity"])] = row["n"]
        }
        for row in try rows("SELECT entity, count(*) AS n FROM entity WHERE deleted_at IS NOT NULL GROUP BY entity", []) {
            out[EntityName(row["entity"]), default: 0] -= row["n"] as Int
        }
        return out
    }

    /// Entities of `entity` whose canonical `field` equals `value` ignoring case (an email
    /// typed into the dashboard's search), at most `limit`.
    public func entities(_ entity: EntityName, field: String, equalsIgnoringCase value: String, limit: Int) throws
        -> [EntityRecord]
    {
        try rows(
            "SELECT \(Self.entityColumns) FROM entity WHERE entity = ? AND lower(\(dialect.jsonTextOfNamedField("data"))) = lower(?) LIMIT ?",
            [entity.rawValue, field, value, limit]
        ).map(Self.entityRecord)
    }
}
