import Foundation
import HubCore
import HubTesting
import HubTestServers
import Testing

/// A Kinto collection mapped with dotted paths (`contact.email`, `contact.name.first`,
/// `contact.phone`): Kinto's PATCH replaces top-level keys whole, so hubctl sends the whole
/// `contact` object, built from the record as it is now. Every sibling survives — mapped or
/// not — through fills and edits, and the run after is quiet.
@Suite(.enabled(if: TestServices.runKintoTests, "needs Kinto: run scripts/with-test-services.sh swift test"))
struct KintoNestedWritesEndToEndTests {
    struct World {
        let dir: TemporaryDirectory
        let root: String
        let user: String
        let password: String
        let bucket: String
        var records: String { "\(root)/buckets/\(bucket)/collections/people/records" }
        var auth: [String] { ["-u", "\(user):\(password)"] }
        var environment: [String: String] { ["KINTO_URL": root, "KINTO_USER": user, "KINTO_PASSWORD": password, "KINTO_BUCKET": bucket] }

        func hubctl(_ arguments: [String]) async throws -> HubctlProcess.Result {
            try await SystemTools.hubctl(arguments + ["-t", dir.path + "/topology.json"], environment: environment)
        }

        /// Every Kinto record's data, by its contact email.
        func people() async throws -> [String: Value] {
            let body = try await SystemTools.must("curl", ["-fsS"] + auth + [records + "?_limit=1000"])
            var out: [String: Value] = [:]
            for record in try JSONParser.parse(body).value(atPath: "data")?.arrayValue ?? [] {
                out[record.value(atPath: "contact.email")?.stringValue ?? "?"] = record
            }
            return out
        }

        func patch(_ id: String, _ data: String) async throws {
            try await SystemTools.must("curl", ["-fsS", "-X", "PATCH", "\(records)/\(id)", "-H", "Content-Type: application/json",
                                                "-d", #"{"data": \#(data)}"#] + auth)
        }
    }

    static func make() async throws -> World {
        let root = try TestServices.requireKinto()
        let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let world = World(dir: try TemporaryDirectory(), root: root, user: "n\(token.prefix(10))", password: "pw-\(token)",
                          bucket: "n\(token.prefix(8))")
        try await SystemTools.must("curl", ["-fsS", "-X", "PUT", "\(root)/accounts/\(world.user)", "-H", "Content-Type: application/json",
                                            "-d", #"{"data": {"password": "\#(world.password)"}}"#])
        try await SystemTools.must("curl", ["-fsS", "-X", "PUT", "\(root)/buckets/\(world.bucket)"] + world.auth)
        try await SystemTools.must("curl", ["-fsS", "-X", "PUT", "\(root)/buckets/\(world.bucket)/collections/people"] + world.auth)
        // 40 people in Kinto: phones missing for every 7th, each with siblings the mapping does
        // not know (`contact.name.last`, `contact.note`, a top-level `tags`).
        var sheet = "ID,Email,First,Phone\n"
        for i in 0..<40 {
            let phone = i % 7 == 0 ? "" : #", "phone": "555-\#(i)""#
            try await SystemTools.must("curl", ["-fsS", "-X", "POST", world.records, "-H", "Content-Type: application/json", "-d", """
                {"data": {"contact": {"email": "p\(i)@example.com", "name": {"first": "P\(i)", "last": "L\(i)"}, "note": "n\(i)"\(phone)},
                          "tags": ["t\(i)"]}}
                """] + world.auth)
            sheet += "r\(i),p\(i)@example.com,P\(i),555-\(i)\n"
        }
        try sheet.write(toFile: world.dir.path + "/people.csv", atomically: true, encoding: .utf8)
        try """
            {"version": 1, "name": "people",
             "entities": {"person": {"fields": {"email": {"type": "string", "required": true}, "first": {"type": "string"},
                                                "phone": {"type": "string"}},
                                     "match": [["email"]]}},
             "systems": {
               "kinto": {"adapter": "rest",
                 "connection": {"base_url": "${KINTO_URL}", "auth": {"type": "basic", "username": "${KINTO_USER}", "password": "${KINTO_PASSWORD}"},
                                "endpoint": {"records": "data", "record": "data", "envelope": "data", "limit_param": "_limit",
                                             "since_param": "_since", "query": {"_sort": "last_modified"},
                                             "pagination": {"style": "header", "header": "Next-Page"},
                                             "tombstone": {"field": "deleted", "value": true}}},
                 "entities": {"person": {"object": "people", "cursor": "last_modified",
                   "endpoint": {"path": "buckets/${KINTO_BUCKET}/collections/people/records"},
                   "fields": {"email": "contact.email", "first": "contact.name.first", "phone": "contact.phone"}}}},
               "sheet": {"adapter": "csv", "entities": {"person": {"object": "people.csv", "id": "ID",
                 "fields": {"email": "Email", "first": "First", "phone": "Phone"}}}}
             }}
            """.write(toFile: world.dir.path + "/topology.json", atomically: true, encoding: .utf8)
        return world
    }

    /// Every record has all its siblings, mapped or not, with the expected first name and phone.
    static func expectIntact(_ people: [String: Value], first: (Int) -> String, _ note: String) {
        #expect(people.count == 40, "\(note): \(people.count) records")
        for i in 0..<40 {
            guard let p = people["p\(i)@example.com"] else { Issue.record("\(note): p\(i) lost its email"); continue }
            #expect(p.value(atPath: "contact.name.first")?.stringValue == first(i), "\(note): p\(i) \(p.json)")
            #expect(p.value(atPath: "contact.name.last")?.stringValue == "L\(i)", "\(note): p\(i) \(p.json)")
            #expect(p.value(atPath: "contact.note")?.stringValue == "n\(i)", "\(note): p\(i) \(p.json)")
            #expect(p.value(atPath: "contact.phone")?.stringValue == "555-\(i)", "\(note): p\(i) \(p.json)")
            #expect(p.value(atPath: "tags") == .array([.string("t\(i)")]), "\(note): p\(i) \(p.json)")
        }
    }

    /// Records a run created, updated or deleted in `system` (from `sync-all --json`).
    static func updated(_ run: HubctlProcess.Result, system: String) throws -> Int64 {
        let entities = try #require(try run.result().value(atPath: "systems")?.objectValue?[system]?.value(atPath: "entities")?.objectValue,
                                    "\(run.stdout)")
        return entities.values.reduce(0) { sum, entity in
            sum + ["created", "updated", "deleted"].reduce(0) { $0 + (entity.value(atPath: "push.\($1)")?.intValue ?? 0) }
        }
    }

    @Test func fillsAndEditsUnderANestedObjectKeepEverySibling() async throws {
        let world = try await Self.make()
        let first = try await world.hubctl(["sync-all"])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")
        Self.expectIntact(try await world.people(), first: { "P\($0)" }, "after filling 6 phones")

        let quiet = try await world.hubctl(["sync-all", "--json"])
        #expect(quiet.exitCode == 0, "\(quiet.stdout)\(quiet.stderr)")
        #expect(try Self.updated(quiet, system: "kinto") == 0, "\(quiet.stdout)")

        // Edits under `contact` from the sheet, on records with and without a phone at first.
        var sheet = try String(contentsOfFile: world.dir.path + "/people.csv", encoding: .utf8)
        for i in [0, 3, 14, 39] { sheet = sheet.replacingOccurrences(of: ",P\(i),", with: ",Q\(i),") }
        try sheet.write(toFile: world.dir.path + "/people.csv", atomically: true, encoding: .utf8)
        let edit = try await world.hubctl(["sync-all"])
        #expect(edit.exitCode == 0, "\(edit.stdout)\(edit.stderr)")
        Self.expectIntact(try await world.people(), first: { [0, 3, 14, 39].contains($0) ? "Q\($0)" : "P\($0)" }, "after editing")

        let after = try await world.hubctl(["sync-all", "--json"])
        #expect(after.exitCode == 0, "\(after.stdout)\(after.stderr)")
        #expect(try Self.updated(after, system: "kinto") == 0 && Self.updated(after, system: "sheet") == 0, "\(after.stdout)")
        let quarantine = try await world.hubctl(["quarantine", "list", "--json"])
        #expect((try quarantine.result().value(atPath: "entries")?.arrayValue ?? []).isEmpty, "\(quarantine.stdout)")
    }
}
