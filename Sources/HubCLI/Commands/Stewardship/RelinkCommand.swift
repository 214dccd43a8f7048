import ArgumentParser
import HubAudit
import HubCore

/// `hubctl relink`: moves a system's record to another hub entity.
struct RelinkCommand: AsyncParsableCommand, StewardshipCommand {
    static let configuration = CommandConfiguration(
        commandName: "relink",
        abstract: "Move a system's record from its hub entity to another one.",
        discussion: """
            The record is read and linked to the new entity as `link` does; the entity it leaves has no record \
            in that system any more (`hubctl audit` reports it missing there if it belongs).

            Example: hubctl relink customer --system crm --id 42 --to app:u-100 --reason "matched the wrong Ann"
            Exit codes: 0 moved (or already there); 1 refused or not found; 64 usage error; 75 a sync-all holds the hub.
            """)

    @OptionGroup var options: TopologyOptions
    @Argument(help: "The entity (customer, employee…).") var entity: String
    @Option(help: ArgumentHelp("The system of the record.", valueName: "system")) var system: String
    @Option(help: ArgumentHelp("The record's ID in that system.", valueName: "id")) var id: String
    @Option(help: ArgumentHelp("The hub entity to move it to: its hub ID, or SYSTEM:ID.", valueName: "ref")) var to: String
    @OptionGroup var stewardship: StewardshipOptions

    func run() async throws {
        try await runSteward("relink", reading: [SystemName(system)]) { steward, topology in
            try await steward.relink(EntityName(entity), system: SystemName(system), externalID: ExternalID(id),
                                     to: EntityReference(parsing: to, topology: topology), as: stewardship.attribution,
                                     dryRun: stewardship.dryRun)
        }
    }
}
