import ArgumentParser
import Foundation
import HubAudit
import HubCore
import HubStore

/// `hubctl runs show`: one run in detail.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "Inspect sync runs.", subcommands: [Show.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show one run: per system and entity counts, quarantined records and conflicts.",
            discussion: "Give the run ID from `hubctl history` (a unique prefix is enough).\nExit codes: 0 found; 1 not found.")

        @OptionGroup var options: TopologyOptions
        @Argument(help: ArgumentHelp("The run's ID, or a unique prefix of it.", valueName: "run-id")) var id: String
        @Flag(help: "Print one JSON document instead of tables.") var json = false

        func run() throws {
            let (console, _, store) = try openHub(options)
            let details: RunDetails
            do {
                details = try RunInspector(store: store).run(id)
            } catch {
                try reportFailure(error, console)
            }
            if json {
                console.out(JSONDocument.make("runs show", RunRenderer.json(details), generatedAt: Timestamp.string(Date())))
            } else {
                console.out(RunRenderer(details: details).render())
            }
        }
    }
}
