import ArgumentParser
import HubAudit
import HubCore

/// `hubctl unmerge`: undoes a merge.
struct UnmergeCommand: AsyncParsableCommand, StewardshipCommand {
    static let configuration = CommandConfiguration(
        commandName: "unmerge",
        abstract: "Undo a merge: the absorbed entity lives again with its links.",
        discussion: """
            Name the absorbed entity by its hub ID (`hubctl links` of the survivor lists it). Links the merge \
            moved go back; records the sync after the merge deleted are created again by the next sync-all; \
            the survivor gets its values from before the merge back if nothing changed it since.

            Exit codes: 0 undone; 1 no such merge; 64 usage error; 75 a sync-all holds the hub.
            """)

    @OptionGroup var options: TopologyOptions
    @Argument(help: "The entity (customer, employee…).") var entity: String
    @Argument(help: ArgumentHelp("The absorbed entity's hub ID.", valueName: "hub-id")) var absorbed: String
    @OptionGroup var stewardship: StewardshipOptions

    func run() async throws {
        try await runSteward("unmerge") { steward, topology in
            try steward.unmerge(EntityName(entity), EntityReference(parsing: absorbed, topology: topology),
                                as: stewardship.attribution, dryRun: stewardship.dryRun)
        }
    }
}
