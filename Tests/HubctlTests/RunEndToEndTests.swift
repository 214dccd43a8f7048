import Foundation
import GRDB
import HubCore
import HubService
import HubTesting
import Testing

/// `hubctl run` as a real process on a SQLite database and a CSV file: edits made with sqlite3
/// and by writing the file reach the other system; webhooks are verified and counted; SIGTERM
/// exits 0 and the next start goes on; `status` answers for health checks.
@Suite(.serialized) struct RunEndToEndTests {
    static let topology = """
    {
      "version": 1,
      "name": "run-e2e",
      "hub": { "path": "run.hub.sqlite" },
      "entities": {
        "customer": {
          "fields": { "email": { "type": "string", "required": true }, "first_name": { "type": "string" } },
          "match": [["email"]]
        }
      },
      "systems": {
        "crm": {
          "adapter": "sqlite",
          "connection": { "path": "crm.db" },
          "schedule": { "every": "1s", "jitter": "0%" },
          "webhook": { "secrets": ["${RUN_E2E_HOOK_SECRET}"], "debounce": "50ms" },
          "entities": {
            "customer": { "object": "contacts", "id": "id", "cursor": "modified_at",
                          "fields": { "email": "email", "first_name": "first_name" } }
          }
        },
        "sheet": {
          "adapter": "csv",
          "connection": { "path": "sheet" },
          "schedule": { "every": "1s", "jitter": "0%" },
          "entities": {
            "customer": { "object": "customers.csv", "id": "Row ID", "fields": { "email": "Email", "first_name": "First" } }
          }
        }
      }
    }
    """
    static let secret = "e2e-webhook-secret-1234"
    static let environment = ["RUN_E2E_HOOK_SECRET": secret]

    /// A temporary folder with the systems and the topology; the topology's path.
    static func systems(csvRows: Int = 1) throws -> (TemporaryDirectory, String) {
        let tmp = try TemporaryDirectory()
        try makeSystems(tmp.path, csvRows: csvRows)
        return (tmp, tmp.path + "/topology.json")
    }

    static func makeSystems(_ dir: String, csvRows: Int = 1) throws {
        try topology.write(toFile: dir + "/topology.json", atomically: true, encoding: .utf8)
        let crm = try DatabaseQueue(path: dir + "/crm.db")
        try crm.write { db in
            try db.execute(sql: """
                CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT NOT NULL, first_name TEXT,
                    modified_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
                CREATE TRIGGER touch AFTER UPDATE ON contacts FOR EACH ROW WHEN NEW.modified_at = OLD.modified_at
                BEGIN UPDATE contacts SET modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id; END;
                INSERT INTO contacts (email, first_name) VALUES ('ann@example.com', 'Ann');
                """)
        }
        try crm.close()
        try FileManager.default.createDirectory(atPath: dir + "/sheet", withIntermediateDirectories: true)
        var csv = "Row ID,Email,First\n"
        for i in 0..<csvRows { csv += "r\(i),person\(i)@example.com,Person \(i)\n" }
        try csv.write(toFile: dir + "/sheet/customers.csv", atomically: true, encoding: .utf8)
    }

    /// Polls `condition` every 50 ms until it holds; fails after `limit` seconds (a deadline
    /// for a broken build, not a measured time).
    static func eventually(_ what: String, limit: Double = 60, _ condition: () throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            if (try? condition()) == true { return }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        Issue.record("gave up waiting: \(what)")
        throw ToolFailure(message: "gave up waiting: \(what)")
    }

    static func logLines(_ running: HubctlProcess.Running) -> [Value] {
        running.stderrSoFar().split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
    }

    static func port(_ running: HubctlProcess.Running) -> Int? {
        logLines(running).first { $0["event"] == "http.listening" }?["port"].flatMap { v -> Int? in
            if case .int(let i) = v { return Int(i) }
            return nil
        }
    }

    static func curl(_ args: [String]) async throws -> (status: Int, body: String) {
        let out = try await SystemTools.must("curl", ["-s", "-o", "-", "-w", "\n%{http_code}"] + args)
        let parts = out.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(parts.last ?? "") ?? 0, parts.dropLast().joined(separator: "\n"))
    }

    static func post(_ port: Int, _ system: String, id: String, timestamp: Int64, body: String, secret: String) async throws -> Int {
        let signature = WebhookVerifier.standardSignature(id: id, timestamp: timestamp, body: Array(body.utf8), secret: secret)
        return try await curl(["-X", "POST", "http://127.0.0.1:\(port)/hooks/\(system)", "-H", "webhook-id: \(id)",
                               "-H", "webhook-timestamp: \(timestamp)", "-H", "webhook-signature: \(signature)",
                               "--data-binary", body]).status
    }

    @Test("run: sqlite3 and file edits reach the other system, webhooks are verified and counted, SIGTERM exits 0")
    func runKeepsSystemsInSync() async throws {
        let (tmp, topo) = try Self.systems()
        let dir = tmp.path
        // Before any run: not healthy.
        let before = try await SystemTools.hubctl(["status", "-t", topo], environment: Self.environment)
        #expect(before.exitCode == 1)
        #expect(before.stdout.contains("not run"))

        let running = try HubctlProcess.start(["run", "-t", topo, "--listen", "127.0.0.1:0", "--log-format", "json",
                                               "--metrics-file", dir + "/hubctl.prom"], environment: Self.environment)
        var stopped = false
        defer { if !stopped { kill(running.pid, SIGKILL); _ = running.wait() } }
        try await Self.eventually("the listener") { Self.port(running) != nil }
        let port = try #require(Self.port(running))
        try await Self.eventually("the first cycle") {
            try String(contentsOfFile: dir + "/sheet/customers.csv", encoding: .utf8).contains("ann@example.com")
        }

        // An edit made with sqlite3 reaches the CSV file…
        try await SystemTools.must("sqlite3", [dir + "/crm.db", "UPDATE contacts SET first_name = 'Annabel' WHERE email = 'ann@example.com'"])
        try await Self.eventually("the sqlite3 edit in the CSV file") {
            try String(contentsOfFile: dir + "/sheet/customers.csv", encoding: .utf8).contains("Annabel")
        }
        // …and a row written into the file reaches the database.
        let csvPath = dir + "/sheet/customers.csv"
        let csv = try String(contentsOfFile: csvPath, encoding: .utf8)
        try (csv + "r-new,zoe@example.com,Zoe\n").write(toFile: csvPath, atomically: true, encoding: .utf8)
        try await Self.eventually("the file's new row in the database") {
            try DatabaseQueue(path: dir + "/crm.db").read { db in
                try String.fetchOne(db, sql: "SELECT first_name FROM contacts WHERE email = 'zoe@example.com'") == "Zoe"
            }
        }

        // Webhooks: a good one, a replay, a bad signature, an old timestamp, an unknown system.
        let now = Int64(Date().timeIntervalSince1970)
        let body = #"{"type":"contact.updated"}"#
        #expect(try await Self.post(port, "crm", id: "evt_1", timestamp: now, body: body, secret: Self.secret) == 200)
        #expect(try await Self.post(port, "crm", id: "evt_1", timestamp: now, body: body, secret: Self.secret) == 200)
        #expect(try await Self.post(port, "crm", id: "evt_2", timestamp: now, body: body, secret: "wrong-secret") == 401)
        #expect(try await Self.post(port, "crm", id: "evt_3", timestamp: now - 3600, body: body, secret: Self.secret) == 401)
        #expect(try await Self.post(port, "nope", id: "evt_4", timestamp: now, body: body, secret: Self.secret) == 404)

        // /metrics parses as Prometheus text and counts each outcome. The cycle that wrote Zoe's
        // row is counted when it ends, a moment after the row is there (longer on a PostgreSQL hub).
        let ok = #"hubctl_runs_total{result="ok"}"#
        var scraped = try await Self.curl(["http://127.0.0.1:\(port)/metrics"])
        var samples = try PrometheusText.parse(scraped.body)
        let deadline = Date().addingTimeInterval(60)
        while (samples[ok] ?? 0) < 3, Date() < deadline {
            try await Task.sleep(nanoseconds: 50_000_000)
            scraped = try await Self.curl(["http://127.0.0.1:\(port)/metrics"])
            samples = try PrometheusText.parse(scraped.body)
        }
        #expect(scraped.status == 200)
        #expect(samples[#"hubctl_webhook_deliveries_total{system="crm",outcome="accepted"}"#] == 1)
        #expect(samples[#"hubctl_webhook_deliveries_total{system="crm",outcome="replayed"}"#] == 1)
        #expect(samples[#"hubctl_webhook_deliveries_total{system="crm",outcome="bad_signature"}"#] == 1)
        #expect(samples[#"hubctl_webhook_deliveries_total{system="crm",outcome="stale"}"#] == 1)
        #expect(samples[#"hubctl_webhook_deliveries_total{system="",outcome="unknown_system"}"#] == 1)
        #expect((samples[ok] ?? 0) >= 3)
        #expect((samples[#"hubctl_records_total{system="crm",entity="customer",direction="push",operation="created"}"#] ?? 0) >= 1)
        #expect(samples.keys.contains { $0.hasPrefix("hubctl_run_duration_seconds_bucket") })
        #expect(samples.keys.contains { $0.hasPrefix("hubctl_last_success_timestamp_seconds{system=\"crm\"") })
        if let python = PrometheusText.python() {
            let check = try await SystemTools.run(python, ["-c", PrometheusText.pythonCheck, scraped.body])
            #expect(check.status == 0, "prometheus_client refused the text: \(check.stderr)")
        } else if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("prometheus_client is missing: scripts/with-test-services.sh installs it in .build/prom-venv")
        }
        // The metrics file holds the same format (written after each cycle).
        #expect(try PrometheusText.parse(String(contentsOfFile: dir + "/hubctl.prom", encoding: .utf8)).count > 5)
        // The dashboard is served by the same listener: its overview names the systems; on a
        // loopback listener its pages refuse a public host name, /metrics and /hooks do not.
        let overview = try await Self.curl(["http://127.0.0.1:\(port)/"])
        #expect(overview.status == 200 && overview.body.contains("crm") && overview.body.contains("Overview"))
        // Its states are the schedule's, as `status` shows them: every system × entity read, on time.
        #expect(overview.body.contains("<span class=\"badge ok\">on time</span>") && overview.body.contains(">in "))
        #expect(!overview.body.contains(">not run</span>") && !overview.body.contains(">failing</span>"))
        let rebound = try await Self.curl(["-H", "Host: sync.example.com", "http://127.0.0.1:\(port)/"])
        #expect(rebound.status == 421)
        #expect(try await Self.curl(["-H", "Host: sync.example.com", "http://127.0.0.1:\(port)/metrics"]).status == 200)
        // A status while running: healthy.
        let status = try await SystemTools.hubctl(["status", "-t", topo, "--json"], environment: Self.environment)
        #expect(status.exitCode == 0)
        #expect(try status.result()["healthy"] == true)

        kill(running.pid, SIGTERM)
        let result = running.wait()
        stopped = true
        #expect(result.exitCode == 0)
        #expect(!result.killedBySignal)
        // Every log line is JSON with a time, a level and an event; the secret appears nowhere.
        let lines = result.stderr.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try JSONParser.parse(String(line))
            #expect(object["ts"] != nil && object["level"] != nil && object["event"] != nil, "\(line)")
        }
        #expect(!result.stderr.contains(Self.secret))
        #expect(result.stderr.contains("\"event\":\"run.stopped\""))
        #expect(result.stderr.contains("\"event\":\"webhook.bad_signature\""))
        #expect(result.stderr.contains("\"event\":\"entity.synced\""))
    }

    @Test("SIGTERM during a cycle exits 0, releases the hub, and the next start completes the work")
    func sigtermMidCycleResumes() async throws {
        let (tmp, topo) = try Self.systems(csvRows: 6000)
        let dir = tmp.path
        let running = try HubctlProcess.start(["run", "-t", topo, "--listen", "off", "--log-format", "json"],
                                              environment: Self.environment)
        try await Self.eventually("the first cycle to start") {
            Self.logLines(running).contains { $0["event"] == "cycle.started" }
        }
        kill(running.pid, SIGTERM)
        let result = running.wait()
        #expect(result.exitCode == 0)
        #expect(result.stderr.contains("\"event\":\"run.stopped\""))
        // Whatever page it stopped at, the next start goes on and finishes: every row in the database.
        let once = try await SystemTools.hubctl(["run", "--once", "-t", topo, "--log-format", "json"], environment: Self.environment)
        #expect(once.exitCode == 0, "\(once.stderr)")
        let count = try await DatabaseQueue(path: dir + "/crm.db").read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM contacts") }
        #expect(count == 6001)
        let status = try await SystemTools.hubctl(["status", "-t", topo], environment: Self.environment)
        #expect(status.exitCode == 0, "\(status.stdout)")
    }

    @Test("Progress goes to stderr on a terminal, plain with NO_COLOR, and nowhere when piped")
    func progressOnlyOnATerminal() async throws {
        let (tmp, topo) = try Self.systems(csvRows: 1500)
        defer { withExtendedLifetime(tmp) {} }
        let command = "\(HubctlProcess.executable.path) sync-all -t \(topo)"
        // `script` gives the command a terminal and copies what it wrote to stdout; in the
        // PostgreSQL pass, with the hub HubctlProcess would give it.
        // (An empty NO_COLOR counts as unset, per no-color.org.)
        let environment = Self.environment.merging(EndToEndHub.variables(forFixtureIn: tmp.path)) { $1 }
        let onTTY = try await SystemTools.must("script", ["-qec", command, "/dev/null"],
                                               environment: environment.merging(["NO_COLOR": ""]) { $1 })
        #expect(onTTY.contains("\r\u{1B}[K"))
        #expect(onTTY.contains("\u{1B}[1msheet\u{1B}[0m customer pull  1,000 read"))
        let plain = try await SystemTools.must("script", ["-qec", command, "/dev/null"],
                                               environment: environment.merging(["NO_COLOR": "1"]) { $1 })
        #expect(!plain.contains("\u{1B}[1m"))
        let piped = try await SystemTools.hubctl(["sync-all", "-t", topo], environment: Self.environment)
        #expect(piped.exitCode == 0)
        #expect(piped.stderr.isEmpty)
        #expect(!piped.stdout.contains("\u{1B}"))
    }

    @Test("run --once exits 75 while another run holds the hub, and 0 with nothing due")
    func onceWhileLocked() async throws {
        let (tmp, topo) = try Self.systems()
        let dir = tmp.path
        let first = try await SystemTools.hubctl(["run", "--once", "-t", topo], environment: Self.environment)
        #expect(first.exitCode == 0, "\(first.stderr)")
        let nothing = try await SystemTools.hubctl(["run", "--once", "-t", topo, "--every", "1h"], environment: Self.environment)
        #expect(nothing.exitCode == 0)
        // A live process holds the lock (this test's own PID, with a fresh heartbeat).
        let stamp = Timestamp.string(Date())
        try FixtureHub(dir, "run.hub.sqlite").execute("""
            UPDATE run_lock SET run_id = 'other', pid = \(getpid()), host = '\(ProcessInfo.processInfo.hostName)',
                acquired_at = '\(stamp)', heartbeat_at = '\(stamp)' WHERE id = 1;
            UPDATE schedule_state SET next_due_at = '2000-01-01T00:00:00.000Z'
            """)
        let locked = try await SystemTools.hubctl(["run", "--once", "-t", topo], environment: Self.environment)
        #expect(locked.exitCode == 75)
        #expect(locked.stderr.contains("another run holds this hub"))
    }
}

/// A strict parser of the Prometheus text format (0.0.4): every line a comment or
/// `name{label="value",…} number`; returns the samples by their name and labels.
enum PrometheusText {
    struct Malformed: Error, CustomStringConvertible {
        var line: String
        var description: String { "not a Prometheus sample line: \(line)" }
    }

    static func parse(_ text: String) throws -> [String: Double] {
        var out: [String: Double] = [:]
        var typed: Set<String> = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                    throw Malformed(line: String(line))
                }
                typed.insert(String(parts[2]))
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let space = line.lastIndex(of: " ") else { throw Malformed(line: String(line)) }
            let series = String(line[..<space])
            let valueText = line[line.index(after: space)...]
            guard let value = Double(valueText) ?? (valueText == "+Inf" ? .infinity : nil) else { throw Malformed(line: String(line)) }
            let name = series.prefix { $0 != "{" }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }) else {
                throw Malformed(line: String(line))
            }
            if series.contains("{") {
                guard series.hasSuffix("}") else { throw Malformed(line: String(line)) }
                let labels = series.dropFirst(name.count + 1).dropLast()
                // label="value" pairs, comma separated; values escape \ " and newlines.
                var rest = Substring(labels)
                while !rest.isEmpty {
                    guard let eq = rest.firstIndex(of: "="), rest[rest.index(after: eq)...].hasPrefix("\"") else {
                        throw Malformed(line: String(line))
                    }
                    var i = rest.index(eq, offsetBy: 2)
                    while i < rest.endIndex && rest[i] != "\"" { i = rest.index(after: rest[i] == "\\" ? rest.index(after: i) : i) }
                    guard i < rest.endIndex else { throw Malformed(line: String(line)) }
                    rest = rest[rest.index(after: i)...]
                    if rest.hasPrefix(",") { rest = rest.dropFirst() }
                }
            }
            let base = ["_bucket", "_sum", "_count"].reduce(String(name)) { n, suffix in
                n.hasSuffix(suffix) && typed.contains(String(n.dropLast(suffix.count))) ? String(n.dropLast(suffix.count)) : n
            }
            guard typed.contains(base) else { throw Malformed(line: "no # TYPE for \(name): \(line)") }
            out[series] = value
        }
        return out
    }

    /// A Python with `prometheus_client` (`.build/prom-venv`), when one was installed.
    static func python() -> String? {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/prom-venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    static let pythonCheck = """
        import sys
        from prometheus_client.parser import text_string_to_metric_families
        families = list(text_string_to_metric_families(sys.argv[1]))
        assert any(f.name == "hubctl_webhook_deliveries" for f in families), [f.name for f in families]
        """
}
