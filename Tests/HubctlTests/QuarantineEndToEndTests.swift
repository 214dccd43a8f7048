import Foundation
import HubCore
import HubTesting
import Testing

/// `hubctl quarantine` on the demo: retry reads the source again, dismiss closes what no longer
/// applies, and both are recorded.
@Suite struct QuarantineEndToEndTests {
    typealias Demo = AuditEndToEndTests.Demo

    func append(_ demo: Demo, _ line: String) throws {
        let path = demo.dir + "/sheet/customers.csv"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try (text + line + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    func openEntries(_ demo: Demo) throws -> [[String: Value]] {
        let list = try demo.run(["quarantine", "list", "--json"])
        #expect(list.exitCode == 0)
        let doc = try #require(try list.json().objectValue)
        #expect(doc["command"] == "quarantine list" && doc["format_version"] == "1.0")
        return (doc["result"]?.objectValue?["entries"]?.arrayValue ?? []).compactMap(\.objectValue)
    }

    @Test func retryingAfterFixingARowInTheFileSyncsItAndClosesItsEntry() throws {
        let demo = try Demo()
        try append(demo, ",fay@example.com,Fay,Moss,Chile")
        let sync = try demo.run(["sync-all"])
        #expect(sync.exitCode == 3)
        let entries = try openEntries(demo)
        #expect(entries.count == 1 && entries.first?["reason"] == "malformed")
        // The same bad row, run after run: one entry, the same number.
        #expect(try demo.run(["sync-all"]).exitCode == 3)
        #expect(try openEntries(demo).map { $0["id"] } == entries.map { $0["id"] })

        // Fixed in the file: retry reads the file again.
        let path = demo.dir + "/sheet/customers.csv"
        let fixed = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: ",fay@", with: "r7,fay@")
        try fixed.write(toFile: path, atomically: true, encoding: .utf8)
        let retry = try demo.run(["quarantine", "retry"])
        #expect(retry.exitCode == 0, "\(retry.stdout)\(retry.stderr)")
        #expect(retry.stdout.contains("Retried 1: 1 synced, 0 still quarantined."), "\(retry.stdout)")
        #expect(try openEntries(demo).isEmpty)
        #expect(try demo.run(["sync-all"]).exitCode == 0)
        let rows = try SyncAllEndToEndTests.rows(demo.dir + "/crm.db", "SELECT given_name FROM contacts WHERE email_address = 'fay@example.com'")
        #expect(rows.count == 1)
    }

    @Test func dismissingAnEntryClosesItAndRecordsWhoAndWhy() throws {
        let demo = try Demo()
        try append(demo, ",fay@example.com,Fay,Moss,Chile")
        #expect(try demo.run(["sync-all"]).exitCode == 3)
        let id = try #require(try openEntries(demo).first?["id"]?.intValue)
        let refused = try demo.run(["quarantine", "dismiss", "\(id)"])
        #expect(refused.exitCode == 64, "no --reason: \(refused.stderr)")
        let missing = try demo.run(["quarantine", "dismiss", "999", "--reason", "x"])
        #expect(missing.exitCode == 1 && missing.stderr.contains("no open quarantine entry 999"))
        let dry = try demo.run(["quarantine", "dismiss", "\(id)", "--dry-run"])
        #expect(dry.exitCode == 0 && dry.stdout.contains("would dismiss #\(id) sheet customer"), "\(dry.stdout)")
        #expect(try openEntries(demo).count == 1)
        let done = try demo.run(["quarantine", "dismiss", "\(id)", "--reason", "test row, removed later", "--by", "ana"])
        #expect(done.exitCode == 0, "\(done.stderr)")
        #expect(try openEntries(demo).isEmpty)
        let history = try demo.run(["history"])
        #expect(history.stdout.contains("dismiss customer"), "\(history.stdout)")
        #expect(history.stdout.contains("by ana: \"test row, removed later\""))
    }
}
