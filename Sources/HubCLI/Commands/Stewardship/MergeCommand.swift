import ArgumentParser
import HubAudit
import HubCore

/// `hubctl merge`: two hub entities that are the same real thing become one.
struct MergeCommand: AsyncParsableCommand, StewardshipCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge two hub entities that are the same real thing; the first one survives.",
        discussion: """
            The survivor keeps its values and takes the absorbed entity's where it has none. Links move to the \
            survivor. Where a system holds a record of each, its own record is kept over a copy hubctl created; \
            a copy hubctl created goes with the absorbed entity's tombstone (that system's delete policy removes \
            it at the next sync-all), while a record the system created itself is left there with its link \
            closed, unless --delete-duplicates. References to the absorbed entity point at the survivor. \
            `hubctl unmerge` undoes it.

            Example: hubctl merge customer crm:1 app:u-200 --reason "same person, two emails"
            Exit codes: 0 merged; 1 refused or not found; 64 usage error; 75 a sync-all holds the hub.
            """)

    @OptionGroup var options: TopologyOptions
    @Argument(help: "The entity (customer, employee…).") var entity: String
    @Argument(help: ArgumentHelp("The entity that survives: hub ID or SYSTEM:ID.", valueName: "survivor")) var survivor: String
    @Argument(help: ArgumentHelp("The entity merged into it: hub ID or SYSTEM:ID.", valueName: "absorbed")) var absorbed: String
    @Flag(help: "Where a system created both records itself, remove the absorbed one too (by its delete policy).")
    var deleteDuplicates = false
    @OptionGroup var stewardship: StewardshipOptions

    func run() async throws {
        try await runSteward("merge") { steward, topology in
            try steward.merge(EntityName(entity), survivor: EntityReference(parsing: survivor, topology: topology),
                              absorbed: EntityReference(parsing: absorbed, topology: topology),
                              deleteDuplicates: deleteDuplicates, as: stewardship.attribution,
                              dryRun: stewardship.dryRun)
        }
    }
}
