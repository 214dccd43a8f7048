import HubCore
import HubMapping
import HubTopology
import Testing

@Suite struct RenameAndPathTests {
    @Test func aRenameReadsAndWritesTheSystemsFieldName() throws {
        let m = try mapper(#""email": "mail", "first_name": "given""#)
        #expect(try m.read(["mail": "Ann@Example.com", "given": "Ann", "other": 1]) == ["email": "ann@example.com", "first_name": "Ann"])
        #expect(m.outbound(["email": "ann@example.com", "first_name": "Ann", "last_name": "Lee"]) == ["mail": "ann@example.com", "given": "Ann"])
        #expect(m.binding.fields == ["mail", "given"])
        #expect(m.binding.object == "customers.jsonl")
        #expect(m.binding.idField == "id")
        #expect(m.mappedFields == ["email", "first_name"])
    }

    @Test func anAbsentSystemFieldReadsAsNull() throws {
        let m = try mapper(#""email": "mail", "first_name": "given""#)
        #expect(try m.read(["mail": "a@x.org"]) == ["email": "a@x.org", "first_name": .null])
    }

    @Test func canonicalFieldsTheSystemDoesNotMapAreNotSynced() throws {
        let m = try mapper(#""email": "mail""#)
        #expect(m.outbound(["email": "a@x.org", "country": "Germany"]) == ["mail": "a@x.org"])
        #expect(try m.read(["mail": "a@x.org", "country": "Germany"]) == ["email": "a@x.org"])
    }

    @Test func aDottedPathReadsAndWritesNestedObjects() throws {
        let m = try mapper(#""email": "properties.email", "first_name": "properties.name.first", "country": "country""#, nestedPaths: true)
        let record: [String: Value] = ["properties": ["email": "A@X.org", "name": ["first": "Ann"]], "country": "DE"]
        #expect(try m.read(record) == ["email": "a@x.org", "first_name": "Ann", "country": "DE"])
        #expect(m.outbound(["email": "a@x.org", "first_name": "Ann", "country": "DE"])
            == ["properties": ["email": "a@x.org", "name": ["first": "Ann"]], "country": "DE"])
        // A partial write keeps only the fields asked for, still nested.
        #expect(m.outbound(["email": "b@x.org", "first_name": "Bo"], only: ["first_name"]) == ["properties": ["name": ["first": "Bo"]]])
    }

    @Test func withoutNestedPathsADottedNameIsALiteralKey() throws {
        let m = try mapper(#""email": "properties.email""#, nestedPaths: false)
        #expect(m.outbound(["email": "a@x.org"]) == ["properties.email": "a@x.org"])
        #expect(try m.read(["properties.email": "A@x.org"]) == ["email": "a@x.org"])
    }

    @Test func aLiteralDottedKeyWinsOverTheNestedReading() throws {
        let m = try mapper(#""email": "properties.email""#, nestedPaths: true)
        #expect(try m.read(["properties.email": "literal@x.org", "properties": ["email": "nested@x.org"]]) == ["email": "literal@x.org"])
    }

    @Test func refFieldsAreListedWithTheirTargetEntity() throws {
        let m = try mapper(#""email": "mail", "rep": "owner_id""#)
        #expect(m.refFields == ["rep": "employee"])
        // A system's integer ID reads as text; the engine translates it through the xref.
        #expect(try m.read(["mail": "a@x.org", "owner_id": 17]) == ["email": "a@x.org", "rep": "17"])
        #expect(try m.read(["mail": "a@x.org", "owner_id": ""]) == ["email": "a@x.org", "rep": .null])
        #expect(try m.read(["mail": "a@x.org", "owner_id": "  "]) == ["email": "a@x.org", "rep": .null])
    }
}

@Suite struct ValueMapTests {
    static let fields = #""email": "mail", "country": {"field": "cc", "values": {"Germany": "DE", "Brazil": "BR"}}"#

    @Test func aValueMapTranslatesCanonicalValuesOnTheWayOut() throws {
        let m = try mapper(Self.fields)
        #expect(m.outbound(["country": "Germany"]) == ["mail": .null, "cc": "DE"])
        #expect(m.outbound(["country": "Brazil"])["cc"] == "BR")
    }

    @Test func aValueMapIsInvertedOnTheWayIn() throws {
        let m = try mapper(Self.fields)
        #expect(try m.read(["cc": "DE"])["country"] == "Germany")
        #expect(try m.read(["cc": "BR"])["country"] == "Brazil")
    }

    @Test func unmappedValuesPassThroughBothWays() throws {
        let m = try mapper(Self.fields)
        #expect(m.outbound(["country": "France"])["cc"] == "France")
        #expect(try m.read(["cc": "FR"])["country"] == "FR")
        #expect(try m.read(["cc": .null])["country"] == .null)
    }

    @Test func systemValuesAreMatchedLooselySoCSVTextFindsNumbersAndBooleans() throws {
        let m = try mapper(#""email": "mail", "vip": {"field": "v", "values": {"true": 1, "false": 0}}, "age": {"field": "a", "values": {"0": "none"}}"#)
        #expect(try m.read(["v": "1"])["vip"] == true)
        #expect(try m.read(["v": 0])["vip"] == false)
        #expect(try m.read(["v": 0.0])["vip"] == false)
        #expect(m.outbound(["vip": true])["v"] == 1)
        #expect(m.outbound(["age": 0])["a"] == "none")
        #expect(try m.read(["a": "none"])["age"] == 0)
        #expect(try m.read(["a": "12"])["age"] == 12)
    }

    @Test func numberKeysMatchWholeNumbersWithoutAFraction() throws {
        let m = try mapper(#""email": "mail", "score": {"field": "s", "values": {"1": "low", "2.5": "mid"}}"#)
        #expect(m.outbound(["score": 1.0])["s"] == "low")
        #expect(m.outbound(["score": 2.5])["s"] == "mid")
        #expect(try m.read(["s": "low"])["score"] == 1.0)
        #expect(try m.read(["s": "mid"])["score"] == 2.5)
    }

    @Test func mapsWorkOnNormalisedCanonicalValues() throws {
        // country is stored lower-cased; the map is written with capitals.
        let entity = customerFields.replacingOccurrences(of: #""country": "string""#,
                                                         with: #""country": {"type": "string", "normalize": "lowercase"}"#)
        let m = try mapper(Self.fields, entity: entity)
        #expect(try m.read(["cc": "DE"])["country"] == "germany")
        #expect(m.outbound(["country": "germany"])["cc"] == "DE")
        #expect(m.outbound(["country": "Germany"])["cc"] == "DE")
    }

    @Test func aMappingsOwnNormalisationAppliesBeforeTheMap() throws {
        let m = try mapper(#""email": "mail", "country": {"field": "cc", "values": {"Germany": "DE"}, "normalize": ["trim", "uppercase"]}"#)
        #expect(try m.read(["cc": " de "])["country"] == "Germany")
        #expect(try m.read(["cc": "fr"])["country"] == "FR")
    }
}

@Suite struct DefaultTests {
    @Test func aDefaultFillsAMissingSystemValueOnTheWayIn() throws {
        let m = try mapper(#""email": "mail", "country": {"field": "cc", "default": "Unknown"}"#)
        #expect(try m.read(["mail": "a@x.org"])["country"] == "Unknown")
        #expect(try m.read(["cc": .null])["country"] == "Unknown")
        #expect(try m.read(["cc": "DE"])["country"] == "DE")
    }

    @Test func aDefaultIsWrittenWhenTheHubHasNoValue() throws {
        let m = try mapper(#""email": "mail", "country": {"field": "cc", "default": "Unknown"}"#)
        #expect(m.outbound(["email": "a@x.org"])["cc"] == "Unknown")
        #expect(m.outbound(["country": .null])["cc"] == "Unknown")
        #expect(m.outbound(["country": "DE"])["cc"] == "DE")
    }

    @Test func aDefaultIsStoredInCanonicalForm() throws {
        let m = try mapper(#""email": "mail", "score": {"field": "s", "default": 0}, "born": {"field": "b", "default": "2000-01-01T12:00:00+02:00"}"#)
        // A number field holds doubles, a date field a YYYY-MM-DD day.
        #expect(try m.read([:])["score"] == .double(0))
        #expect(try m.read([:])["born"] == "2000-01-01")
    }

    @Test func aDefaultAlsoReplacesAValueThatNormalisesToNothing() throws {
        let entity = customerFields.replacingOccurrences(of: #""country": "string""#,
                                                         with: #""country": {"type": "string", "normalize": ["trim", "empty_to_null"]}"#)
        let m = try mapper(#""email": "mail", "country": {"field": "cc", "default": "Unknown"}"#, entity: entity)
        #expect(try m.read(["cc": "   "])["country"] == "Unknown")
    }

    @Test func aDefaultGoesThroughTheValueMap() throws {
        let m = try mapper(#""email": "mail", "country": {"field": "cc", "values": {"Unknown": "??"}, "default": "Unknown"}"#)
        #expect(m.outbound([:])["cc"] == "??")
        #expect(try m.read([:])["country"] == "Unknown")
        #expect(try m.read(["cc": "??"])["country"] == "Unknown")
    }
}

@Suite struct DirectionTests {
    static let fields = #""email": "mail", "first_name": {"field": "fn", "direction": "pull"}, "last_name": {"field": "ln", "direction": "push"}"#

    @Test func pullOnlyFieldsAreReadButNotWritten() throws {
        let m = try mapper(Self.fields)
        #expect(try m.read(["mail": "a@x.org", "fn": "Ann", "ln": "Lee"]) == ["email": "a@x.org", "first_name": "Ann"])
        #expect(m.inboundFields == ["email", "first_name"])
    }

    @Test func pushOnlyFieldsAreWrittenButNotRead() throws {
        let m = try mapper(Self.fields)
        #expect(m.outbound(["email": "a@x.org", "first_name": "Ann", "last_name": "Lee"]) == ["mail": "a@x.org", "ln": "Lee"])
        #expect(m.outboundFields == ["email", "last_name"])
        #expect(m.outbound(["first_name": "Ann"], only: ["first_name"]) == [:])
    }

    @Test func theSystemsDirectionLimitsItsFieldsToo() throws {
        let push = try mapper(Self.fields, direction: "push")
        #expect(push.inboundFields == [])
        #expect(push.outboundFields == ["email", "last_name"])
        let pull = try mapper(Self.fields, direction: "pull")
        #expect(pull.inboundFields == ["email", "first_name"])
        #expect(pull.outboundFields == [])
        #expect(pull.mappedFields == ["email", "first_name", "last_name"])
    }

    @Test func oneSystemFieldMayFeedSeveralCanonicalFieldsWhenOnlyOneWritesIt() throws {
        let m = try mapper(#""email": "mail", "full_name": "name", "first_name": {"field": "name", "direction": "pull"}"#)
        #expect(try m.read(["name": "Ann Lee"]) == ["email": .null, "full_name": "Ann Lee", "first_name": "Ann Lee"])
        #expect(m.outbound(["full_name": "Ann Lee", "first_name": "X"]) == ["mail": .null, "name": "Ann Lee"])
        #expect(m.binding.fields == ["mail", "name"])
    }
}

@Suite struct CompositeTests {
    static func names(split: String = "left", separator: String? = nil, parts: String = #"["first_name", "last_name"]"#) throws -> EntityMapper {
        let sep = separator.map { #", "separator": "\#($0)""# } ?? ""
        return try mapper(#""email": "mail", "first_name": {"field": "name", "parts": \#(parts), "split": "\#(split)"\#(sep)}"#)
    }

    @Test func partsAreJoinedOnTheWayOut() throws {
        let m = try Self.names()
        #expect(m.outbound(["first_name": "Mary Ann", "last_name": "Smith"])["name"] == "Mary Ann Smith")
        #expect(m.mappedFields == ["email", "first_name", "last_name"])
        #expect(m.inboundFields == ["email", "first_name", "last_name"])
    }

    @Test func splittingLeftGivesTheLastPartTheRest() throws {
        let m = try Self.names(split: "left")
        #expect(try m.read(["name": "Mary Ann Smith"]) == ["email": .null, "first_name": "Mary", "last_name": "Ann Smith"])
    }

    @Test func splittingRightGivesTheFirstPartTheRest() throws {
        let m = try Self.names(split: "right")
        #expect(try m.read(["name": "Mary Ann Smith"]) == ["email": .null, "first_name": "Mary Ann", "last_name": "Smith"])
    }

    @Test func missingPartsAreNull() throws {
        let m = try Self.names()
        #expect(try m.read(["name": "Cher"]) == ["email": .null, "first_name": "Cher", "last_name": .null])
        #expect(m.outbound(["first_name": .null, "last_name": "Smith"])["name"] == "Smith")
        #expect(m.outbound(["first_name": "Cher"])["name"] == "Cher")
    }

    @Test func allNullIsNullBothWays() throws {
        let m = try Self.names()
        #expect(m.outbound([:])["name"] == .null)
        #expect(m.outbound(["first_name": .null, "last_name": ""])["name"] == .null)
        #expect(try m.read(["name": .null]) == ["email": .null, "first_name": .null, "last_name": .null])
        #expect(try m.read(["name": ""]) == ["email": .null, "first_name": .null, "last_name": .null])
        #expect(try m.read([:]) == ["email": .null, "first_name": .null, "last_name": .null])
    }

    @Test func extraSeparatorsAtTheEndsOrSideBySideAreIgnored() throws {
        let m = try Self.names()
        #expect(try m.read(["name": "  Mary   Smith "]) == ["email": .null, "first_name": "Mary", "last_name": "Smith"])
        #expect(m.outbound(["first_name": " Mary ", "last_name": "Smith"])["name"] == "Mary Smith")
    }

    @Test func theSeparatorAndThePartOrderAreConfigurable() throws {
        let m = try Self.names(separator: ", ", parts: #"["last_name", "first_name"]"#)
        #expect(m.outbound(["first_name": "John", "last_name": "Smith"])["name"] == "Smith, John")
        #expect(try m.read(["name": "Smith, John Paul"]) == ["email": .null, "first_name": "John Paul", "last_name": "Smith"])
    }
}
