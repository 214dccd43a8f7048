import HubCore
import Testing

/// `DiscoveredObject.inferred`: the fields a page of JSON records shows.
@Suite struct SchemaInferenceTests {
    @Test func pathsComeInOrderOfFirstAppearanceWithEachRecordsKeysSorted() {
        let object = DiscoveredObject.inferred(name: "people", from: [
            ["id": 1, "name": ["last": "Curie", "first": "Marie"]],
            ["id": 2, "name": ["first": "Pierre", "last": "Curie"], "city": "Paris"],
            ["id": 3, "name": ["middle": "S"], "age": 30],
        ], keys: ["id"])
        #expect(object.fields.map(\.name) == ["id", "name.first", "name.last", "city", "age", "name.middle"])
        #expect(object.fields.map(\.kind) == [.integer, .text, .text, .text, .integer, .text])
        #expect(object.fields.map(\.isKey) == [true, false, false, false, false, false])
        #expect(object.fromSample)
    }

    @Test func kindsSeenAtOnePathMergeWhateverTheOrderOfTheRecords() {
        let records: [[String: Value]] = [["n": 1, "t": "x", "z": nil], ["n": 1.5, "t": 2, "z": nil], ["n": 2, "t": "y"]]
        for order in [records, records.reversed(), [records[1], records[0], records[2]]] {
            let object = DiscoveredObject.inferred(name: "o", from: order)
            #expect(Dictionary(uniqueKeysWithValues: object.fields.map { ($0.name, $0.kind) }) == ["n": .number, "t": .any, "z": .any])
        }
    }

    @Test func aLiteralDottedKeyAndANestedPathAreOneField() {
        let object = DiscoveredObject.inferred(name: "o", from: [["a.b": 1], ["a": ["b": 2]], ["a": ["b": 3], "a.b": 4]])
        #expect(object.fields.map(\.name) == ["a.b"])
        #expect(object.fields.map(\.kind) == [.integer])
    }

    @Test func emptyObjectsAndValuesThatTurnIntoObjectsKeepTheirOwnPaths() {
        let object = DiscoveredObject.inferred(name: "o", from: [["a": nil, "e": [:]], ["a": ["x": "2024-01-02"]], [:]])
        #expect(object.fields.map(\.name) == ["a", "e", "a.x", ""])
        #expect(object.fields.map(\.kind) == [.any, .json, .date, .json])
    }

    /// The inference walks known records without sorting or building paths; it must find
    /// exactly what a plain sorted walk over every record finds.
    @Test func randomPagesInferWhatASortedWalkOfEveryRecordInfers() {
        var random = SplitMix64(seed: 15)
        let keys = ["id", "a", "b", "a.b", "c"]
        func value(_ depth: Int) -> Value {
            switch Int.random(in: 0..<(depth < 2 ? 8 : 6), using: &random) {
            case 0: return .null
            case 1: return .int(Int64.random(in: 0..<9, using: &random))
            case 2: return .double(0.5)
            case 3: return .string(["x", "2024-05-06", "2024-05-06T07:08:09Z"][Int.random(in: 0..<3, using: &random)])
            case 4: return .bool(true)
            case 5: return .array([])
            default: return .object(record(depth + 1))
            }
        }
        func record(_ depth: Int) -> [String: Value] {
            var out: [String: Value] = [:]
            for key in keys where Bool.random(using: &random) { out[key] = value(depth) }
            return out
        }
        for _ in 0..<200 {
            let page = (0..<Int.random(in: 1..<12, using: &random)).map { _ in record(0) }
            let object = DiscoveredObject.inferred(name: "o", from: page, keys: ["id"])
            let expected = Self.sortedWalk(page)
            #expect(object.fields.map(\.name) == expected.map(\.0))
            #expect(object.fields.map(\.kind) == expected.map(\.1))
        }
    }

    /// Every record visited in sorted key order, each path text looked up (the plain algorithm).
    static func sortedWalk(_ records: [[String: Value]]) -> [(String, ValueKind)] {
        var order: [String] = []
        var kinds: [String: ValueKind?] = [:]
        func visit(_ value: Value, _ path: String) {
            if case .object(let o) = value, !o.isEmpty {
                for key in o.keys.sorted() { visit(o[key]!, path.isEmpty ? key : path + "." + key) }
                return
            }
            let kind: ValueKind?
            switch value {
            case .null: kind = nil
            case .bool: kind = .boolean
            case .int: kind = .integer
            case .double: kind = .number
            case .string(let s):
                kind = s.count == 10 && s.dropFirst(4).first == "-" ? .date : s.count > 10 && s.dropFirst(10).first == "T" ? .datetime : .text
            case .array, .object: kind = .json
            }
            guard let seen = kinds[path] else {
                order.append(path)
                kinds[path] = .some(kind)
                return
            }
            if seen == nil { kinds[path] = .some(kind) } else if let kind, seen != kind {
                kinds[path] = .some((seen == .integer && kind == .number) || (seen == .number && kind == .integer) ? .number : .any)
            }
        }
        for record in records { visit(.object(record), "") }
        return order.map { ($0, kinds[$0]!.flatMap { $0 } ?? .any) }
    }
}
