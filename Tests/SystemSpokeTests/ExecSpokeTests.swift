import Foundation
import HubCore
import HubTesting
import SpokeExec
import Testing

@Suite struct ExecSpokeTests {
    /// The repository's topologies/ folder, where the example connector is.
    static let topologies = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("topologies").path

    static func notes(_ directory: String, secrets: Set<String> = []) -> ExecSpoke {
        ExecSpoke(system: "notes", command: ["python3", topologies + "/connectors/notes.py"], directory: directory,
                  settings: ["data_dir": "data"], tombstones: true, timeout: 20, secrets: secrets)
    }

    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hubctl-exec-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func theExampleConnectorPassesTheConformanceSuite() async throws {
        try await SpokeConformance {
            let dir = try Self.temporaryDirectory()
            return SpokeConformance.Subject(
                spoke: Self.notes(dir),
                binding: ObjectBinding(entity: "note", object: "notes", idField: "id", cursorField: "version",
                                       fields: ["name", "score"]))
        }.run()
    }

    @Test func deletesComeBackAsTombstonesFromTheConnector() async throws {
        let spoke = Self.notes(try Self.temporaryDirectory())
        let binding = ObjectBinding(entity: "note", object: "notes", cursorField: "version", fields: ["name"])
        _ = try await spoke.write(binding, [.create(key: "a", fields: ["name": "A"]), .create(key: "b", fields: ["name": "B"])])
        let first = try await spoke.read(binding, after: nil, limit: 10)
        #expect(first.records.map(\.id) == ["a", "b"])
        _ = try await spoke.write(binding, [.delete(id: "a")])
        let next = try await spoke.read(binding, after: first.next, limit: 10)
        #expect(next.deleted == ["a"] && next.records.isEmpty)
        await spoke.stop()
    }

    @Test func aConnectorThatPrintsSomethingElseIsAMalformedAnswer() async throws {
        let dir = try Self.temporaryDirectory()
        let script = dir + "/bad.py"
        try "import sys\nfor line in sys.stdin:\n    print('hello', flush=True)\n".write(toFile: script, atomically: true, encoding: .utf8)
        let spoke = ExecSpoke(system: "bad", command: ["python3", "bad.py"], directory: dir, timeout: 20)
        do {
            _ = try await spoke.read(ObjectBinding(entity: "x", object: "x", fields: []), after: nil, limit: 10)
            Issue.record("a garbage answer was accepted")
        } catch let error as SpokeError {
            #expect(error.kind == .malformed && error.message.contains("not a JSON object"))
        }
    }

    /// A connector answering a read with `answer` (Python bytes, `%d` for the request's id).
    static func readAnswering(_ answer: String) async throws -> SpokeError? {
        let dir = try Self.temporaryDirectory()
        try """
            import json, sys
            for line in sys.stdin:
                req = json.loads(line)
                if req["op"] == "open": print(json.dumps({"id": req["id"], "protocol": 1}), flush=True); continue
                sys.stdout.buffer.write((\(answer)) % req["id"] + b"\\n"); sys.stdout.flush()
            """.write(toFile: dir + "/odd.py", atomically: true, encoding: .utf8)
        let spoke = ExecSpoke(system: "odd", command: ["python3", "odd.py"], directory: dir, timeout: 20)
        defer { Task { await spoke.stop() } }
        do {
            let page = try await spoke.read(ObjectBinding(entity: "x", object: "x", fields: ["text"]), after: nil, limit: 10)
            Issue.record("the answer was accepted as \(page.records)")
            return nil
        } catch let error as SpokeError {
            return error
        }
    }

    @Test func anAnswerThatIsNotUTF8IsMalformedAndNeverRepaired() async throws {
        let error = try await Self.readAnswering(#"b'{"id": %d, "records": [{"id": "u", "fields": {"text": "caf\xe9"}}], "last": true}'"#)
        #expect(error?.kind == .malformed && error?.message.contains("not UTF-8") == true, "\(String(describing: error))")
    }

    @Test func recordsThatAreNotAnArrayAreMalformedRatherThanAnEmptyPage() async throws {
        let error = try await Self.readAnswering(#"b'{"id": %d, "records": "nope", "last": true}'"#)
        #expect(error?.kind == .malformed && error?.message.contains("not an array") == true, "\(String(describing: error))")
    }

    @Test func anAnswerNestedTooDeeplySaysWhy() async throws {
        let error = try await Self.readAnswering(#"b'{"id": %d, "records": [{"id": "d", "fields": {"text": ' + b'[' * 10000 + b']' * 10000 + b'}}], "last": true}'"#)
        #expect(error?.kind == .malformed && error?.message.contains("nesting deeper than 512 levels") == true, "\(String(describing: error))")
    }

    @Test func aConnectorThatExitsIsUnavailableAndItsErrorsHideSecrets() async throws {
        let dir = try Self.temporaryDirectory()
        let secret = "hubctl-canary-5ec7e7"
        try "import sys\nsys.stdin.readline()\nprint('token is \(secret)', file=sys.stderr)\nsys.exit(3)\n"
            .write(toFile: dir + "/dies.py", atomically: true, encoding: .utf8)
        let spoke = ExecSpoke(system: "dies", command: ["python3", "dies.py"], directory: dir, timeout: 20, secrets: [secret])
        do {
            _ = try await spoke.read(ObjectBinding(entity: "x", object: "x", fields: []), after: nil, limit: 10)
            Issue.record("a dead connector answered")
        } catch let error as SpokeError {
            #expect(error.kind == .unavailable && error.message.contains("closed its output"))
            #expect(!error.description.contains(secret))
        }
    }

    @Test func aConnectorThatNeverAnswersTimesOut() async throws {
        let dir = try Self.temporaryDirectory()
        try "import sys, time\nsys.stdin.readline()\ntime.sleep(30)\n".write(toFile: dir + "/slow.py", atomically: true, encoding: .utf8)
        let spoke = ExecSpoke(system: "slow", command: ["python3", "slow.py"], directory: dir, timeout: 0.5)
        await #expect(throws: SpokeError.self) {
            _ = try await spoke.read(ObjectBinding(entity: "x", object: "x", fields: []), after: nil, limit: 10)
        }
    }
}

extension ExecSpokeTests {
    @Test func callsFromSeveralTasksAreAnsweredOneAfterAnother() async throws {
        let spoke = Self.notes(try Self.temporaryDirectory())
        let binding = ObjectBinding(entity: "note", object: "notes", fields: ["name"])
        _ = try await spoke.write(binding, (0..<5).map { .create(key: "k\($0)", fields: ["name": .string("n\($0)")]) })
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { try await spoke.read(binding, after: nil, limit: 100).records.count } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(counts == Array(repeating: 5, count: 8))
        await spoke.stop()
    }
}

extension ExecSpokeTests {
    @Test func theConnectorFindsCreatesByKeyAndCountsItsRecords() async throws {
        let spoke = Self.notes(try Self.temporaryDirectory())
        let binding = ObjectBinding(entity: "note", object: "notes", fields: ["name"])
        _ = try await spoke.write(binding, [.create(key: "k1", fields: ["name": "a"]), .create(key: "k2", fields: ["name": "b"]),
                                            .delete(id: "k2")])
        #expect(try await spoke.lookupCreated(binding, keys: ["k1", "k2", "k3"]) == ["k1": "k1"])
        #expect(try await spoke.count(binding) == 1)
        await spoke.stop()
    }

    @Test func aConnectorWithoutTheOptionalOpsCannotTell() async throws {
        let dir = try Self.temporaryDirectory()
        try """
            import json, sys
            for line in sys.stdin:
                req = json.loads(line)
                if req["op"] == "open": out = {"protocol": 1}
                elif req["op"] == "count": out = {"unsupported": True}
                else: out = {"error": {"kind": "configuration", "message": "unknown op " + req["op"]}}
                out["id"] = req["id"]
                print(json.dumps(out), flush=True)
            """.write(toFile: dir + "/old.py", atomically: true, encoding: .utf8)
        let spoke = ExecSpoke(system: "old", command: ["python3", "old.py"], directory: dir, timeout: 20)
        let binding = ObjectBinding(entity: "x", object: "x", fields: [])
        #expect(try await spoke.lookupCreated(binding, keys: ["k"]) == nil)
        #expect(try await spoke.count(binding) == nil)
        await spoke.stop()
    }
}
