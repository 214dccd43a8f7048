import Foundation
import HubCore
import HubStore

extension DashboardPages {
    /// Every page in one static HTML file (`hubctl report --html`): no forms, links as anchors.
    /// The entity section holds the entities that have open conflicts or quarantined records
    /// (at most `entityLimit`), and the runs section the newest run in detail.
    public static func report(_ dashboard: Dashboard, entityLimit: Int = 20) throws -> HTML {
        let overview = try dashboard.overview()
        let issues = try dashboard.issues()
        let runs = try dashboard.runs()
        let graph = try dashboard.graph()
        var wanted: [(EntityName, HubID)] = []
        for c in issues.conflicts where !wanted.contains(where: { $0.1 == c.hubID }) { wanted.append((c.entity, c.hubID)) }
        for q in issues.quarantine {
            if let id = q.hubID, !wanted.contains(where: { $0.1 == id }) { wanted.append((q.entity, id)) }
        }
        var context = PageContext.report
        var entities: [EntityPage] = []
        for (entity, id) in wanted.prefix(entityLimit) {
            if let page = try? dashboard.entity(entity, id) { entities.append(page) }
        }
        context.reportEntities = Set(entities.map(\.lineage.entity.hubID))
        func section(_ id: String, _ body: HTML) -> HTML { "<section id=\"\(id)\" class=\"report-page\">\(body)</section>" }
        var body: HTML = "<p class=\"muted\">A static report of hub <strong>\(dashboard.topology.name)</strong> written \(time(overview.generatedAt)) UTC by <code>hubctl report --html</code>: read-only; act with the commands shown, or on <code>hubctl dashboard</code>.</p>"
        body += section("overview", DashboardPages.overview(overview, context: context))
        body += section("issues", DashboardPages.issues(issues, context: context))
        var runsBody = DashboardPages.runs(runs, context: context)
        if let newest = runs.first {
            runsBody += "<div id=\"run\">" + DashboardPages.run(try dashboard.run(newest.run.id.rawValue), context: context, redact: dashboard.redact) + "</div>"
        }
        body += section("runs", runsBody)
        var entityBody: HTML = "<h1>Entity</h1>"
        if entities.isEmpty {
            entityBody += "<p class=\"muted\">No entity has an open conflict or a quarantined record. <code>hubctl explain ENTITY REF</code> shows any entity.</p>"
        } else {
            entityBody += "<p class=\"muted\">The entities with open conflicts or quarantined records (\(entities.count)).</p>"
            for page in entities {
                entityBody += "<div id=\"entity-\(PageContext.segment(page.lineage.entity.hubID.rawValue))\">" + DashboardPages.entity(page, context: context) + "</div>"
            }
        }
        body += section("entity", entityBody)
        body += section("topology", DashboardPages.topology(graph, context: context))
        return layout(title: "Report", hubName: dashboard.topology.name, active: "", context: context, body: body)
    }
}
