import ArgumentParser
import HubAudit
import HubCore

/// `hubctl repush`: makes the next sync-all write an entity's values to one system again.
struct RepushCommand: AsyncParsableCommand, StewardshipCommand {
    static let configuration = CommandConfiguration(
        commandName: "repush",
        abstract: "Make the next sync-all write an entity's values to a system again (re-creating a record that is gone).",
        discussion: """
            The system's record is read: one that still exists gets the hub's values where it differs (a drift \
            its change tracking missed); one that is gone is re-created, and the records there that refer to it \
            are pointed at the new one. A delete held because other records refer to it (a `referenced_delete` \
            entry in the quarantine) is settled this way.

            Example: hubctl repush employee crm:2 --system crm --reason "deleted by mistake"
            Exit codes: 0 done (or nothing to do); 1 refused or not found; 64 usage error; 75 a sync-all holds the hub.
            """)

    @OptionGroup var options: TopologyOptions
    @Argument(help: "The entity (customer, employee…).") var entity: String
    @Argument(help: ArgumentHelp("The hub entity: its hub ID, or SYSTEM:ID.", valueName: "ref")) var reference: String
    @Option(help: ArgumentHelp("The system to write it to.", valueName: "system")) var system: String
    @OptionGroup var stewardship: StewardshipOptions

    func run() async throws {
        try await runSteward("repush", reading: [SystemName(system)]) { steward, topology in
            try await steward.repush(EntityName(entity), EntityReference(parsing: reference, topology: topology),
                                     system: SystemName(system), as: stewardship.attribution, dryRun: stewardship.dryRun)
        }
    }
}
