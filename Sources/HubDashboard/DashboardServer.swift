import Foundation
import Hummingbird
import Logging

/// Serves the dashboard alone (`hubctl dashboard`): no syncing, just the pages and actions.
public enum DashboardServer {
    /// Where to listen: `127.0.0.1:8080` unless configured.
    public struct Address: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        /// Reads `HOST:PORT`, `:PORT` or `PORT` (host 127.0.0.1); nil when it is not one of those.
        public init?(parsing text: String) {
            let t = text.trimmingCharacters(in: .whitespaces)
            if let p = Int(t) {
                host = "127.0.0.1"
                port = p
            } else if let colon = t.lastIndex(of: ":"), let p = Int(t[t.index(after: colon)...]) {
                let h = String(t[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                host = h.isEmpty ? "127.0.0.1" : h
                port = p
            } else {
                return nil
            }
            guard (0...65535).contains(port) else { return nil }
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        /// True for a loopback address (only this machine can connect).
        public var isLoopback: Bool { host == "127.0.0.1" || host == "localhost" || host == "::1" || host.hasPrefix("127.") }
    }

    /// Serves until SIGINT or SIGTERM. `onListening` gets the bound port (useful with port 0).
    public static func serve(_ dashboard: Dashboard, sessions: DashboardSessions, actions: (any DashboardActions)?,
                             at address: Address, onListening: @escaping @Sendable (Int) -> Void) async throws
    {
        let router = Router(context: BasicRequestContext.self)
        if address.isLoopback { router.add(middleware: LoopbackHostMiddleware()) }
        DashboardRoutes.install(on: router, dashboard: dashboard, sessions: sessions, actions: actions)
        // `hubctl run`'s listener has its own /healthz; the dashboard alone answers it here.
        router.get("/healthz") { _, _ in "ok\n" }
        var logger = Logger(label: "hubctl.dashboard")
        logger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname(address.host, port: address.port), serverName: "hubctl"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? address.port) }, logger: logger)
        try await app.runService()
    }
}
