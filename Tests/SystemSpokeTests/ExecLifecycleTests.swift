import Foundation
import HubCore
import HubTesting
import SpokeExec
import Testing

/// Connectors start with a clean signal mask in a process group of their own, and are ended —
/// with everything they started — when they hang, misbehave or are stopped: none is left behind.
@Suite struct ExecLifecycleTests {
    /// A connector that starts a helper process (in its group), ignores SIGTERM, and hangs in
    /// `phase`: it never answers that request.
    static func hangingConnector(in phase: String) throws -> (dir: String, marker: String, spoke: ExecSpoke) {
        let dir = try ExecSpokeTests.temporaryDirectory()
        let marker = "hubctl-hang-\(UUID().uuidString)"
        try """
            import json, signal, subprocess, sys, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", sys.argv[1]])
            for line in sys.stdin:
                req = json.loads(line)
                if req["op"] == "\(phase)":
                    time.sleep(300)
                out = {"protocol": 1} if req["op"] == "open" else {"records": [], "next": None, "last": True, "results": [{"status": "updated"}]}
                out["id"] = req["id"]
                print(json.dumps(out), flush=True)
            """.write(toFile: dir + "/hang.py", atomically: true, encoding: .utf8)
        let spoke = ExecSpoke(system: "hang", command: ["python3", "hang.py", marker], directory: dir, timeout: 1, grace: 0.5)
        return (dir, marker, spoke)
    }

    @Test(arguments: ["open", "read", "write"])
    func aConnectorHangingInAPhaseIsEndedWithEverythingItStarted(_ phase: String) async throws {
        let (_, marker, spoke) = try Self.hangingConnector(in: phase)
        let binding = ObjectBinding(entity: "x", object: "things", fields: [])
        await #expect(throws: SpokeError.self) {
            _ = try await spoke.read(binding, after: nil, limit: 10)
            _ = try await spoke.write(binding, [.update(id: "a", fields: [:])])
        }
        #expect(ProcessTable.processes(withCommandLineContaining: marker).isEmpty, "left behind: \(ProcessTable.processes(withCommandLineContaining: marker))")
    }

    @Test func aConnectorStartsWithNoSignalBlockedInAProcessGroupOfItsOwn() async throws {
        let dir = try ExecSpokeTests.temporaryDirectory()
        try """
            import json, os, sys
            status = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
            for line in sys.stdin:
                req = json.loads(line)
                out = {"protocol": 1} if req["op"] == "open" else {"records": [{"id": "me", "fields": {
                    "blocked": status["SigBlk"].strip(), "ignored": status["SigIgn"].strip(),
                    "own_group": os.getpgid(0) == os.getpid()}}], "next": None, "last": True}
                out["id"] = req["id"]
                print(json.dumps(out), flush=True)
            """.write(toFile: dir + "/self.py", atomically: true, encoding: .utf8)
        let spoke = ExecSpoke(system: "self", command: ["python3", "self.py"], directory: dir, timeout: 20)
        let page = try await spoke.read(ObjectBinding(entity: "x", object: "x", fields: []), after: nil, limit: 1)
        let fields = try #require(page.records.first?.fields)
        #expect(fields["blocked"] == "0000000000000000")
        // Python ignores SIGPIPE and SIGXFSZ itself; SIGTERM, SIGINT and SIGHUP are at their defaults.
        let ignored = UInt64(fields["ignored"]?.stringValue ?? "", radix: 16) ?? .max
        #expect(ignored & (1 << (15 - 1) | 1 << (2 - 1) | 1 << (1 - 1)) == 0, "\(fields)")
        #expect(fields["own_group"] == true)
        let pid = try #require(await spoke.processID)
        await spoke.stop()
        #expect(ProcessTable.isGone(pid), "the stopped connector was reaped")
    }

    @Test func anAnswerLongerThanTheLimitFailsCleanlyAndStopsTheConnector() async throws {
        let dir = try ExecSpokeTests.temporaryDirectory()
        try """
            import json, sys
            for line in sys.stdin:
                req = json.loads(line)
                out = {"protocol": 1} if req["op"] == "open" else {"records": [{"id": "big", "fields": {"blob": "x" * 3000000}}],
                                                                   "next": None, "last": True}
                out["id"] = req["id"]
                print(json.dumps(out), flush=True)
            """.write(toFile: dir + "/big.py", atomically: true, encoding: .utf8)
        let small = ExecSpoke(system: "big", command: ["python3", "big.py"], directory: dir, timeout: 20, maxLineBytes: 1 << 20)
        let binding = ObjectBinding(entity: "x", object: "x", fields: [])
        do {
            _ = try await small.read(binding, after: nil, limit: 1)
            Issue.record("a 3 MB line was accepted with a 1 MB limit")
        } catch let error as SpokeError {
            #expect(error.kind == .malformed && error.message.contains("longer than 1 MB") && error.message.contains("max_line_mb"),
                    "\(error.message)")
        }
        #expect(await small.processID == nil, "the connector was stopped")
        // Within the limit, the same answer is read whole.
        let roomy = ExecSpoke(system: "big", command: ["python3", "big.py"], directory: dir, timeout: 20, maxLineBytes: 4 << 20)
        let page = try await roomy.read(binding, after: nil, limit: 1)
        #expect(page.records.first?.fields["blob"]?.stringValue?.count == 3_000_000)
        await roomy.stop()
    }
}
