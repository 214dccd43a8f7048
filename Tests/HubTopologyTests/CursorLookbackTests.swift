import HubCore
import HubTopology
import Testing

/// `"cursor"`: a field name, or `{"field", "lookback"}` for the keyset reads of sqlite and postgres.
@Suite struct CursorLookbackTests {
    func customer(_ topology: Topology, _ system: String = "crm") throws -> SystemEntityMapping {
        try #require(topology.systems.first { $0.name.rawValue == system }?.mapping(for: "customer"))
    }

    @Test("A cursor given by name reads with the default five-minute lookback")
    func aCursorNameKeepsItsMeaning() throws {
        let mapping = try customer(valid(topology(crmEntityExtra: #""cursor": "modified_at""#)))
        #expect(mapping.cursorField == "modified_at")
        #expect(mapping.cursorLookback == 300 && ObjectBinding.defaultCursorLookback == 300)
    }

    @Test("A cursor object sets the field and the lookback, in words or seconds; zero turns the window off")
    func aCursorObjectSetsTheLookback() throws {
        for (text, seconds) in [(#""2m""#, 120.0), ("45", 45), (#""0s""#, 0), (#""250ms""#, 0.25)] {
            let mapping = try customer(valid(topology(crmEntityExtra: #""cursor": {"field": "modified_at", "lookback": \#(text)}"#)))
            #expect(mapping.cursorField == "modified_at" && mapping.cursorLookback == seconds, "\(text)")
        }
        let mapping = try customer(valid(topology(crmEntityExtra: #""cursor": {"field": "modified_at"}"#)))
        #expect(mapping.cursorLookback == 300)
    }

    @Test("A malformed cursor object is pointed at: no field, an unknown key, a bad duration, a lookback for a file system")
    func malformedCursorObjectsAreReported() {
        let base = "systems.crm.entities.customer.cursor"
        #expect(problems(topology(crmEntityExtra: #""cursor": {"lookback": "2m"}"#)).contains { $0.hasPrefix(base) && $0.contains("'field'") })
        #expect(problems(topology(crmEntityExtra: #""cursor": {"field": "m", "look_back": "2m"}"#))
            .contains { $0.hasPrefix(base) && $0.contains("look_back") })
        #expect(problems(topology(crmEntityExtra: #""cursor": {"field": "m", "lookback": "soon"}"#))
            .contains { $0.hasPrefix("\(base).lookback") && $0.contains("expected a duration") })
        #expect(problems(topology(crmEntityExtra: #""cursor": 7"#)).contains { $0.hasPrefix(base) })
        let files = topology(moreSystems: #"""
            "sheet": {"adapter": "csv", "connection": {"path": "files"},
                      "entities": {"customer": {"object": "c.csv", "cursor": {"field": "at", "lookback": "1m"}, "fields": {"email": "Email"}}}}
            """#)
        #expect(problems(files).contains { $0.hasPrefix("systems.sheet.entities.customer.cursor.lookback") && $0.contains("sqlite and postgres") },
                "\(problems(files))")
    }
}
