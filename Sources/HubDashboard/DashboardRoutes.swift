import Dispatch
import Foundation
import HTTPTypes
import HubAudit
import HubCore
import Hummingbird

/// Installs the dashboard on a Hummingbird router: the pages (GET, readable by anyone who can
/// reach the listener) and the actions (POST, for a bearer token or a signed-in session with
/// its CSRF token). `hubctl dashboard` serves these routes alone; `hubctl run` mounts them on its
/// listener.
public enum DashboardRoutes {
    /// The session cookie's name.
    public static let cookieName = "hubctl_session"
    /// The sign-in form's CSRF cookie.
    static let loginCookieName = "hubctl_login"

    /// Registers every page and action of the dashboard on `router`.
    /// - Parameter actions: the issues page's operations; nil makes the dashboard read-only.
    public static func install(on router: Router<BasicRequestContext>, dashboard: Dashboard, sessions: DashboardSessions,
                               actions: (any DashboardActions)?)
    {
        let h = Handlers(dashboard: dashboard, sessions: sessions, actions: actions)
        router.get("/") { req, _ in await h.page(req, "Overview", "overview") { c in DashboardPages.overview(try dashboard.overview(), context: c) } }
        router.get("/issues") { req, _ in await h.page(req, "Issues", "issues") { c in DashboardPages.issues(try dashboard.issues(), context: c) } }
        router.get("/runs") { req, _ in await h.page(req, "Runs", "runs") { c in DashboardPages.runs(try dashboard.runs(), context: c) } }
        router.get("/runs/:id") { req, ctx in
            let id = ctx.parameters.get("id")?.removingPercentEncoding ?? ""
            return await h.page(req, "Run", "runs") { c in DashboardPages.run(try dashboard.run(id), context: c, redact: dashboard.redact) }
        }
        router.get("/entity") { req, _ in
            let q = req.uri.queryParameters.get("q")
            return await h.page(req, "Entity", "entity") { c in
                guard let q else { return DashboardPages.entitySearch(nil, context: c) }
                let result = try dashboard.search(q)
                if result.matches.count == 1, let only = result.matches.first {
                    return DashboardPages.entitySearch(result, context: c, listMatches: false)
                        + DashboardPages.entity(try dashboard.entity(only.entity, only.hubID), context: c)
                }
                return DashboardPages.entitySearch(result, context: c)
            }
        }
        router.get("/entity/:entity/:hubID") { req, ctx in
            let entity = EntityName(ctx.parameters.get("entity")?.removingPercentEncoding ?? ""),
                id = HubID(ctx.parameters.get("hubID")?.removingPercentEncoding ?? "")
            return await h.page(req, "Entity", "entity") { c in DashboardPages.entity(try dashboard.entity(entity, id), context: c) }
        }
        router.get("/topology") { req, _ in await h.page(req, "Topology", "topology") { c in DashboardPages.topology(try dashboard.graph(), context: c) } }
        router.get("/topology.svg") { _, _ in
            do {
                let graph = try await offload { try dashboard.graph() }
                return h.response(.ok, SVG.topology(graph, standalone: true).rendered, type: "image/svg+xml; charset=utf-8")
            } catch {
                return h.response(.internalServerError, dashboard.redact("\(error)"), type: "text/plain; charset=utf-8")
            }
        }
        router.get("/login") { req, _ in await h.loginPage(req, error: nil, status: .ok) }
        router.post("/login") { req, _ in await h.login(req) }
        router.post("/logout") { req, _ in await h.logout(req) }
        router.post("/actions/conflicts/:id/resolve") { req, ctx in
            let id = Int64(ctx.parameters.get("id") ?? "") ?? -1
            return await h.act(req) { form, person, actions in
                if let side = form["take"], !side.isEmpty { return try await actions.resolveConflict(id, .take(side), by: person) }
                guard let value = form["value"] else { throw DashboardActionError("choose a side to take, or type a value") }
                return try await actions.resolveConflict(id, .value(value), by: person)
            }
        }
        router.post("/actions/quarantine/:id/retry") { req, ctx in
            let id = Int64(ctx.parameters.get("id") ?? "") ?? -1
            return await h.act(req) { _, _, actions in try await actions.retryQuarantine([id]) }
        }
        router.post("/actions/quarantine/:id/dismiss") { req, ctx in
            let id = Int64(ctx.parameters.get("id") ?? "") ?? -1
            return await h.act(req) { form, person, actions in
                let reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                guard !reason.isEmpty else { throw DashboardActionError("give a reason: it is kept in the hub's history") }
                return try await actions.dismissQuarantine([id], reason: reason, by: person)
            }
        }
    }

    /// Runs blocking hub reads off the server's event loops.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Reads `application/x-www-form-urlencoded` text.
    static func parseForm(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { (s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding) ?? "" }
            let key = decode(parts[0])
            if out[key] == nil { out[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return out
    }
}
