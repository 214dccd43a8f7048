import Foundation
import HubCore
import HubSchedule
import HubTopology

extension DashboardPages {
    /// Is every system in sync: one row per system × entity, totals, and the activity chart.
    public static func overview(_ o: Overview, context: PageContext) -> HTML {
        let onTime = o.rows.filter { $0.state == .onTime }.count
        let cards: HTML = """
            <div class="cards">\
            <div class="card"><b>\(onTime)/\(o.rows.count)</b>system × entity on time</div>\
            <div class="card"><b>\(o.openConflicts)</b>\(HTML.link("open conflicts", context.href("issues")))</div>\
            <div class="card"><b>\(o.openQuarantine)</b>\(HTML.link("quarantined", context.href("issues")))</div>\
            \(HTML.join(o.entityCounts.keys.sorted().map { e in "<div class=\"card\"><b>\(o.entityCounts[e] ?? 0)</b>\(e.rawValue) in the hub</div>" }))\
            </div>
            """
        let now = Dashboard.date(o.generatedAt) ?? Date()
        let rows: [[HTML]] = o.rows.map { r in
            let state: HTML = switch r.state {
            case .onTime: badge("on time", "ok")
            case .delayed: badge("delayed", "warn")
            case .failing: badge("failing", "bad")
            case .paused: badge("paused", "warn")
            case .notRun: badge("not run", "none")
            }
            let detail: HTML = r.detail.map { "<br><span class=\"muted\">\($0)</span>" } ?? .empty
            let s = r.status
            return ["<strong>\(r.system.rawValue)</strong>", .text(r.entity.rawValue), .text(r.direction.rawValue), state + detail,
                    ago(s.lastSuccessAt, now: now), nextRun(s.nextRunAt, now: now),
                    .text(s.lagSeconds > 0 ? DurationText.text(s.lagSeconds.rounded()) : "—"),
                    num(r.linked), .text(percent(r.coverage)), num(r.pendingWrites),
                    num(r.failedWrites, bad: true), num(r.openConflicts, bad: true), num(r.quarantined, bad: true)]
        }
        return """
            <h1>Overview</h1>\(cards)
            \(table(["System", "Entity", "Direction", "State", "Last success", "Next run", "Lag", "Linked", "Coverage", "Pending writes", "Failed writes", "Open conflicts", "Quarantined"], rows, id: "systems"))
            <h2>Activity</h2>\(SVG.activity(o.activity))
            <p class="muted">Generated \(time(o.generatedAt)) UTC. State, last success, next run and lag are the schedule's, as <code>hubctl status</code> shows them: \
            on time, delayed (overdue by more than its interval), failing (its last read failed), paused (a schema change \
            holds it) or not run (<code>hubctl run</code> has not read it yet). Hover a time for the time itself. Coverage is the records linked in a system over the hub's live entities of that kind.</p>
            """
    }

    /// How long ago a system × entity was last read without error: `3m ago`, with the time
    /// itself on hover; "never" when it has not been.
    static func ago(_ date: Date?, now: Date) -> HTML {
        guard let date else { return "<span class=\"muted\">never</span>" }
        return at(date, "\(DurationText.text(max(0, now.timeIntervalSince(date)).rounded())) ago")
    }

    /// `text`, with `date` as the hub writes it shown on hover.
    static func at(_ date: Date, _ text: String) -> HTML {
        "<span class=\"nowrap\" title=\"\(time(Timestamp.string(date))) UTC\">\(text)</span>"
    }

    /// When a system × entity is read next, from `now`: `in 4m`, `55m overdue`, with the time
    /// itself on hover; "—" for a system that is only written to or not scheduled yet.
    static func nextRun(_ date: Date?, now: Date) -> HTML {
        guard let date else { return "—" }
        let delta = date.timeIntervalSince(now).rounded()
        return at(date, delta >= 0 ? "in \(DurationText.text(delta))" : "\(DurationText.text(-delta)) overdue")
    }

    /// A count, highlighted when it is a problem.
    static func num(_ n: Int, bad: Bool = false) -> HTML {
        bad && n > 0 ? "<span class=\"badge bad\">\(n)</span>" : "\(n)"
    }

    /// The hub and its systems drawn as a graph, and the same graph's DOT and Mermaid text.
    public static func topology(_ graph: TopologyGraph, context: PageContext) -> HTML {
        let rows: [[HTML]] = graph.edges.map { e in
            [.text(e.system.rawValue), .text(e.kind == .pull ? "\(e.system) → hub" : "hub → \(e.system)"),
             .text(e.entities.map(\.rawValue).joined(separator: ", ")), .text(e.lastRunWrites.map(String.init) ?? "—")]
        }
        let download: HTML = context.mode == .live
            ? " <a href=\"/topology.svg\">SVG</a> · the same graph from the command line: <code>hubctl graph --format svg|dot|mermaid</code>" : ""
        return """
            <h1>Topology</h1>\(SVG.topology(graph))
            <p class="legend"><span class="swatch" style="background:\(HTML(unsafeMarkup: SVG.pullColor))"></span>pull: system → hub <span class="swatch" style="background:\(HTML(unsafeMarkup: SVG.pushColor))"></span>push: hub → system.\(download)</p>
            \(table(["System", "Arrow", "Entities", "Written by the newest run"], rows))
            """
    }
}
