import ArgumentParser
import HubAudit
import HubCore

/// `hubctl unlink`: closes (or forgets) one link by hand.
struct UnlinkCommand: AsyncParsableCommand, StewardshipCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlink",
        abstract: "Unlink a system's record from its hub entity.",
        discussion: """
            By default the link is closed: the record and the entity both stay, are no longer synced to each \
            other, and no match rule links them again. With --forget the link is removed: the record reads as \
            new at the next sync (its match rules apply) and the entity has no record in that system.

            Name the link by its record (--system S --id X) or by its entity (HUB_ID or SYSTEM:ID, and --system S).
            Exit codes: 0 unlinked (or already closed); 1 not found; 64 usage error; 75 a sync-all holds the hub.
            """)

    @OptionGroup var options: TopologyOptions
    @Argument(help: "The entity (customer, employee…).") var entity: String
    @Argument(help: ArgumentHelp("The hub entity whose link to drop: its hub ID, or SYSTEM:ID.", valueName: "ref"))
    var reference: String?
    @Option(help: ArgumentHelp("The system of the link.", valueName: "system")) var system: String
    @Option(help: ArgumentHelp("The record's ID in that system.", valueName: "id")) var id: String?
    @Flag(help: "Remove the link instead of closing it.") var forget = false
    @OptionGroup var stewardship: StewardshipOptions

    func validate() throws {
        if reference == nil && id == nil { throw ValidationError("name the link: --id X, or the entity's hub ID / SYSTEM:ID") }
    }

    func run() async throws {
        try await runSteward("unlink") { steward, topology in
            try steward.unlink(EntityName(entity), system: SystemName(system), externalID: id.map(ExternalID.init),
                               entityReference: reference.map { EntityReference(parsing: $0, topology: topology) },
                               mode: forget ? .forget : .close, as: stewardship.attribution, dryRun: stewardship.dryRun)
        }
    }
}
