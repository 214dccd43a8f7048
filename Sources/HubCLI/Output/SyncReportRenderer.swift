import HubCore
import HubStore
import HubSync

/// Renders a sync report as the table `sync-all` prints.
struct SyncReportRenderer {
    let report: SyncReport
    let seconds: Double?

    func render() -> String {
        var lines: [String] = []
        let time = seconds.map { String(format: " in %.2f s", $0) } ?? ""
        let what = report.dryRun ? "dry run (nothing was written)" : "run \(report.runID)"
        lines.append("sync-all \(what): \(report.status.rawValue)\(time)")
        lines.append("")
        var table = TextTable.runCounts()
        for row in report.rows {
            if report.systemErrors[row.system] != nil, row.pull == RunCounts(), row.push == RunCounts() { continue }
            table.add(row.system, row.entity, "pull", row.pull)
            table.add(row.system, row.entity, "push", row.push)
        }
        lines.append(table.render())
        for (system, error) in report.systemErrors.sorted(by: { $0.key < $1.key }) {
            lines.append("")
            lines.append("system '\(system)' failed and was skipped (its cursor and push marks did not move): \(error)")
            let waiting = (report.deferredPushes[system] ?? [:]).sorted { $0.key < $1.key }
                .map { "\($0.value) \($0.key) change\($0.value == 1 ? "" : "s")" }
            if !waiting.isEmpty {
                lines.append("  deferred, not lost: \(waiting.joined(separator: ", ")) wait for '\(system)'; the next run sends them")
            }
        }
        if !report.schemaDrift.isEmpty {
            lines.append("")
            lines += SchemaDriftRenderer.lines(report.schemaDrift)
        }
        if report.recoveredCreates > 0 {
            lines.append("")
            lines.append("\(report.recoveredCreates) create\(report.recoveredCreates == 1 ? "" : "s") of an interrupted run "
                         + "found in their systems and linked (not sent twice).")
        }
        for trip in report.guardTrips {
            lines.append("")
            lines.append(trip)
        }
        for notice in report.notices {
            lines.append("")
            lines.append(notice)
        }
        if !report.quarantined.isEmpty {
            lines.append("")
            lines.append("\(report.quarantined.count) record\(report.quarantined.count == 1 ? "" : "s") quarantined:")
            for q in report.quarantined.prefix(20) {
                let id = q.externalID.map { "id \($0)" } ?? q.hubID.map { "hub \($0)" } ?? ""
                lines.append("  \(q.system) \(q.entity) \(id) [\(q.reason)]: \(q.message)")
            }
            if report.quarantined.count > 20 { lines.append("  … and \(report.quarantined.count - 20) more") }
        }
        if !report.conflicts.isEmpty {
            lines.append("")
            let open = report.openConflicts
            lines.append("\(report.conflicts.count) conflict\(report.conflicts.count == 1 ? "" : "s") (same field changed in two places)"
                         + (open > 0 ? ", \(open) parked for a person:" : ", settled by policy:"))
            for c in report.conflicts.prefix(20) {
                let who = c.winner.map { "\($0) won" } ?? "parked"
                lines.append("  \(c.entity) \(c.hubID) field \(c.field): \(who) (\(c.rule)); sides: "
                             + c.candidates.keys.sorted().joined(separator: ", "))
            }
            if open > 0 { lines.append("  `hubctl conflicts list --open` shows their values; `hubctl conflicts resolve` settles them.") }
        }
        if report.dryRun {
            lines.append("")
            if report.plan.isEmpty {
                lines.append("Plan: nothing to write.")
            } else {
                lines.append("Plan: \(report.plan.count) write\(report.plan.count == 1 ? "" : "s"):")
                for p in report.plan.prefix(50) {
                    let target = p.externalID.map { "id \($0)" } ?? "new record"
                    lines.append("  \(p.operation) \(p.system) \(p.entity) \(target) (hub \(p.hubID?.rawValue ?? "-")): "
                                 + p.fields.sorted().joined(separator: ", "))
                }
                if report.plan.count > 50 { lines.append("  … and \(report.plan.count - 50) more") }
            }
        }
        return lines.joined(separator: "\n")
    }
}
