import Foundation
import HubCore
import HubStore
import HubTopology

/// Renders the workers of a PostgreSQL hub for `hubctl status`: each worker (host, pid, last
/// heartbeat, units done, fenced writes) and each unit (owner, token, lease left, done round).
struct WorkBoardRenderer {
    let board: WorkBoard
    let now: Date

    func render() -> String {
        var lines = ["", "", "Workers: round \(board.round)" + (board.roundStartedAt.map { ", started \(Timestamp.string($0))" } ?? "")]
        guard !board.workers.isEmpty else { return (lines + ["No worker has joined (`hubctl run --worker`)."]).joined(separator: "\n") }
        var workers = TextTable(["WORKER", "HOST", "PID", "STATE", "LAST HEARTBEAT", "UNITS DONE", "FENCED WRITES"])
        // Workers that left over an hour ago are only in --json.
        let shown = board.workers.filter { w in w.stoppedAt.map { now.timeIntervalSince($0) < 3600 } ?? true }
        for w in shown {
            workers.add([w.id, w.host, "\(w.pid)", state(w),
                         Timestamp.string(w.heartbeatAt) + " (" + DurationText.text(max(0, now.timeIntervalSince(w.heartbeatAt)).rounded()) + " ago)",
                         "\(w.unitsDone)", "\(w.fencedWrites)"])
        }
        var units = TextTable(["UNIT", "OWNER", "TOKEN", "LEASE LEFT", "DONE ROUND"])
        units.textColumns = [1, 3]
        for u in board.units {
            units.add([u.unit.description, u.owner ?? "-", "\(u.token)", leaseText(u.leaseLeft), "\(u.doneRound)"])
        }
        lines += [workers.render(), "", units.render()]
        if shown.count < board.workers.count {
            lines.append("(\(board.workers.count - shown.count) worker(s) that stopped over an hour ago: see --json)")
        }
        return lines.joined(separator: "\n")
    }

    /// `running`; `stopped` (it left cleanly); `silent` when not heard from for a minute (killed,
    /// or cut off: its units are taken over when their leases end).
    func state(_ w: WorkerRecord) -> String {
        if w.stoppedAt != nil { return "stopped" }
        return now.timeIntervalSince(w.heartbeatAt) > 60 ? "silent" : "running"
    }

    func leaseText(_ left: Double?) -> String {
        guard let left else { return "-" }
        return left >= 0 ? String(format: "%.1f s", left) : "expired"
    }

    var json: Value {
        func time(_ d: Date?) -> Value { d.map { .string(Timestamp.string($0)) } ?? .null }
        return .object([
            "round": .int(board.round),
            "round_started_at": time(board.roundStartedAt),
            "workers": .array(board.workers.map { w in
                .object(["id": .string(w.id), "host": .string(w.host), "pid": .int(Int64(w.pid)), "started_at": time(w.startedAt),
                         "heartbeat_at": time(w.heartbeatAt), "stopped_at": time(w.stoppedAt), "state": .string(state(w)), "units_done": .int(Int64(w.unitsDone)),
                         "fenced_writes": .int(Int64(w.fencedWrites))])
            }),
            "units": .array(board.units.map { u in
                .object(["unit": .string(u.unit.description), "phase": .string(u.unit.phase.rawValue), "system": .string(u.unit.system.rawValue),
                         "entity": u.unit.entity.map { .string($0.rawValue) } ?? .null,
                         "owner": u.owner.map(Value.string) ?? .null, "token": .int(u.token),
                         "lease_left_seconds": u.leaseLeft.map { .double(($0 * 10).rounded() / 10) } ?? .null,
                         "done_round": .int(u.doneRound), "run_id": u.run.map { .string($0.rawValue) } ?? .null])
            }),
        ])
    }
}
