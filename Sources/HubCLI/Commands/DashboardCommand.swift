import ArgumentParser
import Foundation
import HubCore
import HubDashboard
import Hummingbird
import HubTopology
import HubStore

/// `hubctl dashboard`: serves the dashboard alone, without syncing.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve the dashboard (overview, issues, runs, entities, topology) over HTTP, without syncing.",
        discussion: """
            Pages are read-only for anyone who can reach the listener, which is 127.0.0.1 unless --listen says \
            otherwise. Actions (retry, dismiss, resolve a conflict) need the token in $\(tokenVariable) \
            (at least 16 characters): sign in at /login, or send `Authorization: Bearer TOKEN`. Without it the \
            dashboard is read-only. See docs/dashboard.md.

            Exit codes: 0 stopped (SIGINT/SIGTERM); 1 no hub yet, or the address is taken; 64 usage error; 78 invalid topology or token.
            """)

    static let tokenVariable = "HUBCTL_DASHBOARD_TOKEN"

    @OptionGroup var options: TopologyOptions
    @OptionGroup var scheduleOptions: ScheduleOptions
    @Option(help: ArgumentHelp("Where to listen: HOST:PORT, or PORT on 127.0.0.1.", valueName: "address"))
    var listen = "127.0.0.1:8080"

    func validate() throws {
        if DashboardServer.Address(parsing: listen) == nil { throw ValidationError("--listen takes HOST:PORT or PORT, e.g. 127.0.0.1:8080") }
    }

    /// The dashboard's token from the environment; a token too short to guard actions stops the
    /// command (exit 78).
    static func token(_ console: Console) throws -> String? {
        let token = ProcessInfo.processInfo.environment[tokenVariable].flatMap { $0.isEmpty ? nil : $0 }
        if let token, token.count < 16 {
            console.error("$\(tokenVariable) is too short to guard actions (\(token.count) characters)")
            console.hint("use at least 16 random characters, e.g. `openssl rand -hex 24`")
            throw ExitCode(.config)
        }
        return token
    }

    /// Installs the dashboard's pages and actions on another listener (`hubctl run`'s); on a
    /// loopback address, pages answer loopback host names only, except the `exempt` paths.
    static func routes(topology: Topology, store: HubStore, defaultSchedule: Schedule, console: Console, loopback: Bool,
                       exempt: [String]) throws -> @Sendable (Router<BasicRequestContext>) -> Void
    {
        let dashboard = Dashboard(topology: topology, store: store, defaultSchedule: defaultSchedule)
        let sessions = DashboardSessions(token: try token(console))
        let actions = CLIDashboardActions(topology: topology, store: store)
        return { router in
            if loopback { router.add(middleware: LoopbackHostMiddleware(exceptPathsStartingWith: exempt)) }
            DashboardRoutes.install(on: router, dashboard: dashboard, sessions: sessions, actions: actions)
        }
    }

    func run() async throws {
        let (console, topology, store) = try openHub(options)
        let address = DashboardServer.Address(parsing: listen)!
        let token = try Self.token(console)
        if !address.isLoopback {
            console.note("Warning: listening on \(address): anyone who can reach it can read the hub's records. "
                         + "Put a TLS proxy with access control in front of it.")
        }
        let dashboard = Dashboard(topology: topology, store: store, defaultSchedule: try scheduleOptions.schedule())
        let sessions = DashboardSessions(token: token)
        let mode = token == nil ? "read-only (set $\(Self.tokenVariable) to enable actions)" : "actions need the token in $\(Self.tokenVariable)"
        do {
            try await DashboardServer.serve(dashboard, sessions: sessions, actions: CLIDashboardActions(topology: topology, store: store),
                                            at: address) { port in
                let host = address.host.contains(":") ? "[\(address.host)]" : address.host
                console.out("Dashboard for hub '\(topology.name)' at http://\(host):\(port)/ — \(mode). Ctrl-C stops it.")
            }
        } catch {
            console.error("could not serve the dashboard on \(address): \(error)")
            console.hint("another process may be listening there; choose another address with --listen HOST:PORT")
            throw ExitCode(1)
        }
    }
}
