import Foundation
import HubCore
import HubStore
import HubTopology
import Testing
@testable import HubDashboard

@Suite("Dashboard pages over a hub")
struct DashboardPagesTests {
    static let secret = "s3cr3t-Value-42"

    static func dashboard() throws -> Dashboard {
        let topology = try TopologyLoader.decode("""
            {
              "version": 1, "name": "pages", "hub": { "path": "hub.sqlite" },
              "entities": { "customer": { "fields": { "email": { "type": "string" }, "first_name": { "type": "string" } },
                                          "match": [["email"]], "conflicts": { "resolve": "manual" } } },
              "systems": {
                "crm": { "adapter": "rest",
                         "connection": { "base_url": "http://127.0.0.1:9", "auth": { "type": "bearer", "token": "${DASH_SECRET}" } },
                         "entities": { "customer": { "object": "contacts", "id": "id", "fields": { "email": "email", "first_name": "first" } } } },
                "sheet": { "adapter": "csv", "direction": "pull", "connection": { "path": "sheet" },
                           "entities": { "customer": { "object": "c.csv", "id": "id", "fields": { "email": "email" } } } }
              }
            }
            """, baseDirectory: "/tmp", environment: ["DASH_SECRET": secret])
        return Dashboard(topology: topology, store: try HubStore.inMemory())
    }

    static func report(_ systems: [String: Value]) -> Value { .object(["systems": .object(systems)]) }

    @Test("The issues page shows hostile record values as text and never a secret")
    func issuesEscapeAndRedact() throws {
        let d = try Self.dashboard()
        let hub = HubID("01a2370e-0000-7000-8000-000000000001")
        try d.store.write { tx in
            try tx.recordConflict(ConflictRecord(run: RunID("r1"), entity: EntityName("customer"), hubID: hub, field: "first_name",
                                                 candidates: ["crm": .string("<script>alert(1)</script>"), "sheet": .string("\"><img src=x onerror=alert(2)>")],
                                                 winner: nil, rule: .manual, status: .open, createdAt: "2026-12-02T10:00:00.000Z"))
            try tx.quarantine(QuarantineEntry(run: RunID("r1"), system: SystemName("crm"), entity: EntityName("customer"),
                                              externalID: ExternalID("<b>7</b>"), hubID: nil, direction: .pull, reason: "unreadable",
                                              message: "could not open \(Self.secret).db", createdAt: "2026-12-02T10:00:00.000Z"))
        }
        let signedIn = PageContext(mode: .live, user: "ann", csrf: "c5rf", actionsEnabled: true)
        let page = DashboardPages.issues(try d.issues(), context: signedIn).rendered
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(page.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"))
        #expect(page.contains("&lt;b&gt;7&lt;/b&gt;"))
        #expect(!page.contains("<script") && !page.contains("<img") && !page.contains("<b>7"))
        #expect(!page.contains(Self.secret) && page.contains("could not open *****.db"))
        // Every form carries the session's CSRF token; one button per side of the conflict.
        #expect(page.components(separatedBy: "<form").count - 1 == page.components(separatedBy: "name=\"csrf\" value=\"c5rf\"").count - 1)
        #expect(page.contains("value=\"crm\">Take crm") && page.contains("value=\"sheet\">Take sheet"))
        let readOnly = DashboardPages.issues(try d.issues(), context: PageContext(mode: .live)).rendered
        #expect(!readOnly.contains("<form"))
    }

    @Test("A system × entity is failing when its newest run failed, with the older run as its last success")
    func overviewState() throws {
        let d = try Self.dashboard()
        try d.store.write { tx in
            try tx.beginRun(RunID("run-1"), startedAt: "2026-12-02T10:00:00.000Z", dryRun: false, topologyHash: nil)
            try tx.finishRun(RunID("run-1"), finishedAt: "2026-12-02T10:00:01.000Z", status: .ok, exitCode: 0,
                             report: Self.report(["crm": .object(["status": "ok"]), "sheet": .object(["status": "ok"])]), counts: [])
            try tx.beginRun(RunID("run-2"), startedAt: "2026-12-02T11:00:00.000Z", dryRun: false, topologyHash: nil)
            try tx.finishRun(RunID("run-2"), finishedAt: "2026-12-02T11:00:01.000Z", status: .partial, exitCode: 3,
                             report: Self.report(["crm": .object(["status": "failed", "error": .string("cannot open \(Self.secret).db")]),
                                                  "sheet": .object(["status": "ok"])]), counts: [])
        }
        let o = try d.overview()
        let crm = try #require(o.rows.first { $0.system == SystemName("crm") })
        #expect(crm.state == .failing)
        #expect(crm.lastSuccess == "2026-12-02T10:00:01.000Z")
        #expect(crm.detail == "cannot open *****.db")
        let sheet = try #require(o.rows.first { $0.system == SystemName("sheet") })
        #expect(sheet.state == .onTime && sheet.lastSuccess == "2026-12-02T11:00:01.000Z")
        let html = DashboardPages.overview(o, context: PageContext(mode: .live)).rendered
        #expect(html.contains("failing") && !html.contains(Self.secret))
    }

    @Test("The graph has an arrow per direction: a pull-only system has no push arrow")
    func graphDirections() throws {
        let graph = try Self.dashboard().graph()
        #expect(graph.edges.map { "\($0.system):\($0.kind.rawValue)" } == ["crm:pull", "crm:push", "sheet:pull"])
        #expect(graph.dot.contains("\"system:sheet\" -> hub") && !graph.dot.contains("hub -> \"system:sheet\""))
        #expect(graph.mermaid.contains("hub -->|\"push: customer\"| s0"))
        let svg = SVG.topology(graph, standalone: true).rendered
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.contains(">crm</text>"))
    }

    @Test("The static report has every section, no form, and anchors instead of server links")
    func staticReport() throws {
        let d = try Self.dashboard()
        let html = try DashboardPages.report(d).rendered
        for id in ["overview", "issues", "runs", "entity", "topology"] { #expect(html.contains("<section id=\"\(id)\"")) }
        #expect(!html.contains("<form") && !html.contains("href=\"/"))
    }
}

@Suite("Dashboard counts")
struct DashboardCountsTests {
    @Test("Live entity counts leave deleted entities out, and pending creates are counted per system")
    func liveCounts() throws {
        let d = try DashboardPagesTests.dashboard()
        let customer = EntityName("customer")
        try d.store.write { tx in
            for i in 1...3 {
                let r = EntityRecord(hubID: HubID("01a2370e-0000-7000-8000-00000000000\(i)"), entity: customer,
                                     data: ["email": .string("c\(i)@example.com")], version: 1, seq: Int64(i), fieldOrigins: [:],
                                     createdAt: "2026-12-02T10:00:00.000Z", updatedAt: "2026-12-02T10:00:00.000Z", deletedAt: nil)
                try tx.insertEntity(r, sourceSystem: SystemName("crm"), run: RunID("r1"))
                try tx.saveLink(Link(entity: customer, system: SystemName("crm"), externalID: ExternalID("\(i)"), hubID: r.hubID,
                                     state: i == 3 ? .pendingCreate : .linked, baseHash: nil, baseData: [:], baseVersion: nil,
                                     linkedBy: "created", linkedAt: "2026-12-02T10:00:00.000Z", lastSeenRun: nil))
            }
            _ = try tx.deleteEntity(try #require(try tx.entity(HubID("01a2370e-0000-7000-8000-000000000001"))),
                                    at: "2026-12-02T11:00:00.000Z", sourceSystem: SystemName("crm"), run: RunID("r2"))
        }
        let o = try d.overview()
        #expect(o.entityCounts[customer] == 2)
        let crm = try #require(o.rows.first { $0.system == SystemName("crm") })
        #expect(crm.linked == 2 && crm.pendingWrites == 1)
        #expect(crm.coverage == 1.0)
    }
}
