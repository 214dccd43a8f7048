import Foundation
import GRDB
import HubCore
import HubTesting
import Testing

/// Manual stewardship through the binary: link, unlink, relink, merge and unmerge with IDs from
/// either side, each recorded with who and why; a merge leaves one entity linked everywhere
/// and the sync after it quiet.
@Suite struct StewardshipEndToEndTests {
    typealias Demo = AuditEndToEndTests.Demo

    @Test func mergeLeavesOneEntityLinkedEverywhereAndALaterSyncWritesNothing() throws {
        let demo = try Demo()
        // Ann signs up in the app again with her work address: the sync creates a second Ann everywhere.
        try demo.sql("app.db", "INSERT INTO users (id, email, full_name, country) VALUES ('u-102', 'ann@work.example', 'Ann Lee', 'Germany')")
        #expect(try demo.run(["sync-all"]).exitCode == 0)
        func anns(_ file: String, _ sql: String) throws -> Int {
            try SyncAllEndToEndTests.rows(demo.dir + "/" + file, sql).first?["n"] ?? -1
        }
        #expect(try anns("crm.db", "SELECT count(*) AS n FROM contacts WHERE given_name = 'Ann'") == 2)

        let usage = try demo.run(["merge", "customer", "crm:1", "app:u-102"])
        #expect(usage.exitCode == 64)
        #expect(usage.stderr.contains("give --reason"))

        let dry = try demo.run(["merge", "customer", "crm:1", "app:u-102", "--dry-run"])
        #expect(dry.exitCode == 0)
        #expect(dry.stdout.contains("(dry run: nothing was written)"))
        // The app created both of its records itself: --delete-duplicates removes the second one there too.
        let merge = try demo.run(["merge", "customer", "crm:1", "app:u-102", "--delete-duplicates", "--reason",
                                  "same person, two emails", "--by", "ana"])
        #expect(merge.exitCode == 0, "\(merge.stderr)")
        #expect(merge.stdout.contains("Recorded as stewardship #1 by ana: \"same person, two emails\"."))

        let sync = try demo.run(["sync-all", "--json"])
        #expect(sync.exitCode == 0)
        #expect(try anns("crm.db", "SELECT count(*) AS n FROM contacts WHERE given_name = 'Ann'") == 1)
        #expect(try anns("app.db", "SELECT count(*) AS n FROM users WHERE full_name = 'Ann Lee'") == 1)
        #expect(try String(contentsOfFile: demo.dir + "/sheet/customers.csv", encoding: .utf8).split(separator: "\n").filter { $0.contains(",Ann,") }.count == 1)

        // Quiet afterwards: nothing written to any system or to the hub's entities.
        for (file, table) in [("crm.db", "contacts"), ("app.db", "users")] {
            let db = try DatabaseQueue(path: demo.dir + "/" + file)
            try db.write { try SyncAllEndToEndTests.addWriteCounter($0, table: table) }
            try db.close()
        }
        let csv = try String(contentsOfFile: demo.dir + "/sheet/customers.csv", encoding: .utf8)
        let quiet = try demo.run(["sync-all", "--json"])
        let totals = try quiet.result().objectValue?["totals"]?.objectValue
        #expect(totals?["push"]?.objectValue?.values.allSatisfy { $0 == 0 } == true, "\(quiet.stdout)")
        #expect(try SyncAllEndToEndTests.writeCount(demo.dir + "/crm.db") == 0)
        #expect(try SyncAllEndToEndTests.writeCount(demo.dir + "/app.db") == 0)
        #expect(try String(contentsOfFile: demo.dir + "/sheet/customers.csv", encoding: .utf8) == csv)

        let links = try demo.run(["links", "customer", "app:u-100", "--json"])
        let result = try #require(try links.json().objectValue?["result"]?.objectValue)
        #expect(result["links"]?.arrayValue?.allSatisfy { $0.objectValue?["state"] == "linked" } == true)
        #expect(result["absorbed"]?.arrayValue?.count == 1)
        #expect(try demo.run(["audit", "--deep"]).exitCode == 0)
        #expect(try demo.run(["history"]).stdout.contains("merge customer"))

        // Undone: the second Ann is back in every system.
        let absorbed = try #require(result["absorbed"]?.arrayValue?.first?.stringValue)
        #expect(try demo.run(["unmerge", "customer", absorbed, "--reason", "two people after all"]).exitCode == 0)
        #expect(try demo.run(["sync-all"]).exitCode == 0)
        #expect(try anns("crm.db", "SELECT count(*) AS n FROM contacts WHERE given_name = 'Ann'") == 2)
        #expect(try demo.run(["audit", "--deep"]).exitCode == 0)
    }

    @Test func unlinkLinkAndRelinkWorkWithIDsFromEitherSide() throws {
        let demo = try Demo()
        // Bob's sheet row is closed off, then linked back by his crm ID.
        let unlink = try demo.run(["unlink", "customer", "crm:2", "--system", "sheet", "--reason", "check Bob"])
        #expect(unlink.exitCode == 0, "\(unlink.stderr)")
        #expect(unlink.stdout.contains("closed the link of sheet r1"))
        let closed = try demo.run(["links", "customer", "sheet:r1", "--json"])
        #expect(try closed.json().objectValue?["result"]?.objectValue?["links"]?.arrayValue?
            .first { $0.objectValue?["system"] == "sheet" }?.objectValue?["state"] == "deleted")
        #expect(try demo.run(["sync-all"]).exitCode == 0)
        #expect(try demo.run(["audit", "--deep"]).exitCode == 0)

        let refused = try demo.run(["link", "customer", "crm:1", "--system", "sheet", "--id", "r1", "--reason", "x"])
        #expect(refused.exitCode == 1)
        #expect(refused.stderr.contains("is already linked to sheet"))
        let link = try demo.run(["link", "customer", "crm:2", "--system", "sheet", "--id", "r1", "--reason", "Bob checked"])
        #expect(link.exitCode == 0, "\(link.stderr)")
        #expect(link.stdout.contains("linked sheet r1 to customer"))

        let relink = try demo.run(["relink", "customer", "--system", "sheet", "--id", "r1", "--to", "crm:3", "--reason", "x"])
        #expect(relink.exitCode == 1)
        #expect(relink.stderr.contains("is already linked to sheet"))
        let unknown = try demo.run(["relink", "customer", "--system", "sheet", "--id", "r404", "--to", "crm:3", "--reason", "x"])
        #expect(unknown.exitCode == 1)
        #expect(unknown.stderr.contains("sheet has no customer with Row ID r404"))

        let history = try demo.run(["history", "--json"])
        let log = try history.result().objectValue?["stewardship"]?.arrayValue?.compactMap(\.objectValue) ?? []
        #expect(log.compactMap { $0["action"]?.stringValue } == ["link", "unlink"])
        #expect(log.allSatisfy { $0["by"]?.stringValue?.isEmpty == false && $0["reason"]?.stringValue != nil })
    }
}
