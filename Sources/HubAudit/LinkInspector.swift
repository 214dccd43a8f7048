import HubCore
import HubMapping
import HubStore
import HubTopology

/// Every system's ID for one hub entity, with how and when each link was made (`hubctl links`).
public struct LinkInspector: Sendable {
    public let topology: Topology
    public let store: HubStore

    public init(topology: Topology, store: HubStore) {
        self.topology = topology
        self.store = store
    }

    /// The links of the entity `reference` names.
    /// - Throws: ``AuditError`` when the entity is not found or the reference does not fit.
    public func links(_ entity: EntityName, _ reference: EntityReference) throws -> EntityLinks {
        _ = try topology.requireEntity(entity)
        return try store.read { tx in
            let record = try reference.resolve(entity, topology: topology, tx)
            let links = try tx.links(hubID: record.hubID).filter { $0.entity == entity }
            let log = try tx.stewardship(hubID: record.hubID)
            var systems: [EntityLinks.SystemLink] = []
            var names = topology.systems.filter { $0.mapping(for: entity) != nil }.map(\.name)
            // Links in systems the topology no longer maps are shown too.
            for l in links where !names.contains(l.system) { names.append(l.system) }
            for name in names {
                let system = topology.system(name)
                let link = links.first { $0.system == name }
                var row = EntityLinks.SystemLink(system: name, direction: system?.direction, link: link, belongs: nil,
                                                 run: nil, stewardship: nil)
                if let system, let mapping = system.mapping(for: entity), system.direction.pushes, !record.isDeleted {
                    row.belongs = mapping.filter.map { $0.matches(record.data) } ?? true
                }
                if let link {
                    // A link made by a person points at their entry; one made by a sync at its run.
                    row.stewardship = log.last {
                        $0.at == link.linkedAt && ([.link, .relink].contains($0.action) && $0.system == name
                                                   || [.merge, .unmerge].contains($0.action))
                    }
                    if row.stewardship == nil { row.run = try tx.run(at: link.linkedAt) }
                }
                systems.append(row)
            }
            return EntityLinks(entity: record, mergedInto: try tx.mergedInto(record.hubID),
                               absorbed: try tx.mergedEntities(into: record.hubID), systems: systems, stewardship: log)
        }
    }
}

/// One entity's links across systems.
public struct EntityLinks: Sendable {
    public var entity: EntityRecord
    /// For a merged tombstone: the entity it was merged into.
    public var mergedInto: HubID?
    /// Entities merged into this one.
    public var absorbed: [HubID]
    /// One row per system that maps the entity (or still holds a link to it).
    public var systems: [SystemLink]
    /// Manual changes to this entity's links, oldest first.
    public var stewardship: [StewardshipEntry]

    /// The entity's link in one system.
    public struct SystemLink: Sendable {
        public var system: SystemName
        /// The system's direction (nil when the topology no longer has the system).
        public var direction: Direction?
        /// The link, or nil when the entity has none in this system.
        public var link: Link?
        /// True when the entity belongs in the system (it is pushed there and passes its filter);
        /// nil when the system is not pushed to.
        public var belongs: Bool?
        /// The sync run during which the link was made.
        public var run: RunID?
        /// The stewardship entry that made the link, for links made by a person.
        public var stewardship: StewardshipEntry?
    }
}
