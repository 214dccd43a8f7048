import ArgumentParser

/// The `hubctl` command: keeps several business systems in sync through a hub.
public struct Hubctl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "hubctl",
        abstract: "Keep three or more systems in sync through a hub: CRM, billing, app databases, spreadsheets.",
        discussion: """
            Declare entities and systems in a topology file (topology.json), then run `hubctl sync-all` for \
            one cycle, or `hubctl run` to keep them in sync (see docs/operations.md).
            Start with `hubctl demo` for a ready three-system example.

            Exit codes: 0 ok; 1 failed; 3 partial (quarantined records, parked conflicts or an unreachable \
            system while the rest synced); 64 usage error; 75 another run holds the hub; 78 invalid topology.
            """,
        version: HubctlVersion.current,
        subcommands: [
            ValidateCommand.self, CheckCommand.self, DiscoverCommand.self, SyncAllCommand.self, RunCommand.self,
            StatusCommand.self, ConflictsCommand.self,
            QuarantineCommand.self, HistoryCommand.self, RunsCommand.self, AuditCommand.self, RepairCommand.self,
            LinksCommand.self, ExplainCommand.self, LinkCommand.self, UnlinkCommand.self, RelinkCommand.self,
            MergeCommand.self, UnmergeCommand.self, UndeleteCommand.self, RepushCommand.self, DashboardCommand.self,
            ReportCommand.self, GraphCommand.self, CaptureCommand.self, HubCommand.self, DemoCommand.self,
        ])

    public init() {}

    /// Parses the process arguments, runs the chosen command and exits with its code.
    public static func runMain() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// The version of this build.
public enum HubctlVersion {
    public static let current = "0.1.0"
}
