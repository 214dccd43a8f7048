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
    /// True for systems that cannot hold an empty string apart from null (CSV files: an empty cell
    /// reads as null), so that an empty text value reads — and projects — as null.
    public let emptyTextReadsAsNull: Bool
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
    /// The pulled fields' names for content hashes, sorted once.
    public let inboundKeys: ContentHash.Keys
    /// Per field mapping: the slot of its canonical field in `inboundKeys`, or -1 when it is not
    /// pulled or has no definition; empty when a pulled mapping is a composite.
    private let inboundSlots: [Int]
    /// Per field mapping: the definition of its canonical field, where it has a slot.
    private let inboundSlotDefinitions: [FieldDefinition?]
    /// The field mappings that have a slot, in the order of their slots (mappings sharing a
    /// slot in mapping order: the last one's value is hashed, as ``inbound(_:base:)`` keeps it).
    private let inboundOrder: [Int]
    /// Per field mapping: the parts of its dotted system path (empty for a plain name).
    private let pathParts: [[String]]
    /// Per field mapping: its system field and whether its text reads as itself
    /// (``Prepared/plainText``), apart, so hashing a record copies no mapping per field.
    private let systemFieldNames: [String]
    private let plainText: [Bool]
    /// True when no pulled mapping writes a canonical field that a pulled composite also
    /// writes: a composite's parts are then what its text reads as (``inboundWithoutBase(_:)``).
    private let compositesStandAlone: Bool
    /// Per field mapping (same order as `mapping.fields`): what is computed once.
    private let prepared: [Prepared]

    /// What a field mapping needs at run time, computed once.
    struct Prepared: Sendable {
        /// The mapping's default, as a canonical value (converted and normalised).
        var defaultValue: Value?
        /// The value map inverted: system value → canonical text, ordered by canonical text so that
        /// the first match is always the same one.
        var inverse: [(system: Value, normalizedSystem: Value, canonical: String)]
        /// Value-map keys by their text after the canonical field's normalisation.
        var normalizedKeys: [String: String]
        /// True when a text value reads as itself: a single `string` field without value map,
        /// normalisation or default (``readScalar(_:raw:def:)`` then has nothing to do).
        var plainText = false
    }

    /// A mapper for a system whose adapter behaves as `traits` says.
    public init(system: SystemDefinition, mapping: SystemEntityMapping, entity: EntityDefinition, traits: AdapterTraits) {
        self.init(system: system, mapping: mapping, entity: entity, nestedPaths: traits.nestedPaths,
                  emptyTextReadsAsNull: traits.emptyTextReadsAsNull)
    }

    public init(system: SystemDefinition, mapping: SystemEntityMapping, entity: EntityDefinition, nestedPaths: Bool,
                emptyTextReadsAsNull: Bool = false) {
        self.system = system.name
        self.entity = entity
        self.mapping = mapping
        self.nestedPaths = nestedPaths
        self.emptyTextReadsAsNull = emptyTextReadsAsNull
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
        self.pathParts = mapping.fields.map { m in
            m.systemField.utf8.contains(UInt8(ascii: ".")) ? m.systemField.split(separator: ".", omittingEmptySubsequences: false).map(String.init) : []
        }
        let keys = ContentHash.Keys(inbound)
        self.inboundKeys = keys
        let pulled = mapping.fields.map { system.direction.pulls && $0.direction.pulls }
        if zip(mapping.fields, pulled).contains(where: { $0.isComposite && $1 }) {
            self.inboundSlots = []
            self.inboundSlotDefinitions = []
            self.inboundOrder = []
        } else {
            let slots = zip(mapping.fields, pulled).map { m, pulls in
                pulls && defs[m.canonical[0].rawValue] != nil ? keys.fields.firstIndex(of: m.canonical[0].rawValue) ?? -1 : -1
            }
            self.inboundSlots = slots
            self.inboundSlotDefinitions = zip(mapping.fields, slots).map { m, slot in slot >= 0 ? defs[m.canonical[0].rawValue] : nil }
            self.inboundOrder = slots.indices.filter { slots[$0] >= 0 }.sorted { (slots[$0], $0) < (slots[$1], $1) }
        }
        let pulledNames = zip(mapping.fields, pulled).filter(\.1).flatMap { $0.0.canonical }
        self.compositesStandAlone = zip(mapping.fields, pulled).allSatisfy { m, pulls in
            !(pulls && m.isComposite) || m.canonical.allSatisfy { name in pulledNames.filter { $0 == name }.count == 1 }
        }
        self.outboundFields = outbound
        self.mappedFields = all
        self.refFields = refs
        var systemFields: [String] = []
        for m in mapping.fields where !systemFields.contains(m.systemField) { systemFields.append(m.systemField) }
        self.binding = ObjectBinding(entity: entity.name, object: mapping.object, idField: mapping.idField,
                                     cursorField: mapping.cursorField,
                                     cursorLookback: mapping.cursorLookback, fields: systemFields)
        self.prepared = mapping.fields.map { m in
            let def = m.canonical.first.flatMap { defs[$0.rawValue] }
            let normalize = def?.normalize ?? []
            var p = Prepared(defaultValue: nil, inverse: [], normalizedKeys: [:])
            p.plainText = !m.isComposite && def?.type == .string && normalize.isEmpty && m.normalize.isEmpty && m.values.isEmpty
                && m.defaultValue == nil
            if let d = m.defaultValue, let def {
                switch ValueConversion.toCanonical(d, type: def.type, format: nil) {
                case .success(let v): p.defaultValue = normalize.apply(v)
                case .failure: p.defaultValue = normalize.apply(d)
                }
            }
            for key in m.values.keys.sorted() {
                let systemValue = m.values[key]!
                p.inverse.append((systemValue, m.normalize.apply(systemValue), key))
                let normalized = normalize.apply(.string(key)).stringValue ?? key
                if p.normalizedKeys[normalized] == nil { p.normalizedKeys[normalized] = key }
            }
            return p
        }
        self.systemFieldNames = mapping.fields.map(\.systemField)
        self.plainText = prepared.map(\.plainText)
    }

    /// The definition of a canonical field.
    public func field(_ name: String) -> FieldDefinition? { fieldDefinitions[name] }

    // MARK: - Inbound

    /// Maps a system record to canonical values for the fields this system pulls.
    /// `ref` fields hold the system's IDs of the referred records; the engine translates them.
    ///
    /// Absent system fields read as null. A value that cannot be converted fails the whole record
    /// with a ``MappingError`` naming the field (never the value).
    ///
    /// - Parameter base: the canonical values the hub last knew the record held (its link's
    ///   base), or the hub's values it is about to be linked to. Composite fields are read
    ///   relative to it: an edit that leaves one part's text intact changes only the other, and
    ///   a value that cannot be split without guessing fails with code `ambiguous_composite`.
    ///   Without a base, composites split by the mapping's `split` rule.
    public func inbound(_ record: SpokeRecord, base: CanonicalRecord? = nil) -> Result<CanonicalRecord, MappingError> {
        var out: CanonicalRecord = [:]
        out.reserveCapacity(mapping.fields.count + 1)
        for (index, m) in mapping.fields.enumerated() where m.direction.pulls {
            switch read(index, from: record.fields, base: base) {
            case .success(let values):
                for (name, v) in values { out[name] = v }
            case .failure(let failure):
                return .failure(MappingError(system: system, entity: entity.name, externalID: record.id,
                                             field: m.canonical[0].rawValue, systemField: m.systemField,
                                             message: failure.message, code: failure.code ?? "unmappable"))
            }
        }
        return .success(out)
    }

    /// True when a field mapping joins several canonical fields (their reading depends on a base).
    public var hasComposites: Bool { mapping.fields.contains { $0.isComposite } }

    /// Reads the canonical values of one field mapping from a system record.
    func read(_ index: Int, from fields: [String: Value], base: CanonicalRecord? = nil) -> Result<[(String, Value)], ConversionFailure> {
        let m = mapping.fields[index]
        var raw = fields.value(atPath: m.systemField) ?? .null
        if emptyTextReadsAsNull, raw == "" { raw = .null }
        if m.isComposite, let base,
            case let known = m.canonical.map({ name in
                (fieldDefinitions[name.rawValue]?.normalize ?? []).apply(base[name.rawValue] ?? .null)
            }), !known.allSatisfy(\.isNull)
        {
            switch relativeParts(m, raw, known: known) {
            case .success(let parts): return .success(zip(m.canonical, parts).map { ($0.rawValue, $1) })
            case .failure(let failure): return .failure(failure)
            }
        }
        if m.isComposite {
            // A part's normalisation can add or remove separators (collapse_spaces turns a tab
            // into a space), which would split differently once written back. Settle on parts
            // that split back into themselves, so that a read is what a write of it reads back.
            var parts = compositeParts(m, raw)
            for _ in 0..<8 {
                let again = compositeParts(m, joinParts(m, parts))
                if again == parts { break }
                parts = again
            }
            return .success(zip(m.canonical, parts).map { ($0.rawValue, $1) })
        }
        let name = m.canonical[0].rawValue
        guard let def = fieldDefinitions[name] else { return .success([]) }
        return readScalar(index, raw: raw, def: def).map { [(name, $0)] }
    }

    /// The canonical value of a field mapping with one canonical field, from the system value
    /// `raw` (with empty text already read as null where the system cannot tell them apart).
    func readScalar(_ index: Int, raw: Value, def: FieldDefinition) -> Result<Value, ConversionFailure> {
        if prepared[index].plainText, case .string(let text) = raw {
            return .success(emptyTextReadsAsNull && text.isEmpty ? .null : raw)
        }
        let m = mapping.fields[index]
        let p = prepared[index]
        var v = m.normalize.isEmpty ? raw : m.normalize.apply(Self.scalarText(raw))
        if !p.inverse.isEmpty, !v.isNull { v = Self.invert(v, in: p.inverse) }
        switch ValueConversion.toCanonical(v, type: def.type, format: m.format) {
        case .success(let converted): v = converted
        case .failure(let failure): return .failure(failure)
        }
        // The default stands in for "no value" after normalisation too (`empty_to_null`).
        v = def.normalize.apply(v)
        if emptyTextReadsAsNull, v == "" { v = .null }
        if v.isNull, let d = p.defaultValue { v = d }
        return .success(v)
    }

    /// The value at a dotted path split once into `parts` (a literal key wins, as in
    /// ``Swift/Dictionary/value(atPath:)``).
    static func value(in fields: [String: Value], path: String, parts: [String]) -> Value? {
        if let direct = fields[path] { return direct }
        guard let last = parts.last else { return nil }
        var object = fields
        for part in parts.dropLast() {
            guard case .object(let inner)? = object[part] else { return nil }
            object = inner
        }
        return object[last]
    }

    /// The content hash of the fields this system pulls, read from a system record: what
    /// `ContentHash.of(inbound(record).get(), fields: inboundFields)` gives, computed without
    /// building the canonical record. Nil when the mapping reads composites (their reading
    /// depends on a base) or the record cannot be read (``inbound(_:base:)`` says why).
    public func inboundHash(_ record: SpokeRecord) -> String? {
        var out = inboundKeys.buffer()
        guard writeInbound(record, to: &out) else { return nil }
        return inboundKeys.finish(&out)
    }

    /// True when ``inboundHash(_:)`` of `record` is `hash`, found without making the hash's
    /// text; false when it differs or the record has no direct hash. `buffer` is scratch space
    /// for the record's canonical JSON, kept between calls so a page of records allocates it once.
    public func inboundHash(of record: SpokeRecord, equals hash: String, buffer: inout [UInt8]) -> Bool {
        inboundKeys.reset(&buffer)
        guard writeInbound(record, to: &buffer) else { return false }
        return inboundKeys.digest(of: &buffer, equals: hash)
    }

    /// Writes the canonical JSON of the fields this system pulls, read from `record`, after the
    /// `{` already in `out`; false when the record cannot be read or the mapping has composites.
    private func writeInbound(_ record: SpokeRecord, to out: inout [UInt8]) -> Bool {
        guard !inboundSlots.isEmpty || inboundFields.isEmpty else { return false }
        for (n, index) in inboundOrder.enumerated() {
            var raw = Self.value(in: record.fields, path: systemFieldNames[index], parts: pathParts[index]) ?? .null
            if emptyTextReadsAsNull, case .string(let text) = raw, text.isEmpty { raw = .null }
            let v: Value
            if plainText[index], case .string = raw {
                v = raw  // what `readScalar` returns for it (empty text was made null above)
            } else {
                guard case .success(let read) = readScalar(index, raw: raw, def: inboundSlotDefinitions[index]!) else { return false }
                v = read
            }
            let slot = inboundSlots[index]
            // A later mapping of the same canonical field wins (each is still read: one that
            // cannot be read fails the record, as it does in `inbound`).
            if n + 1 < inboundOrder.count, inboundSlots[inboundOrder[n + 1]] == slot { continue }
            inboundKeys.append(v, at: slot, to: &out)
        }
        return true
    }

    /// The canonical values of a record whose reading cannot depend on a base: read without
    /// one, where every composite's text is exactly its parts joined. Read relative to a base
    /// holding those parts, such text keeps them (``relativeParts(_:_:known:)``), so when the
    /// values' content hash equals a link's base hash, the record is unchanged without that
    /// base being loaded. Nil when the record cannot be read, when a composite's text would
    /// read differently against its parts (spacing the parts do not keep, say), or when another
    /// mapping writes a composite's part.
    public func inboundWithoutBase(_ record: SpokeRecord) -> CanonicalRecord? {
        guard compositesStandAlone, case .success(let values) = inbound(record) else { return nil }
        for m in mapping.fields where m.isComposite && m.direction.pulls {
            var raw = record.fields.value(atPath: m.systemField) ?? .null
            if emptyTextReadsAsNull, raw == "" { raw = .null }
            let text = m.normalize.apply(Self.scalarText(raw))
            let parts = m.canonical.map { values[$0.rawValue] ?? .null }
            guard text == joinParts(m, parts) || (text.isNull && parts.allSatisfy(\.isNull)) else { return nil }
        }
        return values
    }

    /// The parts of a composite value read relative to the parts the hub knows (`known`):
    /// unchanged text keeps them; text in which every part but one is intact (as a prefix and a
    /// suffix of whole pieces) changes only that one; text that changed every part splits only
    /// when it has exactly one piece per part. Anything else would be a guess, and fails.
    func relativeParts(_ m: FieldMapping, _ raw: Value, known: [Value]) -> Result<[Value], ConversionFailure> {
        let text = m.normalize.apply(Self.scalarText(raw))
        if text == joinParts(m, known) || (text.isNull && known.allSatisfy(\.isNull)) { return .success(known) }
        let pieces = text.isNull ? [] : Self.pieces(of: text.displayText, separator: m.separator)
        if pieces.isEmpty { return .success(known.map { _ in .null }) }
        let knownPieces = known.map { $0.isNull ? [] : Self.pieces(of: $0.displayText, separator: m.separator) }
        var candidates: [[Value]] = []
        // Candidates that only fill a part the hub has no value for (it knows nothing to keep).
        var filling: [[Value]] = []
        for k in known.indices {
            let prefix = knownPieces[..<k].flatMap { $0 }
            let suffix = knownPieces[(k + 1)...].flatMap { $0 }
            guard pieces.count >= prefix.count + suffix.count, Array(pieces.prefix(prefix.count)) == prefix,
                Array(pieces.suffix(suffix.count)) == suffix
            else { continue }
            let middle = pieces[prefix.count..<(pieces.count - suffix.count)]
            var parts = known
            parts[k] = middle.isEmpty ? .null : .string(middle.joined(separator: m.separator))
            if !candidates.contains(parts) {
                candidates.append(parts)
                if known[k].isNull { filling.append(parts) }
            }
        }
        var parts: [Value]
        if candidates.count == 1 {
            parts = candidates[0]
        } else if filling.count == 1 {
            parts = filling[0]
        } else if candidates.isEmpty && pieces.count == known.count {
            parts = pieces.map(Value.string)
        } else {
            let what = candidates.isEmpty
                ? "every part changed and its \(pieces.count) pieces do not split one per part"
                : "it splits \(candidates.count) ways around the parts the hub knows"
            return .failure(ConversionFailure(
                message: "the new value cannot be split into \(m.canonical.map(\.rawValue).joined(separator: " and ")) "
                    + "without guessing (\(what)); change it so that every part but one keeps its text, or set the parts "
                    + "in a system that holds them apart", code: "ambiguous_composite"))
        }
        parts = zip(m.canonical, parts).map { name, v in
            var n = (fieldDefinitions[name.rawValue]?.normalize ?? []).apply(v)
            if n.stringValue?.isEmpty == true { n = .null }
            return n
        }
        return .success(parts)
    }

    /// The parts of a composite system value, normalised; empty parts are null.
    func compositeParts(_ m: FieldMapping, _ raw: Value) -> [Value] {
        let text = m.normalize.apply(Self.scalarText(raw))
        let pieces = Self.split(text.isNull ? nil : text.displayText, count: m.canonical.count,
                                separator: m.separator, side: m.split)
        return zip(m.canonical, pieces).map { name, piece in
            var v = (fieldDefinitions[name.rawValue]?.normalize ?? []).apply(piece.map(Value.string) ?? .null)
            if v.stringValue?.isEmpty == true { v = .null }
            return v
        }
    }

    /// The system value of composite parts: the parts joined by the separator; null parts, empty
    /// parts and separators at a part's ends are left out, so that the text splits back.
    func joinParts(_ m: FieldMapping, _ parts: [Value]) -> Value {
        var pieces: [String] = []
        for (name, v) in zip(m.canonical, parts) {
            let normalized = (fieldDefinitions[name.rawValue]?.normalize ?? []).apply(v)
            guard !normalized.isNull else { continue }
            pieces += Self.pieces(of: normalized.displayText, separator: m.separator)
        }
        return pieces.isEmpty ? .null : .string(pieces.joined(separator: m.separator))
    }

    /// The canonical value a system value stands for under a value map, or the value itself.
    /// An exact match wins over a match after the mapping's normalisation.
    static func invert(_ v: Value, in inverse: [(system: Value, normalizedSystem: Value, canonical: String)]) -> Value {
        for pair in inverse where looselyEqual(pair.system, v) { return .string(pair.canonical) }
        for pair in inverse where looselyEqual(pair.normalizedSystem, v) { return .string(pair.canonical) }
        return v
    }

    /// The canonical value a system value stands for under a value map (canonical → system).
    static func invert(_ v: Value, in values: [String: Value]) -> Value {
        invert(v, in: values.keys.sorted().map { (values[$0]!, values[$0]!, $0) })
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

    /// Splits composite text into `count` parts; missing parts are nil. Empty pieces (from
    /// separators at the ends or side by side) are dropped.
    static func split(_ text: String?, count: Int, separator: String, side: SplitSide) -> [String?] {
        guard let text, !text.isEmpty, count > 0 else { return Array(repeating: nil, count: count) }
        var pieces = pieces(of: text, separator: separator)
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
        var out: [String?] = pieces.map { $0 }
        while out.count < count { out.append(nil) }
        return out
    }

    /// The non-empty pieces of `text` between occurrences of `separator`, compared literally
    /// (Unicode scalar by scalar).
    static func pieces(of text: String, separator: String) -> [String] {
        let sep = Array(separator.unicodeScalars)
        guard !sep.isEmpty else { return text.isEmpty ? [] : [text] }
        let scalars = Array(text.unicodeScalars)
        var out: [String] = []
        var current = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            if i + sep.count <= scalars.count, scalars[i] == sep[0], Array(scalars[i..<i + sep.count]) == sep {
                if !current.isEmpty { out.append(String(current)) }
                current = String.UnicodeScalarView()
                i += sep.count
            } else {
                current.append(scalars[i])
                i += 1
            }
        }
        if !current.isEmpty { out.append(String(current)) }
        return out
    }

    // MARK: - Outbound

    /// Maps canonical values to the system's fields, for the mappings that write `fields`
    /// (default: every field this system is written). `ref` values must already hold the
    /// system's IDs.
    public func outbound(_ record: CanonicalRecord, only fields: Set<String>? = nil) -> [String: Value] {
        var out: [String: Value] = [:]
        for (index, m) in mapping.fields.enumerated() where m.direction.pushes {
            if let fields, !m.canonical.contains(where: { fields.contains($0.rawValue) }) { continue }
            out.setValue(outboundValue(index, record), atPath: m.systemField, nested: nestedPaths)
        }
        return out
    }

    func outboundValue(_ index: Int, _ record: CanonicalRecord) -> Value {
        let m = mapping.fields[index]
        if m.isComposite { return joinParts(m, m.canonical.map { record[$0.rawValue] ?? .null }) }
        let name = m.canonical[0].rawValue
        guard let def = fieldDefinitions[name] else { return .null }
        let p = prepared[index]
        // Hub values are stored normalised already; normalising here makes writes of any value
        // agree with what reading them back gives.
        var v = def.normalize.apply(record[name] ?? .null)
        if v.isNull, let d = p.defaultValue { v = d }
        if !m.values.isEmpty, !v.isNull {
            let key = Self.canonicalText(v)
            if let mapped = m.values[key] {
                v = mapped
            } else if let normalized = def.normalize.apply(.string(key)).stringValue, let original = p.normalizedKeys[normalized] {
                v = m.values[original]!
            }
        }
        return ValueConversion.toSystem(v, type: def.type, systemType: m.systemType, format: m.format)
    }

    /// Numbers and booleans as text (`3`, `2.5`, `true`), for a mapping's normalisers, which
    /// work on the system's value as text; anything else as it is.
    static func scalarText(_ v: Value) -> Value {
        switch v {
        case .int(let i): return .string(String(i))
        case .double(let d): return .string(ValueConversion.numberText(d))
        case .bool(let b): return .string(b ? "true" : "false")
        default: return v
        }
    }

    /// The text a canonical value is looked up by in a value map.
    static func canonicalText(_ v: Value) -> String {
        if case .double(let d) = v { return ValueConversion.numberText(d) }
        return v.displayText
    }

    // MARK: - Round trip

    /// The canonical values the system will present after hubctl writes `record` to it, for every
    /// mapped field: what the outbound mapping writes, read back by the inbound mapping.
    ///
    /// It is a fixed point: `project(project(x)) == project(x)`, so a base made of it never
    /// differs from what the system shows after our own write (no echo writes). Fields the system
    /// does not let hubctl write (per-field `pull`) are projected from their own value, unless
    /// another mapping writes the same system field. A field whose own output does not read back
    /// keeps its value.
    public func project(_ record: CanonicalRecord) -> CanonicalRecord {
        var written: [String: Value] = [:]
        var writtenFields: Set<String> = []
        for (index, m) in mapping.fields.enumerated() where m.direction.pushes {
            written.setValue(outboundValue(index, record), atPath: m.systemField, nested: nestedPaths)
            writtenFields.insert(m.systemField)
        }
        for (index, m) in mapping.fields.enumerated() where !m.direction.pushes && !writtenFields.contains(m.systemField) {
            written.setValue(outboundValue(index, record), atPath: m.systemField, nested: nestedPaths)
            writtenFields.insert(m.systemField)
        }
        var out: CanonicalRecord = [:]
        for (index, m) in mapping.fields.enumerated() {
            switch read(index, from: written, base: record) {
            case .success(let values):
                for (name, v) in values { out[name] = v }
            case .failure:
                for name in m.canonical { out[name.rawValue] = record[name.rawValue] ?? .null }
            }
        }
        return out
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
    /// The quarantine reason: `unmappable`, or `ambiguous_composite` for a composite value that
    /// cannot be split without guessing.
    public var code: String

    public init(system: SystemName, entity: EntityName, externalID: ExternalID?, field: String, systemField: String,
                message: String, code: String = "unmappable") {
        self.system = system
        self.entity = entity
        self.externalID = externalID
        self.field = field
        self.systemField = systemField
        self.message = message
        self.code = code
    }

    public var description: String {
        let id = externalID.map { " id \($0)" } ?? ""
        return "system '\(system)' \(entity)\(id): field '\(systemField)' (canonical '\(field)'): \(message)"
    }
}
