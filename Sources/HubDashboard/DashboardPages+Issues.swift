import Foundation
import HubCore
import HubStore

extension DashboardPages {
    /// What needs a person: quarantined records and open conflicts, each with its actions.
    public static func issues(_ issues: Issues, context: PageContext) -> HTML {
        var out: HTML = "<h1>Issues</h1>"
        if context.mode == .live && !context.canAct {
            out += context.actionsEnabled
                ? "<p class=\"muted\"><a href=\"/login\">Sign in</a> with the dashboard token to retry, dismiss and resolve.</p>"
                : "<p class=\"muted\">Read-only: set <code>HUBCTL_DASHBOARD_TOKEN</code> before starting the dashboard to enable actions.</p>"
        }
        out += "<h2 id=\"conflicts\">Open conflicts (\(issues.conflicts.count))</h2>"
        if issues.conflicts.isEmpty {
            out += "<p class=\"muted\">No open conflicts.</p>"
        } else {
            out += table(["#", "Entity", "Field", "Values", "Rule", "Since", "Resolve"], issues.conflicts.map { c in
                let id = c.id ?? 0
                let values = HTML.join(c.candidates.keys.sorted().map { side in
                    "<div><strong>\(side)</strong>: \(value(c.candidates[side]))</div>"
                })
                var actions: HTML = .empty
                if context.canAct, let csrf = context.csrf {
                    let takes = HTML.join(c.candidates.keys.sorted().map { side in
                        "<button name=\"take\" value=\"\(side)\">Take \(side)</button>"
                    }, separator: " ")
                    actions = """
                        <form method="post" action="/actions/conflicts/\(id)/resolve" class="inline"><input type="hidden" name="csrf" value="\(csrf)">\(takes)</form>\
                        <form method="post" action="/actions/conflicts/\(id)/resolve" class="inline"><input type="hidden" name="csrf" value="\(csrf)">\
                        <input type="text" name="value" aria-label="value for conflict \(id)" placeholder="or type a value" required><button>Set</button></form>
                        """
                } else {
                    actions = "<code>hubctl conflicts resolve \(id) --take SIDE</code>"
                }
                return ["\(id)", HTML.link("\(c.entity) \(c.hubID.rawValue.prefix(13))…", context.entityHref(c.entity, c.hubID)),
                        .text(c.field), values, .text(c.rule.rawValue), .text(time(c.createdAt)), actions]
            })
        }
        out += "<h2 id=\"quarantine\">Quarantined records (\(issues.quarantine.count))</h2>"
        if issues.quarantine.isEmpty {
            out += "<p class=\"muted\">Nothing is quarantined.</p>"
        } else {
            out += table(["#", "System", "Entity", "Dir", "Record", "Reason", "Message", "Since", "Act"], issues.quarantine.map { e in
                let id = e.id ?? 0
                let record = e.source ?? e.externalID?.rawValue ?? e.hubID?.rawValue ?? "—"
                var actions: HTML = .empty
                if context.canAct, let csrf = context.csrf {
                    actions = """
                        <form method="post" action="/actions/quarantine/\(id)/retry" class="inline"><input type="hidden" name="csrf" value="\(csrf)"><button class="primary">Retry</button></form>\
                        <form method="post" action="/actions/quarantine/\(id)/dismiss" class="inline"><input type="hidden" name="csrf" value="\(csrf)">\
                        <input type="text" name="reason" aria-label="why dismiss entry \(id)" placeholder="why dismiss" required><button>Dismiss</button></form>
                        """
                } else {
                    actions = "<code>hubctl quarantine retry \(id)</code>"
                }
                let recordCell: HTML = e.hubID.map { HTML.link(record, context.entityHref(e.entity, $0)) } ?? .text(record)
                let excerpt: HTML = e.excerpt.map { "<br><span class=\"muted\">\($0)</span>" } ?? .empty
                return ["\(id)", .text(e.system.rawValue), .text(e.entity.rawValue), .text(e.direction.rawValue), recordCell,
                        badge(e.reason.rawValue, "warn"), .text(e.message) + excerpt, .text(time(e.createdAt)), actions]
            })
        }
        return out
    }
}
