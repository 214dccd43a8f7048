import HubCore
import HubTesting
import Testing

@Suite struct InMemorySpokeTests {
    static func subject(assignsIDs: Bool) -> SpokeConformance.Subject {
        let spoke = InMemorySpoke("memory", assignsIDs: assignsIDs)
        let binding = ObjectBinding(entity: "thing", object: "things", idField: "id", cursorField: "seq",
                                    fields: ["name", "score"])
        return SpokeConformance.Subject(spoke: spoke, binding: binding) { id, fields in
            await spoke.update("things", id, fields)
        }
    }

    @Test func inMemorySpokePassesTheConformanceSuite() async throws {
        try await SpokeConformance { Self.subject(assignsIDs: true) }.run()
    }

    @Test func inMemorySpokeUsingHubKeysPassesTheConformanceSuite() async throws {
        try await SpokeConformance { Self.subject(assignsIDs: false) }.run()
    }
}
