import Foundation
import GRDB
import HubCore

/// A unit held by a worker: pass it to every hub write of the unit's work (the fence).
public struct UnitClaim: Sendable, Hashable {
    public var unit: WorkUnit
    /// The fencing token: grows with every claim of the unit, so an older holder's writes are refused.
    public var token: Int64
    /// The round this claim works for.
    public var round: Int64
    public var worker: String
    /// The worker whose lease on the unit had run out when this claim took it over (nil: the
    /// unit was free).
    public var previousOwner: String? = nil
}

/// What a hub write checks first: the run lock a run holds, or the unit a worker holds.
public enum HubFence: Sendable, Hashable {
    case run(RunLease)
    case unit(UnitClaim)

    /// The run lock's generation or the unit's token (recorded with create intents).
    public var generation: Int64 {
        switch self {
        case .run(let lease): lease.generation
        case .unit(let claim): claim.token
        }
    }
}

/// What a worker's claim found.
public enum ClaimOutcome: Sendable, Hashable {
    case claimed(UnitClaim)
    /// Nothing to do now: every unit of the round is done or held, or the next round is not due.
    case idle
    /// `sync-all` (or a `run` without `--worker`) holds the run lock: workers claim nothing meanwhile.
    case runLocked(RunLockHolder)
}

/// One worker as the hub knows it (`hubctl status`).
public struct WorkerRecord: Sendable, Hashable {
    public var id: String
    public var host: String
    public var pid: Int32
    public var startedAt: Date
    public var heartbeatAt: Date
    public var stoppedAt: Date?
    public var unitsDone: Int
    public var fencedWrites: Int
}

/// One unit as the hub knows it (`hubctl status`).
public struct WorkUnitRecord: Sendable, Hashable {
    public var unit: WorkUnit
    public var doneRound: Int64
    public var owner: String?
    public var token: Int64
    /// Seconds left on the lease by the database's clock (negative: expired), nil when unowned.
    public var leaseLeft: Double?
    public var run: RunID?
}

/// The workers' shared state: the round, the workers and the units.
public struct WorkBoard: Sendable, Hashable {
    public var round: Int64
    public var roundStartedAt: Date?
    public var workers: [WorkerRecord]
    public var units: [WorkUnitRecord]
}

extension HubStore {
    /// Records a worker joining, and the units of its topology (existing units keep their state).
    public func registerWorker(_ id: String, units: [WorkUnit]) throws {
        let host = ProcessInfo.processInfo.hostName
        try coordinate { tx in
            let now = tx.dialect.nowMillis
            try tx.execute(
                "INSERT INTO worker (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, \(now), \(now))",
                [id, host, getpid()])
            for unit in units {
                try tx.execute("INSERT OR IGNORE INTO work_unit (unit, phase, system, entity) VALUES (?, ?, ?, ?)",
                               [unit.description, unit.phase.rawValue, unit.system.rawValue, unit.entity?.rawValue])
            }
        }
    }

    /// Claims one unit of `plan` for `worker`, in one transaction holding the run lock's row (so a
    /// `sync-all` and the workers exclude each other):
    ///
    /// - the next round starts (when every unit of this one is done) once `interval` has
    ///   passed since this one began by the database's clock, or at once after ``requestRound()``;
    /// - a unit not done this round, unowned or with its lease expired, is claimable once every
    ///   unit the plan puts before it is done this round (pushes after every pull, a child
    ///   entity's pull after its parent's, a system's deletes after its pulls or pushes);
    /// - rows another transaction holds are passed over (`FOR UPDATE SKIP LOCKED`).
    ///
    /// The claim's token is one more than the unit's last; its lease ends `lease` seconds from now.
    public func claimUnit(worker: String, plan: WorkPlan, interval: TimeInterval, lease: TimeInterval,
                          runLockStaleAfter: TimeInterval, now: Date) throws -> ClaimOutcome {
        try coordinate { tx in
            let dbNow = tx.dialect.nowMillis
            try tx.execute("UPDATE worker SET heartbeat_at = \(dbNow) WHERE id = ?", [worker])
            if let holder = try tx.liveRunLockHolder(now: now, staleAfter: runLockStaleAfter) { return .runLocked(holder) }
            guard let roundRow = try tx.rows("SELECT round, started_at, wake, \(dbNow) AS now FROM work_round WHERE id = 1").first
            else { throw HubStoreError("the hub has no work_round row; it was edited by hand") }
            var round: Int64 = roundRow["round"]
            let nowMillis: Int64 = roundRow["now"]
            var done = try tx.unitsDone(plan.units, round: round)
            // Every unit done (a topology may have no push unit at all): the next round may start.
            if done.count == Set(plan.units).count {
                let startedAt: Int64? = roundRow["started_at"]
                let due = startedAt.map { nowMillis - $0 >= Int64(interval * 1000) } ?? true
                guard due || (roundRow["wake"] as Int64) != 0 else { return .idle }
                try tx.execute("UPDATE work_round SET round = round + 1, started_at = \(dbNow), wake = 0 WHERE id = 1 AND round = ?",
                               [round])
                try notifyWork(tx)
                round += 1
                done = []
            }
            // The first ready unit whose row is free; a row another claim or page holds is passed over.
            for unit in plan.ready(done: done) {
                guard let row = try tx.rows(
                    """
                    SELECT token, owner FROM work_unit
                    WHERE unit = ? AND done_round < ? AND (owner IS NULL OR lease_expires_at < \(dbNow))
                    """ + tx.dialect.forUpdateSkipLocked,
                    [unit.description, round]).first
                else { continue }
                let token = (row["token"] as Int64) + 1
                try tx.execute(
                    """
                    UPDATE work_unit SET owner = ?, token = ?, lease_expires_at = \(dbNow) + ?, heartbeat_at = \(dbNow), run_id = NULL
                    WHERE unit = ?
                    """,
                    [worker, token, Int64(lease * 1000), unit.description])
                return .claimed(UnitClaim(unit: unit, token: token, round: round, worker: worker, previousOwner: row["owner"]))
            }
            return .idle
        }
    }

    /// Renews a claim's lease for `lease` seconds from now (database clock); false when the
    /// unit was taken over (its token moved on): the holder must stop working on it.
    public func renewLease(_ claim: UnitClaim, lease: TimeInterval) throws -> Bool {
        try coordinate { tx in
            let dbNow = tx.dialect.nowMillis
            try tx.execute("UPDATE worker SET heartbeat_at = \(dbNow) WHERE id = ?", [claim.worker])
            return try tx.executeCounted(
                "UPDATE work_unit SET lease_expires_at = \(dbNow) + ?, heartbeat_at = \(dbNow) WHERE unit = ? AND token = ? AND owner = ?",
                [Int64(lease * 1000), claim.unit.description, claim.token, claim.worker]) == 1
        }
    }

    /// Records a claim's unit done for its round and frees it; false when it was taken over.
    public func completeUnit(_ claim: UnitClaim, run: RunID?) throws -> Bool {
        try coordinate { tx in
            let changed = try tx.executeCounted(
                """
                UPDATE work_unit SET done_round = ?, owner = NULL, lease_expires_at = NULL, run_id = ?
                WHERE unit = ? AND token = ? AND owner = ?
                """,
                [claim.round, run?.rawValue, claim.unit.description, claim.token, claim.worker])
            if changed == 1 {
                try tx.execute("UPDATE worker SET units_done = units_done + 1 WHERE id = ?", [claim.worker])
                try notifyWork(tx)
            }
            return changed == 1
        }
    }

    /// Frees a claim without marking it done (its work stopped early: the next claimer redoes it).
    public func releaseUnit(_ claim: UnitClaim) throws {
        try coordinate { tx in
            try tx.execute("UPDATE work_unit SET owner = NULL, lease_expires_at = NULL WHERE unit = ? AND token = ?",
                           [claim.unit.description, claim.token])
        }
    }

    /// Records a worker leaving: every unit it still holds is freed.
    public func retireWorker(_ id: String) throws {
        try coordinate { tx in
            try tx.execute("UPDATE work_unit SET owner = NULL, lease_expires_at = NULL WHERE owner = ?", [id])
            try tx.execute("UPDATE worker SET stopped_at = \(tx.dialect.nowMillis) WHERE id = ?", [id])
        }
    }

    /// Counts a hub write refused by the fence (the write itself was rolled back).
    public func noteFencedWrite(worker: String) throws {
        try coordinate { tx in
            try tx.execute("UPDATE worker SET fenced_writes = fenced_writes + 1 WHERE id = ?", [worker])
        }
    }

    /// Makes the next round start as soon as the current one is done (a webhook or trigger woke a system).
    /// Tells the other workers, at this transaction's commit, that units may have become
    /// claimable, so that an idle worker claims them at once instead of at its next poll
    /// (PostgreSQL's `NOTIFY`; nothing on a hub without notifications).
    func notifyWork(_ tx: HubTransaction) throws {
        guard let channel = database?.workChannel else { return }
        _ = try tx.rows("SELECT pg_notify(?, '')", [channel])
    }

    /// Calls `notified` whenever another worker announces work (``notifyWork(_:)``), until the
    /// returned task is cancelled; nil on a hub without notifications (a SQLite hub).
    public func listenForWork(_ notified: @escaping @Sendable () async -> Void) -> Task<Void, Never>? {
        database?.listenForWork(notified)
    }

    public func requestRound() throws {
        try coordinate { tx in try tx.execute("UPDATE work_round SET wake = 1 WHERE id = 1") }
    }

    /// The round, the workers (newest first) and the units, for `hubctl status`.
    public func workBoard() throws -> WorkBoard {
        try read { tx in
            let dbNow = tx.dialect.nowMillis
            let round = try tx.rows("SELECT round, started_at, \(dbNow) AS now FROM work_round WHERE id = 1").first
            let nowMillis: Int64 = round?["now"] ?? 0
            let workers = try tx.rows("SELECT * FROM worker ORDER BY started_at DESC, id").map { row in
                WorkerRecord(id: row["id"], host: row["host"], pid: row["pid"], startedAt: Self.date(row["started_at"]),
                             heartbeatAt: Self.date(row["heartbeat_at"]), stoppedAt: (row["stopped_at"] as Int64?).map(Self.date),
                             unitsDone: row["units_done"], fencedWrites: row["fenced_writes"])
            }
            let units = try tx.rows("SELECT * FROM work_unit").compactMap { row -> WorkUnitRecord? in
                guard let unit = WorkUnit(row["unit"] as String) else { return nil }
                let owner: String? = row["owner"]
                return WorkUnitRecord(unit: unit, doneRound: row["done_round"], owner: owner, token: row["token"],
                                      leaseLeft: owner == nil ? nil : (row["lease_expires_at"] as Int64?).map { Double($0 - nowMillis) / 1000 },
                                      run: (row["run_id"] as String?).map(RunID.init))
            }
            // A system's units together, in the order a round does them.
            let phases = WorkUnit.Phase.allCases
            let sorted = units.sorted { a, b in
                (a.unit.system.rawValue, phases.firstIndex(of: a.unit.phase)!, a.unit.entity?.rawValue ?? "")
                    < (b.unit.system.rawValue, phases.firstIndex(of: b.unit.phase)!, b.unit.entity?.rawValue ?? "")
            }
            return WorkBoard(round: round?["round"] ?? 0, roundStartedAt: (round?["started_at"] as Int64?).map(Self.date),
                             workers: workers, units: sorted)
        }
    }

    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}

extension HubTransaction {
    /// Throws ``FencedOut`` unless `fence` still holds: the run lock's generation, or the unit's
    /// token. The row stays locked to the end of this transaction, so a takeover waits for the
    /// page in flight.
    public func checkFence(_ fence: HubFence, now: Date) throws {
        switch fence {
        case .run(let lease):
            try checkLease(lease, now: now)
        case .unit(let claim):
            let token = try value(Int64.self, "SELECT token FROM work_unit WHERE unit = ?" + dialect.forUpdate, [claim.unit.description])
            guard token == claim.token else { throw FencedOut(generation: claim.token, unit: claim.unit.description) }
        }
    }

    /// The reads of `system` (its pull and pull-deletes units) done for `round` whose run failed:
    /// the system was not read whole this round, so nothing may be pushed to it until it is.
    public func failedReads(system: SystemName, round: Int64) throws -> [WorkUnit] {
        try rows(
            """
            SELECT u.unit FROM work_unit u JOIN run r ON r.id = u.run_id
            WHERE u.system = ? AND u.phase IN ('pull', 'pull-deletes') AND u.done_round = ? AND r.status = 'failed'
            ORDER BY u.unit
            """, [system.rawValue, round]).compactMap { WorkUnit($0["unit"] as String) }
    }

    /// Which of `units` are done for `round`.
    func unitsDone(_ units: [WorkUnit], round: Int64) throws -> Set<WorkUnit> {
        guard !units.isEmpty else { return [] }
        let keys = try rows("SELECT unit FROM work_unit WHERE unit \(dialect.inJSONArray) AND done_round >= ?",
                            [JSONWriter.string(.array(units.map { .string($0.description) })), round])
            .map { $0["unit"] as String }
        return Set(keys.compactMap(WorkUnit.init))
    }

    /// The run lock's holder when it is live (see ``HubStore/acquireRunLock(_:now:staleAfter:)``),
    /// read `FOR UPDATE` so the caller's decision and the lock's next taker take turns.
    func liveRunLockHolder(now: Date, staleAfter: TimeInterval) throws -> RunLockHolder? {
        guard let row = try rows("SELECT * FROM run_lock WHERE id = 1" + dialect.forUpdate).first else {
            throw HubStoreError("the hub has no run_lock row; it was edited by hand")
        }
        guard let holderPid = row["pid"] as Int32?, let holderHost = row["host"] as String?,
            let heartbeat = row["heartbeat_at"] as String?
        else { return nil }
        let holder = RunLockHolder(run: (row["run_id"] as String?).map(RunID.init), pid: holderPid, host: holderHost,
                                   acquiredAt: row["acquired_at"] ?? "", heartbeatAt: heartbeat)
        let processGone = holderHost == ProcessInfo.processInfo.hostName && kill(holderPid, 0) != 0 && errno == ESRCH
        let silentFor = now.timeIntervalSince1970 - HubStore.seconds(heartbeat)
        return !processGone && silentFor < staleAfter ? holder : nil
    }

    /// A worker holding a live lease, as a run lock holder (for ``HubLocked``).
    func liveWorkerHolder() throws -> RunLockHolder? {
        guard let row = try rows(
            """
            SELECT w.id, w.host, w.pid, w.started_at, w.heartbeat_at, u.unit FROM work_unit u JOIN worker w ON w.id = u.owner
            WHERE u.owner IS NOT NULL AND u.lease_expires_at >= \(dialect.nowMillis) ORDER BY u.unit LIMIT 1
            """).first
        else { return nil }
        return RunLockHolder(run: nil, pid: row["pid"], host: row["host"],
                             acquiredAt: Timestamp.string(HubStore.date(row["started_at"])),
                             heartbeatAt: Timestamp.string(HubStore.date(row["heartbeat_at"])),
                             worker: "worker \(row["id"] as String) (unit \(row["unit"] as String))")
    }
}
