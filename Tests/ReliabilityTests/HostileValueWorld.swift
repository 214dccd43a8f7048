import Foundation
import GRDB
import HubCore
import HubTesting
import HubTestServers

/// A value no system may cut, repair or normalise, and the systems that may refuse it instead
/// (a quarantine entry with a reason), e.g. PostgreSQL for text holding NUL.
struct HostileValue: Sendable {
    let name: String
    let bytes: [UInt8]
    /// Systems allowed to refuse the value on push.
    var refusedBy: Set<String> = []
    /// Not valid UTF-8: every reading system must quarantine it rather than read it.
    var unreadable = false

    init(_ name: String, _ text: String, refusedBy: Set<String> = []) {
        self.name = name
        bytes = Array(text.utf8)
        self.refusedBy = refusedBy
    }

    init(_ name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
        unreadable = true
    }
}

/// Systems holding one `note` entity (a key and a text) in the sandbox of a case: either the
/// file family (SQLite, CSV, JSON Lines and the example exec connector) or the service family
/// (SQLite, PostgreSQL, Kinto). Records are seeded in any one of them and read back from all,
/// byte for byte, through each system's own tools.
struct HostileValueWorld {
    enum Kind: Sendable { case files, services }

    let run: HostileRun
    let kind: Kind
    let services: HostileServices?
    let schema: String
    let bucket: String

    var systems: [String] { kind == .files ? ["db", "sheet", "lines", "notes"] : ["db", "pg", "kinto"] }

    static let notesConnector = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("topologies/connectors/notes.py").path

    static let entity = #""entities": {"note": {"fields": {"key": {"type": "string", "required": true}, "text": {"type": "string"}}, "match": [["key"]]}}"#

    static func make(_ kind: Kind, _ run: HostileRun, services: HostileServices?) async throws -> HostileValueWorld {
        let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let world = HostileValueWorld(run: run, kind: kind, services: services, schema: "t9_\(suffix)", bucket: "t9\(suffix)")
        try world.createSQLite()
        switch kind {
        case .files:
            try run.write("sheet/notes.csv", "id,Key,Text\n")
            try run.write("lines/notes.jsonl", [])
            try HostileCatalogue.topology(run, [HostileCatalogue.dbNotes, HostileCatalogue.sheetNotes, HostileCatalogue.linesNotes, #"""
                "notes": {"adapter": "exec", "connection": {"command": ["python3", "\#(notesConnector)", "\#(run.marker)"],
                          "settings": {"data_dir": "notes-data"}, "timeout": 30},
                          "entities": {"note": {"object": "notes", "fields": {"key": "key", "text": "text"}}}}
                """#])
        case .services:
            guard let services else { throw HostileSetupError(message: "the service family needs PostgreSQL and Kinto") }
            try await services.psql("CREATE SCHEMA \(world.schema); CREATE TABLE \(world.schema).notes (id serial PRIMARY KEY, k text, body text);")
            try await services.kinto(["-X", "PUT", "\(services.kintoURL)/buckets/\(world.bucket)"])
            try await services.kinto(["-X", "PUT", "\(services.kintoURL)/buckets/\(world.bucket)/collections/notes"])
            try HostileCatalogue.topology(run, [
                HostileCatalogue.dbNotes,
                services.postgresSystem("pg", schema: world.schema, object: "notes", fields: #"{"key": "k", "text": "body"}"#),
                services.kintoSystem("kinto", bucket: world.bucket),
            ])
        }
        return world
    }

    func createSQLite() throws {
        let queue = try DatabaseQueue(path: run.dir + "/db.sqlite")
        defer { try? queue.close() }
        try queue.write { try $0.execute(sql: "CREATE TABLE notes (id INTEGER PRIMARY KEY, k TEXT, body TEXT)") }
    }

    /// Removes what the world made in the services.
    func tearDown() async {
        guard kind == .services, let services else { return }
        _ = try? await services.psql("DROP SCHEMA \(schema) CASCADE")
        _ = try? await services.kinto(["-X", "DELETE", "\(services.kintoURL)/buckets/\(bucket)"])
    }

    // MARK: - Seeding

    /// Adds a record with `key` and `text` to `system`, the way a person or program there would.
    func seed(_ system: String, key: String, text: [UInt8]) async throws {
        switch system {
        case "db":
            let queue = try DatabaseQueue(path: run.dir + "/db.sqlite")
            defer { try? queue.close() }
            try await queue.write { try $0.execute(sql: "INSERT INTO notes (k, body) VALUES (?, CAST(? AS TEXT))", arguments: [key, Data(text)]) }
        case "sheet":
            let row = Array("r\(key),\(key),\"".utf8) + text.flatMap { $0 == 0x22 ? [0x22, 0x22] : [$0] } + Array("\"\n".utf8)
            try run.write("sheet/notes.csv", (run.bytes("sheet/notes.csv") ?? []) + row)
        case "lines":
            let line = Array(#"{"id":"r\#(key)","key":"\#(key)","text":"#.utf8) + HostileBytes.jsonString(text) + Array("}\n".utf8)
            try run.write("lines/notes.jsonl", (run.bytes("lines/notes.jsonl") ?? []) + line)
        case "notes":
            var store = (run.bytes("notes-data/notes.json").flatMap { try? JSONParser.parse(String(decoding: $0, as: UTF8.self)) })
                ?? ["seq": 0, "rows": .object([:])]
            let seq = (store.value(atPath: "seq")?.intValue ?? 0) + 1
            var rows = store.value(atPath: "rows")?.objectValue ?? [:]
            rows["r\(key)"] = ["fields": ["key": .string(key), "text": .string(String(decoding: text, as: UTF8.self))],
                               "version": .int(seq), "deleted": false]
            store = ["seq": .int(seq), "rows": .object(rows)]
            try run.write("notes-data/notes.json", JSONWriter.string(store))
        case "pg":
            let hex = text.map { String(format: "%02x", $0) }.joined()
            try run.write("seed.sql", "INSERT INTO \(schema).notes (k, body) VALUES ('\(key)', convert_from(decode('\(hex)', 'hex'), 'UTF8'));")
            try await services!.psql(file: run.dir + "/seed.sql")
        case "kinto":
            try run.write("seed.json", Array(#"{"data": {"key": "\#(key)", "text": "#.utf8) + HostileBytes.jsonString(text) + Array("}}".utf8))
            try await services!.kinto(["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@" + run.dir + "/seed.json",
                                       "\(services!.kintoURL)/buckets/\(bucket)/collections/notes/records"])
        default:
            throw HostileSetupError(message: "no system \(system)")
        }
    }

    // MARK: - Reading back

    /// Every record's text in `system`, by key, as the system holds it (a CSV cell without the
    /// formula guard's quote, which the spoke reads off).
    func read(_ system: String) async throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        switch system {
        case "db":
            let queue = try DatabaseQueue(path: run.dir + "/db.sqlite")
            defer { try? queue.close() }
            for row in try await queue.read({ try Row.fetchAll($0, sql: "SELECT k, CAST(body AS BLOB) FROM notes") }) {
                out[row[0] as String? ?? "?"] = [UInt8]((row[1] as Data?) ?? Data())
            }
        case "sheet":
            let records = HostileBytes.csvRecords(run.bytes("sheet/notes.csv") ?? [])
            guard let header = records.first, let k = header.firstIndex(of: Array("Key".utf8)),
                  let t = header.firstIndex(of: Array("Text".utf8)) else { return [:] }
            for record in records.dropFirst() where record.count > max(k, t) {
                out[String(decoding: record[k], as: UTF8.self)] = HostileBytes.unguarded(record[t])
            }
        case "lines":
            for line in (run.bytes("lines/notes.jsonl") ?? []).split(separator: 0x0A) {
                guard let record = try? JSONParser.parse(String(decoding: line, as: UTF8.self)) else { continue }
                out[record.value(atPath: "key")?.stringValue ?? "?"] = Array((record.value(atPath: "text")?.stringValue ?? "").utf8)
            }
        case "notes":
            let store = try JSONParser.parse(String(decoding: run.bytes("notes-data/notes.json") ?? Array("{}".utf8), as: UTF8.self))
            for row in (store.value(atPath: "rows")?.objectValue ?? [:]).values where row.value(atPath: "deleted") != true {
                out[row.value(atPath: "fields.key")?.stringValue ?? "?"] = Array((row.value(atPath: "fields.text")?.stringValue ?? "").utf8)
            }
        case "pg":
            let text = try await services!.psql("SELECT k || ',' || coalesce(encode(convert_to(body, 'UTF8'), 'hex'), '') FROM \(schema).notes")
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
                out[String(parts[0])] = HostileBytes.hex(parts.count > 1 ? String(parts[1]) : "")
            }
        case "kinto":
            let body = try await services!.kinto(["\(services!.kintoURL)/buckets/\(bucket)/collections/notes/records"])
            for record in try JSONParser.parse(body).value(atPath: "data")?.arrayValue ?? [] {
                out[record.value(atPath: "key")?.stringValue ?? "?"] = Array((record.value(atPath: "text")?.stringValue ?? "").utf8)
            }
        default:
            break
        }
        return out
    }
}

/// Byte-level helpers for reading systems' files without trusting hubctl's own readers.
enum HostileBytes {
    /// `bytes` as a JSON string literal: quotes, backslashes and control characters escaped,
    /// every other byte (invalid UTF-8 included) as it is.
    static func jsonString(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x22]
        for b in bytes {
            switch b {
            case 0x22: out += Array(#"\""#.utf8)
            case 0x5C: out += Array(#"\\"#.utf8)
            case 0..<0x20: out += Array(String(format: "\\u%04x", b).utf8)
            default: out.append(b)
            }
        }
        return out + [0x22]
    }

    static func hex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = text.startIndex
        while let j = text.index(i, offsetBy: 2, limitedBy: text.endIndex), i < text.endIndex {
            if let b = UInt8(text[i..<j], radix: 16) { out.append(b) }
            i = j
        }
        return out
    }

    /// RFC 4180 records of a CSV file, cells as bytes (quotes doubled inside quoted cells).
    static func csvRecords(_ bytes: [UInt8]) -> [[[UInt8]]] {
        var records: [[[UInt8]]] = [], record: [[UInt8]] = [], cell: [UInt8] = []
        var quoted = false, i = 0
        while i < bytes.count {
            let c = bytes[i]
            i += 1
            if quoted {
                if c == 0x22 {
                    if i < bytes.count, bytes[i] == 0x22 { cell.append(0x22); i += 1 } else { quoted = false }
                } else {
                    cell.append(c)
                }
            } else if c == 0x22 {
                quoted = true
            } else if c == 0x2C {
                record.append(cell); cell = []
            } else if c == 0x0A || c == 0x0D {
                if c == 0x0D, i < bytes.count, bytes[i] == 0x0A { i += 1 }
                record.append(cell); cell = []
                records.append(record); record = []
            } else {
                cell.append(c)
            }
        }
        if !cell.isEmpty || !record.isEmpty { record.append(cell); records.append(record) }
        return records
    }

    /// A CSV cell as the spoke reads it: the formula guard's leading `'` taken off.
    static func unguarded(_ cell: [UInt8]) -> [UInt8] {
        guard cell.first == 0x27, let first = cell.dropFirst().first(where: { $0 != 0x27 }),
              [0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D].contains(first) else { return cell }
        return Array(cell.dropFirst())
    }
}
