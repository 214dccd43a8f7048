import HubCore
import HubTopology

/// What hubctl works with for one system: its definition, its spoke (built with the topology's
/// secrets), how its adapter maps records, and one mapper per entity it holds.
public struct SystemRuntime: Sendable {
    public let definition: SystemDefinition
    /// The system's spoke; nil when it could not be built (see ``spokeError``).
    public private(set) var spoke: (any Spoke)?
    /// Why the spoke could not be built from the connection settings.
    public let spokeError: SpokeError?
    /// How the adapter maps records, declared by the adapter.
    public let traits: AdapterTraits
    /// One mapper per entity the system holds.
    public let mappers: [EntityName: EntityMapper]

    public var name: SystemName { definition.name }

    init(definition: SystemDefinition, topology: Topology, spoke: (any Spoke)?, spokeError: SpokeError?,
         traits: AdapterTraits) {
        self.definition = definition
        self.spoke = spoke
        self.spokeError = spokeError
        self.traits = traits
        var mappers: [EntityName: EntityMapper] = [:]
        for mapping in definition.entities {
            guard let entity = topology.entity(mapping.entity) else { continue }
            mappers[mapping.entity] = EntityMapper(system: definition, mapping: mapping, entity: entity, traits: traits)
        }
        self.mappers = mappers
    }

    /// The same system with another spoke (mappers kept).
    func replacingSpoke(_ spoke: (any Spoke)?) -> SystemRuntime {
        var copy = self
        copy.spoke = spoke
        return copy
    }
}

/// Every system of a topology, built once, in one place (HubAdapters' `SpokeFactory.runtime`),
/// and handed to the engine, audits, stewardship and every command, so they never disagree on
/// how a system's records map or which secrets its output is scrubbed of.
///
/// For example:
/// ```swift
/// let runtime = SpokeFactory.runtime(topology)
/// let engine = SyncEngine(runtime: runtime, store: store)
/// ```
public struct TopologyRuntime: Sendable {
    public let topology: Topology
    /// Systems by name.
    public let systems: [SystemName: SystemRuntime]

    /// - Parameters:
    ///   - spokes: the spoke of each system that could be built; its adapter's traits decide how
    ///     records map.
    ///   - failures: why the other systems' spokes could not be built.
    ///   - traits: how records map for systems without a spoke (default: flat).
    public init(_ topology: Topology, spokes: [SystemName: any Spoke], failures: [SystemName: SpokeError] = [:],
                traits: (AdapterKind) -> AdapterTraits = { _ in AdapterTraits() }) {
        self.topology = topology
        var systems: [SystemName: SystemRuntime] = [:]
        for definition in topology.systems {
            let spoke = spokes[definition.name]
            systems[definition.name] = SystemRuntime(
                definition: definition, topology: topology, spoke: spoke, spokeError: failures[definition.name],
                traits: spoke?.traits ?? traits(definition.adapter))
        }
        self.systems = systems
    }

    /// The same systems with each spoke replaced by `transform(spoke)` (a dry run's wrapper),
    /// keeping how records map.
    public func mapSpokes(_ transform: (any Spoke) -> any Spoke) -> TopologyRuntime {
        TopologyRuntime(topology: topology, systems: systems.mapValues { $0.replacingSpoke($0.spoke.map(transform)) })
    }

    init(topology: Topology, systems: [SystemName: SystemRuntime]) {
        self.topology = topology
        self.systems = systems
    }

    /// The spokes that could be built, by system.
    public var spokes: [SystemName: any Spoke] { systems.compactMapValues(\.spoke) }

    /// The spoke of a system, if it could be built.
    public func spoke(_ system: SystemName) -> (any Spoke)? { systems[system]?.spoke }

    /// The mapper of an entity in a system.
    public func mapper(_ system: SystemName, _ entity: EntityName) -> EntityMapper? { systems[system]?.mappers[entity] }

    /// Every system × entity the topology maps, in topology order (entities in reference order).
    public var pairs: [(system: SystemDefinition, mapper: EntityMapper)] {
        var out: [(SystemDefinition, EntityMapper)] = []
        for definition in topology.systems {
            for entity in topology.referenceOrder {
                if let m = systems[definition.name]?.mappers[entity] { out.append((definition, m)) }
            }
        }
        return out
    }
}
