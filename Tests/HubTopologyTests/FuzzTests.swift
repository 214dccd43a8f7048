import Foundation
import HubCore
import HubTesting
import HubTopology
import Testing

/// The decoder never crashes: any change to a valid topology loads or is rejected with
/// diagnostics that have a message and point into the file.
@Suite struct FuzzTests {
    static let replacements: [Value] = [
        .null, true, false, 0, 1, 2, -1, .int(.max), 1.5, "", " ", "x", "ref", "string", "priority", "push", "pull", "both",
        "sqlite", "postgres", "${X}", "${X:-y}", "$$", "${", "YYYY", "DD/MM/YYYY", "unix", "customer", "employee", "crm",
        "email", "first_name", [], [[]], [["email"]], ["email"], ["first_name", "last_name"], [:], ["in": []], ["set": [:]],
        ["owner": "crm"], ["type": "ref"], ["type": "string", "entity": "customer"], ["field": "x", "parts": ["email", "email"]],
    ]

    /// Every path to a value in `value`.
    static func paths(_ value: Value, _ prefix: [String] = []) -> [[String]] {
        var out = [prefix]
        switch value {
        case .object(let o): for (k, v) in o { out += paths(v, prefix + [k]) }
        case .array(let a): for (i, v) in a.enumerated() { out += paths(v, prefix + ["#\(i)"]) }
        default: break
        }
        return out
    }

    static func replacing(_ value: Value, at path: ArraySlice<String>, with new: Value?) -> Value {
        guard let head = path.first else { return new ?? .null }
        switch value {
        case .object(var o):
            if path.count == 1, new == nil { o[head] = nil; return .object(o) }
            o[head] = replacing(o[head] ?? .null, at: path.dropFirst(), with: new)
            return .object(o)
        case .array(var a):
            guard let i = Int(head.dropFirst()), a.indices.contains(i) else { return value }
            if path.count == 1, new == nil { a.remove(at: i); return .array(a) }
            a[i] = replacing(a[i], at: path.dropFirst(), with: new)
            return .array(a)
        default:
            return value
        }
    }

    @Test func randomChangesToAValidTopologyNeverCrashTheDecoder() throws {
        let text = try String(contentsOf: Paths.testsFolder.appendingPathComponent("Fixtures/base.json"), encoding: .utf8)
        let base = try JSONParser.parse(text)
        let allPaths = Self.paths(base).filter { !$0.isEmpty }
        var rng = SplitMix64(seed: 0xF022)
        var rejected = 0
        for _ in 0..<3000 {
            var doc = base
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let path = allPaths[Int.random(in: 0..<allPaths.count, using: &rng)]
                let new: Value? = Int.random(in: 0..<5, using: &rng) == 0
                    ? nil : Self.replacements[Int.random(in: 0..<Self.replacements.count, using: &rng)]
                doc = Self.replacing(doc, at: path[...], with: new)
            }
            let mutated = JSONWriter.pretty(doc)
            do {
                _ = try TopologyLoader.decode(mutated, baseDirectory: "/tmp", environment: ["X": "1"])
            } catch let error as TopologyError {
                rejected += 1
                #expect(!error.diagnostics.isEmpty)
                #expect(error.diagnostics.allSatisfy { !$0.message.isEmpty && $0.position != nil }, "\(error)")
            }
        }
        #expect(rejected > 1000)
    }
}
