import Foundation
import GRDB
import HubCore
import HubTestServers

/// Paths out of a system's folder, exec connectors that misbehave (hang, flood, crash, lie) and
/// REST APIs that do (repeating pages, bodies that are not what they claim, waits of an hour).
extension HostileCatalogue {
    static let dbNotes = #""db": {"adapter": "sqlite", "connection": {"path": "db.sqlite"}, "entities": {"note": {"object": "notes", "fields": {"key": "k", "text": "body"}}}}"#
    static let sheetNotes = #""sheet": {"adapter": "csv", "connection": {"path": "sheet"}, "entities": {"note": {"object": "notes.csv", "fields": {"key": "Key", "text": "Text"}}}}"#
    static let linesNotes = #""lines": {"adapter": "jsonl", "connection": {"path": "lines"}, "entities": {"note": {"object": "notes.jsonl", "fields": {"key": "key", "text": "text"}}}}"#

    /// A SQLite `db` with one note, and `system` next to it.
    static func withDatabase(_ run: HostileRun, _ system: String) throws {
        try sqlite(run, "CREATE TABLE notes (id INTEGER PRIMARY KEY, k TEXT, body TEXT); INSERT INTO notes (k, body) VALUES ('k1', 'from db');")
        try topology(run, [dbNotes, system])
    }

    static func databaseTexts(_ run: HostileRun) throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try sqliteRows(run, "SELECT k, body FROM notes").map { ($0[0], $0[1]) })
    }

    static var paths: [HostileCase] {
        let refused: [(String, HostileCase.Family, String)] = [
            ("a CSV object reaching out with ../", .csv, #"{"adapter": "csv", "connection": {"path": "sheet"}, "entities": {"note": {"object": "../../outside/notes.csv", "fields": {"key": "Key", "text": "Text"}}}}"#),
            ("a CSV object that is an absolute path", .csv, #"{"adapter": "csv", "connection": {"path": "sheet"}, "entities": {"note": {"object": "OUTSIDE/notes.csv", "fields": {"key": "Key", "text": "Text"}}}}"#),
            ("a JSON Lines object reaching out with ../", .jsonl, #"{"adapter": "jsonl", "connection": {"path": "lines"}, "entities": {"note": {"object": "sub/../../../outside/notes.jsonl", "fields": {"key": "key", "text": "text"}}}}"#),
            ("a JSON Lines object named ..", .jsonl, #"{"adapter": "jsonl", "connection": {"path": "lines"}, "entities": {"note": {"object": "..", "fields": {"key": "key", "text": "text"}}}}"#),
            ("a CSV object holding NUL", .csv, #"{"adapter": "csv", "connection": {"path": "sheet"}, "entities": {"note": {"object": "notes\u0000.csv", "fields": {"key": "Key", "text": "Text"}}}}"#),
            ("a connector's object reaching out with ../", .exec, #"{"adapter": "exec", "connection": {"command": ["python3", "NOTES", "MARKER"], "settings": {"data_dir": "notes-data"}, "timeout": 20}, "entities": {"note": {"object": "../../outside/notes", "fields": {"key": "key", "text": "text"}}}}"#),
        ]
        var out: [HostileCase] = refused.map { label, family, system in
            HostileCase(family: family, name: "\(label) is refused and nothing outside is written") { run in
                for folder in ["sheet", "lines", "notes-data"] { try FileManager.default.createDirectory(atPath: run.dir + "/" + folder, withIntermediateDirectories: true) }
                try withDatabase(run, #""other": "# + system.replacingOccurrences(of: "OUTSIDE", with: run.outside)
                    .replacingOccurrences(of: "NOTES", with: HostileValueWorld.notesConnector).replacingOccurrences(of: "MARKER", with: run.marker))
                try await run.hubctl(["sync-all"], exits: [3, 78], says: ["other"])
                run.expectSame(try databaseTexts(run) == ["k1": "from db"], "the database changed")
            }
        }
        out.append(HostileCase(family: .sqlite, name: "a SQLite path leading outside to a missing file creates nothing") { run in
            try topology(run, [#""db": {"adapter": "sqlite", "connection": {"path": "../outside/new.db"}, "entities": {"note": {"object": "notes", "fields": {"key": "k", "text": "body"}}}}"#,
                               try sheetSystem(run)])
            try await run.hubctl(["sync-all"], exits: [3], says: ["db"])
        })
        let links: [(String, HostileCase.Family, String, String, Int32, [String])] = [
            ("a CSV file linked to a file outside the folder", .csv, "sheet/notes.csv", "../../outside/notes.csv", 3, ["sheet", "outside"]),
            ("a JSON Lines file linked to a file outside the folder", .jsonl, "lines/notes.jsonl", "../../outside/notes.jsonl", 3, ["lines", "outside"]),
            ("a CSV link whose target is missing", .csv, "sheet/notes.csv", "gone.csv", 3, ["sheet", "does not exist"]),
            ("a CSV link pointing at itself", .csv, "sheet/notes.csv", "notes.csv", 3, ["sheet"]),
        ]
        out += links.map { label, family, link, target, exit, says in
            HostileCase(family: family, name: "\(label): refused, nothing outside written") { run in
                for folder in ["sheet", "lines"] { try FileManager.default.createDirectory(atPath: run.dir + "/" + folder, withIntermediateDirectories: true) }
                try FileManager.default.createSymbolicLink(atPath: run.dir + "/" + link, withDestinationPath: target)
                try withDatabase(run, family == .csv ? sheetNotes : linesNotes)
                try await run.hubctl(["sync-all"], exits: [exit], says: says)
                run.expectSame(try FileManager.default.destinationOfSymbolicLink(atPath: run.dir + "/" + link) == target, "the link was replaced")
                run.expectSame(try databaseTexts(run) == ["k1": "from db"], "the database changed")
            }
        }
        out.append(HostileCase(family: .csv, name: "a CSV file linked inside the folder is written through and the link kept") { run in
            try run.write("sheet/real/notes.csv", "id,Key,Text\nr2,k2,from sheet\n")
            try FileManager.default.createSymbolicLink(atPath: run.dir + "/sheet/notes.csv", withDestinationPath: "real/notes.csv")
            try withDatabase(run, sheetNotes)
            try await syncBothWays(run) { try databaseTexts(run) }
            run.expectSame((try? FileManager.default.destinationOfSymbolicLink(atPath: run.dir + "/sheet/notes.csv")) == "real/notes.csv", "the link was replaced")
            let leftovers = (try FileManager.default.contentsOfDirectory(atPath: run.dir + "/sheet/real")).filter { $0.hasSuffix(".hubctl-tmp") }
            run.expectSame(leftovers.isEmpty, "temporary files left: \(leftovers)")
        })
        return out
    }

    // MARK: - Exec connectors

    /// A connector whose misbehaviour is chosen by its second argument; it serves one record
    /// (`x1`, "from connector") and accepts writes, unless its mode says otherwise.
    static let hostileConnector = #"""
        import json, os, signal, subprocess, sys, time
        mode = sys.argv[2]
        def send(text):
            sys.stdout.write(text + "\n"); sys.stdout.flush()
        def answer(req, out):
            out["id"] = req["id"]; send(json.dumps(out))
        record = {"id": "x1", "fields": {"key": "x1", "text": "from connector"}}
        if mode == "exit_at_start": sys.exit(1)
        if mode == "grandchild":
            subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)", sys.argv[1]])
        if mode == "stderr_flood":
            for i in range(100000): sys.stderr.write("flood line %d %s\n" % (i, "x" * 50))
            sys.stderr.flush()
        if mode == "stderr_no_newline":
            sys.stderr.write("y" * 8000000); sys.stderr.flush()
        cursors = 0
        for line in sys.stdin:
            req = json.loads(line); op = req["op"]
            if op == "open":
                if mode == "garbage_open": send("hello, I am not JSON"); continue
                if mode == "hang_open": time.sleep(300)
                answer(req, {"protocol": 1}); continue
            if op == "read":
                if mode == "wrong_id": send(json.dumps({"id": req["id"] + 1000, "records": [record], "next": None, "last": True})); continue
                if mode == "records_string": answer(req, {"records": "nope", "next": None, "last": True}); continue
                if mode == "wrong_types":
                    answer(req, {"records": [{"id": "t1", "fields": {"key": "t1", "text": {"nested": [1, 2]}}},
                                             {"id": "t2", "fields": {"key": 42, "text": True}},
                                             {"id": "t3", "fields": {"key": ["a"], "text": 1.5}}], "next": None, "last": True}); continue
                if mode == "fields_string": answer(req, {"records": [record, {"id": "f", "fields": "not an object"}], "next": None, "last": True}); continue
                if mode == "segv": os.kill(os.getpid(), signal.SIGSEGV)
                if mode == "partial": sys.stdout.write('{"id": %d, "recor' % req["id"]); sys.stdout.flush(); sys.exit(0)
                if mode == "long_line": answer(req, {"records": [{"id": "big", "fields": {"key": "big", "text": "z" * 3000000}}], "next": None, "last": True}); continue
                if mode == "deep": send('{"id": %d, "records": [{"id": "d", "fields": {"key": "d", "text": %s%s}}], "last": true}' % (req["id"], "[" * 10000, "]" * 10000)); continue
                if mode == "cycle":
                    cursors += 1
                    answer(req, {"records": [], "next": "A" if cursors % 2 else "B", "last": False}); continue
                if mode == "endless":
                    cursors += 1
                    answer(req, {"records": [], "next": "p%d" % cursors, "last": False}); continue
                if mode == "many":
                    answer(req, {"records": [{"id": "m%d" % i, "fields": {"key": "m%d" % i, "text": "many %d" % i}} for i in range(5000)], "next": None, "last": True}); continue
                if mode == "duplicate_ids":
                    answer(req, {"records": [record, {"id": "x1", "fields": {"key": "x1", "text": "the other one"}}], "next": None, "last": True}); continue
                if mode == "null_id":
                    answer(req, {"records": [{"id": None, "fields": {"key": "n", "text": "no id"}}, record], "next": None, "last": True}); continue
                if mode == "invalid_utf8":
                    sys.stdout.buffer.write(b'{"id": %d, "records": [{"id": "u", "fields": {"key": "u", "text": "caf\xe9"}}], "last": true}\n' % req["id"]); sys.stdout.flush(); continue
                if mode == "raw_nul":
                    sys.stdout.buffer.write(b'{"id": %d, "records": [{"id": "u", "fields": {"key": "u", "text": "a\x00b"}}], "last": true}\n' % req["id"]); sys.stdout.flush(); continue
                if mode == "drip":
                    text = json.dumps({"id": req["id"], "records": [record], "next": None, "last": True}) + "\n"
                    for ch in text:
                        sys.stdout.write(ch); sys.stdout.flush(); time.sleep(0.002)
                    continue
                answer(req, {"records": [record], "next": None, "last": True}); continue
            if op == "write":
                if mode == "write_results_short": answer(req, {"results": []}); continue
                answer(req, {"results": [{"status": "created", "id": w.get("key")} if w["op"] == "create" else {"status": "updated"} for w in req["writes"]]}); continue
            if op == "check" and mode == "hang_check": time.sleep(300)
            answer(req, {"unsupported": True})
        """#

    /// A connector case: `mode`, the commands and what each must end with.
    static func connectorCase(_ name: String, _ mode: String, maxLine: Double? = nil, maxPages: Int? = nil,
                              body: @escaping @Sendable (HostileRun) async throws -> Void) -> HostileCase {
        HostileCase(family: .exec, name: name) { run in
            try run.write("hostile.py", hostileConnector)
            let extra = (maxLine.map { #", "max_line_mb": \#($0)"# } ?? "") + (maxPages.map { #", "max_pages": \#($0)"# } ?? "")
            try withDatabase(run, #""hx": {"adapter": "exec", "connection": {"command": ["python3", "hostile.py", "\#(run.marker)", "\#(mode)"], "timeout": 3\#(extra)}, "entities": {"note": {"object": "notes", "fields": {"key": "key", "text": "text"}}}}"#)
            try await body(run)
        }
    }

    /// The connector failed: exit 3, the system named, the database's record intact.
    static func connectorFails(_ name: String, _ mode: String, says: [String] = [], maxLine: Double? = nil, maxPages: Int? = nil) -> HostileCase {
        connectorCase(name, mode, maxLine: maxLine, maxPages: maxPages) { run in
            let outcome = try await run.sync(exits: [3], says: ["hx"] + says)
            run.expectSame(outcome.status("hx") != "ok", "hx reported ok")
            run.expectSame(try databaseTexts(run)["k1"] == "from db", "the database lost its record")
        }
    }

    /// The connector's records synced (or were quarantined with a reason) and the run ended.
    static func connectorSyncs(_ name: String, _ mode: String, expect records: [String: String]) -> HostileCase {
        connectorCase(name, mode) { run in
            let outcome = try await run.sync(exits: [0])
            let db = try databaseTexts(run)
            for (key, text) in records { run.expectSame(db[key] == text, "the database holds \(db[key] ?? "nothing") for \(key)") }
            run.expectSame(db["k1"] == "from db", "the database lost its record")
            run.expectSame(outcome.quarantined.isEmpty, "quarantined: \(outcome.quarantined)")
        }
    }

    static var connectors: [HostileCase] {
        var many: [String: String] = [:]
        for i in 0..<5000 { many["m\(i)"] = "many \(i)" }
        return [
            connectorFails("a connector answering open with text that is not JSON", "garbage_open"),
            connectorFails("a connector answering with another request's id", "wrong_id"),
            connectorFails("a connector whose records are a string", "records_string", says: ["not an array"]),
            connectorFails("a connector whose record's fields are a string", "fields_string", says: ["without an"]),
            connectorFails("a connector giving a record without an ID", "null_id", says: ["without an"]),
            connectorFails("a connector exiting at once", "exit_at_start"),
            connectorFails("a connector killed by SIGSEGV in read", "segv"),
            connectorFails("a connector writing half a line and exiting", "partial"),
            connectorFails("a connector answering with a line over max_line_mb", "long_line", says: ["max_line_mb"], maxLine: 1),
            connectorFails("a connector answering with 10,000 levels of nesting", "deep", says: ["nesting deeper than 512 levels"]),
            connectorFails("a connector whose cursors cycle A, B, A", "cycle", says: ["already given"]),
            connectorFails("a connector whose read never ends", "endless", says: ["max_pages"], maxPages: 20),
            connectorFails("a connector hanging in open", "hang_open", says: ["did not answer"]),
            connectorFails("a connector answering with invalid UTF-8", "invalid_utf8", says: ["not UTF-8"]),
            connectorFails("a connector answering with a raw NUL in a string", "raw_nul"),
            connectorSyncs("a connector flooding stderr with 100,000 lines", "stderr_flood", expect: ["x1": "from connector"]),
            connectorSyncs("a connector writing 8 MB to stderr without a newline", "stderr_no_newline", expect: ["x1": "from connector"]),
            connectorSyncs("a connector leaving a helper process that ignores SIGTERM", "grandchild", expect: ["x1": "from connector"]),
            connectorSyncs("a connector answering one byte at a time", "drip", expect: ["x1": "from connector"]),
            connectorSyncs("a connector answering with 5,000 records in one page", "many", expect: many),
            connectorCase("a connector giving values of the wrong types", "wrong_types") { run in
                let outcome = try await run.sync(exits: [0, 3])
                let db = try databaseTexts(run)
                // Each record either synced as its text or was quarantined with a reason.
                let quarantined = outcome.quarantined.filter { $0.system == "hx" && !$0.message.isEmpty }.count
                let synced = db.keys.filter { $0 != "k1" }.count
                run.expectSame(synced + quarantined == 3, "\(synced) synced and \(quarantined) quarantined of 3: \(db) \(outcome.quarantined)")
                run.expectSame(db["k1"] == "from db", "the database lost its record")
            },
            connectorCase("a connector giving one ID twice in a page", "duplicate_ids") { run in
                let outcome = try await run.sync(exits: [0, 3])
                let db = try databaseTexts(run)
                let x1 = db["x1"]
                run.expectSame(x1 == nil || x1 == "from connector" || x1 == "the other one", "x1 is \(x1 ?? "")")
                run.expectSame(x1 != nil || !outcome.quarantined.isEmpty, "x1 neither synced nor quarantined")
            },
            connectorCase("a connector hanging in check", "hang_check") { run in
                try await run.hubctl(["check"], exits: [1], says: ["hx"])
            },
            connectorCase("a connector answering a write batch with no results", "write_results_short") { run in
                let outcome = try await run.sync(exits: [3], says: ["hx"])
                run.expectSame(try databaseTexts(run)["x1"] == "from connector", "the connector's record did not sync")
                run.expectSame(!outcome.quarantined.isEmpty || outcome.status("hx") != "ok", "the unanswered write went unreported")
            },
        ]
    }

    // MARK: - REST APIs

    /// A fake CRM API as system `crm` (cursor pages of 10) next to the database, set up by `setup`.
    static func apiCase(_ name: String, timeout: Int = 60, setup: @escaping @Sendable (FakeCRM) async -> Void,
                        check: @escaping @Sendable (HostileRun, FakeCRM) async throws -> Void) -> HostileCase {
        HostileCase(family: .rest, name: name) { run in
            let crm = try await FakeCRM.start(token: "tok-\(UUID().uuidString)")
            await setup(crm)
            let url = await crm.url()
            run.export(["T9_CRM_TOKEN": crm.token])
            try withDatabase(run, #"""
                "crm": {"adapter": "rest", "connection": {"base_url": "\#(url)", "auth": {"type": "bearer", "token": "${T9_CRM_TOKEN}"},
                        "timeout": \#(timeout), "retry": {"max_attempts": 2, "base_delay": 0.01},
                        "endpoint": {"records": "results", "record_fields": "properties", "envelope": "properties",
                                     "pagination": {"style": "cursor", "param": "after", "next": "paging.next.after"}}},
                        "entities": {"note": {"object": "crm/v3/objects/notes", "fields": {"key": "key", "text": "text"}}}}
                """#)
            do { try await check(run, crm) } catch { await crm.stop(); throw error }
            await crm.stop()
        }
    }

    static func apiFails(_ name: String, says: [String] = [], timeout: Int = 60, setup: @escaping @Sendable (FakeCRM) async -> Void) -> HostileCase {
        apiCase(name, timeout: timeout, setup: setup) { run, _ in
            let outcome = try await run.sync(exits: [3], says: ["crm"] + says)
            run.expectSame(outcome.status("crm") != "ok", "crm reported ok")
            run.expectSame(try databaseTexts(run)["k1"] == "from db", "the database lost its record")
        }
    }

    static var apis: [HostileCase] {
        var out = [
            apiFails("an API whose cursor comes back to a page already read", says: ["already read"]) { crm in
                for i in 1...25 { await crm.add("notes", ["key": .string("c\(i)"), "text": "t"]) }
                await crm.setPaging(.cursor, repeating: true)
            },
            apiFails("an API answering with a truncated page") { await $0.inject(.init(method: "GET", nth: 1, action: .malformedBody)) },
            apiFails("an API answering with 10,000 levels of nesting", says: ["nesting deeper than 512 levels"]) {
                await $0.inject(.init(method: "GET", nth: 1, action: .body(#"{"results": "# + deepNesting + "}")))
            },
            apiFails("an API answering with text that is not UTF-8", says: ["not UTF-8"]) {
                await $0.inject(.init(method: "GET", nth: 1, action: .bytes(Array(#"{"results": [{"id": "9", "properties": {"key": "u", "text": "caf"#.utf8)
                    + [0xE9] + Array(#""}}]}"#.utf8))))
            },
            apiFails("an API answering with an empty body") { await $0.inject(.init(method: "GET", nth: 1, action: .body(""))) },
            apiFails("an API answering with an array instead of a page") { await $0.inject(.init(method: "GET", nth: 1, action: .body("[1, 2]"))) },
            apiFails("an API whose records are a string") { await $0.inject(.init(method: "GET", nth: 1, action: .body(#"{"results": "nope"}"#))) },
            apiFails("an API answering 500 every time") { crm in
                for n in 1...20 { await crm.inject(.init(nth: n, action: .status(500, retryAfter: nil))) }
            },
            apiFails("an API asking to retry in an hour") { crm in
                for n in 1...20 { await crm.inject(.init(nth: n, action: .status(429, retryAfter: .seconds(3600)))) }
            },
            apiFails("an API that hangs past the timeout", says: ["timed out"], timeout: 2) { crm in
                for n in 1...5 { await crm.inject(.init(method: "GET", nth: n, action: .delay(seconds: 20))) }
            },
            apiCase("an API giving values of the wrong types", setup: { crm in
                await crm.add("notes", ["key": "w1", "text": ["nested": [1, 2]]])
                await crm.add("notes", ["key": 42, "text": true])
                await crm.add("notes", ["text": "no key"])
            }) { run, _ in
                let outcome = try await run.sync(exits: [0, 3])
                let synced = try databaseTexts(run).keys.filter { $0 != "k1" }.count
                let quarantined = outcome.quarantined.filter { $0.system == "crm" && !$0.message.isEmpty }.count
                run.expectSame(synced + quarantined == 3, "\(synced) synced and \(quarantined) quarantined of 3: \(outcome.quarantined)")
            },
        ]
        let values = ["NUL inside", "an = formula", "SQL injection", "emoji, combining marks, RTL override", "2 MB of quotes, commas and newlines",
                      "backslash escapes"]
        out += values.map { name in
            let text = String(decoding: value(name).bytes, as: UTF8.self)
            return apiCase("\(name) travelling through an API both ways", setup: { crm in
                await crm.add("notes", ["key": "a1", "text": .string(text)])
            }) { run, crm in
                try sqlite(run, "INSERT INTO notes (k, body) VALUES ('k2', CAST(? AS TEXT))", arguments: [Data(text.utf8)])
                let outcome = try await run.sync(exits: [0])
                run.expectSame(outcome.quarantined.isEmpty, "quarantined: \(outcome.quarantined)")
                let db = try sqliteRows(run, "SELECT k, hex(body) FROM notes")
                let fromAPI = db.first { $0[0] == "a1" }?[1]
                run.expectSame(fromAPI == Data(text.utf8).map { String(format: "%02X", $0) }.joined(), "the database holds another text for a1")
                let api = await crm.records("notes").first { $0.properties["key"] == "k2" }?.properties["text"]?.stringValue
                run.expectSame(api.map { Array($0.utf8) } == Array(text.utf8), "the API holds \(describe(api.map { Array($0.utf8) }))")
                run.expectSame(try await run.sync(exits: [0]).writes == 0, "the next run wrote")
            }
        }
        return out
    }

    static func sqlite(_ run: HostileRun, _ sql: String, arguments: StatementArguments) throws {
        let queue = try DatabaseQueue(path: run.dir + "/db.sqlite")
        defer { try? queue.close() }
        try queue.write { try $0.execute(sql: sql, arguments: arguments) }
    }
}
