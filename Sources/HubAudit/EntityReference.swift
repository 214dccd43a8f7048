import HubCore
import HubStore
import HubTopology

/// How a person names a hub entity on the command line: by its hub ID, or by its ID in one of
/// the systems (`crm:42`), so that every command works with IDs from either side.
public enum EntityReference: Sendable, Hashable, CustomStringConvertible {
    case hub(HubID)
    case system(SystemName, ExternalID)

    /// Reads `SYSTEM:ID` when the text before the first colon names a system of the topology,
    /// otherwise a hub ID.
    public init(parsing text: String, topology: Topology) {
        if let colon = text.firstIndex(of: ":"), topology.system(SystemName(String(text[..<colon]))) != nil {
            self = .system(SystemName(String(text[..<colon])), ExternalID(String(text[text.index(after: colon)...])))
        } else {
            self = .hub(HubID(text))
        }
    }

    public var description: String {
        switch self {
        case .hub(let id): return "hub \(id)"
        case .system(let s, let id): return "\(s) \(id)"
        }
    }

    /// The hub entity this reference names (deleted entities included).
    /// - Throws: ``AuditError`` `notFound` when there is none, `invalidArgument` when the
    ///   system does not map the entity or the hub ID is of another entity.
    public func resolve(_ entity: EntityName, topology: Topology, _ tx: HubTransaction) throws -> EntityRecord {
        switch self {
        case .hub(let id):
            guard let record = try tx.entity(id) else {
                throw AuditError(.notFound, "the hub has no \(entity) \(id)",
                                 hint: "give a hub ID from `hubctl links`, or a system's ID as SYSTEM:ID (crm:42)")
            }
            guard record.entity == entity else {
                throw AuditError(.invalidArgument, "hub \(id) is a \(record.entity), not a \(entity)",
                                 hint: "run the command for \(record.entity)")
            }
            return record
        case .system(let system, let externalID):
            _ = try topology.requireSystem(system, mapping: entity)
            guard let link = try tx.link(entity: entity, system: system, externalID: externalID),
                let record = try tx.entity(link.hubID)
            else {
                throw AuditError(.notFound, "no \(entity) is linked to \(system) \(externalID)",
                                 hint: "`hubctl audit --deep --system \(system)` lists the records no link knows")
            }
            return record
        }
    }
}

extension Topology {
    /// The entity with this name.
    /// - Throws: ``AuditError`` `invalidArgument` listing the topology's entities.
    public func requireEntity(_ name: EntityName) throws -> EntityDefinition {
        guard let entity = entity(name) else {
            throw AuditError(.invalidArgument, "the topology has no entity '\(name)'",
                             hint: "its entities: " + entities.map(\.name.rawValue).joined(separator: ", "))
        }
        return entity
    }

    /// The system with this name, which must map `entity`.
    /// - Throws: ``AuditError`` `invalidArgument` listing the systems that map it.
    public func requireSystem(_ name: SystemName, mapping entity: EntityName) throws -> SystemDefinition {
        guard let system = system(name), system.mapping(for: entity) != nil else {
            let known = system(name) == nil ? "the topology has no system '\(name)'" : "system '\(name)' does not map \(entity)"
            throw AuditError(.invalidArgument, known,
                             hint: "systems mapping \(entity): " + systems.filter { $0.mapping(for: entity) != nil }
                                .map(\.name.rawValue).joined(separator: ", "))
        }
        return system
    }
}
