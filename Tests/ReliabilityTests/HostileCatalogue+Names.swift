import Foundation
import GRDB
import HubCore
import HubTestServers

/// Identifiers that break naive SQL or file handling (tables, columns, CSV headers, JSON keys),
/// and paths that lead out of a system's folder: path traversal, absolute paths, symbolic links.
extension HostileCatalogue {
    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    static func json(_ text: String) -> String { JSONWriter.string(.string(text)) }

    static let sqlNames: [(label: String, table: String, column: String)] = [
        ("with double quotes", #"a"b"#, #"c"d"#),
        ("with a statement after a semicolon", "x; DROP TABLE canary; --", "v; DELETE FROM canary"),
        ("with comments", "/* c */ t", "-- c"),
        ("with a quote, parenthesis and comment", "Robert'); DROP TABLE canary;--", "it's"),
        ("in brackets and backticks", "[t]", "`c`"),
        ("with a tab, spaces and non-ASCII", "tab\tle 🚀", "ünï cødé"),
        ("as SQL keywords in mixed case", "Select", "FROM"),
    ]

    /// A CSV sheet holding one row, mapped as system `sheet` with the text column `textColumn`.
    static func sheetSystem(_ run: HostileRun, textColumn: String = "Text", header fileHeader: String? = nil, row: Bool = true) throws -> String {
        let header = "id,Key," + quoted(fileHeader ?? textColumn) + "\n"
        try run.write("sheet/notes.csv", header + (row ? "r2,k2,from sheet\n" : ""))
        return #""sheet": {"adapter": "csv", "connection": {"path": "sheet"}, "entities": {"note": {"object": "notes.csv", "fields": {"key": "Key", "text": \#(json(textColumn))}}}}"#
    }

    static func topology(_ run: HostileRun, _ systems: [String]) throws {
        try run.write("topology.json", "{\"version\": 1, \"name\": \"t9\", \(run.hubJSON)\(HostileValueWorld.entity), \"systems\": {\(systems.joined(separator: ",\n"))}}")
    }

    static func sqlite(_ run: HostileRun, _ sql: String) throws {
        let queue = try DatabaseQueue(path: run.dir + "/db.sqlite")
        defer { try? queue.close() }
        try queue.write { try $0.execute(sql: sql) }
    }

    static func sqliteRows(_ run: HostileRun, _ sql: String) throws -> [[String]] {
        let queue = try DatabaseQueue(path: run.dir + "/db.sqlite")
        defer { try? queue.close() }
        return try queue.read { try Row.fetchAll($0, sql: sql).map { row in row.databaseValues.map(text) } }
    }

    /// A SQLite value as text (NULL as empty text).
    static func text(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return ""
        case .int64(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return s
        case .blob(let b): return String(decoding: b, as: UTF8.self)
        }
    }

    /// Both records (k1 from the database, k2 from the sheet) in the sheet, by key.
    static func sheetTexts(_ run: HostileRun, column: String = "Text") -> [String: String] {
        let records = HostileBytes.csvRecords(run.bytes("sheet/notes.csv") ?? [])
        guard let header = records.first, let k = header.firstIndex(of: Array("Key".utf8)),
              let t = header.firstIndex(where: { HostileBytes.unguarded($0) == Array(column.utf8) })
        else { return [:] }
        var out: [String: String] = [:]
        for record in records.dropFirst() where record.count > max(k, t) {
            out[String(decoding: record[k], as: UTF8.self)] = String(decoding: HostileBytes.unguarded(record[t]), as: UTF8.self)
        }
        return out
    }

    /// Syncs twice: both records everywhere, then nothing to write.
    static func syncBothWays(_ run: HostileRun, read: () async throws -> [String: String], sheetColumn: String = "Text") async throws {
        let first = try await run.sync(exits: [0])
        run.expectSame(first.quarantined.isEmpty, "quarantined: \(first.quarantined)")
        let system = try await read()
        run.expectSame(system == ["k1": "from db", "k2": "from sheet"], "the database holds \(system)")
        let sheet = sheetTexts(run, column: sheetColumn)
        run.expectSame(sheet == ["k1": "from db", "k2": "from sheet"], "the sheet holds \(sheet)")
        let second = try await run.sync(exits: [0])
        run.expectSame(second.writes == 0, "the next run wrote \(second.writes) times")
    }

    static var identifiers: [HostileCase] {
        var out: [HostileCase] = sqlNames.map { name in
            HostileCase(family: .sqlite, name: "a table and column \(name.label)") { run in
                try sqlite(run, """
                    CREATE TABLE canary (v TEXT); INSERT INTO canary VALUES ('alive');
                    CREATE TABLE a (wrong INTEGER); CREATE TABLE x (wrong INTEGER);
                    CREATE TABLE \(quoted(name.table)) (id INTEGER PRIMARY KEY, k TEXT, \(quoted(name.column)) TEXT);
                    INSERT INTO \(quoted(name.table)) (k, \(quoted(name.column))) VALUES ('k1', 'from db');
                    """)
                try topology(run, [
                    #""db": {"adapter": "sqlite", "connection": {"path": "db.sqlite"}, "entities": {"note": {"object": \#(json(name.table)), "fields": {"key": "k", "text": \#(json(name.column))}}}}"#,
                    try sheetSystem(run),
                ])
                try await run.hubctl(["check"], exits: [0])
                try await syncBothWays(run) {
                    Dictionary(uniqueKeysWithValues: try sqliteRows(run, "SELECT k, \(quoted(name.column)) FROM \(quoted(name.table))").map { ($0[0], $0[1]) })
                }
                run.expectSame(try sqliteRows(run, "SELECT v FROM canary") == [["alive"]], "the canary table changed")
                run.expectSame(try sqliteRows(run, "SELECT count(*) FROM a UNION ALL SELECT count(*) FROM x") == [["0"], ["0"]], "another table was written")
            }
        }
        out.append(HostileCase(family: .sqlite, name: "a table name holding NUL is refused before anything is opened") { run in
            try sqlite(run, "CREATE TABLE a (id INTEGER PRIMARY KEY, k TEXT, body TEXT)")
            try topology(run, [
                #""db": {"adapter": "sqlite", "connection": {"path": "db.sqlite"}, "entities": {"note": {"object": "a\u0000b", "fields": {"key": "k", "text": "body"}}}}"#,
                try sheetSystem(run),
            ])
            try await run.hubctl(["sync-all"], exits: [78], says: ["NUL"])
            run.expectSame(try sqliteRows(run, "SELECT count(*) FROM a") == [["0"]], "table a was written")
        })
        out += sqlNames.prefix(5).map { name in
            HostileCase(family: .postgres, name: "a table and column \(name.label)", services: [.postgres]) { run in
                let services = try run.services.unwrap()
                let schema = "t9_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
                try await services.psql("""
                    CREATE SCHEMA \(schema); CREATE TABLE \(schema).canary (v text); INSERT INTO \(schema).canary VALUES ('alive');
                    CREATE TABLE \(schema).a (wrong integer); CREATE TABLE \(schema).x (wrong integer);
                    CREATE TABLE \(schema).\(quoted(name.table)) (id serial PRIMARY KEY, k text, \(quoted(name.column)) text);
                    INSERT INTO \(schema).\(quoted(name.table)) (k, \(quoted(name.column))) VALUES ('k1', 'from db');
                    """)
                try topology(run, [services.postgresSystem("pg", schema: schema, object: name.table,
                                                           fields: #"{"key": "k", "text": \#(json(name.column))}"#),
                                   try sheetSystem(run)])
                try await run.hubctl(["check"], exits: [0])
                try await syncBothWays(run) {
                    let rows = try await services.psql("SELECT k || '|' || \(quoted(name.column)) FROM \(schema).\(quoted(name.table))")
                    return Dictionary(uniqueKeysWithValues: rows.split(separator: "\n").map {
                        let parts = $0.split(separator: "|", maxSplits: 1)
                        return (String(parts[0]), String(parts[1]))
                    })
                }
                let canary = try await services.psql("SELECT v FROM \(schema).canary UNION ALL SELECT count(*)::text FROM \(schema).a")
                run.expectSame(canary == "alive\n0\n", "the canary or another table changed: \(canary)")
                _ = try? await services.psql("DROP SCHEMA \(schema) CASCADE")
            }
        }
        let headers = [("with a double quote", #"Te"xt"#), ("with a comma", "a,b"), ("with a line break", "two\nlines"),
                       ("that is a formula", "=cmd|' /C calc'!A0"), ("with a leading quote", "'quoted")]
        out += (headers.map { ($0, $1, $1) } + [("guarded by a person", "'=total", "=total")]).map { label, header, name in
            HostileCase(family: .csv, name: "a column header \(label)") { run in
                try sqlite(run, "CREATE TABLE notes (id INTEGER PRIMARY KEY, k TEXT, body TEXT); INSERT INTO notes (k, body) VALUES ('k1', 'from db');")
                try topology(run, [
                    dbNotes,
                    try sheetSystem(run, textColumn: name, header: header),
                ])
                try await syncBothWays(run, read: {
                    Dictionary(uniqueKeysWithValues: try sqliteRows(run, "SELECT k, body FROM notes").map { ($0[0], $0[1]) })
                }, sheetColumn: name)
            }
        }
        let keys = [("with a double quote", #"te"xt"#), ("named __proto__", "__proto__"),
                    ("with a backslash", #"te\xt"#), ("in Cyrillic", "текст")]
        out += keys.map { label, key in
            HostileCase(family: .jsonl, name: "a JSON key \(label)") { run in
                try sqlite(run, "CREATE TABLE notes (id INTEGER PRIMARY KEY, k TEXT, body TEXT); INSERT INTO notes (k, body) VALUES ('k1', 'from db');")
                try run.write("lines/notes.jsonl", JSONWriter.string(["id": "r2", "key": "k2", key: "from lines"]) + "\n")
                try topology(run, [
                    dbNotes,
                    #""lines": {"adapter": "jsonl", "connection": {"path": "lines"}, "entities": {"note": {"object": "notes.jsonl", "fields": {"key": "key", "text": \#(json(key))}}}}"#,
                ])
                let first = try await run.sync(exits: [0])
                run.expectSame(first.quarantined.isEmpty, "quarantined: \(first.quarantined)")
                let db = Dictionary(uniqueKeysWithValues: try sqliteRows(run, "SELECT k, body FROM notes").map { ($0[0], $0[1]) })
                run.expectSame(db == ["k1": "from db", "k2": "from lines"], "the database holds \(db)")
                var lines: [String: String] = [:]
                for line in String(decoding: run.bytes("lines/notes.jsonl") ?? [], as: UTF8.self).split(separator: "\n") {
                    let record = try JSONParser.parse(String(line)).objectValue ?? [:]
                    lines[record["key"]?.stringValue ?? "?"] = record[key]?.stringValue
                }
                run.expectSame(lines == ["k1": "from db", "k2": "from lines"], "the file holds \(lines)")
                run.expectSame(try await run.sync(exits: [0]).writes == 0, "the next run wrote")
            }
        }
        out.append(HostileCase(family: .jsonl, name: "a JSON key holding NUL is refused before anything is opened") { run in
            try sqlite(run, "CREATE TABLE notes (id INTEGER PRIMARY KEY, k TEXT, body TEXT); INSERT INTO notes (k, body) VALUES ('k1', 'from db');")
            try run.write("lines/notes.jsonl", [])
            try topology(run, [
                dbNotes,
                #""lines": {"adapter": "jsonl", "connection": {"path": "lines"}, "entities": {"note": {"object": "notes.jsonl", "fields": {"key": "key", "text": "te\u0000xt"}}}}"#,
            ])
            try await run.hubctl(["sync-all"], exits: [78], says: ["NUL"])
            run.expectSame(run.bytes("lines/notes.jsonl") == [], "the file was written")
        })
        return out
    }
}

extension Optional {
    func unwrap() throws -> Wrapped {
        guard let self else { throw HostileSetupError(message: "needs PostgreSQL and Kinto: run scripts/with-test-services.sh swift test") }
        return self
    }
}
