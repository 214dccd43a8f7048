import Foundation
import HubCore
import HubTesting
import HubTestServers
import Testing

/// The built hubctl against systems that misbehave: a REST API whose pages come round again in
/// each pagination style, a connector repeating its cursor, connectors that hang, and hubctl
/// itself stopped mid-run. The run ends, the other systems sync, and no connector is left behind.
@Suite struct HostileSystemsEndToEndTests {
    static let connectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("topologies/connectors").path

    /// A topology with a CSV sheet and `systems` (JSON members of "systems").
    static func topology(_ systems: String) -> String {
        """
        {"version": 1, "name": "hostile",
         "entities": {"customer": {"fields": {"email": {"type": "string", "required": true}, "name": {"type": "string"}},
                                   "match": [["email"]]}},
         "systems": {
           "sheet": {"adapter": "csv", "entities": {"customer": {"object": "customers.csv", "id": "ID",
                     "fields": {"email": "Email", "name": "Name"}}}},
           \(systems)
         }}
        """
    }

    /// Runs hubctl, killing it (and failing) if it has not ended within `seconds`.
    static func run(_ arguments: [String], in dir: String, environment: [String: String] = [:],
                    seconds: Double = 120) async throws -> HubctlProcess.Result {
        let running = try HubctlProcess.start(arguments, in: dir, environment: environment)
        let deadline = Date().addingTimeInterval(seconds)
        while running.process.isRunning && Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
        if running.process.isRunning {
            Issue.record("hubctl \(arguments.joined(separator: " ")) did not end within \(Int(seconds)) s")
            kill(running.pid, SIGKILL)
        }
        return running.wait()
    }

    /// Processes whose command line holds `marker`, polled until none is left or 15 s passed.
    static func leftovers(_ marker: String) async throws -> [String] {
        let deadline = Date().addingTimeInterval(15)
        while true {
            let found = ProcessTable.processes(withCommandLineContaining: marker)
            if found.isEmpty || Date() > deadline { return found }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
    }


    static func sheet(in dir: String) throws {
        try "ID,Email,Name\nr1,ann@example.com,Ann\nr2,bob@example.com,Bob\n"
            .write(toFile: dir + "/customers.csv", atomically: true, encoding: .utf8)
    }

    static let paginations: [(String, String)] = [
        ("cursor", #"{"style": "cursor", "param": "after", "next": "paging.next.after"}"#),
        ("header", #"{"style": "header", "header": "Next-Page"}"#),
        ("link", #"{"style": "link"}"#),
        ("next_url", #"{"style": "next_url", "next": "paging.next.link"}"#),
        ("page", #"{"style": "page", "param": "page"}"#),
        ("offset", #"{"style": "offset", "param": "offset"}"#),
    ]

    @Test(arguments: paginations.map(\.0))
    func anAPIWhosePagesComeRoundAgainFailsItsSystemAndTheRunEnds(_ style: String) async throws {
        let tmp = try TemporaryDirectory()
        let crm = try await FakeCRM.start(token: "tok-\(UUID().uuidString)")
        for i in 1...25 { await crm.add("contacts", ["email": .string("c\(i)@example.com")]) }
        await crm.setPaging(FakeCRM.Paging(rawValue: style)!, repeating: true)
        let pagination = Self.paginations.first { $0.0 == style }!.1
        try Self.topology("""
            "crm": {"adapter": "rest", "connection": {"base_url": "\(await crm.url())", "auth": {"type": "bearer", "token": "${CRM_TOKEN}"},
                    "endpoint": {"records": "results", "record_fields": "properties", "envelope": "properties", "pagination": \(pagination)}},
                    "entities": {"customer": {"object": "crm/v3/objects/contacts", "fields": {"email": "email", "name": "name"}}}}
            """).write(toFile: tmp.path + "/topology.json", atomically: true, encoding: .utf8)
        try Self.sheet(in: tmp.path)
        let run = try await Self.run(["sync-all", "-t", "topology.json"], in: tmp.path, environment: ["CRM_TOKEN": crm.token])
        #expect(run.exitCode == 3, "\(style): \(run.stdout)\(run.stderr)")
        #expect((run.stdout + run.stderr).contains("crm"), "\(style)")
        #expect((run.stdout + run.stderr).contains("came back to a page already read"), "\(style): \(run.stdout)\(run.stderr)")
        let requests = await crm.requests.count
        #expect(requests <= 10, "\(style): \(requests) requests")
        // The sheet synced its two customers; the CRM's first page (10 records), read before the
        // repeat showed, stays synced.
        let entities = try FixtureHub(tmp.path, "hostile.hub.sqlite").int("SELECT count(*) FROM entity")
        #expect(entities == 12, "\(style)")
        await crm.stop()
    }

    @Test func aConnectorRepeatingItsCursorFailsItsSystemAndTheRunEnds() async throws {
        let tmp = try TemporaryDirectory()
        try """
            import json, sys
            for line in sys.stdin:
                req = json.loads(line)
                if req["op"] == "open": out = {"protocol": 1}
                elif req["op"] == "read": out = {"records": [{"id": "a", "fields": {"email": "zed@example.com"}}], "next": "p1", "last": False}
                else: out = {"unsupported": True}
                out["id"] = req["id"]
                print(json.dumps(out), flush=True)
            """.write(toFile: tmp.path + "/loop.py", atomically: true, encoding: .utf8)
        try Self.topology("""
            "loop": {"adapter": "exec", "connection": {"command": ["python3", "loop.py"], "timeout": 20},
                     "entities": {"customer": {"object": "customers", "fields": {"email": "email", "name": "name"}}}}
            """).write(toFile: tmp.path + "/topology.json", atomically: true, encoding: .utf8)
        try Self.sheet(in: tmp.path)
        let run = try await Self.run(["sync-all", "-t", "topology.json"], in: tmp.path)
        #expect(run.exitCode == 3, "\(run.stdout)\(run.stderr)")
        #expect((run.stdout + run.stderr).contains("already given in this read"), "\(run.stdout)\(run.stderr)")
    }

    /// A topology whose connector hangs in `phase` (ignoring SIGTERM, with a helper process in
    /// its group) after writing its PID to `started`, and a marker to find its processes by.
    /// `timeout` is the connector's timeout: short to see it time out, long where the test itself
    /// interrupts hubctl (so a busy machine cannot let the timeout win the race).
    static func hangingWorld(_ phase: String, watchParent: Bool = false, timeout: Int = 2) throws -> (TemporaryDirectory, String) {
        let tmp = try TemporaryDirectory()
        let marker = "hubctl-e2e-hang-\(UUID().uuidString)"
        try """
            import json, os, signal, subprocess, sys, threading, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", sys.argv[1]])
            def exit_when_orphaned():
                parent = os.getppid()
                while True:
                    time.sleep(0.2)
                    if os.getppid() != parent:
                        os.killpg(0, signal.SIGKILL)
            if \(watchParent ? "True" : "False"):
                threading.Thread(target=exit_when_orphaned, daemon=True).start()
            for line in sys.stdin:
                req = json.loads(line)
                if req["op"] == "\(phase)":
                    open("started", "w").write(str(os.getpid()))
                    time.sleep(300)
                if req["op"] == "open": out = {"protocol": 1}
                elif req["op"] == "read": out = {"records": [], "next": None, "last": True}
                elif req["op"] == "write": out = {"results": [{"status": "created", "id": w.get("key")} for w in req["writes"]]}
                else: out = {"unsupported": True}
                out["id"] = req["id"]
                print(json.dumps(out), flush=True)
            """.write(toFile: tmp.path + "/hang.py", atomically: true, encoding: .utf8)
        try topology("""
            "hang": {"adapter": "exec", "connection": {"command": ["python3", "hang.py", "\(marker)"], "timeout": \(timeout)},
                     "entities": {"customer": {"object": "customers", "fields": {"email": "email", "name": "name"}}}}
            """).write(toFile: tmp.path + "/topology.json", atomically: true, encoding: .utf8)
        try sheet(in: tmp.path)
        return (tmp, marker)
    }

    @Test(arguments: ["open", "read", "write"])
    func aConnectorHangingInAPhaseTimesOutAndNothingIsLeftRunning(_ phase: String) async throws {
        let (tmp, marker) = try Self.hangingWorld(phase)
        let run = try await Self.run(["sync-all", "-t", "topology.json"], in: tmp.path)
        #expect(run.exitCode == 3, "\(phase): \(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("did not answer") || run.stdout.contains("did not answer"), "\(phase): \(run.stdout)\(run.stderr)")
        let left = try await Self.leftovers(marker)
        #expect(left.isEmpty, "\(phase): \(left.count) connector processes left running")
    }

    /// Starts a run, waits until its connector hangs, and sends hubctl `signal`.
    static func interrupt(_ tmp: TemporaryDirectory, with signal: Int32) async throws -> HubctlProcess.Result {
        let running = try HubctlProcess.start(["sync-all", "-t", "topology.json"], in: tmp.path)
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: tmp.path + "/started") && Date() < deadline {
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(FileManager.default.fileExists(atPath: tmp.path + "/started"), "the connector never got the request")
        kill(running.pid, signal)
        let stop = Date().addingTimeInterval(30)
        while running.process.isRunning && Date() < stop { try await Task.sleep(nanoseconds: 50_000_000) }
        if running.process.isRunning { kill(running.pid, SIGKILL) }
        return running.wait()
    }

    @Test func hubctlStoppedBySIGTERMEndsItsConnectorsFirst() async throws {
        let (tmp, marker) = try Self.hangingWorld("read", timeout: 120)
        let result = try await Self.interrupt(tmp, with: SIGTERM)
        #expect(result.killedBySignal && result.exitCode == SIGTERM, "\(result.exitCode) \(result.stderr)")
        let left = try await Self.leftovers(marker)
        #expect(left.isEmpty, "\(left.count) connector processes left running")
    }

    @Test func aConnectorWatchingItsParentEndsWhenHubctlIsKilled() async throws {
        let (tmp, marker) = try Self.hangingWorld("read", watchParent: true, timeout: 120)
        let result = try await Self.interrupt(tmp, with: SIGKILL)
        #expect(result.killedBySignal && result.exitCode == SIGKILL)
        let left = try await Self.leftovers(marker)
        #expect(left.isEmpty, "\(left.count) connector processes left running")
    }

    @Test func theExampleConnectorEndsWhenHubctlIsKilledWhileItIsIdle() async throws {
        let tmp = try TemporaryDirectory()
        let marker = "hubctl-e2e-notes-\(UUID().uuidString)"
        try Self.topology("""
            "notes": {"adapter": "exec", "connection": {"command": ["python3", "\(Self.connectors)/notes.py", "\(marker)"],
                      "settings": {"data_dir": "notes-data"}, "tombstones": true},
                      "entities": {"customer": {"object": "customers", "cursor": "version", "fields": {"email": "email", "name": "name"}}}}
            """).write(toFile: tmp.path + "/topology.json", atomically: true, encoding: .utf8)
        try Self.sheet(in: tmp.path)
        let run = try await Self.run(["sync-all", "-t", "topology.json"], in: tmp.path)
        #expect(run.exitCode == 0, "\(run.stdout)\(run.stderr)")
        #expect(try await Self.leftovers(marker).isEmpty, "the connector outlived a finished run")
    }
}
