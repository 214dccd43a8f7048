import Foundation
import HubCore
import HubTopology

/// Canonical field values keyed by canonical field name. Absent and `.null` both mean "no value".
public typealias CanonicalRecord = [String: Value]

/// Translates one entity between one system's schema and the canonical model, both ways.
///
/// Built once per system × entity from the topology. Inbound: system record → canonical fields
/// (renames, nested paths, value maps inverted, type conversion, defaults, normalisation, composite
/// split). Outbound: the reverse. ``project(_:)`` is the round trip: the canonical values the
/// system will present after hubctl writes a record; it is what link bases are made of, so that
/// lossy mappings never cause echo writes.
public struct EntityMapper: Sendable {
    public let system: SystemName
    public let entity: EntityDefinition
    public let mapping: SystemEntityMapping
    /// True when dotted paths address nested objects (JSON systems); false for flat tables and files.
    public let nestedPaths: Bool
    /// Canonical fields read from the system.
    public let inboundFields: [String]
    /// Canonical fields written to the system.
    public let outboundFields: [String]
    /// Every canonical field the system maps.
    public let mappedFields: [String]
    /// `ref` fields the system maps, with the entity each refers to.
    public let refFields: [String: EntityName]
    /// What the spoke needs to know about the object.
    public let binding: ObjectBinding

    private let fieldDefinitions: [String: FieldDefinition]

    public init(system: SystemDefinition, mapping: SystemEntityMapping, entity: EntityDefinition, nestedPaths: Bool) {
        self.system = system.name
        self.entity = entity
        self.mapping = mapping
        self.nestedPaths = nestedPaths
        var defs: [String: FieldDefinition] = [:]
        for f in entity.fields { defs[f.name.rawValue] = f }
        self.fieldDefinitions = defs
        var inbound: [String] = [], outbound: [String] = [], all: [String] = []
        var refs: [String: EntityName] = [:]
        for m in mapping.fields {
            for c in m.canonical.map(\.rawValue) {
                all.append(c)
                if system.direction.pulls && m.direction.pulls { inbound.append(c) }
                if system.direction.pushes && m.direction.pushes { outbound.append(c) }
                if let target = defs[c]?.refEntity { refs[c] = target }
            }
        }
        self.inboundFields = inbound
        self.outboundFields = outbound
        self.mappedFields = all
        self.refFields = refs
        var systemFields: [String] = []
        for m in mapping.fields where !systemFields.contains(m.systemField) { systemFields.append(m.systemField) }
        self.binding = ObjectBinding(entity: entity.name, object: mapping.object, idField: mapping.idField,
                                     cursorField: mapping.cursorField, fields: systemFields)
    }

    /// The definition of a canonical field.
    public func field(_ name: String) -> FieldDefinition? { fieldDefinitions[name] }

    // MARK: - Inbound

    /// Maps a system record to canonical values for the fields this system pulls.
    /// `ref` fields hold the system's IDs of the referred records; the engine translates them.
    public func inbound(_ record: SpokeRecord) -> Result<CanonicalRecord, MappingError> {
        inbound(record.fields, id: record.id, allDirections: false)
    }

    func inbound(_ fields: [String: Value], id: ExternalID?, allDirections: Bool) -> Result<CanonicalRecord, MappingError> {
        var out: CanonicalRecord = [:]
        out.reserveCapacity(mapping.fields.count + 1)
        for m in mapping.fields where allDirections || (m.direction.pulls) {
            let raw = fields.value(atPath: m.systemField) ?? .null
            if m.isComposite {
                let text = m.normalize.apply(raw)
                let pieces = Self.split(text.isNull ? nil : text.displayText, count: m.canonical.count,
                                        separator: m.separator, side: m.split)
                for (name, piece) in zip(m.canonical, pieces) {
                    let def = fieldDefinitions[name.rawValue]
                    out[name.rawValue] = (def?.normalize ?? []).apply(piece.map(Value.string) ?? .null)
                }
                continue
            }
            let name = m.canonical[0].rawValue
            guard let def = fieldDefinitions[name] else { continue }
            var v = m.normalize.apply(raw)
            if !m.values.isEmpty, !v.isNull { v = Self.invert(v, in: m.values) }
            switch ValueConversion.toCanonical(v, type: def.type, format: m.format) {
            case .success(let converted): v = converted
            case .failure(let failure):
                return .failure(MappingError(system: system, entity: entity.name, externalID: id, field: name,
                                             systemField: m.systemField, message: failure.message))
            }
            if v.isNull, let d = m.defaultValue { v = d }
            out[name] = def.normalize.apply(v)
        }
        return .success(out)
    }

    /// The canonical value a system value stands for under a value map (canonical → system).
    static func invert(_ v: Value, in values: [String: Value]) -> Value {
        for (canonical, systemValue) in values where looselyEqual(systemValue, v) { return .string(canonical) }
        return v
    }

    /// Equal as JSON, or equal as text (a CSV's "1" and a map's 1).
    static func looselyEqual(_ a: Value, _ b: Value) -> Bool {
        if a == b { return true }
        if let x = a.numberValue, let y = b.numberValue { return x == y }
        switch (a, b) {
        case (.object, _), (.array, _), (_, .object), (_, .array), (.null, _), (_, .null): return false
        default: return a.displayText == b.displayText
        }
    }

    /// Splits composite text into `count` parts; missing parts are nil.
    static func split(_ text: String?, count: Int, separator: String, side: SplitSide) -> [String?] {
        guard let text, !text.isEmpty else { return Array(repeating: nil, count: count) }
        var pieces = text.components(separatedBy: separator)
        if pieces.count > count {
            switch side {
            case .left:
                let rest = pieces[(count - 1)...].joined(separator: separator)
                pieces = Array(pieces[..<(count - 1)]) + [rest]
            case .right:
                let extra = pieces.count - count
                let head = pieces[...extra].joined(separator: separator)
                pieces = [head] + Array(pieces[(extra + 1)...])
            }
        }
        var out: [String?] = pieces.map { $0.isEmpty ? nil : $0 }
        while out.count < count { out.append(nil) }
        return out
    }

    // MARK: - Outbound

    /// Maps canonical values to the system's fields, for the mappings that write `fields`
    /// (default: every field this system is written). `ref` values must already hold the
    /// system's IDs.
    public func outbound(_ record: CanonicalRecord, only fields: Set<String>? = nil) -> [String: Value] {
        outbound(record, only: fields, allDirections: false)
    }

    func outbound(_ record: CanonicalRecord, only fields: Set<String>?, allDirections: Bool) -> [String: Value] {
        var out: [String: Value] = [:]
        for m in mapping.fields where allDirections || m.direction.pushes {
            if let fields, !m.canonical.contains(where: { fields.contains($0.rawValue) }) { continue }
            out.setValue(outboundValue(m, record), atPath: m.systemField, nested: nestedPaths)
        }
        return out
    }

    func outboundValue(_ m: FieldMapping, _ record: CanonicalRecord) -> Value {
        if m.isComposite {
            let parts = m.canonical.compactMap { name -> String? in
                guard let v = record[name.rawValue], !v.isNull else { return nil }
                let t = v.displayText
                return t.isEmpty ? nil : t
            }
            return parts.isEmpty ? .null : .string(parts.joined(separator: m.separator))
        }
        let name = m.canonical[0].rawValue
        guard let def = fieldDefinitions[name] else { return .null }
        var v = record[name] ?? .null
        if v.isNull, let d = m.defaultValue { v = d }
        if !m.values.isEmpty, !v.isNull, let mapped = m.values[v.displayText] { v = mapped }
        return ValueConversion.toSystem(v, type: def.type, systemType: m.systemType, format: m.format)
    }

    // MARK: - Round trip

    /// The canonical values the system will present after hubctl writes `record` to it: the
    /// outbound mapping followed by the inbound one, over every mapped field.
    public func project(_ record: CanonicalRecord) -> CanonicalRecord {
        let written = outbound(record, only: nil, allDirections: true)
        switch inbound(written, id: nil, allDirections: true) {
        case .success(let back):
            return back
        case .failure:
            // Our own output always reads back; if a mapping is so lossy that it does not,
            // fall back to the values themselves.
            var out: CanonicalRecord = [:]
            for f in mappedFields { out[f] = record[f] ?? .null }
            return out
        }
    }
}

/// A record that cannot be mapped, with where and why. Never contains the value.
public struct MappingError: Error, Sendable, Hashable, CustomStringConvertible {
    public var system: SystemName
    public var entity: EntityName
    public var externalID: ExternalID?
    public var field: String
    public var systemField: String
    public var message: String

    public var description: String {
        let id = externalID.map { " id \($0)" } ?? ""
        return "system '\(system)' \(entity)\(id): field '\(systemField)' (canonical '\(field)'): \(message)"
    }
}
