import HubCore
import HubMapping
import HubStore
import HubTopology

/// A system object's fields as a run finds them, compared with what the mapping reads and with
/// the object's last fingerprint: which needed fields are missing, which changed type beyond
/// what the mapping converts, which are new.
struct SchemaComparison {
    let mapper: EntityMapper
    let previous: SchemaFingerprint?
    /// True when the system looks field names up ignoring case (SQL databases).
    let foldsCase: Bool
    /// Names the system answers to without listing them (SQLite's `rowid`), lowercased.
    let implicit: Set<String>

    /// The system fields a read needs: the ID, the cursor, then every mapped field, once each.
    let needed: [String]

    init(mapper: EntityMapper, previous: SchemaFingerprint?, adapter: AdapterKind) {
        self.init(mapper: mapper, previous: previous, foldsCase: adapter.foldsFieldCase, implicit: adapter.implicitFields)
    }

    init(mapper: EntityMapper, previous: SchemaFingerprint?, foldsCase: Bool, implicit: Set<String> = []) {
        self.mapper = mapper
        self.previous = previous
        self.foldsCase = foldsCase
        self.implicit = implicit
        var needed: [String] = []
        for f in [mapper.binding.idField] + (mapper.binding.cursorField.map { [$0] } ?? []) + mapper.binding.fields
        where !needed.contains(f) {
            needed.append(f)
        }
        self.needed = needed
    }

    /// The canonical fields read from (or written to) system field `field`.
    func canonical(of field: String) -> [String] {
        mapper.mapping.fields.filter { $0.systemField == field }.flatMap { $0.canonical.map(\.rawValue) }
    }

    /// True when the last fingerprint lists fields to compare with (a push-only system's has none).
    var hasBaseline: Bool { !(previous?.fields.isEmpty ?? true) }

    /// The field at `path` in `fields`: exactly; ignoring case where the system does; or, for
    /// JSON, a nested object whose fields are listed as `path.…`.
    func find(_ path: String, in fields: [DiscoveredField]) -> DiscoveredField? {
        if let exact = fields.first(where: { $0.name == path }) { return exact }
        if foldsCase, let folded = fields.first(where: { $0.name.lowercased() == path.lowercased() }) { return folded }
        if mapper.nestedPaths, let nested = fields.first(where: { $0.name.hasPrefix(path + ".") }) {
            return DiscoveredField(name: path, nativeType: "object", kind: .json, isKey: false, nullable: nested.nullable)
        }
        if implicit.contains(path.lowercased()) { return DiscoveredField(name: path, nativeType: "(implicit)", kind: .any) }
        return nil
    }

    /// True when a field of `fields` is `path`, lies inside it, or holds it (a JSON system maps
    /// `contact` or `contact.email`): a field the mapping already reads.
    func isNeeded(_ field: String) -> Bool {
        needed.contains { n in
            n == field || (foldsCase && n.lowercased() == field.lowercased())
                || (mapper.nestedPaths && (field.hasPrefix(n + ".") || n.hasPrefix(field + ".")))
        }
    }

    /// Needed fields that `object` lacks.
    func missing(in object: DiscoveredObject) -> [String] {
        needed.filter { find($0, in: object.fields) == nil }
    }

    /// The field the last fingerprint had at `path`.
    func previousField(_ path: String) -> DiscoveredField? {
        guard let previous else { return nil }
        return find(path, in: previous.fields)
    }

    /// A needed field whose kind of values changed since the fingerprint.
    struct TypeChange {
        var field: String
        var old: DiscoveredField
        var new: DiscoveredField
        /// Why the mapping cannot convert the new type, when it could convert the old one.
        var refusal: String?
    }

    /// Needed fields whose kind changed (neither side untyped). Sampled kinds of `any` (seen only
    /// as null, or mixed) say nothing and are left out.
    func typeChanges(in object: DiscoveredObject) -> [TypeChange] {
        needed.compactMap { name in
            guard let old = previousField(name), let new = find(name, in: object.fields),
                  old.kind != new.kind, old.kind != .any, new.kind != .any else { return nil }
            let refusal = refusal(name, kind: new.kind)
            return TypeChange(field: name, old: old, new: new, refusal: refusal != nil && self.refusal(name, kind: old.kind) == nil ? refusal : nil)
        }
    }

    /// Why the mapping cannot convert values of `kind` in system field `field`, or nil when it can.
    func refusal(_ field: String, kind: ValueKind) -> String? {
        for m in mapper.mapping.fields where m.systemField == field {
            let type: FieldType = m.isComposite ? .string : (mapper.field(m.canonical[0].rawValue)?.type ?? .string)
            if case .incompatible(let why) = FieldCompatibility.verdict(type, mapping: m, kind: kind) {
                return "the mapping of \(type.rawValue) field '\(m.canonical.map(\.rawValue).joined(separator: "', '"))' "
                    + "cannot convert it: \(why)"
            }
        }
        return nil
    }

    /// Fields of `fields` the mapping does not read and the fingerprint did not have, and those
    /// in `stillOpen` (reported earlier, not mapped yet) that are still there.
    func added(in fields: [DiscoveredField], stillOpen: Set<String> = []) -> [DiscoveredField] {
        guard hasBaseline else { return [] }
        return fields.filter { f in
            !isNeeded(f.name) && (previousField(f.name) == nil || stillOpen.contains(f.name))
        }
    }

    /// The fields of a sampled object seen so far: the fingerprint's, then new ones; a field seen
    /// with values takes their kind.
    static func union(_ old: [DiscoveredField], _ new: [DiscoveredField]) -> [DiscoveredField] {
        var out = old
        for f in new {
            if let i = out.firstIndex(where: { $0.name == f.name }) {
                if f.kind != .any { out[i] = f }
            } else {
                out.append(f)
            }
        }
        return out
    }

    /// Canonical field → a signature of its mapping in this system (system field, conversion,
    /// direction). A field whose signature is new or changed since the fingerprint was mapped
    /// since: its values must be read from every record and sent to every record once.
    static func mappingSignature(_ mapper: EntityMapper) -> [String: String] {
        var out: [String: String] = [:]
        for m in mapper.mapping.fields {
            var o: [String: Value] = [
                "field": .string(m.systemField), "parts": .array(m.canonical.map { .string($0.rawValue) }),
                "direction": .string(m.direction.rawValue),
                "pulls": .bool(mapper.inboundFields.contains(m.canonical[0].rawValue)),
                "pushes": .bool(mapper.outboundFields.contains(m.canonical[0].rawValue)),
            ]
            if !m.values.isEmpty { o["values"] = .object(m.values) }
            if let d = m.defaultValue { o["default"] = d }
            if let t = m.systemType { o["type"] = .string(t.rawValue) }
            if let f = m.format { o["format"] = .string("\(f)") }
            if !m.normalize.isEmpty { o["normalize"] = .array(m.normalize.map { .string($0.rawValue) }) }
            if m.isComposite { o["separator"] = .string(m.separator); o["split"] = .string(m.split.rawValue) }
            let signature = JSONWriter.string(.object(o))
            for c in m.canonical { out[c.rawValue] = signature }
        }
        return out
    }

    /// Canonical fields among `fields` whose mapping is new or changed since `previous`.
    static func remapped(_ fields: [String], now: [String: String], before previous: [String: String]) -> Set<String> {
        Set(fields.filter { previous[$0] != now[$0] })
    }
}
