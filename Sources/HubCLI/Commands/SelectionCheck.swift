import ArgumentParser
import HubCore
import HubTopology

/// Refuses system and entity names the topology does not have (exit 64), listing those it has.
func requireKnown(systems: [String], flag: String, entities: [String], in topology: Topology, _ console: Console) throws {
    for name in systems where topology.system(SystemName(name)) == nil {
        console.error("unknown system '\(name)' in \(flag); the topology has: "
                      + topology.systems.map(\.name.rawValue).joined(separator: ", "))
        throw ExitCode(.usage)
    }
    for name in entities where topology.entity(EntityName(name)) == nil {
        console.error("unknown entity '\(name)' in --entity; the topology has: "
                      + topology.entities.map(\.name.rawValue).joined(separator: ", "))
        throw ExitCode(.usage)
    }
}
