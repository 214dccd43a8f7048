import Foundation
import HubCore
import SpokeFiles
import Testing

@Suite struct FileDiscoveryTests {
    @Test func csvDiscoveryListsEveryFileWithItsHeaderColumnsAsUntypedText() async throws {
        try await withTemporaryDirectory { directory in
            try CSVSpokeTests.write("Row ID,Email,Joined\nr1,a@x.test,2024-01-02\n", to: directory.path("people.csv"))
            try CSVSpokeTests.write("Code,Name\n", to: directory.path("empty.csv"))
            try CSVSpokeTests.write("not a table", to: directory.path("notes.txt"))
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let schema = try await spoke.discover([ObjectBinding(entity: "p", object: "people.csv", idField: "Row ID", fields: [])])
            #expect(schema.objects.map(\.name) == ["empty.csv", "people.csv"])
            let people = try #require(schema.object(named: "people.csv"))
            #expect(Set(people.fields.map(\.name)) == ["Row ID", "Email", "Joined"])
            #expect(people.fields.allSatisfy { $0.kind == .any })
            #expect(people.field(named: "Row ID")?.isKey == true)
            #expect(Set(try #require(schema.object(named: "empty.csv")).fields.map(\.name)) == ["Code", "Name"])
        }
    }

    @Test func jsonLinesDiscoveryInfersNestedFieldsAndTheirKinds() async throws {
        try await withTemporaryDirectory { directory in
            try JSONLSpokeTests.write("""
                {"id": "a", "n": 1, "props": {"email": "a@x.test", "vip": true}, "at": "2024-05-01T10:00:00Z"}
                {"id": "b", "n": 2.5, "props": {"email": "b@x.test", "vip": null}, "tags": ["x"]}

                """, to: directory.path("events.jsonl"))
            let spoke = JSONLSpoke(system: "app", directory: directory.path)
            let schema = try await spoke.discover([])
            let events = try #require(schema.object(named: "events.jsonl"))
            #expect(events.fromSample)
            let kinds = Dictionary(uniqueKeysWithValues: events.fields.map { ($0.name, $0.kind) })
            #expect(kinds == ["id": .text, "n": .number, "props.email": .text, "props.vip": .boolean, "at": .datetime,
                              "tags": .json])
        }
    }
}
