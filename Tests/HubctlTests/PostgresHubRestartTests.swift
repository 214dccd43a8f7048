import Foundation
import HubCore
import HubTestServers
import HubTesting
import Testing

/// `hubctl sync-all` on a PostgreSQL hub whose server restarts (`pg_ctl restart -m fast`) and
/// crashes (`-m immediate`) while the sync is in flight, through the real binary, on a cluster of
/// the test's own: every record ends in every system exactly once, the edits made before the
/// crash everywhere, and `audit` clean.
@Suite(.serialized, .enabled(if: OwnPostgresCluster.available || TestServices.isCI,
                             "needs PostgreSQL 15 in /usr/lib/postgresql/15/bin (apt-get install postgresql-15)"))
struct PostgresHubRestartTests {
    /// app.db holds customers 0..<2000, books.db 1000..<3000, the sheet 2000..<3500: 3,500 in all.
    static let (app, books, sheet) = (0..<2000, 1000..<3000, 2000..<3500)
    static let everyone = 0..<3500

    @Test("A PostgreSQL hub restarted, then crashed, in the middle of sync-all: every record in every system exactly once, edits everywhere, audit clean")
    func aRestartedHubLosesAndDuplicatesNothing() async throws {
        let cluster = try await OwnPostgresCluster.start()
        defer { cluster.stop() }
        let tmp = try TemporaryDirectory()
        let topology = try Self.makeSystems(in: tmp.path, cluster: cluster)
        let environment = ["HUB_PGPASSWORD": cluster.password]
        func hubctl(_ arguments: [String]) async throws -> HubctlProcess.Result {
            let result = try await SystemTools.hubctl(arguments + ["-t", topology], environment: environment)
            #expect(!(result.stdout + result.stderr).contains(cluster.password), "the hub's password was printed")
            return result
        }
        func sqlite(_ file: String, _ sql: String) async throws -> String {
            try await SystemTools.must("sqlite3", ["-separator", ",", "-cmd", ".timeout 5000", tmp.path + "/" + file, sql])
        }

        // The first sync: restarted (fast) once it has committed two pages to the hub.
        let first = try await Self.syncAll(topology, cluster, stoppedAfterPage: 2) {
            try await cluster.restart("fast")
        }
        Self.expectFailureNamesTheHub(first, cluster)
        try await Self.runUntilClean(hubctl)
        var expected = Dictionary(uniqueKeysWithValues: Self.everyone.map { ("c\($0)@example.com", Self.row($0)) })
        try await Self.expectEverySystemHolds(expected, in: tmp.path, sqlite)

        // An edit in each system with its own tool, then the next sync crashes the server (immediate).
        _ = try await sqlite("app.db", "UPDATE users SET given = 'Edited-in-app' WHERE email = 'c5@example.com'")
        _ = try await sqlite("books.db", "UPDATE clients SET lname = 'Edited-in-books' WHERE mail = 'c2500@example.com'")
        let csv = tmp.path + "/sheet/customers.csv"
        try String(contentsOfFile: csv, encoding: .utf8).replacingOccurrences(of: ",c3100@example.com,F3100,", with: ",c3100@example.com,Edited-in-sheet,")
            .write(toFile: csv, atomically: true, encoding: .utf8)
        expected["c5@example.com"] = "Edited-in-app|L5|5"
        expected["c2500@example.com"] = "F2500|Edited-in-books|2500"
        expected["c3100@example.com"] = "Edited-in-sheet|L3100|3100"
        let second = try await Self.syncAll(topology, cluster, stoppedAfterPage: 2) {
            try await cluster.restart("immediate")
        }
        Self.expectFailureNamesTheHub(second, cluster)
        try await Self.runUntilClean(hubctl)
        try await Self.expectEverySystemHolds(expected, in: tmp.path, sqlite)

        // The hub agrees: one entity per customer, each linked once in each system, nothing pending.
        #expect(try await cluster.psql("SELECT count(*) FROM hub.entity WHERE deleted_at IS NULL") == "3500")
        #expect(try await cluster.psql("""
            SELECT system, count(*), count(DISTINCT external_id) FROM hub.xref WHERE state = 'linked' GROUP BY system ORDER BY system
            """) == "app|3500|3500\nbooks|3500|3500\nsheet|3500|3500")
        #expect(try await cluster.psql("SELECT count(*) FROM hub.intent") == "0")
        let audit = try await hubctl(["audit", "--deep"])
        #expect(audit.exitCode == 0, "\(audit.stdout)\(audit.stderr)")
        #expect(audit.stdout.contains("Clean: no findings"), "\(audit.stdout)")
    }

    @Test("Two workers across a PostgreSQL hub restarted, then crashed, mid-round: both stay alive, do more units, and every record ends in every system exactly once")
    func workersSurviveARestartedHub() async throws {
        let cluster = try await OwnPostgresCluster.start()
        defer { cluster.stop() }
        let tmp = try TemporaryDirectory()
        let topology = try Self.makeSystems(in: tmp.path, cluster: cluster)
        let environment = ["HUB_PGPASSWORD": cluster.password]
        let started = StartedProcesses()
        defer { started.killAll() }
        let workers = try (0..<2).map { _ in
            let worker = try HubctlProcess.start(["run", "--worker", "--lease", "2s", "--every", "1s", "-t", topology], environment: environment)
            started.processes.append(worker.process)
            return worker
        }
        func sqlite(_ file: String, _ sql: String) async throws -> String {
            try await SystemTools.must("sqlite3", ["-separator", ",", "-cmd", ".timeout 5000", tmp.path + "/" + file, sql])
        }
        func doneRound() async -> Int {
            (try? await cluster.psql("SELECT coalesce(min(done_round), 0) FROM hub.work_unit")).flatMap { Int($0) } ?? 0
        }
        func unitsDone() async throws -> [String] {
            try await cluster.psql("SELECT units_done FROM hub.worker ORDER BY pid").components(separatedBy: "\n")
        }

        // Restarted (fast) once the hub holds some records, in the middle of the first round. The
        // workers are stopped from the moment that is seen until the server is back, so that a loaded
        // machine cannot let the round end in between; resumed, they find their sessions gone.
        try await eventually("the first round is under way") { (try? await cluster.psql("SELECT count(*) > 0 FROM hub.entity")) == "t" }
        for worker in workers { kill(worker.pid, SIGSTOP) }
        #expect(await doneRound() == 0, "the first round had ended before the restart")
        try await cluster.restart("fast")
        for worker in workers { kill(worker.pid, SIGCONT) }
        try await eventually("a round done after the restart") { await doneRound() >= 1 }
        var expected = Dictionary(uniqueKeysWithValues: Self.everyone.map { ("c\($0)@example.com", Self.row($0)) })
        try await eventually("a second round done") { await doneRound() >= 2 }
        try await Self.expectEverySystemHolds(expected, in: tmp.path, sqlite)

        // An edit in each system, then a crash (immediate) as soon as the next round has begun.
        _ = try await sqlite("app.db", "UPDATE users SET given = 'Edited-in-app' WHERE email = 'c5@example.com'")
        _ = try await sqlite("books.db", "UPDATE clients SET lname = 'Edited-in-books' WHERE mail = 'c2500@example.com'")
        expected["c5@example.com"] = "Edited-in-app|L5|5"
        expected["c2500@example.com"] = "F2500|Edited-in-books|2500"
        let round = Int(try await cluster.psql("SELECT round FROM hub.work_round"))!
        try await eventually("the next round began") { (try? await cluster.psql("SELECT round FROM hub.work_round")).flatMap { Int($0) } ?? 0 > round }
        let before = try await unitsDone()
        try await cluster.restart("immediate")
        let crashed = Int(try await cluster.psql("SELECT round FROM hub.work_round"))!
        try await eventually("two rounds done after the crash") { await doneRound() >= crashed + 1 }

        // Both workers are alive and each did more units after the crash.
        for worker in workers { #expect(worker.process.isRunning, "\(String(worker.stderrSoFar().suffix(2000)))") }
        try await eventually("each worker did another unit after the crash") {
            let after = try await unitsDone()
            return after.count == 2 && zip(before, after).allSatisfy { (Int($1) ?? 0) > (Int($0) ?? 0) }
        }
        // Every system read again since (a round reads only what is due), and pushed to.
        try await WorkerRounds.waitForReadsAndPushes(query: { try await cluster.psql("SET search_path TO hub; " + $0) },
                                                     poll: { try await eventually($0, $1) })
        try await Self.expectEverySystemHolds(expected, in: tmp.path, sqlite)
        for worker in workers { kill(worker.pid, SIGTERM) }
        for worker in workers {
            let result = worker.wait()
            #expect(result.exitCode == 0, "\(String(result.stderr.suffix(2000)))")
            #expect(!(result.stdout + result.stderr).contains(cluster.password), "the hub's password was printed")
        }
        let audit = try await SystemTools.hubctl(["audit", "--deep", "-t", topology], environment: environment)
        #expect(audit.exitCode == 0, "\(audit.stdout)\(audit.stderr)")
    }

    /// Customer `i`'s row as `first|last|phone`.
    static func row(_ i: Int) -> String { "F\(i)|L\(i)|\(i)" }

    /// Starts `sync-all`, which stops itself (SIGSTOP, a fault point) once it has committed
    /// `page` pages to the hub; runs `fault` while it is stopped, resumes it (SIGCONT) and waits
    /// for it to end; whether the fault came while the sync ran. A stop at a known page, not a
    /// poll of the hub, so that a loaded machine cannot let a short sync end before the fault.
    static func syncAll(_ topology: String, _ cluster: OwnPostgresCluster, stoppedAfterPage page: Int,
                        _ fault: () async throws -> Void) async throws -> (result: HubctlProcess.Result, inFlight: Bool) {
        let running = try HubctlProcess.start(["sync-all", "-t", topology], environment: [
            "HUB_PGPASSWORD": cluster.password, "HUBCTL_FAULTS": "readAfterPageCommit@\(page):stop",
        ])
        defer { if running.process.isRunning { kill(running.pid, SIGCONT); kill(running.pid, SIGKILL) } }
        try await eventually("the sync stopped itself after page \(page)") {
            !running.process.isRunning || ProcessTable.isStopped(running.pid)
        }
        let inFlight = running.process.isRunning
        try await fault()
        kill(running.pid, SIGCONT)
        return (running.wait(), inFlight)
    }

    /// The fault came while the sync ran; a sync it broke says so naming the hub, without its password.
    static func expectFailureNamesTheHub(_ run: (result: HubctlProcess.Result, inFlight: Bool), _ cluster: OwnPostgresCluster,
                                         sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.inFlight, "the sync had ended before the server went down: \(run.result.stdout)", sourceLocation: sourceLocation)
        let printed = run.result.stdout + run.result.stderr
        #expect(!printed.contains(cluster.password), "the hub's password was printed", sourceLocation: sourceLocation)
        #expect(!run.result.killedBySignal, "\(run.result.stderr)", sourceLocation: sourceLocation)
        // A run the hub failed as a whole names the hub on stderr (exit 1). A run the hub came
        // back for ends partial instead (exit 3): the systems whose part the fault broke are
        // listed with PostgreSQL's error on stdout, and the next run completes them.
        if run.result.exitCode == 1 {
            #expect(run.result.stderr.contains("PostgreSQL hub postgres://hubctl@127.0.0.1:\(cluster.port)/hubctl_test?schema=hub is reachable"),
                    "a failed run names the hub: \(run.result.stderr)", sourceLocation: sourceLocation)
        }
        print("sync-all with the hub restarted: exit \(run.result.exitCode)\n\(run.result.stderr.suffix(1500))")
    }

    /// Runs `sync-all` until a run is clean (exit 0), at most three times.
    static func runUntilClean(_ hubctl: ([String]) async throws -> HubctlProcess.Result,
                              sourceLocation: SourceLocation = #_sourceLocation) async throws {
        var last: HubctlProcess.Result?
        for _ in 0..<3 {
            let result = try await hubctl(["sync-all"])
            last = result
            if result.exitCode == 0 { return }
            print("sync-all after the restart: exit \(result.exitCode)\n\(result.stderr.suffix(1500))")
        }
        Issue.record("sync-all did not converge in three runs: \(last?.stdout ?? "")\(last?.stderr ?? "")", sourceLocation: sourceLocation)
    }

    /// Every system's customers, read back with its own tool, are exactly `expected`: each once.
    static func expectEverySystemHolds(_ expected: [String: String], in directory: String,
                                       _ sqlite: (String, String) async throws -> String,
                                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
        func rows(_ lines: [String]) -> (rows: [String: String], duplicates: [String]) {
            var out: [String: String] = [:], duplicates: [String] = []
            for line in lines where !line.isEmpty {
                let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                if out[cells[0]] != nil { duplicates.append(cells[0]) }
                out[cells[0]] = cells.dropFirst().joined(separator: "|")
            }
            return (out, duplicates)
        }
        let csv = try String(contentsOfFile: directory + "/sheet/customers.csv", encoding: .utf8)
        let seen = [
            "app": rows(try await sqlite("app.db", "SELECT email, given, family, phone FROM users").components(separatedBy: "\n")),
            "books": rows(try await sqlite("books.db", "SELECT mail, fname, lname, tel FROM clients").components(separatedBy: "\n")),
            "sheet": rows(csv.components(separatedBy: "\n").dropFirst().map {
                $0.split(separator: ",", omittingEmptySubsequences: false).dropFirst().joined(separator: ",")
            }),
        ]
        for (system, (held, duplicates)) in seen.sorted(by: { $0.key < $1.key }) {
            #expect(duplicates.isEmpty, "\(system) holds \(duplicates.count) duplicates: \(duplicates.prefix(5))", sourceLocation: sourceLocation)
            let lost = expected.keys.filter { held[$0] == nil }, extra = held.keys.filter { expected[$0] == nil }
            #expect(lost.isEmpty && extra.isEmpty, "\(system) lost \(lost.count) (\(lost.prefix(5))), holds \(extra.count) unknown",
                    sourceLocation: sourceLocation)
            let wrong = expected.filter { held[$0.key] != nil && held[$0.key] != $0.value }
            #expect(wrong.isEmpty, "\(system): \(wrong.count) rows differ: \(wrong.prefix(3).map { "\($0.key) \(held[$0.key]!) != \($0.value)" })",
                    sourceLocation: sourceLocation)
        }
    }

    /// app.db, books.db and the sheet, and a topology whose hub is in `cluster` (schema `hub`).
    static func makeSystems(in directory: String, cluster: OwnPostgresCluster) throws -> String {
        func generated(_ range: Range<Int>, _ insert: String) -> String {
            """
            WITH RECURSIVE n(i) AS (SELECT \(range.lowerBound) UNION ALL SELECT i + 1 FROM n WHERE i < \(range.upperBound - 1))
            \(insert) SELECT 'c' || i || '@example.com', 'F' || i, 'L' || i, CAST(i AS TEXT) FROM n;
            """
        }
        _ = try ExternalTool.runSync("sqlite3", [directory + "/app.db", """
            CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, given TEXT, family TEXT, phone TEXT);
            \(generated(app, "INSERT INTO users (email, given, family, phone)"))
            """])
        _ = try ExternalTool.runSync("sqlite3", [directory + "/books.db", """
            CREATE TABLE clients (client_no INTEGER PRIMARY KEY, mail TEXT, fname TEXT, lname TEXT, tel TEXT);
            \(generated(books, "INSERT INTO clients (mail, fname, lname, tel)"))
            """])
        try FileManager.default.createDirectory(atPath: directory + "/sheet", withIntermediateDirectories: true)
        try ("Row ID,Email,First,Last,Phone\n" + sheet.map { "r\($0),c\($0)@example.com,F\($0),L\($0),\($0)\n" }.joined())
            .write(toFile: directory + "/sheet/customers.csv", atomically: true, encoding: .utf8)
        func fields(_ email: String, _ first: String, _ last: String, _ phone: String) -> String {
            #"{"email": "\#(email)", "first_name": "\#(first)", "last_name": "\#(last)", "phone": "\#(phone)"}"#
        }
        let topology = directory + "/topology.json"
        try """
            {
              "version": 1, "name": "restart",
              "hub": {"url": "postgres://\(cluster.user):${HUB_PGPASSWORD}@\(cluster.host):\(cluster.port)/\(cluster.database)?sslmode=disable",
                      "schema": "hub"},
              "entities": {"customer": {"fields": {"email": {"type": "string", "required": true, "normalize": ["trim", "lowercase"]},
                "first_name": {"type": "string"}, "last_name": {"type": "string"}, "phone": {"type": "string"}}, "match": [["email"]]}},
              "systems": {
                "app": {"adapter": "sqlite", "connection": {"path": "app.db"},
                  "entities": {"customer": {"object": "users", "id": "id", "fields": \(fields("email", "given", "family", "phone"))}}},
                "books": {"adapter": "sqlite", "connection": {"path": "books.db"},
                  "entities": {"customer": {"object": "clients", "id": "client_no", "fields": \(fields("mail", "fname", "lname", "tel"))}}},
                "sheet": {"adapter": "csv", "connection": {"path": "sheet"},
                  "entities": {"customer": {"object": "customers.csv", "id": "Row ID", "fields": \(fields("Email", "First", "Last", "Phone"))}}}
              }
            }
            """.write(toFile: topology, atomically: true, encoding: .utf8)
        return topology
    }
}
