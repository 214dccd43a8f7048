import Foundation
import HubCore

/// The units of one round that are done, split by whether they ran (a run of their own) or were
/// skipped (their system or entity was not due).
public struct RoundUnits: Sendable, Hashable {
    public var ran: Set<WorkUnit> = []
    public var skipped: Set<WorkUnit> = []

    public init(ran: Set<WorkUnit> = [], skipped: Set<WorkUnit> = []) {
        self.ran = ran
        self.skipped = skipped
    }
}

extension HubStore {
    /// Records a claim's unit done for its round without running it (a read not due by its
    /// schedule), and frees it; false when it was taken over. Unlike
    /// ``completeUnit(_:run:)`` it leaves the unit without a run and counts no unit done for
    /// the worker.
    public func skipUnit(_ claim: UnitClaim) throws -> Bool {
        try coordinate { tx in
            let skipped = try tx.executeCounted(
                """
                UPDATE work_unit SET done_round = ?, owner = NULL, lease_expires_at = NULL, run_id = NULL
                WHERE unit = ? AND token = ? AND owner = ?
                """,
                [claim.round, claim.unit.description, claim.token, claim.worker]) == 1
            if skipped { try notifyWork(tx) }
            return skipped
        }
    }

    /// The units done for `round`: those that ran, and those skipped by ``skipUnit(_:)``.
    /// (Units of an earlier hubctl's keys are left out.)
    public func roundUnits(_ round: Int64) throws -> RoundUnits {
        try read { tx in
            var units = RoundUnits()
            for row in try tx.rows("SELECT unit, run_id FROM work_unit WHERE done_round = ?", [round]) {
                guard let unit = WorkUnit(row["unit"] as String) else { continue }
                if (row["run_id"] as String?) == nil { units.skipped.insert(unit) } else { units.ran.insert(unit) }
            }
            return units
        }
    }
}
