import Foundation
import HubAudit
import HubCore
import HubStore

extension DashboardPages {
    /// The runs timeline: status, duration and counts, newest first.
    public static func runs(_ runs: [RunSummary], context: PageContext) -> HTML {
        guard !runs.isEmpty else { return "<h1>Runs</h1><p class=\"muted\">No runs yet.</p>" }
        let newest = runs.first?.run.id
        return "<h1>Runs</h1>" + table(
            ["Run", "Started", "Status", "Duration", "Pulled (read)", "Hub writes", "Pushed", "Quarantined"],
            runs.map { s in
                let r = s.run
                return [HTML.link(String(r.id.rawValue.prefix(13)) + "…", context.runHref(r.id, newest: newest)), .text(time(r.startedAt)),
                        status(r.status.rawValue, dryRun: r.dryRun), .text(duration(s.duration)), "\(s.pulled.read)",
                        "\(s.pulled.writes)", "\(s.pushed.created + s.pushed.updated + s.pushed.deleted)",
                        num(s.quarantined, bad: true)]
            }, id: "runs-table")
    }

    static func status(_ status: String, dryRun: Bool = false) -> HTML {
        let kind = status == "ok" ? "ok" : status == "failed" ? "bad" : status == "partial" ? "warn" : "none"
        return badge(status + (dryRun ? " (dry run)" : ""), kind)
    }

    /// One run, as `hubctl runs show` prints it.
    public static func run(_ d: RunDetails, context: PageContext, redact: (String) -> String) -> HTML {
        let r = d.run
        var out: HTML = """
            <h1>Run <code>\(r.id.rawValue)</code></h1>
            <p>\(status(r.status.rawValue, dryRun: r.dryRun))\(r.exitCode.map { " exit \($0)" } ?? "") · started \(r.startedAt)\
            \(r.finishedAt.map { ", finished \($0)" } ?? ", not finished")</p>
            """
        if d.counts.isEmpty {
            out += "<p class=\"muted\">No counts recorded (the run did not finish).</p>"
        } else {
            out += table(["System", "Entity", "Dir", "Read", "Created", "Updated", "Deleted", "Linked", "Unchanged", "Skipped", "Failed"],
                         d.counts.map { c in
                             let n = c.counts
                             return [.text(c.system.rawValue), .text(c.entity.rawValue), .text(c.direction),
                                     "\(n.read)", "\(n.created)", "\(n.updated)", "\(n.deleted)", "\(n.linked)", "\(n.unchanged)",
                                     "\(n.skipped)", num(n.failed, bad: true)]
                         })
        }
        for (system, error) in d.systemErrors.sorted(by: { $0.key < $1.key }) {
            out += "<p class=\"error\">System <strong>\(system.rawValue)</strong> failed and was skipped: \(redact(error))</p>"
        }
        for trip in d.guardTrips { out += "<p class=\"error\">\(redact(trip))</p>" }
        if !d.schemaDrift.isEmpty {
            out += "<h2>Schema changes</h2>" + table(["System", "Entity", "Change", "Pauses"], d.schemaDrift.map { s in
                [.text(s.system.rawValue), .text(s.entity.rawValue), .text(redact(s.message)), .text(s.pauses ? "yes" : "no")]
            })
        }
        if !d.quarantine.isEmpty {
            out += "<h2>Quarantined by this run (\(d.quarantine.count))</h2>" + table(
                ["System", "Entity", "ID", "Dir", "Reason", "Status", "Message"], d.quarantine.map { q in
                    let e = q.entry
                    return [.text(e.system.rawValue), .text(e.entity.rawValue), .text(e.externalID?.rawValue ?? "—"), .text(e.direction.rawValue),
                            badge(e.reason.rawValue, "warn"), .text(q.resolvedAt.map { "closed \($0)" } ?? "open"), .text(redact(e.message))]
                })
        }
        if !d.conflicts.isEmpty {
            out += "<h2>Conflicts recorded by this run (\(d.conflicts.count))</h2>" + table(
                ["#", "Entity", "Field", "Status", "Rule", "Winner", "Sides"], d.conflicts.map { c in
                    ["\(c.id ?? 0)", HTML.link("\(c.entity) \(c.hubID.rawValue.prefix(13))…", context.entityHref(c.entity, c.hubID)),
                     .text(c.field), .text(c.status.rawValue), .text(c.rule.rawValue), .text(c.winner ?? "—"),
                     .text(c.candidates.keys.sorted().joined(separator: ", "))]
                })
        }
        return out
    }
}
