import ArgumentParser
import Foundation
import HubDashboard
import HubStore

/// `hubctl graph`: the hub and its systems as a graph, in SVG, DOT or Mermaid.
struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw the topology: the hub, its systems and an arrow per direction, with counts once the hub has run.",
        discussion: """
            The same graph as the dashboard's topology page. `--format dot` is Graphviz (`| dot -Tpng > t.png`); \
            `--format mermaid` renders in GitHub Markdown. Without a hub yet, the graph has no counts.

            Exit codes: 0; 1 the output file could not be written; 78 invalid topology.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case svg, dot, mermaid }

    @OptionGroup var options: TopologyOptions
    @Option(help: "svg, dot or mermaid.") var format: Format = .svg
    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write to this file instead of stdout.", valueName: "file"))
    var output: String?

    func run() throws {
        var console = Console()
        let topology = try options.load(console: console)
        console.redactor = topology.secrets
        var graph = TopologyGraph(topology: topology)
        if topology.hubExists {
            graph = try Dashboard(topology: topology, store: topology.openHub()).graph()
        }
        let text = switch format {
        case .svg: SVG.topology(graph, standalone: true).rendered + "\n"
        case .dot: graph.dot
        case .mermaid: graph.mermaid
        }
        try write(text, to: output, console: console)
    }
}

/// Writes `text` to `path` atomically (or to stdout without a path); exits 1 when it cannot.
func write(_ text: String, to path: String?, console: Console) throws {
    guard let path else {
        FileHandle.standardOutput.write(Data(console.redactor.redact(text).utf8))
        return
    }
    do {
        try Data(console.redactor.redact(text).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        console.error("could not write \(path): \(error.localizedDescription)")
        throw ExitCode(1)
    }
}
