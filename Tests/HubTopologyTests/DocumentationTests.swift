import Foundation
import HubCore
import HubTopology
import Testing

/// docs/topology.md stays true: its JSON examples parse, its complete topologies load, and its
/// sample `hubctl validate` output is what the loader prints.
@Suite struct DocumentationTests {
    static let text: String = (try? String(contentsOf: Paths.repository.appendingPathComponent("docs/topology.md"), encoding: .utf8)) ?? ""

    /// The contents of every fenced block in the given language.
    static func blocks(_ language: String) -> [String] {
        var out: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```\(language)" {
                current = []
            } else if current != nil, line == "```" {
                out.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return out
    }

    @Test func theReferenceHasExamples() {
        #expect(Self.blocks("json").count >= 15)
    }

    @Test func everyJSONExampleParses() {
        for (index, block) in Self.blocks("json").enumerated() {
            #expect(throws: Never.self, "block \(index): \(block.prefix(80))") { try JSONParser.parse(block) }
        }
    }

    @Test func theCompleteExampleIsTheContractFixtureAndLoads() throws {
        let complete = Self.blocks("json").filter { $0.contains(#""version": 1"#) }
        #expect(complete.count == 1)
        let fixture = try String(contentsOf: Paths.topologies.appendingPathComponent("customer-360.json"), encoding: .utf8)
        #expect(complete.first.map { $0 + "\n" } == fixture)
        let t = try TopologyLoader.decode(try #require(complete.first), baseDirectory: "/")
        #expect(t.warnings.count == 2)
    }

    @Test func theSampleValidateOutputIsWhatTheLoaderPrints() throws {
        let sample = try #require(Self.blocks("text").first)
        let fixture = try String(contentsOf: Paths.topologies.appendingPathComponent("customer-360.json"), encoding: .utf8)
        let broken = fixture
            .replacingOccurrences(of: #""email": "email_address""#, with: #""emial": "email_address""#)
            .replacingOccurrences(of: #""path": "crm.db""#, with: #""path": "${CRM_DB}""#)
        do {
            _ = try TopologyLoader.decode(broken, fileName: "topology.json", baseDirectory: "/", environment: [:])
            Issue.record("expected the broken example to be rejected")
        } catch let error as TopologyError {
            #expect(error.description == sample)
        }
    }
}
