import Foundation
import HTTPTypes
import HubAudit
import HubCore
import Hummingbird

extension DashboardRoutes {
    /// The work behind each route: who is asking, rendering off the event loop, and the answers.
    struct Handlers: Sendable {
        let dashboard: Dashboard
        let sessions: DashboardSessions
        let actions: (any DashboardActions)?

        /// The signed-in session of the request's cookie.
        func session(_ req: Request) async -> DashboardSessions.Session? {
            await sessions.session(req.cookies[DashboardRoutes.cookieName]?.value)
        }

        /// A page in the layout, rendered for whoever asks (with forms for a signed-in session).
        func page(_ req: Request, _ title: String, _ active: String, _ render: @escaping @Sendable (PageContext) throws -> HTML) async
            -> Response
        {
            let s = await session(req)
            let flash: String? = if let s { await sessions.takeFlash(s.id) } else { nil }
            let context = PageContext(mode: .live, user: s?.user, csrf: s?.csrf,
                                      actionsEnabled: actions != nil && sessions.actionsEnabled, flash: flash.map(dashboard.redact))
            do {
                let body = try await offload { try render(context) }
                return html(.ok, DashboardPages.layout(title: title, hubName: dashboard.topology.name, active: active, context: context, body: body))
            } catch let e as AuditError {
                let status: HTTPResponse.Status = e.code == .notFound ? .notFound : .badRequest
                let hint: HTML = e.hint.map { " <span class=\"muted\">\($0)</span>" } ?? .empty
                return html(status, DashboardPages.layout(title: title, hubName: dashboard.topology.name, active: active, context: context,
                                                          body: "<h1>\(title)</h1><p class=\"error\">\(dashboard.redact(e.message))\(hint)</p>"))
            } catch {
                return html(.internalServerError, DashboardPages.layout(
                    title: title, hubName: dashboard.topology.name, active: active, context: context,
                    body: "<h1>\(title)</h1><p class=\"error\">The hub could not be read: \(dashboard.redact("\(error)"))</p>"))
            }
        }

        func loginPage(_ req: Request, error: String?, status: HTTPResponse.Status) async -> Response {
            let context = PageContext(mode: .live, actionsEnabled: actions != nil && sessions.actionsEnabled)
            var body: HTML = "<h1>Sign in</h1>"
            // The sign-in form has a CSRF token too, before any session: the same random value in
            // a cookie and in the form (double submit), so another site cannot sign a browser in.
            let loginCSRF = DashboardSessions.randomToken()
            if actions == nil || !sessions.actionsEnabled {
                body += "<p>Actions are off: start the dashboard with <code>HUBCTL_DASHBOARD_TOKEN</code> set to enable them.</p>"
            } else {
                if let error { body += "<p class=\"error\">\(error)</p>" }
                body += """
                    <form method="post" action="/login"><input type="hidden" name="csrf" value="\(loginCSRF)"><p><label>Your name (recorded with what you do)<br>\
                    <input type="text" name="name" autocomplete="username" required maxlength="64"></label></p>\
                    <p><label>Dashboard token<br><input type="password" name="token" autocomplete="current-password" required></label></p>\
                    <p><button class="primary">Sign in</button></p></form>
                    """
            }
            var response = html(status, DashboardPages.layout(title: "Sign in", hubName: dashboard.topology.name, active: "",
                                                              context: context, body: body))
            response.setCookie(Cookie(name: DashboardRoutes.loginCookieName, value: loginCSRF, maxAge: 3600, path: "/login",
                                      httpOnly: true, sameSite: .strict))
            return response
        }

        func login(_ req: Request) async -> Response {
            let form = await self.form(req) ?? [:]
            let expected = req.cookies[DashboardRoutes.loginCookieName]?.value ?? ""
            guard !expected.isEmpty, DashboardSessions.constantTimeEqual(Array(expected.utf8), Array((form["csrf"] ?? "").utf8)) else {
                return await loginPage(req, error: "The sign-in form is stale: enter the token again.", status: .forbidden)
            }
            guard actions != nil, let s = await sessions.signIn(token: form["token"] ?? "", user: form["name"] ?? "") else {
                try? await Task.sleep(nanoseconds: 300_000_000)  // slows guessing
                return await loginPage(req, error: "That token is not the dashboard's.", status: .unauthorized)
            }
            var response = Response.redirect(to: "/issues", type: .normal)
            response.setCookie(Cookie(name: DashboardRoutes.cookieName, value: s.id, maxAge: 12 * 3600, path: "/", httpOnly: true,
                                      sameSite: .strict))
            return response
        }

        func logout(_ req: Request) async -> Response {
            let form = await self.form(req) ?? [:]
            if let s = await session(req), DashboardSessions.constantTimeEqual(Array(s.csrf.utf8), Array((form["csrf"] ?? "").utf8)) {
                await sessions.signOut(s.id)
            }
            var response = Response.redirect(to: "/", type: .normal)
            response.setCookie(Cookie(name: DashboardRoutes.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }

        /// An action: a bearer token, or a session whose CSRF token the form carries; then the
        /// operation, its outcome kept for the next page (a session) or answered as text (a token).
        func act(_ req: Request, _ body: @escaping @Sendable ([String: String], String, any DashboardActions) async throws -> String) async
            -> Response
        {
            guard let actions, sessions.actionsEnabled else {
                return response(.forbidden, "Actions are off: start the dashboard with HUBCTL_DASHBOARD_TOKEN set.\n")
            }
            guard let form = await self.form(req) else {
                return response(.contentTooLarge, "The form is larger than 64 KiB.\n")
            }
            let person: String
            var signedIn: DashboardSessions.Session?
            if let auth = req.headers[.authorization], auth.hasPrefix("Bearer ") {
                guard sessions.accepts(String(auth.dropFirst("Bearer ".count))) else {
                    return response(.unauthorized, "That token is not the dashboard's.\n")
                }
                let name = req.headers[HTTPField.Name("X-Hubctl-User")!] ?? "api"
                person = DashboardSessions.cleanName(name) + " (dashboard)"
            } else if let s = await session(req) {
                guard DashboardSessions.constantTimeEqual(Array(s.csrf.utf8), Array((form["csrf"] ?? "").utf8)) else {
                    return response(.forbidden, "The form's CSRF token is missing or stale: reload the page and try again.\n")
                }
                signedIn = s
                person = s.user + " (dashboard)"
            } else {
                return response(.unauthorized, "Sign in at /login, or send Authorization: Bearer with the dashboard token.\n")
            }
            let message: String
            var failed = false
            do {
                message = try await body(form, person, actions)
            } catch {
                message = "\(error)"
                failed = true
            }
            let text = dashboard.redact(message)
            if let signedIn {
                await sessions.setFlash(signedIn.id, (failed ? "Not done: " : "") + text)
                return Response.redirect(to: "/issues", type: .normal)
            }
            return response(failed ? .conflict : .ok, text + "\n")
        }

        /// The request's form fields; nil when the body is over 64 KiB.
        func form(_ req: Request) async -> [String: String]? {
            var req = req
            guard let buffer = try? await req.collectBody(upTo: 64 * 1024) else { return nil }
            return DashboardRoutes.parseForm(String(buffer: buffer))
        }

        func html(_ status: HTTPResponse.Status, _ page: HTML) -> Response {
            response(status, page.rendered, type: "text/html; charset=utf-8")
        }

        /// A response with the dashboard's security headers: no script, no framing, no sniffing.
        func response(_ status: HTTPResponse.Status, _ text: String, type: String = "text/plain; charset=utf-8") -> Response {
            var headers = HTTPFields()
            headers[.contentType] = type
            headers[.cacheControl] = "no-store"
            headers[HTTPField.Name("Content-Security-Policy")!] =
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
            headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
            headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
