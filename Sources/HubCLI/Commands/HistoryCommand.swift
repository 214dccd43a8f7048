import ArgumentParser
import Foundation
import HubCore
import HubStore

/// `hubctl history`: the hub's recent runs.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List recent sync runs with their status and counts, and the latest changes made by hand.",
        discussion: "`hubctl runs show RUN_ID` shows one run in detail.")

    @OptionGroup var options: TopologyOptions
    @Flag(help: "Print one JSON document instead of a table.") var json = false
    @Option(help: "How many runs to show.") var limit = 20

    func run() throws {
        let (console, _, store) = try openHub(options)
        let (runs, manual) = try store.read { (try $0.runs(limit: limit), try $0.stewardship(limit: limit)) }
        if json {
            console.out(JSONDocument.make("history", .object([
                "runs": .array(runs.map { r in
                    .object(["run_id": .string(r.id.rawValue), "started_at": .string(r.startedAt),
                             "finished_at": r.finishedAt.map(Value.string) ?? .null, "status": .string(r.status.rawValue),
                             "exit_code": r.exitCode.map { .int(Int64($0)) } ?? .null,
                             "totals": r.report?.objectValue?["totals"] ?? .null,
                             "schema_drift": r.report?.objectValue?["schema_drift"] ?? .array([])])
                }),
                "stewardship": .array(manual.map(StewardshipRenderer.json)),
            ])))
            return
        }
        var table = TextTable(["RUN", "STARTED", "STATUS", "PULLED", "HUB WRITES", "PUSHED", "QUARANTINED"])
        for r in runs {
            let totals = r.report?.objectValue?["totals"]?.objectValue
            func n(_ dir: String, _ keys: [String]) -> Int64 {
                keys.reduce(0) { $0 + (totals?[dir]?.objectValue?[$1]?.intValue ?? 0) }
            }
            let quarantined = r.report?.objectValue?["quarantined"]?.arrayValue?.count ?? 0
            table.add([r.id.rawValue, r.startedAt, r.status.rawValue, "\(n("pull", ["read"]))",
                       "\(n("pull", ["created", "updated", "linked", "deleted"]))",
                       "\(n("push", ["created", "updated", "deleted"]))", "\(quarantined)"])
        }
        console.out(runs.isEmpty ? "No runs yet." : table.render())
        // Each change once, at the newest run that saw it (a pause repeats every run until fixed).
        var seen: [String: Int] = [:]
        var drift: [(run: RunID, change: SchemaDriftRecord)] = []
        for r in runs {
            for d in r.report?.objectValue?["schema_drift"]?.arrayValue?.compactMap(SchemaDriftRecord.init(json:)) ?? [] {
                let key = "\(d.system)\u{0}\(d.entity)\u{0}\(d.key)"
                if seen[key] == nil { drift.append((r.id, d)) }
                seen[key, default: 0] += 1
            }
        }
        if !drift.isEmpty {
            console.out("")
            console.out("Schema changes (at the newest run that saw each; `hubctl runs show RUN_ID` has the details):")
            for (run, d) in drift {
                let key = "\(d.system)\u{0}\(d.entity)\u{0}\(d.key)"
                let more = (seen[key] ?? 1) > 1 ? " (seen by \(seen[key]!) of these runs)" : ""
                console.out("  \(run)  " + SchemaDriftRenderer.line(d) + more)
            }
        }
        if !manual.isEmpty {
            console.out("")
            console.out("Changed by hand (newest first):")
            for entry in manual { console.out("  " + StewardshipRenderer.line(entry)) }
        }
    }
}
