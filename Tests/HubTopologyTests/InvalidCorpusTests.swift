import Foundation
import HubCore
import HubTesting
import HubTopology
import Testing

/// A corpus of broken topologies under Fixtures/invalid: each `NNN-name.json` has one defect,
/// described by its sibling `NNN-name.expected.json`:
/// `{"path": "...", "messageContains": "...", "line": L, "column": C}`.
/// Each is Fixtures/base.json (valid) with one change, except the JSON syntax cases.
@Suite struct InvalidCorpusTests {
    static let names: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: Paths.invalidFixtures.path)) ?? []
        return files.filter { $0.hasSuffix(".json") && !$0.hasSuffix(".expected.json") }
            .map { String($0.dropLast(".json".count)) }.sorted()
    }()

    struct Expectation {
        var path: String
        var messageContains: String
        var position: SourcePosition?
    }

    static func expectation(_ name: String) throws -> Expectation {
        let url = Paths.invalidFixtures.appendingPathComponent("\(name).expected.json")
        let text = try String(contentsOf: url, encoding: .utf8)
        let value = try JSONParser.parse(text)
        let path = try #require(value.objectValue?["path"]?.stringValue, "\(name).expected.json needs a path")
        let contains = try #require(value.objectValue?["messageContains"]?.stringValue, "\(name).expected.json needs messageContains")
        var position: SourcePosition?
        if let line = value.objectValue?["line"]?.intValue, let column = value.objectValue?["column"]?.intValue {
            position = SourcePosition(line: Int(line), column: Int(column))
        }
        return Expectation(path: path, messageContains: contains, position: position)
    }

    @Test func theCorpusHoldsAtLeastSixtyBrokenTopologies() {
        #expect(Self.names.count >= 60)
        // Every file has its expectation.
        for name in Self.names {
            let url = Paths.invalidFixtures.appendingPathComponent("\(name).expected.json")
            #expect(FileManager.default.fileExists(atPath: url.path), "\(name) has no .expected.json")
        }
    }

    @Test func theCorpusBaseIsValid() throws {
        let path = Paths.testsFolder.appendingPathComponent("Fixtures/base.json").path
        let topology = try TopologyLoader.load(path: path, environment: [:])
        #expect(topology.systems.map(\.name) == ["crm", "sheet", "app"])
        #expect(topology.warnings.isEmpty)
    }

    /// T6 of the reliability battery: the corpus as one figure for the scorecard.
    @Test func everyBrokenTopologyIsRejectedExactlyAsExpected() throws {
        var exact = 0
        for name in Self.names {
            let expected = try Self.expectation(name)
            let path = Paths.invalidFixtures.appendingPathComponent("\(name).json").path
            do {
                _ = try TopologyLoader.load(path: path, environment: [:])
            } catch let error as TopologyError {
                if error.diagnostics.contains(where: {
                    $0.path == expected.path && $0.message.contains(expected.messageContains)
                        && (expected.position == nil || $0.position == expected.position)
                }) {
                    exact += 1
                }
            }
        }
        Scorecard.record("T6", ["config_corpus": Double(Self.names.count), "config_exact": Double(exact)])
        #expect(exact == Self.names.count)
    }

    @Test(arguments: names)
    func everyBrokenTopologyIsRejectedWithItsDiagnostic(_ name: String) throws {
        let expected = try Self.expectation(name)
        let path = Paths.invalidFixtures.appendingPathComponent("\(name).json").path
        do {
            _ = try TopologyLoader.load(path: path, environment: [:])
            Issue.record("\(name) was accepted")
        } catch let error as TopologyError {
            let match = error.diagnostics.first { $0.path == expected.path && $0.message.contains(expected.messageContains) }
            guard let match else {
                Issue.record("\(name): no diagnostic at '\(expected.path)' containing '\(expected.messageContains)'; got:\n\(error)")
                return
            }
            if let position = expected.position {
                #expect(match.position == position, "\(name): \(match)")
            }
        }
    }
}
