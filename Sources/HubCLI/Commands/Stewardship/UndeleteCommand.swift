import ArgumentParser
import HubAdapters
import HubAudit
import HubCore
import HubStewardship

/// `hubctl undelete`: brings deleted entities back, in every system they were deleted from.
struct UndeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undelete",
        abstract: "Restore deleted entities; the next sync-all re-creates them in every system they were deleted from.",
        discussion: """
            The hub keeps what it deletes: every entity's values and history stay after a delete. Name the \
            entities (hub ID or SYSTEM:ID), or --run RUN_ID to restore everything that run deleted (for \
            example after a mass delete you confirmed by mistake). Each gets a new, live version with the \
            values it had. Systems whose record is gone get it back at the next sync-all; systems that still \
            hold it (a soft delete) are linked to it again. Links a person closed with `hubctl unlink` stay closed.

            Exit codes: 0 restored (or nothing deleted); 1 not found or refused; 64 usage error; 75 a sync-all holds the hub.
            """)

    @OptionGroup var options: TopologyOptions
    @Argument(help: "The entity (customer, employee…); optional with --run.") var entity: String?
    @Argument(help: ArgumentHelp("The deleted entities: hub IDs, or SYSTEM:ID.", valueName: "ref")) var references: [String] = []
    @Option(help: ArgumentHelp("Restore every entity this run deleted.", valueName: "run-id")) var run: String?
    @OptionGroup var stewardship: StewardshipOptions

    func validate() throws {
        if run == nil && (entity == nil || references.isEmpty) {
            throw ValidationError("name what to restore: ENTITY and one or more hub IDs (or SYSTEM:ID), or --run RUN_ID")
        }
    }

    func run() async throws {
        let (console, topology, store) = try openHub(options)
        if let entity {
            do { _ = try topology.requireEntity(EntityName(entity)) } catch { try reportFailure(error, console) }
        }
        let steward = Steward(runtime: SpokeFactory.runtime(topology), store: store)
        let outcomes: [StewardshipOutcome]
        do {
            outcomes = try await steward.undelete(entity.map(EntityName.init),
                                                  references.map { EntityReference(parsing: $0, topology: topology) },
                                                  run: run.map(RunID.init), as: stewardship.attribution,
                                                  dryRun: stewardship.dryRun)
        } catch {
            try reportFailure(error, console)
        }
        if stewardship.json {
            console.out(JSONDocument.make("undelete", .array(outcomes.map(StewardshipRenderer.json)),
                                          generatedAt: outcomes.first?.entry.at ?? ""))
        } else {
            console.out(outcomes.map { StewardshipRenderer.render("undelete", $0) }.joined(separator: "\n\n"))
        }
    }
}
