import ArgumentParser
import HubAudit
import HubCore

/// `hubctl link`: links a system's record to a hub entity by hand.
struct LinkCommand: AsyncParsableCommand, StewardshipCommand {
    static let configuration = CommandConfiguration(
        commandName: "link",
        abstract: "Link a system's record to a hub entity.",
        discussion: """
            The record is read: the hub fills the fields it has no value for from it, and the next `sync-all` \
            writes the hub's values to the record where they differ. Refused when the record is linked to \
            another entity (use relink) or the entity already has a record in that system.

            Example: hubctl link customer 0190f0a1-… --system crm --id 42 --reason "same person"
            Exit codes: 0 linked (or already linked); 1 refused or not found; 64 usage error; 75 a sync-all holds the hub.
            """)

    @OptionGroup var options: TopologyOptions
    @Argument(help: "The entity (customer, employee…).") var entity: String
    @Argument(help: ArgumentHelp("The hub entity to link to: its hub ID, or SYSTEM:ID.", valueName: "ref")) var target: String
    @Option(help: ArgumentHelp("The system of the record.", valueName: "system")) var system: String
    @Option(help: ArgumentHelp("The record's ID in that system.", valueName: "id")) var id: String
    @OptionGroup var stewardship: StewardshipOptions

    func run() async throws {
        try await runSteward("link", reading: [SystemName(system)]) { steward, topology in
            try await steward.link(EntityName(entity), EntityReference(parsing: target, topology: topology),
                                   system: SystemName(system), externalID: ExternalID(id), as: stewardship.attribution,
                                   dryRun: stewardship.dryRun)
        }
    }
}
