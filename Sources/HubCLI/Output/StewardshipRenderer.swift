import HubCore
import HubStewardship
import HubStore

/// Renders stewardship entries and the outcome of a stewardship command.
enum StewardshipRenderer {
    /// `#3 2026-…Z merge customer 0190… ← 0191… by ana: "same person"`.
    static func line(_ e: StewardshipEntry) -> String {
        var text = "#\(e.id ?? 0) \(e.at) \(e.action.rawValue) \(e.entity) \(e.hubID)"
        if let other = e.otherHubID { text += e.action == .merge ? " ← \(other)" : " (other: \(other))" }
        if let system = e.system { text += " \(system)" + (e.externalID.map { " \($0)" } ?? "") }
        text += " by \(e.by)"
        if let reason = e.reason { text += ": \"\(reason)\"" }
        if let undo = e.undoneBy { text += " (undone by #\(undo))" }
        return text
    }

    static func json(_ e: StewardshipEntry) -> Value {
        .object([
            "id": e.id.map { .int($0) } ?? .null, "action": .string(e.action.rawValue), "entity": .string(e.entity.rawValue),
            "hub_id": .string(e.hubID.rawValue), "other_hub_id": e.otherHubID.json, "system": e.system.json,
            "external_id": e.externalID.json, "by": .string(e.by), "reason": e.reason.json, "at": .string(e.at),
            "undone_by": e.undoneBy.map { .int($0) } ?? .null, "detail": .object(e.detail),
        ])
    }

    static func render(_ command: String, _ outcome: StewardshipOutcome) -> String {
        var lines: [String] = []
        let e = outcome.entry
        let head = "\(command) \(e.entity)"
        if outcome.nothingToDo {
            return (["\(head): nothing to do"] + outcome.changes.map { "  \($0)" }).joined(separator: "\n")
        }
        lines.append(outcome.dryRun ? "\(head) (dry run: nothing was written)" : head)
        lines += outcome.changes.map { "  \($0)" }
        lines.append("")
        if outcome.dryRun {
            lines.append("Dry run: nothing was written. Run it again without --dry-run (and with --reason) to apply it.")
        } else {
            lines.append("Recorded as stewardship #\(e.id ?? 0) by \(e.by)" + (e.reason.map { ": \"\($0)\"" } ?? "") + ".")
            lines.append("Run `hubctl sync-all` to send the change to the systems.")
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ outcome: StewardshipOutcome) -> Value {
        .object(["dry_run": .bool(outcome.dryRun), "nothing_to_do": .bool(outcome.nothingToDo),
                 "entry": json(outcome.entry), "changes": .array(outcome.changes.map(Value.string))])
    }
}
