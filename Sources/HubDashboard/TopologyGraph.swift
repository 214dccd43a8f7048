import Foundation
import HubCore
import HubStore
import HubTopology

/// The hub and its systems as a graph: one edge per direction a system syncs, labelled with
/// its entities and, when the hub has run, the records linked and written. The dashboard's
/// topology page draws it as SVG; `hubctl graph` prints it as SVG, DOT or Mermaid.
public struct TopologyGraph: Sendable, Hashable {
    /// The topology's name.
    public var name: String
    /// Live entities per kind in the hub (empty before the first run).
    public var hubEntities: [(name: EntityName, count: Int?)]
    public var systems: [System]
    public var edges: [Edge]

    public static func == (a: TopologyGraph, b: TopologyGraph) -> Bool {
        a.name == b.name && a.systems == b.systems && a.edges == b.edges
            && a.hubEntities.map(\.name) == b.hubEntities.map(\.name) && a.hubEntities.map(\.count) == b.hubEntities.map(\.count)
    }

    public func hash(into h: inout Hasher) { h.combine(name); h.combine(systems); h.combine(edges) }

    /// A system node.
    public struct System: Sendable, Hashable {
        public var name: SystemName
        public var adapter: String
        /// Live links over all its entities (nil before the first run).
        public var linked: Int?
        /// True when the newest run that synced it failed.
        public var failing: Bool
    }

    /// One arrow: `pull` goes from the system to the hub, `push` from the hub to the system.
    public struct Edge: Sendable, Hashable {
        public enum Kind: String, Sendable { case pull, push }
        public var system: SystemName
        public var kind: Kind
        public var entities: [EntityName]
        /// Records written in this direction by the newest run (nil before the first run).
        public var lastRunWrites: Int?

        /// `customer, employee · 3 written`.
        public var label: String {
            entities.map(\.rawValue).joined(separator: ", ") + (lastRunWrites.map { " · \($0) written" } ?? "")
        }
    }

    /// The graph of `topology` without counts (no hub needed).
    public init(topology: Topology) {
        name = topology.name
        hubEntities = topology.entities.map { ($0.name, nil) }
        systems = topology.systems.map { System(name: $0.name, adapter: $0.adapter.rawValue, linked: nil, failing: false) }
        edges = topology.systems.flatMap { s -> [Edge] in
            var out: [Edge] = []
            if s.direction.pulls { out.append(Edge(system: s.name, kind: .pull, entities: s.entities.map(\.entity), lastRunWrites: nil)) }
            if s.direction.pushes { out.append(Edge(system: s.name, kind: .push, entities: s.entities.map(\.entity), lastRunWrites: nil)) }
            return out
        }
    }
}

extension Dashboard {
    /// The topology graph with the hub's counts: live links per system, entities per kind, and
    /// what the newest run wrote in each direction.
    public func graph() throws -> TopologyGraph {
        var graph = TopologyGraph(topology: topology)
        try store.read { tx in
            let tallies = try tx.linkTallies()
            let counts = try tx.liveEntityCounts()
            let latest = try tx.runs(limit: 20).first { !$0.dryRun }
            graph.hubEntities = topology.entities.map { ($0.name, counts[$0.name] ?? 0) }
            let systemsReport = latest?.report?.objectValue?["systems"]?.objectValue ?? [:]
            for i in graph.systems.indices {
                let name = graph.systems[i].name
                graph.systems[i].linked = tallies.filter { $0.system == name }.reduce(0) { $0 + $1.linked }
                graph.systems[i].failing = systemsReport[name.rawValue]?.objectValue?["status"]?.stringValue == "failed"
            }
            guard let latest else { return }
            let rows = try tx.runCounts(latest.id)
            for i in graph.edges.indices {
                let e = graph.edges[i]
                graph.edges[i].lastRunWrites = rows.filter { $0.system == e.system && $0.direction == e.kind.rawValue }
                    .reduce(0) { $0 + ($1.direction == "pull" ? $1.counts.writes : $1.counts.created + $1.counts.updated + $1.counts.deleted) }
            }
        }
        return graph
    }
}
