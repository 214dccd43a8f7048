import Foundation
import HubCore

/// The T9 battery's cases. Values: each hostile value is created in one system and must reach
/// every other system byte for byte (or be refused there with a reason, where that system
/// cannot hold it), stay as it was in its source, and read back without a change on the next
/// run.
enum HostileCatalogue {
    static var all: [HostileCase] { values + identifiers + paths + connectors + apis }

    static let twoMegabytes = String(repeating: "ab;'\"\\,\n", count: 262_144)
    static let deepNesting = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)

    static let hostileValues: [HostileValue] = [
        HostileValue("quotes", #"O'Brien said "hi" and left"#),
        HostileValue("SQL injection", "x'); DROP TABLE notes; --"),
        HostileValue("SQL comments", "/* c */ -- line # hash"),
        HostileValue("semicolons and commas", #"a;b,c;;"d",,"#),
        HostileValue("NUL inside", "nul\u{0}inside\u{0}", refusedBy: ["pg"]),
        HostileValue("a leading NUL", "\u{0}start", refusedBy: ["pg"]),
        HostileValue("an = formula", #"=HYPERLINK("http://evil.example","click")"#),
        HostileValue("a + formula", "+49 30 1234"),
        HostileValue("a - formula", "-2+3"),
        HostileValue("an @ formula", "@SUM(A1:A9)"),
        HostileValue("a leading tab", "\tTAB"),
        HostileValue("a leading CR", "\rCR"),
        HostileValue("an already guarded formula", "'=1+1"),
        HostileValue("path traversal text", "../../../etc/passwd"),
        HostileValue("line breaks", "line1\r\nline2\nline3\r"),
        HostileValue("backslash escapes", #"C:\new\table \u0000 \n \""#),
        HostileValue("emoji, combining marks, RTL override", "👩‍👩‍👧 e\u{301} \u{202E}txet"),
        HostileValue("a BOM and line separators", "\u{FEFF}a\u{2028}b\u{2029}c\u{85}d"),
        HostileValue("padding", "  padded  "),
        HostileValue("JSON text", #"{"a": [1, {"b": null}]}"#),
        HostileValue("2 MB of quotes, commas and newlines", twoMegabytes, refusedBy: ["notes"]),
        HostileValue("10,000 levels of JSON nesting as text", deepNesting, refusedBy: ["notes"]),
        HostileValue("invalid UTF-8", bytes: Array("caf".utf8) + [0xE9]),
        HostileValue("overlong UTF-8", bytes: Array("a".utf8) + [0xC0, 0xAF] + Array("b".utf8)),
        HostileValue("a UTF-8 surrogate", bytes: Array("x".utf8) + [0xED, 0xA0, 0x80]),
    ]

    static func value(_ name: String) -> HostileValue { hostileValues.first { $0.name == name }! }

    static var values: [HostileCase] {
        var out: [HostileCase] = []
        for source in ["db", "sheet", "lines"] {
            out += hostileValues.map { valueCase($0, from: source, .files) }
        }
        let readable = ["quotes", "NUL inside", "an = formula", "line breaks", "emoji, combining marks, RTL override", "backslash escapes"]
        out += readable.map { valueCase(value($0), from: "notes", .files) }
        let fromSQLite = ["quotes", "SQL injection", "SQL comments", "NUL inside", "an = formula", "emoji, combining marks, RTL override",
                          "line breaks", "backslash escapes", "2 MB of quotes, commas and newlines",
                          "10,000 levels of JSON nesting as text", "invalid UTF-8"]
        out += fromSQLite.map { valueCase(value($0), from: "db", .services) }
        let fromPostgres = ["quotes", "SQL injection", "SQL comments", "an = formula", "emoji, combining marks, RTL override",
                            "line breaks", "2 MB of quotes, commas and newlines", "10,000 levels of JSON nesting as text"]
        out += fromPostgres.map { valueCase(value($0), from: "pg", .services) }
        let fromKinto = ["quotes", "SQL injection", "NUL inside", "an = formula", "emoji, combining marks, RTL override",
                         "line breaks", "backslash escapes", "10,000 levels of JSON nesting as text"]
        out += fromKinto.map { valueCase(value($0), from: "kinto", .services) }
        out += ["sheet", "lines"].map(idHoldingNULCase)
        return out
    }

    /// A record whose ID holds NUL, which no hub can keep (PostgreSQL text cannot hold it;
    /// SQLite would cut it there): quarantined as malformed in its source, the rest synced, the
    /// source file untouched, and the next run writes nothing.
    static func idHoldingNULCase(from source: String) -> HostileCase {
        HostileCase(family: families[source]!, name: "an ID holding NUL in \(source)") { run in
            let world = try await HostileValueWorld.make(.files, run, services: run.services)
            try await world.seed(source, key: "k0", text: Array("plain".utf8))
            let path = source == "sheet" ? "sheet/notes.csv" : "lines/notes.jsonl"
            let row = source == "sheet" ? Array("r".utf8) + [0] + Array("x,k1,nul id\n".utf8)
                : Array(#"{"id":"r\u0000x","key":"k1","text":"nul id"}"#.utf8) + [0x0A]
            try run.write(path, (run.bytes(path) ?? []) + row)
            let file = run.bytes(path)
            for attempt in 1...2 {
                let sync = try await run.sync(exits: [3], says: ["NUL"])
                let entries = sync.quarantined.filter { $0.system == source && $0.direction == "pull" && $0.reason == "malformed" }
                run.expectSame(entries.count == 1 && sync.quarantined.count == 1 && entries[0].message.contains("holds NUL"),
                               "run \(attempt) quarantined \(sync.quarantined)")
                run.expectSame(sync.writes == (attempt == 1 ? 3 : 0), "run \(attempt) wrote \(sync.writes) times")
            }
            for system in world.systems {
                let back = try await world.read(system)
                run.expectSame(back["k0"] == Array("plain".utf8), "\(system) lost the plain record: \(describe(back["k0"]))")
                if system != source { run.expectSame(back["k1"] == nil, "\(system) got the record whose ID holds NUL") }
            }
            run.expectSame(run.bytes(path) == file, "the source file was changed")
            await world.tearDown()
        }
    }

    static let families: [String: HostileCase.Family] = [
        "db": .sqlite, "sheet": .csv, "lines": .jsonl, "notes": .exec, "pg": .postgres, "kinto": .rest,
    ]

    static func describe(_ bytes: [UInt8]?) -> String {
        guard let bytes else { return "nothing" }
        let head = String(decoding: bytes.prefix(24), as: UTF8.self).debugDescription
        return "\(bytes.count) bytes \(head)"
    }

    static func valueCase(_ value: HostileValue, from source: String, _ kind: HostileValueWorld.Kind) -> HostileCase {
        HostileCase(family: families[source]!, name: "\(value.name) created in \(source)",
                    services: kind == .services ? [.postgres, .kinto] : []) { run in
            let world = try await HostileValueWorld.make(kind, run, services: run.services)
            try await world.seed(source, key: "k0", text: Array("plain".utf8))
            try await world.seed(source, key: "k1", text: value.bytes)
            // A person typing a guarded formula in a sheet means the text they see.
            let expected = source == "sheet" ? HostileBytes.unguarded(value.bytes) : value.bytes
            let first = try await run.sync()
            let quarantined = first.quarantined
            let explained = quarantined.filter { !$0.reason.isEmpty && !$0.message.isEmpty }
            let refused = Set(explained.filter { $0.direction == "push" }.map(\.system))
            if first.run.exitCode != (quarantined.isEmpty ? 0 : 3) {
                run.unclear("exit \(first.run.exitCode) with \(quarantined.count) quarantined")
            }
            if value.unreadable {
                run.expectSame(explained.contains { $0.system == source && $0.direction == "pull" },
                               "\(source) did not quarantine text that is not UTF-8: \(quarantined)")
            }
            for system in world.systems {
                let back = try await world.read(system)
                run.expectSame(back["k0"] == Array("plain".utf8), "\(system) lost the plain record: \(describe(back["k0"]))")
                if system == source {
                    if value.unreadable && system == "lines" {
                        let file = run.bytes("lines/notes.jsonl") ?? []
                        run.expectSame(LeakScanner.contains(file, value.bytes), "the unreadable line was changed in its file")
                    } else {
                        run.expectSame(back["k1"] == expected, "\(system) (the source) now holds \(describe(back["k1"]))")
                    }
                } else if value.unreadable {
                    run.expectSame(back["k1"] == nil, "\(system) got text that is not UTF-8 as \(describe(back["k1"]))")
                } else if let got = back["k1"] {
                    run.expectSame(got == expected, "\(system) holds \(describe(got)) instead of \(describe(expected))")
                } else {
                    run.expectSame(refused.contains(system) && value.refusedBy.contains(system),
                                   "\(system) never got the value: \(quarantined.filter { $0.system == system })")
                }
            }
            for entry in explained where entry.direction == "push" && !value.refusedBy.contains(entry.system) {
                run.changed("\(entry.system) refused the value: \(entry.reason): \(entry.message)")
            }
            let second = try await run.sync()
            run.expectSame(second.writes == 0, "the next run wrote \(second.writes) times (a value read back differently)")
            await world.tearDown()
        }
    }
}
