import Foundation
import GRDB
import HubCore
import HubTesting
import Testing

/// Hostile data through `hubctl sync-all` between SQLite, CSV and JSON Lines, read back from
/// every system byte for byte: JSON values, NUL and odd text, formulas, invalid UTF-8, and
/// identifiers that need quoting. Each ends with a run that writes nothing.
@Suite struct FileDataSafetyEndToEndTests {
    /// A folder with `topology`, an SQLite database made by `schema`, and the given files.
    static func world(_ topology: String, schema: String, files: [String: [UInt8]]) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        try topology.write(toFile: dir.path + "/topology.json", atomically: true, encoding: .utf8)
        let queue = try DatabaseQueue(path: dir.path + "/db.sqlite")
        try queue.write { try $0.execute(sql: schema) }
        try queue.close()
        for (name, bytes) in files {
            let url = URL(fileURLWithPath: dir.path + "/" + name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        return dir
    }

    static func sync(_ dir: TemporaryDirectory, expect code: Int32 = 0) throws -> Value {
        let run = try HubctlProcess.run(["sync-all", "--json", "-t", dir.path + "/topology.json"])
        #expect(run.exitCode == code, "\(run.stdout)\(run.stderr)")
        return try run.result()
    }

    /// Everything a run wrote to the systems.
    static func writes(_ report: Value) -> [Int64] {
        ["created", "updated", "deleted"].map { report.value(atPath: "totals.push.\($0)")?.intValue ?? -1 }
    }

    static func bytes(_ dir: TemporaryDirectory, _ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.path + "/" + name)))
    }

    static func rows(_ dir: TemporaryDirectory, _ sql: String) throws -> [Row] {
        let queue = try DatabaseQueue(path: dir.path + "/db.sqlite")
        defer { try? queue.close() }
        return try queue.read { try Row.fetchAll($0, sql: sql) }
    }

    // MARK: - A missing file deletes nothing (issue 10 #1)

    @Test func aCSVFileMovedAwayDeletesNothingAndSyncsAgainWhenItIsBack() throws {
        let dir = try Self.world(Self.textTopology, schema: """
            CREATE TABLE notes (id INTEGER PRIMARY KEY, k TEXT, body TEXT);
            INSERT INTO notes (k, body) VALUES ('n1', 'one'), ('n2', 'two'), ('n3', 'three'), ('n4', 'four');
            """, files: [:])
        for folder in ["sheet", "lines"] { try FileManager.default.createDirectory(atPath: dir.path + "/" + folder, withIntermediateDirectories: true) }
        // Never synced: the missing files are simply empty, and the first push creates them.
        #expect(Self.writes(try Self.sync(dir)) == [8, 0, 0])
        let sheet = try Self.bytes(dir, "sheet/notes.csv")
        try FileManager.default.moveItem(atPath: dir.path + "/sheet/notes.csv", toPath: dir.path + "/notes.csv.away")
        let gone = try Self.sync(dir, expect: 3)
        #expect(Self.writes(gone) == [0, 0, 0], "\(gone)")
        #expect(gone.value(atPath: "systems.sheet.status") != "ok")
        #expect(try Self.rows(dir, "SELECT k FROM notes ORDER BY k").map { $0[0] as String } == ["n1", "n2", "n3", "n4"])
        #expect(String(decoding: try Self.bytes(dir, "lines/notes.jsonl"), as: UTF8.self).split(separator: "\n").count == 4)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/sheet/notes.csv"), "nothing recreated it")
        try FileManager.default.moveItem(atPath: dir.path + "/notes.csv.away", toPath: dir.path + "/sheet/notes.csv")
        #expect(Self.writes(try Self.sync(dir)) == [0, 0, 0])
        #expect(try Self.bytes(dir, "sheet/notes.csv") == sheet)
    }

    // MARK: - JSON values are replaced whole (issue 10 #6)

    static let jsonTopology = #"""
        {
          "version": 1, "name": "prefs",
          "entities": {"person": {"fields": {"email": {"type": "string", "required": true}, "prefs": {"type": "json"}},
                                   "match": [["email"]]}},
          "systems": {
            "db": {"adapter": "sqlite", "connection": {"path": "db.sqlite"},
                   "entities": {"person": {"object": "people", "fields": {"email": "email", "prefs": "prefs"}}}},
            "lines": {"adapter": "jsonl", "connection": {"path": "lines"},
                      "entities": {"person": {"object": "people.jsonl", "fields": {"email": "contact.email", "prefs": "prefs"}}}}
          }
        }
        """#

    @Test func aJSONColumnChangedInSQLiteReplacesTheJSONLValueAndNothingEchoes() throws {
        let dir = try Self.world(Self.jsonTopology, schema: """
            CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, prefs TEXT);
            INSERT INTO people VALUES (1, 'ann@example.com', '{"newsletter":true}');
            """, files: ["lines/people.jsonl": []])
        #expect(Self.writes(try Self.sync(dir)) == [1, 0, 0])
        let line = try #require(String(decoding: try Self.bytes(dir, "lines/people.jsonl"), as: UTF8.self).split(separator: "\n").first)
        let created = try JSONParser.parse(String(line))
        #expect(created.value(atPath: "prefs") == ["newsletter": true])
        #expect(created.value(atPath: "contact.email") == "ann@example.com")
        // A sibling of a mapped nested path, added by someone else, stays.
        let id = try #require(created.value(atPath: "id")?.stringValue)
        let edited = #"{"contact":{"email":"ann@example.com","phone":"555"},"id":"\#(id)","prefs":{"newsletter":true}}"#
        try Data((edited + "\n").utf8).write(to: URL(fileURLWithPath: dir.path + "/lines/people.jsonl"))

        let queue = try DatabaseQueue(path: dir.path + "/db.sqlite")
        try queue.write { try $0.execute(sql: #"UPDATE people SET prefs = '{"sms":false}' WHERE id = 1"#) }
        try queue.close()
        #expect(Self.writes(try Self.sync(dir)) == [0, 1, 0])
        #expect(String(decoding: try Self.bytes(dir, "lines/people.jsonl"), as: UTF8.self)
            == #"{"contact":{"email":"ann@example.com","phone":"555"},"id":"\#(id)","prefs":{"sms":false}}"# + "\n")
        #expect(Self.writes(try Self.sync(dir)) == [0, 0, 0])
        #expect(try Self.rows(dir, "SELECT prefs FROM people").map { $0[0] as String } == [#"{"sms":false}"#])
    }

    // MARK: - Text round-trips byte for byte (issue 10 #7)

    static let textTopology = #"""
        {
          "version": 1, "name": "text",
          "entities": {"note": {"fields": {"key": {"type": "string", "required": true}, "text": {"type": "string"}},
                                 "match": [["key"]]}},
          "systems": {
            "db": {"adapter": "sqlite", "connection": {"path": "db.sqlite"},
                   "entities": {"note": {"object": "notes", "fields": {"key": "k", "text": "body"}}}},
            "sheet": {"adapter": "csv", "connection": {"path": "sheet"},
                      "entities": {"note": {"object": "notes.csv", "fields": {"key": "Key", "text": "Text"}}}},
            "lines": {"adapter": "jsonl", "connection": {"path": "lines"},
                      "entities": {"note": {"object": "notes.jsonl", "fields": {"key": "key", "text": "text"}}}}
          }
        }
        """#

    /// Texts no system may cut, repair or normalise (the formula-looking one included).
    static let texts: [String] = [
        "CSV\u{0}NUL_TAIL", "emoji 🚀👩‍👩‍👧 flag 🇩🇪", "e\u{301}te\u{301} combining", "\u{E9}t\u{E9} precomposed",
        "two\r\nlines", "lone\rcr and lone\nlf", "say \"hi\", 'ok'; done", "=HYPERLINK(\"x\")",
    ]

    /// The text of every note in every system, by key.
    static func textsEverywhere(_ dir: TemporaryDirectory) throws -> [String: [String: [UInt8]]] {
        var out: [String: [String: [UInt8]]] = ["db": [:], "sheet": [:], "lines": [:]]
        for row in try rows(dir, "SELECT k, CAST(body AS BLOB) FROM notes") {
            out["db"]![row[0] as String] = [UInt8]((row[1] as Data?) ?? Data())
        }
        // CSV: parse with the spoke's own rules (quotes doubled, the formula guard's quote removed).
        let csv = String(decoding: try bytes(dir, "sheet/notes.csv"), as: UTF8.self)
        for record in CSVText.records(csv).dropFirst() where record.count >= 3 {
            let text = record[2].hasPrefix("'=") ? String(record[2].dropFirst()) : record[2]
            out["sheet"]![record[1]] = Array(text.utf8)
        }
        for line in String(decoding: try bytes(dir, "lines/notes.jsonl"), as: UTF8.self).split(separator: "\n") {
            let record = try JSONParser.parse(String(line))
            out["lines"]![record.value(atPath: "key")?.stringValue ?? "?"] = Array((record.value(atPath: "text")?.stringValue ?? "").utf8)
        }
        return out
    }

    @Test func awkwardTextTravelsSQLiteToCSVToJSONLAndBackByteForByte() throws {
        let inserts = Self.texts.enumerated().map { index, text in
            "INSERT INTO notes (k, body) VALUES ('n\(index)', CAST(x'\(text.utf8.map { String(format: "%02x", $0) }.joined())' AS TEXT));"
        }.joined(separator: "\n")
        let dir = try Self.world(Self.textTopology, schema: "CREATE TABLE notes (id INTEGER PRIMARY KEY, k TEXT, body TEXT);\n" + inserts,
                                 files: ["sheet/notes.csv": Array("id,Key,Text\n".utf8), "lines/notes.jsonl": []])
        #expect(Self.writes(try Self.sync(dir)) == [16, 0, 0])
        let expected = Dictionary(uniqueKeysWithValues: Self.texts.enumerated().map { ("n\($0.offset)", Array($0.element.utf8)) })
        var everywhere = try Self.textsEverywhere(dir)
        for system in ["db", "sheet", "lines"] { #expect(everywhere[system] == expected, "\(system)") }
        // The formula is guarded in the CSV file.
        #expect(String(decoding: try Self.bytes(dir, "sheet/notes.csv"), as: UTF8.self).contains(#","'=HYPERLINK(""x"")""#))
        #expect(Self.writes(try Self.sync(dir)) == [0, 0, 0])

        // Edited in the CSV file (NFD → NFC, a NUL added), the text reaches SQLite and JSON Lines as typed.
        var csv = String(decoding: try Self.bytes(dir, "sheet/notes.csv"), as: UTF8.self)
        csv = csv.replacingOccurrences(of: "e\u{301}te\u{301} combining", with: "\u{E9}t\u{E9} combining\u{0}!")
        try Data(csv.utf8).write(to: URL(fileURLWithPath: dir.path + "/sheet/notes.csv"))
        let edit = try Self.sync(dir)
        #expect(Self.writes(edit) == [0, 2, 0], "\(edit)")
        everywhere = try Self.textsEverywhere(dir)
        for system in ["db", "sheet", "lines"] {
            #expect(everywhere[system]?["n2"] == Array("\u{E9}t\u{E9} combining\u{0}!".utf8), "\(system)")
            #expect(everywhere[system]?["n0"] == Array("CSV\u{0}NUL_TAIL".utf8), "\(system)")
        }
        #expect(Self.writes(try Self.sync(dir)) == [0, 0, 0])
    }

    @Test func invalidUTF8InACSVRowIsQuarantinedAndNeverReachesTheOtherSystems() throws {
        let dir = try Self.world(Self.textTopology, schema: "CREATE TABLE notes (id INTEGER PRIMARY KEY, k TEXT, body TEXT);",
                                 files: ["sheet/notes.csv": Array("id,Key,Text\nr1,n1,good\nr2,n2,caf".utf8) + [0xE9] + Array("\n".utf8),
                                         "lines/notes.jsonl": []])
        let first = try Self.sync(dir, expect: 3)
        #expect(first.value(atPath: "quarantined")?.arrayValue?.count == 1, "\(first)")
        let reason = first.value(atPath: "quarantined")?.arrayValue?.first
        #expect(reason?.json.contains("not valid UTF-8") == true, "\(reason?.json ?? "")")
        #expect(try Self.rows(dir, "SELECT k, body FROM notes").map { [$0[0] as String, $0[1] as String] } == [["n1", "good"]])
        #expect(!String(decoding: try Self.bytes(dir, "lines/notes.jsonl"), as: UTF8.self).contains("\u{FFFD}"))
        // The unreadable row stays in the file as it was.
        #expect(try Self.bytes(dir, "sheet/notes.csv").contains(0xE9))
    }

    @Test func aSystemSetToReplaceInvalidUTF8AndNotGuardFormulasDoesBoth() throws {
        let topology = Self.textTopology.replacingOccurrences(
            of: #""connection": {"path": "sheet"}"#, with: #""connection": {"path": "sheet", "invalid_utf8": "replace", "formula_guard": false}"#)
        let dir = try Self.world(topology, schema: "CREATE TABLE notes (id INTEGER PRIMARY KEY, k TEXT, body TEXT); "
                                 + "INSERT INTO notes (k, body) VALUES ('n2', '=1+1');",
                                 files: ["sheet/notes.csv": Array("id,Key,Text\nr1,n1,caf".utf8) + [0xE9] + Array("\n".utf8),
                                         "lines/notes.jsonl": []])
        #expect(Self.writes(try Self.sync(dir)) == [4, 0, 0])
        #expect(try Self.rows(dir, "SELECT k, body FROM notes ORDER BY k").map { [$0[0] as String, $0[1] as String] }
            == [["n1", "caf\u{FFFD}"], ["n2", "=1+1"]])
        #expect(String(decoding: try Self.bytes(dir, "sheet/notes.csv"), as: UTF8.self).hasSuffix(",n2,=1+1\n"))
        #expect(Self.writes(try Self.sync(dir)) == [0, 0, 0])
    }

    // MARK: - The formula guard (issue 11 #6)

    static let guardTopology = #"""
        {
          "version": 1, "name": "guard",
          "entities": {"note": {"fields": {"key": {"type": "string", "required": true}, "text": {"type": "string"},
                                            "n": {"type": "integer"}},
                                 "match": [["key"]]}},
          "systems": {
            "db": {"adapter": "sqlite", "connection": {"path": "db.sqlite"},
                   "entities": {"note": {"object": "notes", "fields": {"key": "k", "text": "body", "n": "n"}}}},
            "sheet": {"adapter": "csv", "connection": {"path": "sheet"},
                      "entities": {"note": {"object": "notes.csv", "fields": {"key": "Key", "text": "Text", "n": "N"}}}}
          }
        }
        """#

    @Test func formulasAreGuardedInTheCSVFileAndNothingEchoes() throws {
        let values: [(String, Int)] = [("=1+1", -5), ("-5", 0), ("+49 30 1234", 7), ("@SUM(A1)", -1), ("'=x", 1), ("plain", 2),
                                       ("\tTAB", 3), ("-2+3", 4)]
        let inserts = values.enumerated().map { i, v in
            "INSERT INTO notes (k, body, n) VALUES ('k\(i)', '\(v.0.replacingOccurrences(of: "'", with: "''"))', \(v.1));"
        }.joined(separator: "\n")
        let dir = try Self.world(Self.guardTopology, schema: "CREATE TABLE notes (id INTEGER PRIMARY KEY, k TEXT, body TEXT, n INTEGER);\n"
                                 + inserts, files: ["sheet/notes.csv": Array("id,Key,Text,N\n".utf8)])
        #expect(Self.writes(try Self.sync(dir)) == [8, 0, 0])
        let csv = String(decoding: try Self.bytes(dir, "sheet/notes.csv"), as: UTF8.self)
        // Each line after the ID the sync gave the row (the hub's ID).
        let cells = csv.split(separator: "\n", omittingEmptySubsequences: false).map { $0.drop { $0 != "," }.dropFirst() }
        #expect(cells.joined(separator: "\n") == """
            Key,Text,N
            k0,'=1+1,-5
            k1,-5,0
            k2,'+49 30 1234,7
            k3,'@SUM(A1),-1
            k4,''=x,1
            k5,plain,2
            k6,'\tTAB,3
            k7,'-2+3,4

            """)
        #expect(Self.writes(try Self.sync(dir)) == [0, 0, 0])
        #expect(Self.writes(try Self.sync(dir)) == [0, 0, 0])
        // A person types a guarded formula in the sheet: SQLite gets the text they see.
        try Data(csv.replacingOccurrences(of: "k5,plain,2", with: "k5,'=2+2,2").utf8)
            .write(to: URL(fileURLWithPath: dir.path + "/sheet/notes.csv"))
        #expect(Self.writes(try Self.sync(dir)) == [0, 1, 0])
        #expect(try Self.rows(dir, "SELECT body FROM notes WHERE k = 'k5'").map { $0[0] as String } == ["=2+2"])
        #expect(Self.writes(try Self.sync(dir)) == [0, 0, 0])
        #expect(try Self.rows(dir, "SELECT body, n FROM notes ORDER BY id").map { [$0[0] as String, String($0[1] as Int)] }
            == values.enumerated().map { [$0.offset == 5 ? "=2+2" : $0.element.0, String($0.element.1)] })
    }

    // MARK: - Identifiers that need quoting (issue 11 #5)

    @Test func aTableAndColumnsNamedToBreakSQLSyncAndACanaryTableIsUntouched() throws {
        let table = #"a"); DROP TABLE canary; --"#
        let topology = #"""
            {
              "version": 1, "name": "names",
              "entities": {"note": {"fields": {"key": {"type": "string", "required": true}, "text": {"type": "string"}},
                                     "match": [["key"]]}},
              "systems": {
                "db": {"adapter": "sqlite", "connection": {"path": "db.sqlite"},
                       "entities": {"note": {"object": "a\"); DROP TABLE canary; --", "id": "id\" --",
                                             "fields": {"key": "select", "text": "x\" FROM t; --"}}}},
                "sheet": {"adapter": "csv", "connection": {"path": "sheet"},
                          "entities": {"note": {"object": "notes.csv", "fields": {"key": "Key", "text": "Text"}}}}
              }
            }
            """#
        func q(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        let dir = try Self.world(topology, schema: """
            CREATE TABLE canary (v TEXT); INSERT INTO canary VALUES ('alive');
            CREATE TABLE a (wrong INTEGER);
            CREATE TABLE \(q(table)) (\(q("id\" --")) INTEGER PRIMARY KEY, "select" TEXT, \(q("x\" FROM t; --")) TEXT);
            INSERT INTO \(q(table)) VALUES (1, 'k1', 'from db');
            """, files: ["sheet/notes.csv": Array("id,Key,Text\nr2,k2,from sheet\n".utf8)])
        let check = try HubctlProcess.run(["check", "-t", dir.path + "/topology.json"])
        #expect(check.exitCode == 0, "\(check.stdout)")
        let discover = try HubctlProcess.run(["discover", "db", "--json", "-t", dir.path + "/topology.json"])
        let objects = try discover.result().value(atPath: "objects")?.arrayValue ?? []
        let columns = objects.first { $0.value(atPath: "name")?.stringValue == table }?.value(atPath: "fields")?.arrayValue
        #expect(columns?.compactMap { $0.value(atPath: "name")?.stringValue } == ["id\" --", "select", "x\" FROM t; --"])
        #expect(Self.writes(try Self.sync(dir)) == [2, 0, 0])
        #expect(try Self.rows(dir, "SELECT \"select\", \(q("x\" FROM t; --")) FROM \(q(table)) ORDER BY 1").map { [$0[0] as String, $0[1] as String] }
            == [["k1", "from db"], ["k2", "from sheet"]])
        #expect(Self.writes(try Self.sync(dir)) == [0, 0, 0])
        #expect(try Self.rows(dir, "SELECT v FROM canary").map { $0[0] as String } == ["alive"])
        #expect(try Self.rows(dir, "SELECT count(*) FROM a").map { $0[0] as Int } == [0])
    }
}

/// A small RFC 4180 reader for checking files the tests did not write.
enum CSVText {
    static func records(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var cell = ""
        var quoted = false
        var scalars = text.unicodeScalars.makeIterator()
        var pending = scalars.next()
        while let c = pending {
            pending = scalars.next()
            if quoted {
                if c == "\"" {
                    if pending == "\"" { cell.unicodeScalars.append("\""); pending = scalars.next() } else { quoted = false }
                } else {
                    cell.unicodeScalars.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                record.append(cell); cell = ""
            } else if c == "\n" || c == "\r" {
                if c == "\r", pending == "\n" { pending = scalars.next() }
                record.append(cell); cell = ""
                records.append(record); record = []
            } else {
                cell.unicodeScalars.append(c)
            }
        }
        if !cell.isEmpty || !record.isEmpty { record.append(cell); records.append(record) }
        return records
    }
}
