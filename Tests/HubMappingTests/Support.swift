import HubCore
import HubMapping
import HubTopology
import Testing

/// The canonical `customer` used by the mapping tests.
let customerFields = #"""
    "email": {"type": "string", "normalize": "lowercase"},
    "first_name": "string", "last_name": "string", "full_name": "string",
    "country": "string", "age": "integer", "score": "number", "vip": "boolean",
    "born": "date", "updated": "datetime", "tags": "json",
    "phone": {"type": "string", "normalize": "digits"},
    "rep": {"type": "ref", "entity": "employee"}
    """#

/// Builds the mapper of `customer` in system `sys` from topology JSON: `fields` is the system's
/// field mapping object's contents. The topology goes through the real decoder, so what is
/// tested is what a topology file gets.
func mapper(_ fields: String, entity: String = customerFields, direction: String = "both",
            nestedPaths: Bool = true, emptyTextReadsAsNull: Bool = false) throws -> EntityMapper {
    let text = """
        {
          "version": 1,
          "entities": {
            "employee": {"fields": {"email": "string"}},
            "customer": {"fields": {\(entity)}}
          },
          "systems": {
            "source": {"adapter": "jsonl", "direction": "pull", "entities": {
              "employee": {"object": "e.jsonl", "fields": {"email": "email"}},
              "customer": {"object": "c.jsonl", "fields": {"email": "email"}}}},
            "sys": {"adapter": "jsonl", "direction": "\(direction)", "entities": {
              "employee": {"object": "reps.jsonl", "fields": {"email": "email"}},
              "customer": {"object": "customers.jsonl", "id": "id", "fields": {\(fields)}}}}
          }
        }
        """
    let topology: Topology
    do {
        topology = try TopologyLoader.decode(text, baseDirectory: "/tmp")
    } catch let error as TopologyError {
        Issue.record("the test topology is invalid:\n\(error)")
        throw error
    }
    let system = try #require(topology.system("sys"))
    return EntityMapper(system: system, mapping: try #require(system.mapping(for: "customer")),
                        entity: try #require(topology.entity("customer")), nestedPaths: nestedPaths,
                        emptyTextReadsAsNull: emptyTextReadsAsNull)
}

extension EntityMapper {
    /// Inbound mapping of a record that must map.
    func read(_ fields: [String: Value], id: String = "7") throws -> CanonicalRecord {
        try inbound(SpokeRecord(id: ExternalID(id), fields: fields)).get()
    }

    /// The failure of a record that must not map.
    func failure(_ fields: [String: Value], id: String = "7") -> MappingError? {
        if case .failure(let e) = inbound(SpokeRecord(id: ExternalID(id), fields: fields)) { return e }
        Issue.record("expected the record to fail")
        return nil
    }
}


/// Random text that stresses normalisers and splitters: ASCII, digits and signs, every kind of
/// white space, combining marks, letters whose case mapping changes length or is special
/// (ß, İ, ı, ǅ, ﬁ, Σ), emoji and flags, and random scalars from across the planes.
enum Gen {
    static let pieces: [String] = [
        "a", "B", "z", "Q", "0", "7", "9", "+", "-", "(", ")", "/", ".", ",", "@", "_",
        " ", "  ", "\t", "\n", "\r\n", "\r", "\u{A0}", "\u{2003}", "\u{3000}", "\u{85}", "\u{2028}", "\u{202F}",
        "\u{301}", "\u{308}", "e\u{301}", "é", "ß", "İ", "ı", "ǅ", "ﬁ", "Σ", "ς", "ŉ", "ΐ", "Ǆ",
        "😀", "🇩🇪", "🇫🇷", "👩‍💻", "中", "ｱ", "١", "٣", "Ⅻ", "½", "\u{200B}", "\u{FEFF}",
    ]

    static func string(_ rng: inout SplitMix64, maxLength: Int = 12) -> String {
        let count = Int.random(in: 0...maxLength, using: &rng)
        var s = ""
        for _ in 0..<count {
            if Int.random(in: 0..<5, using: &rng) == 0 {
                let ranges: [ClosedRange<UInt32>] = [0x20...0x7E, 0xA0...0x24F, 0x370...0x3FF, 0x400...0x4FF, 0x1E00...0x1FFF,
                                                     0x2000...0x206F, 0x3000...0x303F, 0xFF00...0xFFEF, 0x1F300...0x1F6FF]
                let range = ranges[Int.random(in: 0..<ranges.count, using: &rng)]
                if let scalar = Unicode.Scalar(UInt32.random(in: range, using: &rng)) { s.unicodeScalars.append(scalar) }
            } else {
                s += pieces[Int.random(in: 0..<pieces.count, using: &rng)]
            }
        }
        return s
    }

    /// Any JSON value, small.
    static func value(_ rng: inout SplitMix64, depth: Int = 0) -> Value {
        switch Int.random(in: 0..<(depth > 1 ? 6 : 8), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(Int64.random(in: -1_000_000...1_000_000, using: &rng))
        case 3: return .double(Double(Int.random(in: -100_000...100_000, using: &rng)) / 8)
        case 4, 5: return .string(string(&rng))
        case 6: return .array((0..<Int.random(in: 0...3, using: &rng)).map { _ in value(&rng, depth: depth + 1) })
        default:
            var o: [String: Value] = [:]
            for _ in 0..<Int.random(in: 0...3, using: &rng) { o[string(&rng, maxLength: 4)] = value(&rng, depth: depth + 1) }
            return .object(o)
        }
    }
}
