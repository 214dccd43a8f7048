import Foundation
import HubCore
import HubTestServers
import HubTesting
import Testing

/// `hubctl run` over four real systems, as an operator would run it: PostgreSQL with change
/// capture, Kinto announcing its changes by signed webhooks, SQLite with webhooks and a CSV file
/// read on a short schedule. Every edit is made with the system's own tool (psql, curl, sqlite3,
/// a file write) and read back from every other system; the reading systems' schedules are ten
/// minutes, so only the trigger explains an edit arriving. A webhook that never comes (a dropped
/// notification) is caught by the schedule, and the process stops cleanly on SIGTERM with every
/// system converged.
@Suite(.serialized, .enabled(if: TestServices.runPostgresTests && TestServices.runKintoTests,
                             "needs PostgreSQL and Kinto: run scripts/with-test-services.sh swift test"))
struct RunFourSystemsEndToEndTests {
    static let secret = "four-systems-hook-secret-5521"

    /// The example topology with the operating settings added: schedules, webhooks, capture.
    static func operate(_ topology: String) throws {
        let data = try String(contentsOfFile: topology, encoding: .utf8)
        guard case .object(var root) = try JSONParser.parse(data), case .object(var systems)? = root["systems"] else {
            throw ToolFailure(message: "the example topology has no systems")
        }
        func set(_ system: String, _ settings: [String: Value]) {
            guard case .object(var s)? = systems[system] else { return }
            for (key, value) in settings { s[key] = value }
            systems[system] = .object(s)
        }
        let tenMinutes: Value = ["every": "10m", "jitter": "0%"]
        let hook: Value = ["secrets": ["${FOUR_HOOK_SECRET}"], "debounce": "50ms"]
        set("billing", ["schedule": tenMinutes, "capture": ["notify": true, "debounce": "50ms"]])
        set("crm", ["schedule": tenMinutes, "webhook": hook])
        // A schedule short enough to be the safety net for an edit whose webhook never comes.
        set("app", ["schedule": ["every": "3s", "jitter": "0%"], "webhook": hook])
        set("sheet", ["schedule": ["every": "1s", "jitter": "0%"]])
        root["systems"] = .object(systems)
        try JSONWriter.string(.object(root)).write(toFile: topology, atomically: true, encoding: .utf8)
    }

    @Test("run: edits made with psql, curl, sqlite3 and a file write each reach the three other systems; a missed webhook is caught by the schedule")
    func editsFromEachSystemReachEveryOther() async throws {
        let world = try await FourSystems.make(api: .kinto)
        try Self.operate(world.topology)
        let environment = world.environment.merging(["FOUR_HOOK_SECRET": Self.secret]) { $1 }
        let install = try await SystemTools.hubctl(["capture", "install", "billing", "-t", world.topology], environment: environment)
        #expect(install.exitCode == 0, "\(install.stderr)")

        let running = try HubctlProcess.start(["run", "-t", world.topology, "--listen", "127.0.0.1:0", "--log-format", "json"],
                                              environment: environment)
        var stopped = false
        defer { if !stopped { kill(running.pid, SIGKILL); _ = running.wait() } }
        var expected = [
            "ann@example.com": "Ann|Archer|111", "bob@example.com": "Bob|Baker|222", "carl@example.com": "Carl|Clark|333",
            "dora@example.com": "Dora|Dunn|", "eve@example.com": "Eve|Evans|555",
        ]
        /// Waits until every system holds `expected`.
        func converged(_ what: String) async throws {
            // Polled every 200 ms; the limit is a deadline for a broken build, not a measured time.
            let deadline = Date().addingTimeInterval(60)
            var seen: [String: [String: String]] = [:]
            while Date() < deadline {
                seen = try await world.contents()
                if ["billing", "crm", "app", "sheet"].allSatisfy({ seen[$0] == expected }) { return }
                try await Task.sleep(nanoseconds: 200_000_000)
            }
            Issue.record("gave up waiting: \(what); the systems hold \(seen)")
            throw ToolFailure(message: "gave up waiting: \(what)")
        }
        try await converged("the first cycle")
        try await RunEndToEndTests.eventually("the listener") { running.stderrSoFar().contains("\"event\":\"capture.listening\"") }
        let port = try #require(RunEndToEndTests.port(running))
        func hook(_ system: String, _ id: String) async throws {
            let status = try await RunEndToEndTests.post(port, system, id: id, timestamp: Int64(Date().timeIntervalSince1970),
                                                         body: #"{"type":"record.updated"}"#, secret: Self.secret)
            #expect(status == 200, "webhook \(id) for \(system)")
        }

        // psql: the notification wakes billing (its schedule is ten minutes).
        try await SystemTools.must("psql", FourSystems.psql(world.postgres) + ["-c",
            "UPDATE \(world.schema).customers SET last_name = 'Archer-Smith' WHERE email = 'ann@example.com'"],
            environment: ["PGPASSWORD": world.postgres.password])
        expected["ann@example.com"] = "Ann|Archer-Smith|111"
        try await converged("the psql edit everywhere")

        // curl to Kinto, then the webhook a Kinto listener would send.
        let auth = "\(world.kinto!.user):\(world.kinto!.password)"
        let found = try await SystemTools.must("curl", ["-fsS", "-u", auth, world.records + "?email=carl@example.com"])
        let id = try #require(try JSONParser.parse(found).value(atPath: "data")?.arrayValue?.first?.value(atPath: "id")?.stringValue)
        try await SystemTools.must("curl", ["-fsS", "-u", auth, "-X", "PATCH", "\(world.records)/\(id)",
                                            "-H", "Content-Type: application/json", "-d", #"{"data": {"phone": "333-0"}}"#])
        try await hook("crm", "evt_kinto_1")
        expected["carl@example.com"] = "Carl|Clark|333-0"
        try await converged("the Kinto edit everywhere")

        // sqlite3, then its webhook.
        try await SystemTools.must("sqlite3", ["-cmd", ".timeout 5000", world.directory.path + "/app.db",
                                               "UPDATE users SET given = 'Dorothy' WHERE email = 'dora@example.com'"])
        try await hook("app", "evt_app_1")
        expected["dora@example.com"] = "Dorothy|Dunn|"
        try await converged("the sqlite3 edit everywhere")

        // A file write, read by the file's one-second schedule.
        let csvPath = world.directory.path + "/sheet/customers.csv"
        try String(contentsOfFile: csvPath, encoding: .utf8).replacingOccurrences(of: ",Evans,", with: ",Evans-Lee,")
            .write(toFile: csvPath, atomically: true, encoding: .utf8)
        expected["eve@example.com"] = "Eve|Evans-Lee|555"
        try await converged("the file edit everywhere")

        // A webhook that never comes: the app's schedule reads the edit anyway.
        try await SystemTools.must("sqlite3", ["-cmd", ".timeout 5000", world.directory.path + "/app.db",
                                               "UPDATE users SET phone = '222-9' WHERE email = 'bob@example.com'"])
        expected["bob@example.com"] = "Bob|Baker|222-9"
        try await converged("the edit without a webhook everywhere")

        let samples = try PrometheusText.parse(try await RunEndToEndTests.curl(["http://127.0.0.1:\(port)/metrics"]).body)
        #expect((samples[#"hubctl_wakeups_total{trigger="pg_notify",system="billing"}"#] ?? 0) >= 1)
        #expect((samples[#"hubctl_wakeups_total{trigger="webhook",system="crm"}"#] ?? 0) >= 1)
        #expect((samples[#"hubctl_wakeups_total{trigger="webhook",system="app"}"#] ?? 0) >= 1)
        #expect(samples[#"hubctl_webhook_deliveries_total{system="crm",outcome="accepted"}"#] == 1)
        #expect(samples[#"hubctl_webhook_deliveries_total{system="app",outcome="accepted"}"#] == 1)
        let status = try await SystemTools.hubctl(["status", "-t", world.topology, "--json"], environment: environment)
        #expect(status.exitCode == 0, "\(status.stdout)")

        kill(running.pid, SIGTERM)
        let result = running.wait()
        stopped = true
        #expect(result.exitCode == 0 && !result.killedBySignal)
        for secret in [Self.secret, world.postgres.password, world.kinto!.password] {
            #expect(!result.stderr.contains(secret))
        }
        // Converged for good: a run after it writes nothing, and the links audit clean.
        let after = try await SystemTools.hubctl(["sync-all", "--json", "-t", world.topology], environment: environment)
        #expect(after.exitCode == 0, "\(after.stdout)\(after.stderr)")
        #expect(try FourSystems.writes(after) == 0, "\(after.stdout)")
        let seen = try await world.contents()
        for system in ["billing", "crm", "app", "sheet"] { #expect(seen[system] == expected, "\(system) after run") }
        let audit = try await SystemTools.hubctl(["audit", "-t", world.topology], environment: environment)
        #expect(audit.exitCode == 0, "\(audit.stdout)")
    }
}
