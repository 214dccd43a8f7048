import Foundation

/// Who may act on the dashboard. Reading needs nothing; actions need the token from the
/// environment (`HUBCTL_DASHBOARD_TOKEN`), sent as `Authorization: Bearer …`, or a session
/// signed in with it (an HttpOnly, SameSite=Strict cookie) plus the session's CSRF token in
/// every form. Without a configured token the dashboard is read-only.
public actor DashboardSessions {
    /// One signed-in browser.
    public struct Session: Sendable, Hashable {
        public var id: String
        public var user: String
        public var csrf: String
        var expires: Date
        var flash: String?
    }

    let token: String?
    let lifetime: TimeInterval
    let clock: @Sendable () -> Date
    var sessions: [String: Session] = [:]

    /// The most sessions kept at once; the oldest go first.
    static let capacity = 1000

    public init(token: String?, lifetime: TimeInterval = 12 * 3600, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.lifetime = lifetime
        self.clock = clock
    }

    /// True when a token is configured (actions possible).
    public nonisolated var actionsEnabled: Bool { token != nil }

    /// True when `candidate` is the configured token (compared in constant time).
    public nonisolated func accepts(_ candidate: String) -> Bool {
        guard let token else { return false }
        return Self.constantTimeEqual(Array(token.utf8), Array(candidate.utf8))
    }

    /// Opens a session for `user` when `candidate` is the token.
    public func signIn(token candidate: String, user: String) -> Session? {
        guard accepts(candidate) else { return nil }
        purge()
        if sessions.count >= Self.capacity, let oldest = sessions.values.min(by: { $0.expires < $1.expires }) {
            sessions[oldest.id] = nil
        }
        let s = Session(id: Self.randomToken(), user: Self.cleanName(user), csrf: Self.randomToken(), expires: clock() + lifetime)
        sessions[s.id] = s
        return s
    }

    /// The live session with this ID.
    public func session(_ id: String?) -> Session? {
        guard let id, let s = sessions[id] else { return nil }
        guard s.expires > clock() else {
            sessions[id] = nil
            return nil
        }
        return s
    }

    public func signOut(_ id: String) { sessions[id] = nil }

    /// Keeps a message to show on the session's next page.
    public func setFlash(_ id: String, _ message: String) { sessions[id]?.flash = message }

    /// The message kept for the session, once.
    public func takeFlash(_ id: String) -> String? {
        defer { sessions[id]?.flash = nil }
        return sessions[id]?.flash
    }

    func purge() {
        let now = clock()
        sessions = sessions.filter { $0.value.expires > now }
    }

    /// 32 random bytes as hex.
    static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) { diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0) }
        return diff == 0
    }

    /// A display name: printable, trimmed, at most 64 characters; `dashboard` when empty.
    static func cleanName(_ name: String) -> String {
        let kept = String(name.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
            .trimmingCharacters(in: .whitespaces)
        return kept.isEmpty ? "dashboard" : String(kept.prefix(64))
    }
}
