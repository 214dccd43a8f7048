import Foundation
import HubAudit
import HubCore
import HubStore

extension DashboardPages {
    /// The search form, and what the search found.
    /// - Parameter listMatches: false when the one match's page follows.
    public static func entitySearch(_ result: SearchResult?, context: PageContext, listMatches: Bool = true) -> HTML {
        var out: HTML = """
            <h1>Entity</h1>
            <form method="get" action="/entity" class="inline" role="search"><input type="search" name="q" value="\(result?.query ?? "")" \
            placeholder="hub ID, a system's ID (crm:42) or an email" aria-label="hub ID, a system's ID or an email" size="40"><button class="primary">Find</button></form>
            """
        guard let result, !result.query.isEmpty else {
            return out + "<p class=\"muted\">Search by the hub ID, any system's ID (<code>42</code> or <code>crm:42</code>) or an email.</p>"
        }
        if result.matches.isEmpty { return out + "<p>Nothing matches <code>\(result.query)</code>.</p>" }
        guard listMatches else { return out }
        out += "<h2>\(result.matches.count) found</h2>" + table(["Entity", "Hub ID", "Values", "Updated"], result.matches.map { r in
            [.text(r.entity.rawValue), HTML.link(r.hubID.rawValue, context.entityHref(r.entity, r.hubID)),
             .text(r.data.keys.sorted().prefix(4).map { "\($0)=\(r.data[$0]!.displayText)" }.joined(separator: " ")),
             .text(r.isDeleted ? "deleted \(time(r.deletedAt))" : time(r.updatedAt))]
        })
        return out
    }

    /// One entity: its canonical values with their lineage (`explain`), its ID in every system
    /// (`links`), and its history.
    public static func entity(_ page: EntityPage, context: PageContext) -> HTML {
        let l = page.lineage
        let e = l.entity
        var out: HTML = """
            <h1>\(e.entity.rawValue) <code>\(e.hubID.rawValue)</code></h1>
            <p>version \(e.version) · created \(time(e.createdAt)) · updated \(time(e.updatedAt))\(e.isDeleted ? HTML.text(" · deleted \(e.deletedAt ?? "")") : .empty)\
            \(l.mergedInto.map { m in HTML.text(" · merged into ") + HTML.link(m.rawValue, context.entityHref(e.entity, m)) } ?? .empty)</p>
            """
        out += "<h2>Values and where they came from</h2>" + table(["Field", "Value", "From", "Changed", "Earlier values", "Conflicts"],
            l.fields.map { f in
                let earlier = f.changes.dropLast().suffix(5).map { c in
                    HTML("<div>\(value(c.value)) <span class=\"muted\">\(c.system?.rawValue ?? "?") v\(c.version)</span></div>")
                }
                let conflicts = HTML.join(f.conflicts.map { c in
                    "<div>#\(c.id ?? 0) \(c.status.rawValue)\(c.winner.map { " → \($0)" } ?? "")</div>"
                })
                return [.text(f.field.rawValue), value(f.value), .text(f.origin.map { "\($0.system)" } ?? "—"),
                        .text(time(f.origin?.changedAt)), HTML.join(earlier), conflicts]
            })
        out += "<h2>ID in every system</h2>" + table(["System", "ID", "State", "Linked by", "Linked at"], page.links.systems.map { s in
            guard let link = s.link else {
                let why = s.belongs == false ? "not linked (filtered out)" : "not linked"
                return [.text(s.system.rawValue), "<span class=\"muted\">—</span>", .text(why), "", ""]
            }
            return [.text(s.system.rawValue), "<code>\(link.externalID?.rawValue ?? "—")</code>", .text(link.state.rawValue),
                    .text(link.linkedBy), .text(time(link.linkedAt))]
        })
        out += "<h2>History (\(page.versions.count) versions)</h2>" + table(["Version", "At", "Source", "Run", "Fields"],
            page.versions.reversed().prefix(50).map { v in
                let run: HTML = v.run.map { r in HTML.link(String(r.rawValue.prefix(13)), r.rawValue.hasPrefix("stewardship:") ? nil : context.runHref(r)) } ?? "—"
                return ["\(v.version)", .text(time(v.at)), .text(v.sourceSystem?.rawValue ?? "—"), run,
                        .text(v.data.isEmpty ? "(deleted)" : v.data.keys.sorted().joined(separator: ", "))]
            })
        return out
    }
}
