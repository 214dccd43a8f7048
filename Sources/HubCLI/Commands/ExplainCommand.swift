import ArgumentParser
import Foundation
import HubAudit
import HubCore

/// `hubctl explain`: where each field's value came from.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show where each field of an entity got its value: system, run and time, earlier values, conflicts.",
        discussion: """
            Name the entity by its hub ID, by its ID in a system (crm:42), or with --system S --id X.
            This prints the entity's values: it is the hub's own data, shown to whoever can read the hub.

            Exit codes: 0 found; 1 not found; 64 usage error.
            """)

    @OptionGroup var options: TopologyOptions
    @Argument(help: "The entity (customer, employee…).") var entity: String
    @OptionGroup var locator: EntityLocator
    @Option(help: ArgumentHelp("Only this field.", valueName: "field")) var field: String?
    @Flag(help: "Print one JSON document instead of text.") var json = false

    func run() throws {
        let (console, topology, store) = try openHub(options)
        let lineage: EntityLineage
        do {
            lineage = try LineageExplainer(topology: topology, store: store)
                .explain(EntityName(entity), locator.resolve(topology), field: field.map(FieldName.init))
        } catch {
            try reportFailure(error, console)
        }
        if json {
            console.out(JSONDocument.make("explain", ExplainRenderer.json(lineage), generatedAt: Timestamp.string(Date())))
        } else {
            console.out(ExplainRenderer(lineage: lineage).render())
        }
    }
}
