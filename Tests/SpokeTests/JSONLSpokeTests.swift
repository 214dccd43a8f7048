import Foundation
import HubCore
import HubTesting
import SpokeFiles
import Testing

@Suite struct JSONLSpokeTests {
    static func write(_ text: String, to path: String) throws { try CSVSpokeTests.write(text, to: path) }
    static func contents(_ path: String) throws -> String { try CSVSpokeTests.contents(path) }

    /// A spoke over a new file in `directory`; the edit rewrites the record's line as a script
    /// would, setting the given fields and a millisecond timestamp in `updated`.
    static func subject(_ directory: TemporaryDirectory, cursor: String?) -> SpokeConformance.Subject {
        let name = "\(UUID().uuidString).jsonl"
        let spoke = JSONLSpoke(system: "events", directory: directory.path)
        let binding = ObjectBinding(entity: "thing", object: name, idField: "id", cursorField: cursor,
                                    fields: ["name", "score"])
        let path = directory.path(name)
        var missing = binding
        missing.object = "missing-" + name
        return SpokeConformance.Subject(spoke: spoke, binding: binding, missingObject: missing) { id, fields in
            let lines = try Self.contents(path).split(separator: "\n").map { line -> String in
                guard case .object(var object) = try JSONParser.parse(String(line)),
                      object["id"]?.stringValue == id.rawValue else { return String(line) }
                for (key, value) in fields { object[key] = value }
                object["updated"] = .int(Int64(Date().timeIntervalSince1970 * 1000))
                return JSONWriter.string(.object(object))
            }
            try Self.write(lines.joined(separator: "\n") + "\n", to: path)
        }
    }

    @Test func jsonlSpokePassesTheConformanceSuite() async throws {
        try await withTemporaryDirectory { directory in
            try await SpokeConformance { Self.subject(directory, cursor: "updated") }.run()
        }
    }

    @Test func jsonlSpokeWithoutACursorPassesTheConformanceSuite() async throws {
        try await withTemporaryDirectory { directory in
            try await SpokeConformance { Self.subject(directory, cursor: nil) }.run()
        }
    }

    @Test func anUpdateDeepMergesNestedObjects() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("people.jsonl")
            try Self.write("""
                {"id": "1", "profile": {"name": "Ada", "address": {"city": "London", "zip": "NW1"}}, "tags": ["a"]}
                {"id": "2", "profile": {"name": "Grace"}}

                """, to: path)
            let spoke = JSONLSpoke(system: "app", directory: directory.path)
            let binding = ObjectBinding(entity: "person", object: "people.jsonl",
                                        fields: ["profile.name", "profile.address.city", "tags"])
            let results = try await spoke.write(binding, [
                .update(id: "1", fields: ["profile": ["address": ["city": "Cambridge"]], "tags": ["b"], "id": "999"]),
            ])
            #expect(results == [.updated])
            let record = try #require(try await spoke.fetch(binding, ids: ["1"]).first)
            #expect(record.fields == ["id": "1", "profile": ["name": "Ada", "address": ["city": "Cambridge", "zip": "NW1"]],
                                      "tags": ["b"]])
            #expect(record.fields.value(atPath: "profile.address.city") == "Cambridge")
            // The untouched line keeps its bytes; the changed one is canonical JSON.
            #expect(try Self.contents(path) == """
                {"id":"1","profile":{"address":{"city":"Cambridge","zip":"NW1"},"name":"Ada"},"tags":["b"]}
                {"id": "2", "profile": {"name": "Grace"}}

                """)
        }
    }

    @Test func idsMayBeNumbersAndCreatesUseTheKeyAsAString() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("items.jsonl")
            try Self.write("{\"sku\": 7, \"name\": \"Seven\"}\n\n   \n{\"sku\": \"A-1\", \"name\": \"Ay\"}", to: path)
            let spoke = JSONLSpoke(system: "shop", directory: directory.path)
            let binding = ObjectBinding(entity: "item", object: "items.jsonl", idField: "sku", fields: ["name"])
            let ids = try await spoke.scanIDs(binding, after: nil, limit: 10).ids
            #expect(ids == ["7", "A-1"])
            let results = try await spoke.write(binding, [.update(id: "7", fields: ["name": "Sieben"]),
                                                          .create(key: "hub-1", fields: ["name": "New"]),
                                                          .create(key: "hub-2", fields: ["name": "Given", "sku": 42])])
            #expect(results == [.updated, .created("hub-1"), .created("42")])
            #expect(try Self.contents(path) == "{\"name\":\"Sieben\",\"sku\":7}\n\n   \n{\"sku\": \"A-1\", \"name\": \"Ay\"}\n"
                + "{\"name\":\"New\",\"sku\":\"hub-1\"}\n{\"name\":\"Given\",\"sku\":42}\n")
        }
    }

    @Test func dottedIDFieldsReachIntoNestedObjects() async throws {
        try await withTemporaryDirectory { (directory: TemporaryDirectory) async throws -> Void in
            let spoke = JSONLSpoke(system: "app", directory: directory.path)
            let binding = ObjectBinding(entity: "user", object: "users.jsonl", idField: "meta.id", fields: ["name"])
            #expect(try await spoke.write(binding, [.create(key: "u1", fields: ["name": "Ada"])]) == [.created("u1")])
            #expect(try Self.contents(directory.path("users.jsonl")) == "{\"meta\":{\"id\":\"u1\"},\"name\":\"Ada\"}\n")
            #expect(try await spoke.write(binding, [.update(id: "u1", fields: ["meta": ["id": "u2", "v": 2]])]) == [.updated])
            #expect(try await spoke.fetch(binding, ids: ["u1"]).first?.fields == ["meta": ["id": "u1", "v": 2], "name": "Ada"])
        }
    }

    @Test(arguments: [
        ("{\"id\": 1}\n{\"id\": 2,}\n", "line 2", "invalid JSON"),
        ("{\"id\": 1}\n\n[1, 2]\n", "line 3", "found an array"),
        ("{\"id\": 1}\n{\"name\": \"no id\"}\n", "line 2", "no ID"),
        ("{\"id\": true}\n", "line 1", "boolean"),
    ])
    func aMalformedLineIsReportedWithItsLineAndTheOthersAreRead(text: String, line: String, detail: String) async throws {
        try await withTemporaryDirectory { directory in
            try Self.write(text, to: directory.path("bad.jsonl"))
            let spoke = JSONLSpoke(system: "app", directory: directory.path)
            let binding = ObjectBinding(entity: "x", object: "bad.jsonl", fields: [])
            let page = try await spoke.read(binding, after: nil, limit: 10)
            #expect(page.invalid.count == 1)
            #expect(page.invalid.first?.pointer == line)
            #expect(page.invalid.first?.message.contains(detail) == true, "\(page.invalid)")
            #expect(page.records.map(\.id) == (text.hasPrefix("{\"id\": 1}") ? ["1"] : []))
            #expect(try await spoke.check([binding]).first?.problems.count == 1)
            // A push keeps the unreadable line as it was.
            #expect(try await spoke.write(binding, [.delete(id: "404")]) == [.deleted])
            #expect(try Self.contents(directory.path("bad.jsonl")) == text)
        }
    }

    @Test func aMissingDirectoryIsAMissingObjectAndAPathOutsideItAConfigurationProblem() async throws {
        let spoke = JSONLSpoke(system: "app", directory: "/nonexistent/hubctl-\(UUID().uuidString)")
        let binding = ObjectBinding(entity: "x", object: "x.jsonl", fields: [])
        #expect(try await spoke.check([binding]).first?.problems.first?.contains("does not exist") == true)
        let error = await #expect(throws: SpokeError.self) { try await spoke.read(binding, after: nil, limit: 10) }
        #expect(error?.kind == .missingObject)
        let escape = await #expect(throws: SpokeError.self) {
            try await spoke.read(ObjectBinding(entity: "x", object: "../x.jsonl", fields: []), after: nil, limit: 10)
        }
        #expect(escape?.kind == .configuration)
    }
}
