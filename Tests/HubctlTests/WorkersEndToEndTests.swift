import Foundation
import HubCore
import HubTestServers
import HubTesting
import Testing

/// `hubctl run --worker` processes sharing one PostgreSQL hub, through the real binary: they
/// converge four systems (a PostgreSQL table, two SQLite databases, a CSV file) to the same state
/// as one `sync-all`, and survive a worker killed holding a lease and one paused past its lease.
@Suite(.serialized, .enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct WorkersEndToEndTests {
    /// Every system's customers once converged: `email → first|last|phone`.
    static let converged = [
        "ann@example.com": "Ann|Archer|111", "bob@example.com": "Bob|Baker|222", "carl@example.com": "Carl|Clark|333",
        "dora@example.com": "Dora|Dunn|", "eve@example.com": "Eve|Evans|555",
    ]

    @Test("Three workers converge four systems, with an edit in each, to the same state as one sync-all")
    func threeWorkersConvergeLikeOneSyncAll() async throws {
        let workers = try await WorkersWorld.make()
        let single = try await WorkersWorld.make()
        defer { workers.started.killAll(); let (a, b) = (workers.drop, single.drop); Task { await a(); await b() } }

        let first = try await single.hubctl(["sync-all"])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")
        let running = try (0..<3).map { _ in try workers.startWorker() }
        try await workers.waitForRound(2)
        try await WorkersWorld.expectSame(workers, single, Self.converged)

        // An edit in each system, with each system's own tool, in both worlds.
        for world in [workers, single] { try await world.editEverySystem() }
        let second = try await single.hubctl(["sync-all"])
        #expect(second.exitCode == 0, "\(second.stdout)\(second.stderr)")
        try await workers.waitForReadsAndPushes()
        try await WorkersWorld.expectSame(workers, single, Self.edited)

        // Status lists the workers and their units; every unit was done by someone.
        let status = try await workers.hubctl(["status", "--json"])
        let board = try #require(try status.result().value(atPath: "workers"))
        #expect(board.value(atPath: "workers")?.arrayValue?.count == 3)
        #expect(board.value(atPath: "units")?.arrayValue?.count == 8)  // a pull and a push of each system's one entity
        let done = board.value(atPath: "workers")?.arrayValue?.compactMap { $0.value(atPath: "units_done")?.intValue } ?? []
        #expect(done.reduce(0, +) >= 16, "two rounds of eight units at least: \(done)")

        // Leaving cleanly: SIGTERM stops each after its page and frees its units.
        for worker in running { kill(worker.pid, SIGTERM) }
        for worker in running {
            let result = worker.wait()
            #expect(result.exitCode == 0, "\(result.stderr)")
        }
        #expect(try await workers.psql("SELECT count(*) FROM work_unit WHERE owner IS NOT NULL") == "0")
        #expect(try await workers.psql("SELECT count(*) FROM worker WHERE stopped_at IS NULL") == "0")
    }

    @Test("Workers reading two tables in parts converge like one sync-all; a row deleted from one is deleted everywhere")
    func tablesReadInPartsConvergeLikeOneSyncAll() async throws {
        let workers = try await WorkersWorld.make(partitions: true)
        let single = try await WorkersWorld.make(partitions: true)
        defer { workers.started.killAll(); let (a, b) = (workers.drop, single.drop); Task { await a(); await b() } }

        let first = try await single.hubctl(["sync-all"])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")
        for _ in 0..<2 { _ = try workers.startWorker() }
        try await workers.waitForRound(2)
        try await WorkersWorld.expectSame(workers, single, Self.converged)
        // The units: billing and sheet whole, app in 3 parts, books in 2, each table's deletes step.
        let units = try await workers.psql("SELECT string_agg(unit, ' ' ORDER BY unit) FROM work_unit WHERE phase IN ('pull', 'pull-deletes')")
        #expect(units == "pull-deletes:app pull-deletes:books pull:app/customer/1of3 pull:app/customer/2of3 pull:app/customer/3of3 "
                    + "pull:billing/customer pull:books/customer/1of2 pull:books/customer/2of2 pull:sheet/customer", "\(units)")

        // Edits in every system, and Carl's row deleted from the books (read in parts).
        for world in [workers, single] {
            try await world.editEverySystem()
            _ = try await world.sqlite("books.db", "DELETE FROM clients WHERE mail = 'carl@example.com'")
        }
        let round = try await workers.currentRound()
        let second = try await single.hubctl(["sync-all"])
        #expect(second.exitCode == 0, "\(second.stdout)\(second.stderr)")
        try await workers.waitForRound(round + 2)
        let (seenWorkers, seenSingle) = (try await workers.contents(), try await single.contents())
        for system in WorkersWorld.systems {
            #expect(seenWorkers[system] == seenSingle[system], "\(system)")
            #expect(seenWorkers[system]?["carl@example.com"] == nil, "\(system): \(seenWorkers[system] ?? [:])")
        }
        #expect(seenWorkers["app"]?["dora@example.com"]?.hasPrefix("Dorothy|") == true, "\(seenWorkers["app"] ?? [:])")
        #expect(try await workers.hubState() == (try await single.hubState()))
    }

    @Test("A worker killed after a system answered its creates: its unit is taken over, the creates recovered, 0 duplicates")
    func aKilledWorkersUnitIsTakenOver() async throws {
        let world = try await WorkersWorld.make()
        defer { world.started.killAll(); let drop = world.drop; Task { await drop() } }
        // Alone, it pulls all four systems, then dies right after the first push answer (push:app/customer's creates).
        let doomed = try world.startWorker(faults: "pushAfterResponse@1:crash")
        let died = doomed.wait()
        #expect(died.killedBySignal, "\(died.stderr)")
        #expect(try await world.psql("SELECT owner IS NOT NULL, token FROM work_unit WHERE unit = 'push:app/customer'") == "t|1")
        #expect(try await world.psql("SELECT count(*) FROM intent WHERE system = 'app'") != "0")

        let others = try (0..<2).map { _ in try world.startWorker() }
        try await world.waitForRound(2)
        #expect(try await world.psql("SELECT token >= 2 FROM work_unit WHERE unit = 'push:app/customer'") == "t")
        #expect(try await world.psql("SELECT count(*) FROM intent") == "0")
        let seen = try await world.contents()
        for system in WorkersWorld.systems { #expect(seen[system] == Self.converged, "\(system): no duplicate, nothing lost") }
        #expect(try await world.sqlite("app.db", "SELECT count(*) FROM users") == "5")
        for worker in others { kill(worker.pid, SIGTERM) }
        for worker in others { #expect(worker.wait().exitCode == 0) }
    }

    @Test("A worker paused past its lease is fenced when it resumes: its late write is refused, counted, and nothing is lost")
    func aPausedWorkerIsFencedOut() async throws {
        let world = try await WorkersWorld.make()
        defer { world.started.killAll(); let drop = world.drop; Task { await drop() } }
        // Alone, it claims pull:app/customer, reads its first page and stops itself (SIGSTOP) before merging it.
        // Its lease is longer than the others' so that its first heartbeat (a third of the lease
        // after the claim) is not in flight when it stops, even on a loaded machine: a process
        // stopped inside a transaction holds that transaction's row locks until PostgreSQL ends
        // its session (60 s), which is another fault than the one proved here.
        let paused = try world.startWorker(faults: "readAfterPageFetched@1:stop", lease: "30s")
        try await eventually("the worker stopped itself") { ProcessState.isStopped(paused.pid) }
        let claimed = try await world.psql("SELECT token FROM work_unit WHERE unit = 'pull:app/customer'")
        let others = try (0..<2).map { _ in try world.startWorker() }
        // Its 30-second lease expires; the others take pull:app/customer over and finish the round.
        try await world.waitForRound(1)
        let token = try await world.psql("SELECT token FROM work_unit WHERE unit = 'pull:app/customer'")
        #expect(Int(token)! > Int(claimed)!)

        kill(paused.pid, SIGCONT)
        let state = { (try? String(contentsOfFile: "/proc/\(paused.pid)/stat", encoding: .utf8)) ?? "gone" }
        try await eventually("the resumed worker's write was refused and counted",
                             detail: { "process: \(state())\n" + paused.stderrSoFar() }) {
            let status = try await world.hubctl(["status", "--json"])
            let workers = try status.result().value(atPath: "workers.workers")?.arrayValue ?? []
            return workers.contains { $0.value(atPath: "pid")?.intValue == Int64(paused.pid) && ($0.value(atPath: "fenced_writes")?.intValue ?? 0) == 1 }
        }
        #expect(paused.stderrSoFar().contains("was taken over by another worker; the hub refused the write"))
        let round = try await world.currentRound()
        try await world.waitForRound(round + 1)
        let seen = try await world.contents()
        for system in WorkersWorld.systems { #expect(seen[system] == Self.converged, "\(system)") }
        for worker in others + [paused] { kill(worker.pid, SIGTERM) }
        for worker in others + [paused] { #expect(worker.wait().exitCode == 0) }
    }

    @Test("A worker stopped inside a hub transaction holds the hub until PostgreSQL ends its session; resumed, it fails that page and goes on")
    func aWorkerStoppedInsideATransactionComesBack() async throws {
        let world = try await WorkersWorld.make()
        defer { world.started.killAll(); let drop = world.drop; Task { await drop() } }
        // Alone, it claims pull:app/customer and stops itself in the middle of its first page's hub
        // transaction, holding the hub's write lock and its unit's row.
        let stopped = try world.startWorker(faults: "mergeMidTransaction@1:stop")
        try await eventually("the worker stopped itself") { ProcessState.isStopped(stopped.pid) }
        let others = try (0..<2).map { _ in try world.startWorker() }
        // The others wait for the hub until PostgreSQL ends the stopped session (after 60 s idle
        // in a transaction), then take pull:app/customer over and finish the round.
        try await world.waitForRound(1)
        let done = { try await world.psql("SELECT units_done FROM worker WHERE pid = \(stopped.pid)") }
        let before = Int(try await done()) ?? 0
        kill(stopped.pid, SIGCONT)
        // Resumed, its transaction's connection is gone: the page fails, nothing of it was
        // committed, and the worker reconnects and does more units instead of hanging.
        try await eventually("the resumed worker did another unit", detail: { String(stopped.stderrSoFar().suffix(3000)) }) {
            (Int(try await done()) ?? 0) > before
        }
        #expect(kill(stopped.pid, 0) == 0)
        let round = try await world.currentRound()
        try await world.waitForRound(round + 1)
        let seen = try await world.contents()
        for system in WorkersWorld.systems { #expect(seen[system] == Self.converged, "\(system)") }
        for worker in others + [stopped] { kill(worker.pid, SIGTERM) }
        for worker in others + [stopped] { #expect(worker.wait().exitCode == 0) }
    }

    @Test("A worker whose hub connection PostgreSQL terminates reconnects and goes on; nothing is lost")
    func aTerminatedConnectionIsReopened() async throws {
        let world = try await WorkersWorld.make()
        defer { world.started.killAll(); let drop = world.drop; Task { await drop() } }
        let workers = try (0..<2).map { _ in try world.startWorker() }
        try await world.waitForRound(1)
        try await world.editEverySystem()
        // The first worker's session (named after it in pg_stat_activity) is ended by the server.
        let victim = workers[0].pid
        try await eventually("the worker's session was terminated") {
            try await world.psql("""
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE 'hubctl-worker %-\(victim)-%'
                """) != "0"
        }
        let done = { try await world.psql("SELECT units_done FROM worker WHERE pid = \(victim)") }
        let before = Int(try await done()) ?? 0
        try await world.waitForReadsAndPushes()
        // It did not die: it reopened its connection and did more units.
        #expect(kill(victim, 0) == 0)
        try await eventually("the terminated worker did another unit", detail: { String(workers[0].stderrSoFar().suffix(3000)) }) {
            (Int(try await done()) ?? 0) > before
        }
        let seen = try await world.contents()
        for system in WorkersWorld.systems { #expect(seen[system] == Self.edited, "\(system)") }
        for worker in workers { kill(worker.pid, SIGTERM) }
        for worker in workers { #expect(worker.wait().exitCode == 0) }
    }

    @Test("A webhook to a worker's listener starts the next round at once, for every worker")
    func aWebhookStartsTheNextRound() async throws {
        let world = try await WorkersWorld.make(webhook: true)
        defer { world.started.killAll(); let drop = world.drop; Task { await drop() } }
        // Rounds every hour: only the webhook explains a second round.
        let listening = try world.startWorker(every: "1h", ["--listen", "127.0.0.1:0", "--log-format", "json"])
        let other = try world.startWorker(every: "1h")
        try await world.waitForRound(1)
        try await RunEndToEndTests.eventually("the listener") { RunEndToEndTests.port(listening) != nil }
        let port = try #require(RunEndToEndTests.port(listening))
        _ = try await world.sqlite("app.db", "UPDATE users SET given = 'Dorothy' WHERE email = 'dora@example.com'")
        let status = try await RunEndToEndTests.post(port, "app", id: "msg-1", timestamp: Int64(Date().timeIntervalSince1970),
                                                     body: #"{"type":"user.updated"}"#, secret: WorkersWorld.hookSecret)
        #expect(status == 200)
        try await world.waitForRound(2)
        let seen = try await world.contents()
        for system in WorkersWorld.systems { #expect(seen[system]?["dora@example.com"] == "Dorothy|Dunn|", "\(system)") }
        for worker in [listening, other] { kill(worker.pid, SIGTERM) }
        for worker in [listening, other] { #expect(worker.wait().exitCode == 0) }
    }

    /// The shop world's rows once converged, then after ``WorkersWorld/editShop()``.
    static let shopConverged = [
        "customer|ann@example.com|Ann|", "customer|bob@example.com|Bob|", "customer|cid@example.com|Cid|",
        "customer|dora@example.com|Dora|", "order|1001|ann@example.com|10", "order|1002|bob@example.com|20",
        "order|1003|bob@example.com|30", "order|2001|dora@example.com|40", "ticket|C1|dora@example.com|Refund",
        "ticket|T1|bob@example.com|Broken", "ticket|T2|cid@example.com|Late",
    ]
    static let shopEdited = [
        "customer|ann@example.com|Ann|", "customer|cid@example.com|Cid|", "customer|dora@example.com|Dora D.|",
        "customer|eve@example.com|Eve|", "order|1001|ann@example.com|10", "order|1004|eve@example.com|50",
        "order|2001|dora@example.com|40", "ticket|C1|dora@example.com|Refund", "ticket|T2|cid@example.com|Late",
        "ticket|T3|eve@example.com|Question",
    ]

    @Test("Two workers work on one system's entities at once; references and a parent deleted with its children end as after one sync-all")
    func entitiesOfOneSystemAreSharedAndConvergeLikeOneSyncAll() async throws {
        let workers = try await WorkersWorld.makeShop()
        let single = try await WorkersWorld.makeShop()
        defer { workers.started.killAll(); let (a, b) = (workers.drop, single.drop); Task { await a(); await b() } }
        let first = try await single.hubctl(["sync-all"])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")

        // Alone, the first worker pulls crm's customers, claims crm's orders (they wait for the
        // customers), reads their first page and stops itself, holding the unit (90 s lease).
        let paused = try workers.startWorker(faults: "readAfterPageFetched@2:stop", lease: "90s")
        try await eventually("the worker stopped itself") { ProcessState.isStopped(paused.pid) }
        let pausedID = try await workers.psql("SELECT id FROM worker WHERE pid = \(paused.pid)")
        #expect(try await workers.psql("SELECT owner FROM work_unit WHERE unit = 'pull:crm/order'") == pausedID)
        // A second worker takes crm's tickets meanwhile: another entity of the same system.
        let other = try workers.startWorker()
        try await eventually("crm's tickets pulled by the second worker") {
            try await workers.psql("SELECT done_round FROM work_unit WHERE unit = 'pull:crm/ticket'") == "1"
        }
        let otherID = try await workers.psql("SELECT id FROM worker WHERE pid = \(other.pid)")
        #expect(try await workers.psql("SELECT owner FROM work_unit WHERE unit = 'pull:crm/order'") == pausedID)
        #expect(try await workers.psql("SELECT units_done FROM worker WHERE id = '\(pausedID)'") == "1")
        #expect(Int(try await workers.psql("SELECT units_done FROM worker WHERE id = '\(otherID)'"))! >= 1)
        // crm's tickets have their run; crm's deletes and every push wait for crm's orders.
        #expect(try await workers.psql("""
            SELECT r.status FROM work_unit u JOIN run r ON r.id = u.run_id WHERE u.unit = 'pull:crm/ticket'
            """) == "ok")
        #expect(try await workers.psql("""
            SELECT count(*) FROM work_unit WHERE (unit = 'pull-deletes:crm' OR phase LIKE 'push%') AND (done_round > 0 OR owner IS NOT NULL)
            """) == "0")
        // The status lists both, one unit held and one done, for the same system.
        let status = try await workers.hubctl(["status", "--json"])
        let units = try status.result().value(atPath: "workers.units")?.arrayValue ?? []
        let crm = units.filter { $0.value(atPath: "system")?.stringValue == "crm" }
        #expect(crm.first { $0.value(atPath: "unit")?.stringValue == "pull:crm/order" }?.value(atPath: "owner")?.stringValue == pausedID)
        #expect(crm.first { $0.value(atPath: "unit")?.stringValue == "pull:crm/ticket" }?.value(atPath: "done_round")?.intValue == 1)
        #expect(crm.first { $0.value(atPath: "unit")?.stringValue == "pull:crm/ticket" }?.value(atPath: "entity")?.stringValue == "ticket")

        kill(paused.pid, SIGCONT)
        try await workers.waitForRound(1)
        // Per system: 3 pulls, its pull-deletes, 3 pushes, its push-deletes.
        #expect(try await workers.psql("SELECT count(*) FROM work_unit") == "16")
        try await WorkersWorld.expectSameShop(workers, single, Self.shopConverged)

        // Bob deleted in shop with his orders and ticket, Eve added with hers; Dora renamed in crm.
        for world in [workers, single] { try await world.editShop() }
        let second = try await single.hubctl(["sync-all"])
        #expect(second.exitCode == 0, "\(second.stdout)\(second.stderr)")
        try await workers.waitForReadsAndPushes()
        try await WorkersWorld.expectSameShop(workers, single, Self.shopEdited)
        // Bob's delete was applied by shop's deletes unit (the one run with rows for all three of
        // shop's entities), after his orders' and tickets' pull units had applied theirs.
        let applied = try await workers.psql("""
            SELECT string_agg(c.entity || ' ' || c.deleted || ' in a run of ' || (SELECT count(*) FROM run_count o WHERE o.run_id = c.run_id
                                                                              AND o.direction = 'pull'), ', ' ORDER BY c.entity)
            FROM run_count c WHERE c.system = 'shop' AND c.direction = 'pull' AND c.deleted > 0
            """)
        #expect(applied == "customer 1 in a run of 3, order 2 in a run of 1, ticket 1 in a run of 1", "\(applied)")
        #expect(try await workers.psql("SELECT count(*) FROM found_delete") == "0")
        for worker in [paused, other] { kill(worker.pid, SIGTERM) }
        for worker in [paused, other] { #expect(worker.wait().exitCode == 0) }
    }

    @Test("A running worker stops when a newer hubctl upgrades the hub: exit 1 with the reason and what to run, its units released")
    func aWorkerStopsWhenANewerHubctlUpgradesTheHub() async throws {
        let world = try await WorkersWorld.make()
        defer { world.started.killAll(); let drop = world.drop; Task { await drop() } }
        let worker = try world.startWorker(every: "1h")
        try await world.waitForRound(1)
        // A newer hubctl applies a step this one does not know; a webhook to another worker asks for a round.
        _ = try await world.psql("INSERT INTO hub_migration (identifier, applied_at) VALUES ('future: partitions', 'z')")
        _ = try await world.psql("UPDATE work_round SET wake = 1")
        let result = worker.wait()
        #expect(result.exitCode == 1, "\(result.stderr)")
        #expect(result.stderr.contains("hubctl run --worker stopped: the hub postgres://"), "\(result.stderr)")
        #expect(result.stderr.contains(#"was upgraded by a newer hubctl (step "future: partitions") while this hubctl had it open, "#
                                       + "and this hubctl does not know that step; its units were released and it claims no more"))
        #expect(result.stderr.contains("run that hubctl version or a newer one on this hub"))
        #expect(!result.stderr.contains(world.postgres.password))
        // It stopped before the new round's first unit: nothing of round 2 was done, nothing is held.
        #expect(try await world.psql("SELECT round FROM work_round") == "2")
        #expect(try await world.psql("SELECT count(*) FROM work_unit WHERE owner IS NOT NULL OR done_round > 1") == "0")
        #expect(try await world.psql("SELECT count(*) FROM worker WHERE stopped_at IS NULL") == "0")
    }

    @Test("run --worker on a SQLite hub is refused with the reason and what to do (78)")
    func aWorkerNeedsAPostgresHub() throws {
        let tmp = try TemporaryDirectory()
        #expect(try HubctlProcess.run(["demo", "demo"], in: tmp.path).exitCode == 0)
        let result = try HubctlProcess.run(["run", "--worker", "-t", tmp.path + "/demo/topology.json"])
        #expect(result.exitCode == 78)
        #expect(result.stderr.contains("--worker needs a PostgreSQL hub"))
        #expect(result.stderr.contains("give the topology's hub a \"url\""))
    }

    /// What every system holds after ``WorkersWorld/editEverySystem()`` has synced.
    static var edited: [String: String] {
        var edited = converged
        edited["ann@example.com"] = "Ann|Archer-Smith|111"
        edited["carl@example.com"] = "Carl|Clark|333-0"
        edited["dora@example.com"] = "Dorothy|Dunn|"
        edited["eve@example.com"] = "Eve|Evans-Lee|555"
        return edited
    }
}

/// Waits for `condition` (polling, at most three minutes): a bound, never a timed assertion.
func eventually(_ what: String, detail: () -> String = { "" }, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(180)
    while try await !condition() {
        guard Date() < deadline else { throw ToolFailure(message: "waited three minutes for: \(what)\n\(detail())") }
        try await Task.sleep(nanoseconds: 200_000_000)
    }
}

/// Processes a test started, so that it can end them whatever happened.
final class StartedProcesses {
    var processes: [Process] = []

    /// SIGKILLs (after SIGCONT, in case it is stopped) every process still running.
    func killAll() {
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGCONT)
            kill(process.processIdentifier, SIGKILL)
        }
    }
}

enum ProcessState {
    /// True when the process is stopped (state `T` in /proc).
    static func isStopped(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(close, offsetBy: 2)] == "T"
    }
}

/// Four systems — a PostgreSQL table, two SQLite databases, a CSV file — and a PostgreSQL hub in
/// a fresh schema, each customer held by two systems to begin with.
struct WorkersWorld {
    static let systems = ["billing", "app", "books", "sheet"]
    let directory: TemporaryDirectory
    let topology: String
    let postgres: TestServices.Postgres
    /// The billing table's schema and the hub's.
    let schema: String
    let hubSchema: String
    let environment: [String: String]
    /// The workers started, killed when a test ends early (a failed wait).
    let started = StartedProcesses()

    static let hookSecret = "whsec_" + "workers-hook-secret-0123456789"

    /// - Parameter webhook: the app system takes signed webhooks.
    /// - Parameter partitions: workers read the app's users in 3 parts and the books' clients in 2.
    static func make(webhook: Bool = false, partitions: Bool = false) async throws -> WorkersWorld {
        let postgres = try TestServices.requirePostgres()
        let directory = try TemporaryDirectory()
        let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let schema = "wk_" + token.prefix(10), hubSchema = "wkhub_" + token.prefix(10)
        // The same billing table and app.db as the four-system tests; books.db and the sheet below.
        try await FourSystems.seedBillingAndApp(postgres, schema: String(schema), directory: directory.path)
        try await SystemTools.must("sqlite3", [directory.path + "/books.db", """
            CREATE TABLE clients (client_no INTEGER PRIMARY KEY, mail TEXT, fname TEXT, lname TEXT, tel TEXT);
            INSERT INTO clients (mail, fname, lname, tel) VALUES ('ann@example.com', 'Ann', 'Archer', NULL),
                                                                ('carl@example.com', 'Carl', 'Clark', '333');
            """])
        try FileManager.default.createDirectory(atPath: directory.path + "/sheet", withIntermediateDirectories: true)
        try "Row ID,Email,First,Last,Phone\nr1,carl@example.com,Carl,Clark,\nr2,eve@example.com,Eve,Evans,555\n"
            .write(toFile: directory.path + "/sheet/customers.csv", atomically: true, encoding: .utf8)
        func fields(_ email: String, _ first: String, _ last: String, _ phone: String) -> String {
            #"{"email": "\#(email)", "first_name": "\#(first)", "last_name": "\#(last)", "phone": "\#(phone)"}"#
        }
        let topology = directory.path + "/topology.json"
        try """
            {
              "version": 1, "name": "workers",
              "hub": {"url": "postgres://\(postgres.user):${HUB_PGPASSWORD}@\(postgres.host):\(postgres.port)/\(postgres.database)?sslmode=disable",
                      "schema": "\(hubSchema)"},
              "entities": {"customer": {"fields": {"email": {"type": "string", "required": true, "normalize": ["trim", "lowercase"]},
                "first_name": {"type": "string"}, "last_name": {"type": "string"}, "phone": {"type": "string"}}, "match": [["email"]]}},
              "systems": {
                "billing": {"adapter": "postgres",
                  "connection": {"host": "\(postgres.host)", "port": "\(postgres.port)", "database": "\(postgres.database)",
                                 "user": "\(postgres.user)", "password": "${HUB_PGPASSWORD}", "schema": "\(schema)", "sslmode": "disable"},
                  "entities": {"customer": {"object": "customers", "id": "id", "cursor": "updated_at",
                                            "fields": \(fields("email", "first_name", "last_name", "phone"))}}},
                "app": {"adapter": "sqlite", "connection": {"path": "app.db"},\(webhook ? #" "webhook": {"secrets": ["${HOOK_SECRET}"], "debounce": "50ms"},"# : "")
                  "entities": {"customer": {"object": "users", "id": "id", "fields": \(fields("email", "given", "family", "phone"))\(partitions ? #", "partitions": 3"# : "")}}},
                "books": {"adapter": "sqlite", "connection": {"path": "books.db"},
                  "entities": {"customer": {"object": "clients", "id": "client_no", "fields": \(fields("mail", "fname", "lname", "tel"))\(partitions ? #", "partitions": 2"# : "")}}},
                "sheet": {"adapter": "csv", "connection": {"path": "sheet"},
                  "entities": {"customer": {"object": "customers.csv", "id": "Row ID", "fields": \(fields("Email", "First", "Last", "Phone"))}}}
              }
            }
            """.write(toFile: topology, atomically: true, encoding: .utf8)
        return WorkersWorld(directory: directory, topology: topology, postgres: postgres, schema: String(schema),
                            hubSchema: String(hubSchema), environment: ["HUB_PGPASSWORD": postgres.password, "HOOK_SECRET": hookSecret])
    }

    static func psqlArguments(_ p: TestServices.Postgres) -> [String] { FourSystems.psql(p) }

    /// Drops the world's two schemas.
    var drop: @Sendable () async -> Void {
        let (arguments, password) = (Self.psqlArguments(postgres) + ["-c", "DROP SCHEMA \(schema) CASCADE; DROP SCHEMA \(hubSchema) CASCADE"],
                                     postgres.password)
        return { _ = try? await SystemTools.run("psql", arguments, environment: ["PGPASSWORD": password]) }
    }

    func hubctl(_ arguments: [String]) async throws -> HubctlProcess.Result {
        let result = try await SystemTools.hubctl(arguments + ["-t", topology], environment: environment)
        #expect(!(result.stdout + result.stderr).contains(postgres.password), "the password was printed")
        return result
    }

    /// Starts `hubctl run --worker` with 2-second leases (by default) and 1-second rounds.
    func startWorker(faults: String? = nil, lease: String = "2s", every: String = "1s", _ extra: [String] = []) throws
        -> HubctlProcess.Running
    {
        var environment = self.environment
        if let faults { environment["HUBCTL_FAULTS"] = faults }
        let worker = try HubctlProcess.start(["run", "--worker", "--lease", lease, "--every", every, "-t", topology] + extra,
                                             environment: environment)
        started.processes.append(worker.process)
        return worker
    }

    /// A query on the hub's schema.
    func psql(_ sql: String) async throws -> String {
        try await SystemTools.must("psql", Self.psqlArguments(postgres) + ["-c", "SET search_path TO \(hubSchema)", "-c", sql],
                                   environment: ["PGPASSWORD": postgres.password]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func sqlite(_ file: String, _ sql: String) async throws -> String {
        try await SystemTools.must("sqlite3", ["-separator", ",", "-cmd", ".timeout 5000", directory.path + "/" + file, sql])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func currentRound() async throws -> Int { Int(try await psql("SELECT round FROM work_round"))! }

    /// Waits until every unit is done for `round`.
    func waitForRound(_ round: Int) async throws {
        try await eventually("every unit done for round \(round)") {
            // The first worker creates the hub's tables: until then, no round.
            ((try? await psql("SELECT coalesce(min(done_round), 0) FROM work_unit")).flatMap { Int($0) } ?? 0) >= round
        }
    }

    /// Waits until every system has been read again since now, and what was read pushed
    /// everywhere (``WorkerRounds/waitForReadsAndPushes(query:poll:)``).
    func waitForReadsAndPushes() async throws {
        try await WorkerRounds.waitForReadsAndPushes(query: { try await psql($0) }, poll: { try await eventually($0, $1) })
    }

    func editEverySystem() async throws {
        try await SystemTools.must("psql", Self.psqlArguments(postgres) + ["-c",
            "UPDATE \(schema).customers SET last_name = 'Archer-Smith' WHERE email = 'ann@example.com'"],
            environment: ["PGPASSWORD": postgres.password])
        _ = try await sqlite("books.db", "UPDATE clients SET tel = '333-0' WHERE mail = 'carl@example.com'")
        _ = try await sqlite("app.db", "UPDATE users SET given = 'Dorothy' WHERE email = 'dora@example.com'")
        let csv = directory.path + "/sheet/customers.csv"
        try String(contentsOfFile: csv, encoding: .utf8).replacingOccurrences(of: ",Evans,", with: ",Evans-Lee,")
            .write(toFile: csv, atomically: true, encoding: .utf8)
    }

    /// Every system's customers, read back with its own tool: `email → first|last|phone`
    /// (a duplicate email would show as a count below the row total, which is checked too).
    func contents() async throws -> [String: [String: String]] {
        func rows(_ text: String) -> [String: String] {
            var out: [String: String] = [:]
            for row in text.split(separator: "\n") where !row.isEmpty {
                let cells = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                out[cells[0], default: ""] += (out[cells[0]] == nil ? "" : "+DUPLICATE+") + cells.dropFirst().joined(separator: "|")
            }
            return out
        }
        var out: [String: [String: String]] = [:]
        out["billing"] = rows(try await SystemTools.must("psql", Self.psqlArguments(postgres) + ["-F", ",", "-c",
            "SELECT email, first_name, last_name, phone FROM \(schema).customers ORDER BY email"],
            environment: ["PGPASSWORD": postgres.password]))
        out["app"] = rows(try await sqlite("app.db", "SELECT email, given, family, phone FROM users ORDER BY email"))
        out["books"] = rows(try await sqlite("books.db", "SELECT mail, fname, lname, tel FROM clients ORDER BY mail"))
        let csv = try String(contentsOfFile: directory.path + "/sheet/customers.csv", encoding: .utf8)
        out["sheet"] = rows(csv.split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).dropFirst().joined(separator: ",") }.joined(separator: "\n"))
        return out
    }

    /// The hub's live entities (their data, sorted) and links per system: what two hubs that
    /// synced the same systems agree on, whatever their IDs and times.
    func hubState() async throws -> String {
        try await psql("""
            SELECT string_agg(d, E'\\n' ORDER BY d) FROM (
              SELECT 'entity ' || entity || ' ' || data AS d FROM entity WHERE deleted_at IS NULL
              UNION ALL SELECT 'links ' || system || ' ' || count(*) FROM xref WHERE state = 'linked' GROUP BY system) s
            """)
    }

    /// Both worlds' systems hold `expected`, and their hubs agree.
    static func expectSame(_ a: WorkersWorld, _ b: WorkersWorld, _ expected: [String: String],
                           sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let (seenA, seenB) = (try await a.contents(), try await b.contents())
        for system in systems {
            #expect(seenA[system] == expected, "workers' \(system)", sourceLocation: sourceLocation)
            #expect(seenB[system] == expected, "sync-all's \(system)", sourceLocation: sourceLocation)
        }
        let (hubA, hubB) = (try await a.hubState(), try await b.hubState())
        #expect(hubA == hubB, sourceLocation: sourceLocation)
        #expect(hubA.contains("links sheet 5"), "\(hubA)", sourceLocation: sourceLocation)
    }
}
