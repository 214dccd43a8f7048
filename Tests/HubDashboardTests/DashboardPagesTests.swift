import Foundation
import HubCore
import HubSchedule
import HubStore
import HubTopology
import HubTestServers
import Testing
@testable import HubDashboard

@Suite("Dashboard pages over a hub")
struct DashboardPagesTests {
    static let secret = "s3cr3t-Value-42"

    /// 2026-12-02T11:00:00Z, when the overview tests look.
    static let now = Date(timeIntervalSince1970: 1_796_209_200)

    static func dashboard(_ hub: TestHubStore = .sqlite) throws -> Dashboard {
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
        return Dashboard(topology: topology, store: try hub.make(), clock: .fixed(now))
    }

    static func report(_ systems: [String: Value]) -> Value { .object(["systems": .object(systems)]) }

    @Test("The issues page shows hostile record values as text and never a secret", arguments: TestHubStore.all)
    func issuesEscapeAndRedact(_ kind: TestHubStore) throws {
        let d = try Self.dashboard(kind)
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

    @Test("The overview shows the schedule's state: a failing system with its error, a delayed one with its lag", arguments: TestHubStore.all)
    func overviewFailingAndDelayed(_ kind: TestHubStore) throws {
        let d = try Self.dashboard(kind)
        let min = 60.0
        try d.store.saveScheduleStates([
            ScheduleStateRecord(system: SystemName("crm"), lastAttemptAt: Self.now - 2 * min, lastSuccessAt: Self.now - 60 * min,
                                lastFailureAt: Self.now - 2 * min, lastError: "cannot open \(Self.secret).db",
                                consecutiveFailures: 2, nextDueAt: Self.now + 8 * min),
            // Read an hour ago, due 55 minutes ago: overdue by more than its 5-minute interval.
            ScheduleStateRecord(system: SystemName("sheet"), lastAttemptAt: Self.now - 60 * min, lastSuccessAt: Self.now - 60 * min,
                                nextDueAt: Self.now - 55 * min),
        ])
        let o = try d.overview()
        let crm = try #require(o.rows.first { $0.system == SystemName("crm") })
        #expect(crm.state == .failing && crm.detail == "cannot open *****.db")
        #expect(crm.status.lastSuccessAt == Self.now - 60 * min && crm.status.nextRunAt == Self.now + 8 * min && crm.status.lagSeconds == 0)
        let sheet = try #require(o.rows.first { $0.system == SystemName("sheet") })
        #expect(sheet.state == .delayed && sheet.detail == nil && sheet.status.lagSeconds == 55 * min)
        let html = DashboardPages.overview(o, context: PageContext(mode: .live)).rendered
        #expect(html.contains("<span class=\"badge bad\">failing</span>") && html.contains("<span class=\"badge warn\">delayed</span>"))
        #expect(html.contains("<td><span class=\"nowrap\" title=\"2026-12-02 10:05:00 UTC\">55m overdue</span></td><td>55m</td>"))
        #expect(html.contains("<td><span class=\"nowrap\" title=\"2026-12-02 11:08:00 UTC\">in 8m</span></td><td>—</td>"))
        #expect(html.contains("<b>0/2</b>system × entity on time") && !html.contains(Self.secret))
    }

    @Test("A system × entity the schedule has not read is not run; one read within its interval is on time", arguments: TestHubStore.all)
    func overviewNotRunAndOnTime(_ kind: TestHubStore) throws {
        let d = try Self.dashboard(kind)
        #expect(try d.overview().rows.map(\.state) == [.notRun, .notRun])
        try d.store.saveScheduleStates([
            ScheduleStateRecord(system: SystemName("sheet"), lastAttemptAt: Self.now - 60, lastSuccessAt: Self.now - 60,
                                nextDueAt: Self.now + 240),
        ])
        let o = try d.overview()
        #expect(o.rows.map(\.state) == [.notRun, .onTime])
        let html = DashboardPages.overview(o, context: PageContext(mode: .live)).rendered
        #expect(html.contains("<span class=\"badge none\">not run</span></td><td><span class=\"muted\">never</span></td>") && html.contains("<b>1/2</b>system × entity on time"))
        #expect(html.contains("<td><span class=\"nowrap\" title=\"2026-12-02 10:59:00 UTC\">1m ago</span></td><td><span class=\"nowrap\" title=\"2026-12-02 11:04:00 UTC\">in 4m</span></td>"))
    }

    @Test("The graph has an arrow per direction: a pull-only system has no push arrow", arguments: TestHubStore.all)
    func graphDirections(_ kind: TestHubStore) throws {
        let graph = try Self.dashboard(kind).graph()
        #expect(graph.edges.map { "\($0.system):\($0.kind.rawValue)" } == ["crm:pull", "crm:push", "sheet:pull"])
        #expect(graph.dot.contains("\"system:sheet\" -> hub") && !graph.dot.contains("hub -> \"system:sheet\""))
        #expect(graph.mermaid.contains("hub -->|\"push: customer\"| s0"))
        let svg = SVG.topology(graph, standalone: true).rendered
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.contains(">crm</text>"))
    }

    @Test("The static report has every section, no form, and anchors instead of server links", arguments: TestHubStore.all)
    func staticReport(_ kind: TestHubStore) throws {
        let d = try Self.dashboard(kind)
        let html = try DashboardPages.report(d).rendered
        for id in ["overview", "issues", "runs", "entity", "topology"] { #expect(html.contains("<section id=\"\(id)\"")) }
        #expect(!html.contains("<form") && !html.contains("href=\"/"))
    }
}

@Suite("Dashboard counts")
struct DashboardCountsTests {
    @Test("Live entity counts leave deleted entities out, and pending creates are counted per system", arguments: TestHubStore.all)
    func liveCounts(_ kind: TestHubStore) throws {
        let d = try DashboardPagesTests.dashboard(kind)
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
