import Foundation
import HubAudit
import HubCore
import Testing

/// docs/audit.md stays true: every check is documented, its JSON examples parse, and its fix plan
/// example is a plan `hubctl repair` reads.
@Suite struct AuditDocumentationTests {
    static let text: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("docs/audit.md"), encoding: .utf8)) ?? ""
    }()

    @Test func everyCheckHasARowInTheChecksTable() {
        #expect(!Self.text.isEmpty)
        for check in AuditCheck.allCases {
            #expect(Self.text.contains("| `\(check.rawValue)` | \(check.category.rawValue) | \(check.severity.rawValue) |"),
                    "\(check.rawValue) is not documented with its category and severity")
        }
    }

    @Test func everyJSONExampleParses() throws {
        var blocks: [String] = []
        var current: [Substring]?
        for line in Self.text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```json" { current = [] } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else { current?.append(line) }
        }
        #expect(!blocks.isEmpty)
        for block in blocks { #expect(throws: Never.self) { try JSONParser.parse(block) } }
    }

    @Test func theFixPlanExampleIsAPlanRepairReads() throws {
        let start = try #require(Self.text.range(of: "$ cat plan.json\n"))
        let end = try #require(Self.text.range(of: "\n$ hubctl repair plan.json", range: start.upperBound..<Self.text.endIndex))
        let plan = try FixPlan.parse(String(Self.text[start.upperBound..<end.lowerBound]))
        #expect(plan.repairs.map(\.action) == [.repush, .repush, .link])
        #expect(plan.repairs.map(\.because) == [.fieldDrift, .danglingLink, .orphanRecord])
    }
}
