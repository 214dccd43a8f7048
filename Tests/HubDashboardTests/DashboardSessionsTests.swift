import Foundation
import Hummingbird
import Testing
@testable import HubDashboard

@Suite("Dashboard sessions and addresses")
struct DashboardSessionsTests {
    @Test("Only the configured token opens a session, and each session gets its own CSRF token")
    func signInNeedsTheToken() async {
        let sessions = DashboardSessions(token: "0123456789abcdef-token")
        #expect(await sessions.signIn(token: "wrong", user: "eve") == nil)
        #expect(await sessions.signIn(token: "0123456789abcdef-toke", user: "eve") == nil)
        let a = await sessions.signIn(token: "0123456789abcdef-token", user: "  Ann \u{0}Lee ")
        let b = await sessions.signIn(token: "0123456789abcdef-token", user: "")
        #expect(a?.user == "Ann Lee")
        #expect(b?.user == "dashboard")
        #expect(a?.csrf.count == 64 && a?.id.count == 64)
        #expect(a?.csrf != b?.csrf && a?.id != b?.id && a?.id != a?.csrf)
        #expect(await sessions.session(a?.id)?.user == "Ann Lee")
        await sessions.signOut(a!.id)
        #expect(await sessions.session(a?.id) == nil)
    }

    @Test("Without a token nothing signs in, even an empty token")
    func noTokenMeansReadOnly() async {
        for token in [nil, ""] as [String?] {
            let sessions = DashboardSessions(token: token)
            #expect(!sessions.actionsEnabled)
            #expect(await sessions.signIn(token: "", user: "x") == nil)
            #expect(!sessions.accepts(""))
        }
    }

    @Test("A session expires after its lifetime")
    func sessionsExpire() async {
        let now = Clock(Date(timeIntervalSince1970: 1_000_000))
        let sessions = DashboardSessions(token: "0123456789abcdef-token", lifetime: 60, clock: { now.date })
        let s = await sessions.signIn(token: "0123456789abcdef-token", user: "ann")!
        now.date += 59
        #expect(await sessions.session(s.id) != nil)
        now.date += 2
        #expect(await sessions.session(s.id) == nil)
    }

    @Test("Listen addresses default to loopback; other hosts are parsed and flagged")
    func addresses() {
        #expect(DashboardServer.Address(parsing: "8080") == DashboardServer.Address(parsing: "127.0.0.1:8080"))
        #expect(DashboardServer.Address(parsing: ":9000")?.host == "127.0.0.1")
        #expect(DashboardServer.Address(parsing: "127.0.0.1:0")?.isLoopback == true)
        #expect(DashboardServer.Address(parsing: "0.0.0.0:80")?.isLoopback == false)
        #expect(DashboardServer.Address(parsing: "[::1]:8080")?.host == "::1")
        #expect(DashboardServer.Address(parsing: "localhost") == nil)
        #expect(DashboardServer.Address(parsing: "1.2.3.4:70000") == nil)
    }
}

/// A settable time for the session store.
final class Clock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Date
    init(_ date: Date) { value = date }
    var date: Date {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

@Suite("Loopback host check")
struct LoopbackHostTests {
    @Test("Loopback names pass; a rebound public name, an empty host and look-alikes do not")
    func hosts() {
        typealias M = LoopbackHostMiddleware<Hummingbird.BasicRequestContext>
        for ok in ["127.0.0.1:8080", "127.0.0.1", "localhost:80", "LOCALHOST", "[::1]:8080", "127.1.2.3:9"] { #expect(M.isLoopback(host: ok), "\(ok)") }
        for bad in ["evil.example:8080", "127.0.0.1.evil.example", "", "[::2]:80", "127.0.0.1x:80", "localhost.evil:80"] {
            #expect(!M.isLoopback(host: bad), "\(bad)")
        }
        #expect(!M.isLoopback(host: nil))
    }
}
