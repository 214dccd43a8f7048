import Foundation
import GRDB
import HubCore

/// Who holds the hub's run lock.
public struct RunLockHolder: Sendable, Hashable, CustomStringConvertible {
    public var run: RunID?
    public var pid: Int32
    public var host: String
    public var acquiredAt: String
    public var heartbeatAt: String
    /// Set when a `hubctl run --worker` holds the hub (a unit's live lease) rather than a run.
    public var worker: String?

    public init(run: RunID?, pid: Int32, host: String, acquiredAt: String, heartbeatAt: String, worker: String? = nil) {
        self.run = run
        self.pid = pid
        self.host = host
        self.acquiredAt = acquiredAt
        self.heartbeatAt = heartbeatAt
        self.worker = worker
    }

    public var description: String {
        "\(worker ?? "run \(run?.rawValue ?? "?")") (pid \(pid) on \(host), started \(acquiredAt), last seen \(heartbeatAt))"
    }
}

/// The hub is held by another live run.
public struct HubLocked: Error, Sendable, CustomStringConvertible {
    public var holder: RunLockHolder
    public init(holder: RunLockHolder) { self.holder = holder }
    public var description: String {
        "another run holds this hub: \(holder); try again when it has finished"
    }
}

/// A run lost its lock to another (it was stopped longer than the lock timeout): it must not
/// write to the hub any more.
public struct FencedOut: Error, Sendable, CustomStringConvertible {
    /// The run lock's generation, or the unit's fencing token.
    public var generation: Int64
    /// The work unit whose lease was lost (`pull:crm/customer`), nil for the run lock.
    public var unit: String? = nil
    public var description: String {
        if let unit {
            return "this worker's lease on \(unit) (token \(generation)) was taken over by another worker; "
                + "the hub refused the write and nothing of it was committed"
        }
        return "this run's lock (generation \(generation)) was taken over by a newer run; it stopped without writing more"
    }
}

/// The lock a run holds; pass its generation to every write of the run.
public struct RunLease: Sendable, Hashable {
    public var generation: Int64
    public var run: RunID
}

extension HubStore {
    /// Takes the hub's run lock for `run`.
    ///
    /// A lock held by a process that no longer exists on this host, or whose holder has not
    /// been seen for `staleAfter` seconds, is stale and taken over; the generation grows, which
    /// fences the old holder out.
    /// - Throws: ``HubLocked`` when another live run holds it.
    public func acquireRunLock(_ run: RunID, now: Date, staleAfter: TimeInterval) throws -> RunLease {
        let host = ProcessInfo.processInfo.hostName
        let pid = getpid()
        let stamp = Timestamp.string(now)
        return try immediateWrite { tx in
            if let holder = try tx.liveRunLockHolder(now: now, staleAfter: staleAfter) { throw HubLocked(holder: holder) }
            // On a PostgreSQL hub shared by workers: none may hold a live lease meanwhile.
            if let worker = try tx.liveWorkerHolder() { throw HubLocked(holder: worker) }
            let generation = try tx.value(Int64.self, "SELECT generation FROM run_lock WHERE id = 1") ?? 0
            try tx.execute(
                """
                UPDATE run_lock SET generation = ?, run_id = ?, pid = ?, host = ?, acquired_at = ?, heartbeat_at = ?
                WHERE id = 1
                """,
                [generation + 1, run.rawValue, pid, host, stamp, stamp])
            return RunLease(generation: generation + 1, run: run)
        }
    }

    /// Releases the lock, if this lease still holds it.
    public func releaseRunLock(_ lease: RunLease) throws {
        try immediateWrite { tx in
            try tx.execute(
                "UPDATE run_lock SET run_id = NULL, pid = NULL, host = NULL, heartbeat_at = NULL WHERE id = 1 AND generation = ?",
                [lease.generation])
        }
    }

    static func seconds(_ timestamp: String) -> Double {
        // Timestamps are ours: YYYY-MM-DDTHH:MM:SS.mmmZ.
        let b = Array(timestamp.utf8)
        func n(_ from: Int, _ count: Int) -> Int {
            var v = 0
            for i in from..<min(from + count, b.count) where b[i] >= 48 && b[i] <= 57 { v = v * 10 + Int(b[i] - 48) }
            return v
        }
        guard b.count >= 19 else { return 0 }
        let civil = CivilTime(year: n(0, 4), month: n(5, 2), day: n(8, 2), hour: n(11, 2), minute: n(14, 2), second: n(17, 2))
        return Double(civil.unixSeconds) + (b.count >= 23 ? Double(n(20, 3)) / 1000 : 0)
    }
}

extension HubTransaction {
    /// Throws ``FencedOut`` unless `lease` still holds the run lock; refreshes its heartbeat
    /// when it is older than `heartbeatEvery` seconds. On PostgreSQL the lock row stays locked
    /// until this transaction ends, so a run taking the lock over waits for it (the fence holds).
    public func checkLease(_ lease: RunLease, now: Date, heartbeatEvery: TimeInterval = 30) throws {
        guard let row = try rows("SELECT generation, heartbeat_at FROM run_lock WHERE id = 1" + dialect.forUpdate).first,
            (row["generation"] as Int64) == lease.generation
        else { throw FencedOut(generation: lease.generation) }
        let heartbeat: String? = row["heartbeat_at"]
        if heartbeat == nil || now.timeIntervalSince1970 - HubStore.seconds(heartbeat!) >= heartbeatEvery {
            try execute("UPDATE run_lock SET heartbeat_at = ? WHERE id = 1", [Timestamp.string(now)])
        }
    }
}
