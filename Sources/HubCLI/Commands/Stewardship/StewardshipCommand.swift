import ArgumentParser
import Foundation
import HubAdapters
import HubCore
import HubStewardship
import HubTopology

/// What the stewardship commands share: opening the hub, building the spokes they read, and
/// printing the outcome.
protocol StewardshipCommand {
    var options: TopologyOptions { get }
    var stewardship: StewardshipOptions { get }
}

extension StewardshipCommand {
    /// Runs `body` with a steward whose spokes are those of `systems`; prints the outcome.
    func runSteward(_ command: String, reading systems: [SystemName] = [],
                    _ body: (Steward, Topology) async throws -> StewardshipOutcome) async throws {
        let (console, topology, store) = try openHub(options)
        let runtime = SpokeFactory.runtime(topology)
        for name in systems {
            if let error = runtime.systems[name]?.spokeError {
                console.error("cannot open \(name): \(error)")
                throw ExitCode(.failure)
            }
        }
        let outcome: StewardshipOutcome
        do {
            outcome = try await body(Steward(runtime: runtime, store: store), topology)
        } catch {
            try reportFailure(error, console)
        }
        if stewardship.json {
            console.out(JSONDocument.make(command, StewardshipRenderer.json(outcome), generatedAt: outcome.entry.at))
        } else {
            console.out(StewardshipRenderer.render(command, outcome))
        }
    }
}
