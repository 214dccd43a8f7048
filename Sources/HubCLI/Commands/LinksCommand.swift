import ArgumentParser
import Foundation
import HubAudit
import HubCore
import HubStore

/// `hubctl links`: every system's ID for one entity, and how each link was made.
struct LinksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "links",
        abstract: "Show every system's ID for one entity: how and when each link was made, and its state.",
        discussion: """
            Name the entity by its hub ID, by its ID in a system (crm:42), or with --system S --id X.

            Exit codes: 0 found; 1 not found; 64 usage error.
            """)

    @OptionGroup var options: TopologyOptions
    @Argument(help: "The entity (customer, employee…).") var entity: String
    @OptionGroup var locator: EntityLocator
    @Flag(help: "Print one JSON document instead of a table.") var json = false

    func run() throws {
        let (console, topology, store) = try openHub(options)
        let links: EntityLinks
        do {
            links = try LinkInspector(topology: topology, store: store).links(EntityName(entity), locator.resolve(topology))
        } catch {
            try reportFailure(error, console)
        }
        if json {
            console.out(JSONDocument.make("links", LinksRenderer.json(links), generatedAt: Timestamp.string(Date())))
        } else {
            console.out(LinksRenderer(links: links).render())
        }
    }
}
