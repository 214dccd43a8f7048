import ArgumentParser
import Foundation
import HubTopology

/// The `-t/--topology` option every command takes.
struct TopologyOptions: ParsableArguments {
    @Option(name: [.customShort("t"), .long],
            help: ArgumentHelp("The topology file.", discussion: "Default: $HUBCTL_TOPOLOGY, or ./topology.json.",
                               valueName: "path"))
    var topology: String?

    /// The topology file's path.
    var path: String {
        topology ?? ProcessInfo.processInfo.environment["HUBCTL_TOPOLOGY"] ?? "topology.json"
    }

    /// Loads and validates the topology; on problems prints them and exits 78.
    func load(console: Console) throws -> Topology {
        do {
            return try TopologyLoader.load(path: path)
        } catch let error as TopologyError {
            console.error(error.description)
            console.hint("fix the problems above; `hubctl validate -t \(path)` checks a topology without connecting anywhere")
            throw ExitCode(.config)
        }
    }
}
