import Foundation
import HubCore
import HubStore
import HubTopology

/// The topology change that maps what a ``SchemaDiff`` found: renamed fields under their new
/// names, and new fields (each as a canonical field, added to the entity when it has none of
/// that name), as a JSON merge patch (RFC 7386) of the topology file, for a person to review.
public enum SchemaPatch {
    /// One line of the patch, said in words.
    public struct Step: Sendable, Hashable {
        public var entity: EntityName
        /// What the step does: `map canonical 'country' to 'Land' (was 'Country')`.
        public var description: String
    }

    /// The merge patch and its steps; nil when nothing can be mapped (no renamed or new
    /// fields, or only kinds of values no canonical type holds).
    ///
    /// - Parameter raw: the topology file as JSON, to patch each mapping under the key the file
    ///   uses (a composite is keyed by any of its parts). Without it, the first canonical field.
    public static func make(_ diff: SchemaDiff, topology: Topology, raw: Value?) -> (patch: Value, steps: [Step])? {
        guard let system = topology.system(diff.system) else { return nil }
        var entitiesPatch: [String: Value] = [:]
        var systemEntities: [String: Value] = [:]
        var steps: [Step] = []
        for object in diff.objects {
            guard let mapping = system.entities.first(where: { $0.entity == object.entity }),
                  let entity = topology.entity(object.entity) else { continue }
            var fields: [String: Value] = [:]
            var mappingPatch: [String: Value] = [:]
            var newCanonical: [String: Value] = [:]
            let rawFields = raw?.value(atPath: "systems")?.objectValue?[system.name.rawValue]?
                .value(atPath: "entities")?.objectValue?[object.entity.rawValue]?.value(atPath: "fields")?.objectValue
            for change in object.changes where change.change == .renamed {
                guard let new = change.newField else { continue }
                if change.field == mapping.idField {
                    mappingPatch["id"] = .string(new)
                    steps.append(Step(entity: object.entity, description: "read IDs from '\(new)' (was '\(change.field)')"))
                }
                if change.field == mapping.cursorField {
                    mappingPatch["cursor"] = .string(new)
                    steps.append(Step(entity: object.entity, description: "use '\(new)' as the cursor (was '\(change.field)')"))
                }
                for m in mapping.fields where m.systemField == change.field {
                    let key = rawKey(rawFields, systemField: change.field, parts: m.canonical.map(\.rawValue))
                    fields[key] = ["field": .string(new)]
                    steps.append(Step(entity: object.entity, description:
                        "map canonical '\(m.canonical.map(\.rawValue).joined(separator: "', '"))' to '\(new)' (was '\(change.field)')"))
                }
            }
            let mapped = Set(mapping.fields.flatMap { $0.canonical.map(\.rawValue) })
            for change in object.changes where change.change == .added {
                guard let kind = object.live?.fields.first(where: { $0.name == change.field })?.kind,
                      let type = canonicalType(kind), let name = canonicalName(change.field) else { continue }
                if entity.fields.contains(where: { $0.name.rawValue == name }) {
                    guard !mapped.contains(name), fields[name] == nil else {
                        steps.append(Step(entity: object.entity, description:
                            "'\(change.field)' not mapped: canonical '\(name)' is mapped to another field already; map it by hand"))
                        continue
                    }
                    fields[name] = .string(change.field)
                    steps.append(Step(entity: object.entity, description: "map '\(change.field)' to the existing canonical '\(name)'"))
                } else if newCanonical[name] == nil {
                    newCanonical[name] = ["type": .string(type.rawValue)]
                    fields[name] = .string(change.field)
                    steps.append(Step(entity: object.entity, description:
                        "add canonical \(type.rawValue) field '\(name)' and map '\(change.field)' to it"))
                }
            }
            if !fields.isEmpty { mappingPatch["fields"] = .object(fields) }
            if !mappingPatch.isEmpty { systemEntities[object.entity.rawValue] = .object(mappingPatch) }
            if !newCanonical.isEmpty { entitiesPatch[object.entity.rawValue] = ["fields": .object(newCanonical)] }
        }
        guard !systemEntities.isEmpty else { return nil }
        var patch: [String: Value] = [
            "systems": .object([system.name.rawValue: ["entities": .object(systemEntities)]]),
        ]
        if !entitiesPatch.isEmpty { patch["entities"] = .object(entitiesPatch) }
        return (.object(patch), steps)
    }

    /// The key the topology file maps `systemField` under; else the first part.
    static func rawKey(_ fields: [String: Value]?, systemField: String, parts: [String]) -> String {
        for (key, value) in fields ?? [:] where parts.contains(key) {
            if value.stringValue == systemField || value.value(atPath: "field")?.stringValue == systemField { return key }
        }
        return parts[0]
    }

    /// The canonical type for a kind of system values; nil for binary data.
    static func canonicalType(_ kind: ValueKind) -> FieldType? {
        switch kind {
        case .text, .any: return .string
        case .integer: return .integer
        case .number: return .number
        case .boolean: return .boolean
        case .date: return .date
        case .datetime: return .datetime
        case .json: return .json
        case .binary: return nil
        }
    }

    /// A canonical name for a system field: lower snake case (`Loyalty Tier`, `loyaltyTier` →
    /// `loyalty_tier`, `contact.phone` → `contact_phone`); nil when nothing is left.
    public static func canonicalName(_ field: String) -> String? {
        var out = ""
        var previous: Character?
        for ch in field {
            if ch.isLetter || ch.isNumber, ch.isASCII {
                if ch.isUppercase, let p = previous, p.isLowercase || p.isNumber { out += "_" }
                out += ch.lowercased()
            } else if !out.hasSuffix("_"), !out.isEmpty {
                out += "_"
            }
            previous = ch
        }
        while out.hasSuffix("_") { out.removeLast() }
        guard let first = out.first else { return nil }
        return first.isNumber ? "f_" + out : out
    }
}
