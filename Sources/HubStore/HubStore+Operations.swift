import Foundation
import GRDB
import HubCore

/// What `hubctl run` remembers of one system (or one entity of it with a schedule of its own)
/// between cycles and across restarts.
public struct ScheduleStateRecord: Sendable, Hashable {
    public var system: SystemName
    /// Nil: the system as a whole.
    public var entity: EntityName?
    public var lastAttemptAt: Date?
    public var lastSuccessAt: Date?
    public var lastFailureAt: Date?
    /// Why the last attempt failed (secrets already redacted), nil after a success.
    public var lastError: String?
    public var consecutiveFailures: Int
    /// When the next read is due.
    public var nextDueAt: Date?

    public init(system: SystemName, entity: EntityName? = nil, lastAttemptAt: Date? = nil, lastSuccessAt: Date? = nil,
                lastFailureAt: Date? = nil, lastError: String? = nil, consecutiveFailures: Int = 0, nextDueAt: Date? = nil) {
        self.system = system
        self.entity = entity
        self.lastAttemptAt = lastAttemptAt
        self.lastSuccessAt = lastSuccessAt
        self.lastFailureAt = lastFailureAt
        self.lastError = lastError
        self.consecutiveFailures = consecutiveFailures
        self.nextDueAt = nextDueAt
    }
}

extension HubStore {
    /// Every schedule state the hub holds.
    public func scheduleStates() throws -> [ScheduleStateRecord] {
        try read { tx in
            try tx.rows("SELECT * FROM schedule_state ORDER BY system, entity").map { row in
                func date(_ column: String) -> Date? {
                    (row[column] as String?).map { Date(timeIntervalSince1970: Self.seconds($0)) }
                }
                let entity: String = row["entity"]
                return ScheduleStateRecord(
                    system: SystemName(row["system"]), entity: entity.isEmpty ? nil : EntityName(entity),
                    lastAttemptAt: date("last_attempt_at"), lastSuccessAt: date("last_success_at"),
                    lastFailureAt: date("last_failure_at"), lastError: row["last_error"],
                    consecutiveFailures: row["consecutive_failures"], nextDueAt: date("next_due_at"))
            }
        }
    }

    /// Writes these schedule states (inserted or replaced), in one transaction.
    public func saveScheduleStates(_ states: [ScheduleStateRecord]) throws {
        try write { tx in
            for s in states {
                try tx.execute(
                    """
                    INSERT OR REPLACE INTO schedule_state (system, entity, last_attempt_at, last_success_at, last_failure_at,
                        last_error, consecutive_failures, next_due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [s.system.rawValue, s.entity?.rawValue ?? "", s.lastAttemptAt.map(Timestamp.string),
                     s.lastSuccessAt.map(Timestamp.string), s.lastFailureAt.map(Timestamp.string), s.lastError,
                     s.consecutiveFailures, s.nextDueAt.map(Timestamp.string)])
            }
        }
    }

    /// Open quarantine entries per system and entity, both directions.
    public func openQuarantineCounts() throws -> [SystemName: [EntityName: Int]] {
        try read { tx in
            var out: [SystemName: [EntityName: Int]] = [:]
            for row in try tx.rows("""
                SELECT system, entity, COUNT(*) AS n FROM quarantine WHERE resolved_at IS NULL GROUP BY system, entity
                """) {
                out[SystemName(row["system"]), default: [:]][EntityName(row["entity"])] = row["n"]
            }
            return out
        }
    }

    /// Open conflicts per entity.
    public func openConflictCounts() throws -> [EntityName: Int] {
        try read { tx in
            var out: [EntityName: Int] = [:]
            for row in try tx.rows("SELECT entity, COUNT(*) AS n FROM conflict WHERE status = 'open' GROUP BY entity") {
                out[EntityName(row["entity"])] = row["n"]
            }
            return out
        }
    }
}
