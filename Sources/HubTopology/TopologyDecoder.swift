import Foundation
import HubCore

/// Decodes a topology document and checks it, collecting every problem instead of stopping at
/// the first. Nothing here connects to anything.
final class TopologyDecoder {
    static let topKeys = ["$schema", "version", "name", "hub", "entities", "systems"]

    let reporter: Reporter
    let environment: [String: String]
    var secrets = SecretRedactor()
    /// `entity.field` names declared but not decodable (already reported): other references to
    /// them are not reported again as unknown.
    var brokenFields: Set<String> = []
    /// Entity names declared but not decodable (already reported).
    var brokenEntities: Set<String> = []

    init(positions: [String: SourcePosition], environment: [String: String]) {
        self.reporter = Reporter(positions: positions)
        self.environment = environment
    }

    /// Decodes `root`; returns nil when any problem was found (see `reporter.diagnostics`).
    func decode(_ root: Value, fileName: String, baseDirectory: String) -> Topology? {
        let node = Node(value: root, path: "", reporter: reporter)
        guard let top = node.object("a JSON object at the top level") else { return nil }
        node.rejectUnknownKeys(top, allowed: Self.topKeys)
        if let versionNode = node.require(top, "version", "must be 1"), let version = versionNode.int(), version != 1 {
            versionNode.report("unsupported topology version \(version); this hubctl reads version 1")
        }
        if let schema = top["$schema"] { _ = schema.string() }
        let defaultName = (fileName as NSString).lastPathComponent.replacingOccurrences(of: ".json", with: "")
        let name = top["name"]?.name("a non-empty name") ?? defaultName
        var hubPath = "\(name).hub.sqlite"
        var hubURL: String?, hubSchema: String?
        if let hubNode = top["hub"], let hub = hubNode.object() {
            hubNode.rejectUnknownKeys(hub, allowed: ["path", "url", "schema"])
            if let p = hub["path"], let path = p.name("a file path") { hubPath = expand(path, node: p, key: "path") }
            (hubURL, hubSchema) = decodeHubURL(hubNode, hub)
        }

        Self.rejectNULInNames(node)
        var entities: [EntityDefinition] = []
        let entitiesNode = node.require(top, "entities", "the canonical entities")
        if let entitiesNode { entities = decodeEntities(entitiesNode) }
        var systems: [SystemDefinition] = []
        let systemsNode = node.require(top, "systems", "the connected systems")
        if let systemsNode { systems = decodeSystems(systemsNode, entities: entities) }
        var systemNames: [String] = []
        if let systemsNode, case .object = systemsNode.value {
            systemNames = systemsNode.orderedObject()?.map(\.0) ?? []
        }
        if let entitiesNode { completeEntities(&entities, node: entitiesNode, systemNames: systemNames) }
        if let systemsNode { checkSystems(systems, entities: entities, node: systemsNode) }
        warnAboutNewestWithoutChangeTimes(entities, systems)

        guard reporter.diagnostics.isEmpty else { return nil }
        var topology = Topology(name: name, baseDirectory: baseDirectory, hubPath: Self.resolve(hubPath, against: baseDirectory),
                                entities: entities, systems: systems, secrets: secrets, warnings: reporter.warnings)
        topology.hubURL = hubURL
        topology.hubSchema = hubSchema
        return topology
    }

    /// Reports names holding a NUL character: entities, their fields, systems, the entities a
    /// system maps and the fields of each mapping.
    static func rejectNULInNames(_ root: Node) {
        func members(_ node: Node, _ key: String) -> [Node] {
            guard case .object(let o) = node.value, let child = o[key] else { return [] }
            return [Node(value: child, path: node.child(key), reporter: node.reporter)]
        }
        func all(_ node: Node) -> [Node] {
            guard case .object(let o) = node.value else { return [] }
            return o.keys.sorted().map { Node(value: o[$0]!, path: node.child($0), reporter: node.reporter) }
        }
        var named: [Node] = []
        for entities in members(root, "entities") {
            named.append(entities)
            for entity in all(entities) { named += members(entity, "fields") }
        }
        for systems in members(root, "systems") {
            named.append(systems)
            for system in all(systems) {
                for mapped in members(system, "entities") {
                    named.append(mapped)
                    for mapping in all(mapped) { named += members(mapping, "fields") }
                }
            }
        }
        for node in named { node.rejectNULInKeys() }
    }

    /// Checks across systems and entities, once both are decoded.
    func checkSystems(_ systems: [SystemDefinition], entities: [EntityDefinition], node: Node) {
        for system in systems {
            let systemPath = node.child(system.name.rawValue)
            for mapping in system.entities {
                guard let entity = entities.first(where: { $0.name == mapping.entity }) else { continue }
                let mappingPath = "\(systemPath).entities.\(mapping.entity)"
                for fieldMapping in mapping.fields {
                    for name in fieldMapping.canonical {
                        guard let field = entity.field(name), let target = field.refEntity,
                            entities.contains(where: { $0.name == target })
                        else { continue }
                        if system.mapping(for: target) == nil {
                            reporter.report(
                                "\(mappingPath).fields.\(name)",
                                "'\(name)' refers to \(target), which system '\(system.name)' does not map; "
                                    + "map \(target) in '\(system.name)' too, or drop this field")
                        }
                    }
                }
                let objectsPath = "\(mappingPath).object"
                if system.entities.filter({ $0.object == mapping.object }).count > 1 {
                    reporter.report(objectsPath, "object '\(mapping.object)' is mapped by more than one entity in '\(system.name)'")
                }
            }
        }
        // A field's owner must be a system that maps that field.
        for entity in entities {
            for (field, rule) in entity.conflicts.fields.sorted(by: { $0.key < $1.key }) {
                guard let owner = rule.owner, let system = systems.first(where: { $0.name == owner }) else { continue }
                let maps = system.mapping(for: entity.name)?.fields.contains { $0.canonical.contains(field) } ?? false
                if !maps {
                    reporter.report(
                        "entities.\(entity.name).conflicts.fields.\(field).owner",
                        "owner '\(owner)' does not map \(entity.name).\(field); choose a system that maps this field")
                }
            }
        }
        // Every entity needs at least one system that can create it in the hub.
        for entity in entities {
            let sources = systems.filter { s in
                s.direction.pulls && s.mapping(for: entity.name) != nil
            }
            let mapped = systems.contains { $0.mapping(for: entity.name) != nil }
            if mapped && sources.isEmpty {
                reporter.report("entities.\(entity.name)",
                                "no system pulls '\(entity.name)' into the hub; give one of its systems direction both or pull")
            }
        }
    }

    /// An absolute path for `path`, relative to `base` unless already absolute.
    static func resolve(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") { return path }
        return (base as NSString).appendingPathComponent(path)
    }
}
