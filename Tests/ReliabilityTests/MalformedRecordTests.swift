import Foundation
import GRDB
import HubCore
import HubTestServers
import HubTesting
import Testing

/// T7 of the reliability battery: malformed records interleaved with good ones are quarantined
/// with where they are and why; every good record syncs in the same run; fixing the source and
/// retrying clears the quarantine without duplicates. On a PostgreSQL hub too (`T7-postgres-hub`).
@Suite struct MalformedRecordTests {
    @Test(arguments: TestHubStore.all)
    func badRecordsAreQuarantinedAndGoodOnesSyncInTheSameRun(_ hub: TestHubStore) throws {
        let tmp = try TemporaryDirectory()
        let fixture = try BatteryFixture.create(in: tmp.path, postgresHub: hub == .postgres)
        #expect(try fixture.sync().exitCode == 0)

        // 20 good rows in the sheet and 10 in billing, with bad ones between them.
        var csv = try String(contentsOfFile: fixture.dir + "/customers.csv", encoding: .utf8)
        var bad = 0
        for i in 0..<20 {
            csv += "g\(i),good\(i)@example.com,Good \(i),gold,\(i)\n"
            switch i {
            case 3: csv += "b1,bad1@example.com,Bad,gold,lots\n"; bad += 1  // not an integer
            case 7: csv += "b2,bad2@example.com,Bad,gold,1,extra\n"; bad += 1  // one cell too many
            case 11: csv += ",bad3@example.com,Bad,gold,3\n"; bad += 1  // no ID
            case 15: csv += "b4,,Nameless,gold,4\n"; bad += 1  // required email missing
            case 18: csv += "b5,bad5@example.com,Bad,gold,2.5\n"; bad += 1  // a fraction
            default: break
            }
        }
        try csv.write(toFile: fixture.dir + "/customers.csv", atomically: true, encoding: .utf8)
        var sql = ""
        for i in 0..<10 {
            sql += "INSERT INTO accounts (email, full_name, score) VALUES ('acct\(i)@example.com', 'Acct \(i)', \(i));\n"
            if i == 4 { sql += "INSERT INTO accounts (email, full_name, score) VALUES ('badacct@example.com', 'Bad', 'abc');\n"; bad += 1 }
        }
        try BatteryFixture.execute(fixture.dir + "/billing.db", sql)

        let run = try HubctlProcess.run(["sync-all", "--json", "-t", fixture.topologyPath])
        #expect(run.exitCode == 3, "\(run.stderr)")
        let doc = try run.result().objectValue
        let quarantined = doc?["quarantined"]?.arrayValue ?? []
        #expect(quarantined.count == bad)
        let reasons = quarantined.compactMap { $0.objectValue?["reason"]?.stringValue }.sorted()
        #expect(reasons == ["malformed", "malformed", "missing_required", "unmappable", "unmappable", "unmappable"])
        // Messages never carry the values.
        for entry in quarantined {
            let message = entry.objectValue?["message"]?.stringValue ?? ""
            #expect(!message.contains("lots") && !message.contains("abc") && !message.contains("2.5"), "\(message)")
        }
        // Every good record reached every system.
        let snapshot = try fixture.snapshot()
        var goodSynced = 0
        for i in 0..<20 where snapshot.systems.values.allSatisfy({ $0["good\(i)@example.com"] != nil }) { goodSynced += 1 }
        for i in 0..<10 where snapshot.systems.values.allSatisfy({ $0["acct\(i)@example.com"] != nil }) { goodSynced += 1 }
        #expect(goodSynced == 30)

        // Each entry says where the record is and, for readable ones, its redacted shape.
        let list = try HubctlProcess.run(["quarantine", "list", "--json", "-t", fixture.topologyPath])
        let entries = try list.json().objectValue?["result"]?.objectValue?["entries"]?.arrayValue ?? []
        #expect(entries.count == bad)
        let withSource = entries.filter { $0.objectValue?["source"]?.stringValue?.isEmpty == false }.count
        #expect(withSource == bad)
        let lots = entries.first { $0.objectValue?["external_id"] == "b1" }?.objectValue
        #expect(lots?["excerpt"]?.stringValue?.contains("\"Score\": \"text(4)\"") == true)

        // Fixed at the source: a retry clears every entry, without duplicates.
        csv = try String(contentsOfFile: fixture.dir + "/customers.csv", encoding: .utf8).replacingOccurrences(of: "gold,lots", with: "gold,7")
            .replacingOccurrences(of: "gold,1,extra", with: "gold,1")
            .replacingOccurrences(of: ",bad3@example.com", with: "b3,bad3@example.com")
            .replacingOccurrences(of: "b4,,Nameless", with: "b4,bad4@example.com,Nameless")
            .replacingOccurrences(of: "gold,2.5", with: "gold,2")
        try csv.write(toFile: fixture.dir + "/customers.csv", atomically: true, encoding: .utf8)
        try BatteryFixture.execute(fixture.dir + "/billing.db", "UPDATE accounts SET score = 5 WHERE score = 'abc'")
        let retry = try HubctlProcess.run(["quarantine", "retry", "-t", fixture.topologyPath])
        let remainingAfterRetry = try HubctlProcess.run(["quarantine", "list", "--json", "-t", fixture.topologyPath])
        let left = try remainingAfterRetry.json().objectValue?["result"]?.objectValue?["entries"]?.arrayValue?.count ?? -1
        // Retry reads the sources again: malformed lines that were fixed sync too.
        let sync = try fixture.sync()
        let remaining = try HubctlProcess.run(["quarantine", "list", "--json", "-t", fixture.topologyPath])
        let remainingCount = try remaining.json().objectValue?["result"]?.objectValue?["entries"]?.arrayValue?.count ?? -1
        let after = try fixture.snapshot()
        Scorecard.record("T7" + hub.scorecardSuffix, [
            "bad_injected": Double(bad), "quarantined": Double(quarantined.count), "good_records": 30,
            "good_synced": Double(goodSynced), "left_after_retry": Double(left), "quarantined_remaining": Double(remainingCount),
            "duplicates": Double(after.duplicates),
        ])
        #expect(retry.exitCode == 0, "\(retry.stdout)\(retry.stderr)")
        #expect(left == 0)
        #expect(sync.exitCode == 0, "\(sync.stdout.replacingOccurrences(of: "\n", with: " // "))")
        #expect(remainingCount == 0)
        #expect(after.duplicates == 0)
        for i in 1...5 { #expect(after.systems["crm"]?["bad\(i)@example.com"] != nil) }
    }
}
