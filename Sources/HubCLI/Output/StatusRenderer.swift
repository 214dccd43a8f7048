import Foundation
import HubCore
import HubSchedule
import HubService
import HubTopology

/// Renders `hubctl status`: one row per system and entity, then the errors of failing ones.
struct StatusRenderer {
    let report: StatusReport

    func render() -> String {
        var table = TextTable(["SYSTEM", "ENTITY", "STATE", "EVERY", "LAST SUCCESS", "NEXT RUN", "LAG", "QUARANTINE", "CONFLICTS"])
        for r in report.rows {
            table.add([r.system.rawValue, r.entity.rawValue, r.state.rawValue.replacingOccurrences(of: "_", with: " "),
                       r.schedule.map { DurationText.text($0.every) } ?? "-", ago(r.lastSuccessAt),
                       r.nextRunAt.map(relative) ?? "-", r.lagSeconds > 0 ? DurationText.text(r.lagSeconds.rounded()) : "-",
                       "\(r.openQuarantine)", "\(r.openConflicts)"])
        }
        var lines = [table.render()]
        let failing = report.rows.filter { $0.state == .failing }
        for r in failing where r.lastError != nil {
            lines.append("")
            lines.append("\(r.system).\(r.entity) failed \(r.consecutiveFailures) time(s) in a row: \(r.lastError!)")
        }
        lines.append("")
        if report.healthy {
            lines.append("Every system is on time.")
        } else {
            let counts = StatusReport.State.allCases.compactMap { state -> String? in
                let n = report.rows.filter { $0.state == state }.count
                return n > 0 && state != .onTime ? "\(n) \(state.rawValue.replacingOccurrences(of: "_", with: " "))" : nil
            }
            lines.append("Not healthy: " + counts.joined(separator: ", ") + ".")
            if report.rows.contains(where: { $0.state == .notRun || $0.state == .delayed }) {
                lines.append("Hint: is `hubctl run` running? `hubctl run --once` reads what is due now.")
            }
        }
        return lines.joined(separator: "\n")
    }

    func ago(_ date: Date?) -> String {
        guard let date else { return "never" }
        return Timestamp.string(date) + " (" + DurationText.text(max(0, report.generatedAt.timeIntervalSince(date)).rounded()) + " ago)"
    }

    func relative(_ date: Date) -> String {
        let delta = date.timeIntervalSince(report.generatedAt).rounded()
        return delta >= 0 ? "in " + DurationText.text(delta) : DurationText.text(-delta) + " overdue"
    }
}
