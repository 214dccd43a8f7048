import Foundation
import HubCore
import HubTesting
import Testing

/// `hubctl check` and `hubctl discover` on file and SQLite systems, and an exec connector synced
/// end to end: no servers needed.
@Suite struct CheckAndDiscoverTests {
    static let topology = #"""
        {
          "version": 1, "name": "files",
          "entities": {"customer": {"fields": {"email": {"type": "string", "required": true}, "age": {"type": "integer"},
                                                "joined": {"type": "datetime"}},
                                     "match": [["email"]]}},
          "systems": {
            "app": {"adapter": "sqlite", "connection": {"path": "app.db"},
                    "entities": {"customer": {"object": "users", "fields": {"email": "email", "age": "age", "joined": "joined"}}}},
            "sheet": {"adapter": "csv", "connection": {"path": "sheet"},
                      "entities": {"customer": {"object": "people.csv", "id": "Row ID", "fields": {"email": "Email"}}}}
          }
        }
        """#

    func world(_ topology: String = topology) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        try topology.write(toFile: dir.path + "/topology.json", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.path + "/sheet", withIntermediateDirectories: true)
        try "Row ID,Email\n".write(toFile: dir.path + "/sheet/people.csv", atomically: true, encoding: .utf8)
        _ = try SystemToolsSync.sqlite(dir.path + "/app.db",
                                       "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, age INTEGER, joined BLOB NOT NULL DEFAULT x'00')")
        return dir
    }

    @Test func checkPassesWhenEveryObjectAndFieldIsThereAndFlagsATypeThatCannotFit() throws {
        let dir = try world()
        let result = try HubctlProcess.run(["check", "--json", "-t", dir.path + "/topology.json"])
        #expect(result.exitCode == 1, "a BLOB column cannot hold a datetime field: \(result.stdout)")
        let systems = try result.result().value(atPath: "systems")?.arrayValue ?? []
        #expect(systems.map { $0.value(atPath: "ok") } == [false, true])
        let problems = systems.first?.value(atPath: "objects")?.arrayValue?.first?.value(atPath: "problems")?.arrayValue ?? []
        #expect(problems == ["'joined' (BLOB) cannot hold datetime field 'joined': the field holds binary data"])
        let fixed = try world(Self.topology.replacingOccurrences(of: #", "joined": "joined"}}}},"#, with: "}}}},"))
        let ok = try HubctlProcess.run(["check", "-t", fixed.path + "/topology.json"])
        #expect(ok.exitCode == 0, "\(ok.stdout)")
        #expect(ok.stdout.contains("All 2 systems passed."))
    }

    @Test func checkNamesAnUnknownSystem() throws {
        let dir = try world()
        let result = try HubctlProcess.run(["check", "crm", "-t", dir.path + "/topology.json"])
        #expect(result.exitCode == 64)
        #expect(result.stderr.contains("unknown system 'crm'; the topology has: app, sheet"))
    }

    @Test func discoverListsTheTablesAndColumnsOfASystem() throws {
        let dir = try world()
        let text = try HubctlProcess.run(["discover", "app", "-t", dir.path + "/topology.json"])
        #expect(text.exitCode == 0)
        #expect(text.stdout.contains("users"))
        #expect(text.stdout.contains("email") && text.stdout.contains("INTEGER"))
        let json = try HubctlProcess.run(["discover", "sheet", "--json", "-t", dir.path + "/topology.json"])
        let fields = try json.result().value(atPath: "objects")?.arrayValue?.first?.value(atPath: "fields")?.arrayValue ?? []
        #expect(fields.compactMap { $0.value(atPath: "name")?.stringValue }.sorted() == ["Email", "Row ID"])
    }

    @Test func theExampleExecConnectorSyncsWithACSVFileAndARunAfterThatWritesNothing() throws {
        let dir = try TemporaryDirectory()
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        try FileManager.default.copyItem(atPath: repository.appendingPathComponent("topologies/connectors").path,
                                         toPath: dir.path + "/connectors")
        try FileManager.default.copyItem(atPath: repository.appendingPathComponent("topologies/exec-notes.json").path,
                                         toPath: dir.path + "/topology.json")
        try FileManager.default.createDirectory(atPath: dir.path + "/notes-sheet", withIntermediateDirectories: true)
        try "Row ID,Email,First,Last,Phone\nr1,ann@example.com,Ann,Archer,111\n"
            .write(toFile: dir.path + "/notes-sheet/customers.csv", atomically: true, encoding: .utf8)
        let first = try HubctlProcess.run(["sync-all", "--json", "-t", dir.path + "/topology.json"])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")
        let stored = try JSONParser.parse(String(contentsOfFile: dir.path + "/notes-data/customers.json", encoding: .utf8))
        let rows = stored.value(atPath: "rows")?.objectValue?.values.compactMap { $0.value(atPath: "fields") } ?? []
        #expect(rows == [["email": "ann@example.com", "first": "Ann", "last": "Archer", "phone": "111"]])
        let quiet = try HubctlProcess.run(["sync-all", "--json", "-t", dir.path + "/topology.json"])
        #expect(quiet.exitCode == 0)
        #expect(try quiet.result().value(atPath: "totals.push.created") == 0)
        #expect(try quiet.result().value(atPath: "totals.push.updated") == 0)
    }

    /// Every command that starts a connector scrubs what it prints of the topology's secrets,
    /// not only `sync-all`.
    @Test func aConnectorPrintingItsTokenIsScrubbedBySyncAllAndDeepAudit() throws {
        let dir = try TemporaryDirectory()
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        try FileManager.default.copyItem(atPath: repository.appendingPathComponent("topologies/connectors").path,
                                         toPath: dir.path + "/connectors")
        // The connector echoes its environment's token on stderr, as careless diagnostics do.
        var topology = try String(contentsOf: repository.appendingPathComponent("topologies/exec-notes.json"), encoding: .utf8)
        topology = topology.replacingOccurrences(of: #""python3","#, with: #""sh","#)
            .replacingOccurrences(of: #""connectors/notes.py""#,
                                  with: #""-c", "echo \"notes token $NOTES_TOKEN\" >&2; exec python3 connectors/notes.py""#)
            .replacingOccurrences(of: #""data_dir": "notes-data""#, with: #""data_dir": "notes-data", "token": "${NOTES_TOKEN}""#)
        #expect(topology.contains("$NOTES_TOKEN") && topology.contains("${NOTES_TOKEN}"))
        try topology.write(toFile: dir.path + "/topology.json", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.path + "/notes-sheet", withIntermediateDirectories: true)
        try "Row ID,Email,First,Last,Phone\nr1,ann@example.com,Ann,Archer,111\n"
            .write(toFile: dir.path + "/notes-sheet/customers.csv", atomically: true, encoding: .utf8)
        let secret = "hubctl-canary-70c3e9"
        let env = ["NOTES_TOKEN": secret]
        let sync = try HubctlProcess.run(["sync-all", "-t", dir.path + "/topology.json"], environment: env)
        let audit = try HubctlProcess.run(["audit", "--deep", "-t", dir.path + "/topology.json"], environment: env)
        #expect(sync.exitCode == 0, "\(sync.stdout)\(sync.stderr)")
        #expect(audit.exitCode == 0, "\(audit.stdout)\(audit.stderr)")
        for run in [sync, audit] {
            #expect(run.stderr.contains("[notes] notes token *****"))
            #expect(!(run.stdout + run.stderr).contains(secret))
        }
    }
    // MARK: - Missing files, discovery order, dates as numbers

    static let sheetTopology = #"""
        {
          "version": 1, "name": "sheet",
          "entities": {"customer": {"fields": {"email": {"type": "string", "required": true}, "since": {"type": "date"}},
                                     "match": [["email"]]}},
          "systems": {
            "app": {"adapter": "sqlite", "connection": {"path": "app.db"},
                    "entities": {"customer": {"object": "users",
                                              "fields": {"email": "email", "since": {"field": "since", "format": "YYYYMMDD", "type": "integer"}}}}},
            "sheet": {"adapter": "csv", "connection": {"path": "sheet"},
                      "entities": {"customer": {"object": "people.csv", "id": "Row ID", "fields": {"email": "Email", "since": "Since"}}}}
          }
        }
        """#

    func sheetWorld() throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        try Self.sheetTopology.write(toFile: dir.path + "/topology.json", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.path + "/sheet", withIntermediateDirectories: true)
        _ = try SystemToolsSync.sqlite(dir.path + "/app.db", "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, since INTEGER); "
                                       + "INSERT INTO users VALUES (1, 'ann@example.com', 20240131)")
        return dir
    }

    @Test func aFileNeverSyncedThatDoesNotExistIsAWarningAndOneTheHubHasLinksForIsAProblem() throws {
        let dir = try sheetWorld()
        let before = try HubctlProcess.run(["check", "--json", "-t", dir.path + "/topology.json"])
        #expect(before.exitCode == 0, "\(before.stdout)\(before.stderr)")
        let sheet = try before.result().value(atPath: "systems")?.arrayValue?.last?.value(atPath: "objects")?.arrayValue?.first
        #expect(sheet?.value(atPath: "problems") == [])
        #expect(sheet?.value(atPath: "warnings") == [.string("'people.csv' does not exist in '\(dir.path)/sheet' yet; the first push creates it")])
        // The first sync creates it; once the hub has records linked to it, its absence is a problem.
        let sync = try HubctlProcess.run(["sync-all", "-t", dir.path + "/topology.json"])
        #expect(sync.exitCode == 0, "\(sync.stdout)\(sync.stderr)")
        #expect(try String(contentsOfFile: dir.path + "/sheet/people.csv", encoding: .utf8).hasSuffix(",ann@example.com,2024-01-31\n"))
        try FileManager.default.moveItem(atPath: dir.path + "/sheet/people.csv", toPath: dir.path + "/sheet/moved.csv")
        let after = try HubctlProcess.run(["check", "-t", dir.path + "/topology.json"])
        #expect(after.exitCode == 1, "\(after.stdout)\(after.stderr)")
        #expect(after.stdout.contains("problem: 'people.csv' does not exist in '\(dir.path)/sheet', but the hub has 1 customer "
            + "record linked to it"), "\(after.stdout)")
    }

    @Test func aMissingFileOfAPullOnlySystemIsAWarningThatNothingCreatesIt() throws {
        let dir = try sheetWorld()
        let topology = Self.sheetTopology.replacingOccurrences(of: #""sheet": {"adapter": "csv","#,
                                                               with: #""sheet": {"adapter": "csv", "direction": "pull","#)
        try topology.write(toFile: dir.path + "/topology.json", atomically: true, encoding: .utf8)
        let check = try HubctlProcess.run(["check", "-t", dir.path + "/topology.json"])
        #expect(check.exitCode == 0)
        #expect(check.stdout.contains("warning: 'people.csv' does not exist in '\(dir.path)/sheet'; this system only pulls, "
            + "so no sync creates it"), "\(check.stdout)")
    }

    @Test func checkAcceptsADateStoredAsDigitsInAnIntegerColumnAndTheSyncWritesThatNumber() throws {
        let dir = try sheetWorld()
        try "Row ID,Email,Since\nr1,bob@example.com,2023-05-06\n".write(toFile: dir.path + "/sheet/people.csv", atomically: true, encoding: .utf8)
        let check = try HubctlProcess.run(["check", "-t", dir.path + "/topology.json"])
        #expect(check.exitCode == 0, "\(check.stdout)")
        let sync = try HubctlProcess.run(["sync-all", "-t", dir.path + "/topology.json"])
        #expect(sync.exitCode == 0, "\(sync.stdout)\(sync.stderr)")
        let rows = try SystemToolsSync.sqlite(dir.path + "/app.db", "SELECT email, since, typeof(since) FROM users ORDER BY id")
        #expect(rows == "ann@example.com|20240131|integer\nbob@example.com|20230506|integer\n")
        let quiet = try HubctlProcess.run(["sync-all", "--json", "-t", dir.path + "/topology.json"])
        #expect(try quiet.result().value(atPath: "totals.push.updated") == 0)
    }

    @Test func discoverKeepsACSVsColumnOrderAndLeavesOutHubctlsOwnTable() throws {
        let dir = try sheetWorld()
        try "Zeta,Row ID,Email,Alpha\nz,r1,bob@example.com,a\n".write(toFile: dir.path + "/sheet/people.csv", atomically: true, encoding: .utf8)
        let sync = try HubctlProcess.run(["sync-all", "-t", dir.path + "/topology.json"])
        #expect(sync.exitCode == 0, "\(sync.stdout)\(sync.stderr)")
        let csv = try HubctlProcess.run(["discover", "sheet", "--json", "-t", dir.path + "/topology.json"])
        let fields = try csv.result().value(atPath: "objects")?.arrayValue?.first?.value(atPath: "fields")?.arrayValue ?? []
        #expect(fields.compactMap { $0.value(atPath: "name")?.stringValue } == ["Zeta", "Row ID", "Email", "Alpha", "Since"])
        // The sync created bob in app.db, and with him hubctl's key table.
        #expect(try SystemToolsSync.sqlite(dir.path + "/app.db", "SELECT count(*) FROM hubctl_create_keys") == "1\n")
        let db = try HubctlProcess.run(["discover", "app", "--json", "-t", dir.path + "/topology.json"])
        let tables = try db.result().value(atPath: "objects")?.arrayValue?.compactMap { $0.value(atPath: "name")?.stringValue }
        #expect(tables == ["users"])
    }
}

/// sqlite3 run synchronously (these tests start no server in the test process).
enum SystemToolsSync {
    static func sqlite(_ path: String, _ sql: String) throws -> String {
        try ExternalTool.runSync("sqlite3", [path, sql]).stdout
    }
}
