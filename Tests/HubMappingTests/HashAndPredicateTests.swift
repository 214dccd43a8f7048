import HubCore
import HubMapping
import HubTopology
import Testing

@Suite struct ContentHashTests {
    @Test func theHashIgnoresKeyOrder() {
        let a: CanonicalRecord = ["email": "a@x.org", "age": 3, "tags": ["b": 1, "a": [1, 2]]]
        var b: CanonicalRecord = [:]
        b["tags"] = ["a": [1, 2], "b": 1]
        b["age"] = 3
        b["email"] = "a@x.org"
        #expect(ContentHash.of(a, fields: ["email", "age", "tags"]) == ContentHash.of(b, fields: ["tags", "email", "age"]))
    }

    @Test func nullAndAbsentHashAlike() {
        let fields = ["email", "phone"]
        #expect(ContentHash.of(["email": "a@x.org", "phone": .null], fields: fields) == ContentHash.of(["email": "a@x.org"], fields: fields))
        #expect(ContentHash.of([:], fields: fields) == ContentHash.of(["email": .null], fields: fields))
    }

    @Test func onlyTheListedFieldsCount() {
        #expect(ContentHash.of(["email": "a@x.org", "x": 1], fields: ["email"]) == ContentHash.of(["email": "a@x.org", "x": 2], fields: ["email"]))
    }

    @Test func differentValuesHashDifferently() {
        let fields = ["v"]
        let values: [Value] = ["1", 1, 1.5, true, "true", ["1"], ["v": 1], "a", "A", ""]
        let hashes = Set(values.map { ContentHash.of(["v": $0], fields: fields) })
        #expect(hashes.count == values.count)
        #expect(ContentHash.of(["v": 1], fields: ["v"]) != ContentHash.of(["w": 1], fields: ["w"]))
    }

    @Test func theHashIsThirtyTwoHexDigitsAndStable() {
        let h = ContentHash.of(["email": "a@x.org"], fields: ["email"])
        #expect(h.count == 32)
        #expect(h.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        // SHA-256 of {"email":"a@x.org"}, first 32 hex digits; a change here invalidates every stored base.
        #expect(h == SHA256.hex(#"{"email":"a@x.org"}"#, hexLength: 32))
        #expect(ContentHash.of([:], fields: []) == "44136fa355b3678a1146ad16f7e8649e")
    }

    @Test func sameValueTreatsNullAndAbsentAlike() {
        let a: CanonicalRecord = ["x": .null, "y": 1]
        #expect(a.sameValue([:], for: "x"))
        #expect(a.sameValue(["y": 1], for: "y"))
        #expect(!a.sameValue(["y": 2], for: "y"))
    }
}

@Suite struct InboundHashTests {
    /// The content hash of what `inbound` reads: what the quiet pull compares with link bases.
    func expectSameHash(_ m: EntityMapper, _ fields: [String: Value], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let record = SpokeRecord(id: "7", fields: fields)
        let full = ContentHash.of(try m.inbound(record).get(), fields: m.inboundFields)
        #expect(m.inboundHash(record) == full, sourceLocation: sourceLocation)
        // The comparison the quiet pull makes, with a buffer left full by another record.
        var buffer = Array("{\"stale\":\"left by an earlier record\"".utf8)
        #expect(m.inboundHash(of: record, equals: full, buffer: &buffer), sourceLocation: sourceLocation)
        #expect(!m.inboundHash(of: record, equals: ContentHash.of(["x": 1], fields: ["x"]), buffer: &buffer),
                sourceLocation: sourceLocation)
    }

    @Test("a record's hash matches only its own hash's text: one digit off, upper case, or a prefix does not")
    func hashComparisonIsExact() throws {
        let m = try mapper(#""email": "email", "first_name": "first""#)
        let record = SpokeRecord(id: "1", fields: ["email": "a@x.org", "first": "Ann"])
        let hash = try #require(m.inboundHash(record))
        var buffer: [UInt8] = []
        #expect(m.inboundHash(of: record, equals: hash, buffer: &buffer))
        let last = hash.last!
        let oneOff = String(hash.dropLast()) + (last == "0" ? "1" : "0")
        for other in [oneOff, hash.uppercased() == hash ? "" : hash.uppercased(), String(hash.dropLast()), hash + "0", ""] {
            #expect(!m.inboundHash(of: record, equals: other, buffer: &buffer), "\(other)")
        }
        // A record that cannot be read never matches.
        let typed = try mapper(#""email": "email", "age": "age""#)
        let unreadable = SpokeRecord(id: "1", fields: ["email": "a@x.org", "age": "forty"])
        #expect(!typed.inboundHash(of: unreadable, equals: hash, buffer: &buffer))
    }

    @Test("the direct hash of a record equals the hash of its inbound reading, through renames, maps, defaults and nested paths")
    func directHashEqualsTheHashOfTheReading() throws {
        let m = try mapper(#"""
            "email": "contact.email", "first_name": "name.first", "last_name": "last",
            "country": {"field": "cc", "values": {"Germany": "DE", "France": "FR"}},
            "age": "age", "score": {"field": "score", "default": 1.5}, "vip": "vip", "phone": "phone",
            "tags": "tags"
            """#)
        try expectSameHash(m, ["contact": ["email": "ANN@X.org"], "name": ["first": "Ann"], "last": "Lee", "cc": "DE",
                               "age": "42", "vip": true, "phone": "+49 (30) 1234", "tags": ["b": 1, "a": [1, 2]]])
        try expectSameHash(m, ["contact.email": "dotted@x.org", "cc": "XX", "score": 2])
        try expectSameHash(m, [:])
        try expectSameHash(m, ["contact": "not an object", "name": ["first": .null], "age": 7.0])
    }

    @Test("a CSV's empty text hashes as null, as its reading does")
    func emptyTextHashesAsNull() throws {
        let m = try mapper(#""email": "Email", "first_name": "First", "age": "Age""#, nestedPaths: false, emptyTextReadsAsNull: true)
        try expectSameHash(m, ["Email": "a@x.org", "First": "", "Age": ""])
        #expect(m.inboundHash(SpokeRecord(id: "1", fields: ["Email": "a@x.org", "First": ""]))
            == m.inboundHash(SpokeRecord(id: "1", fields: ["Email": "a@x.org"])))
    }

    @Test("plain text fields hash hostile values exactly as their reading does, and tell every one apart")
    func plainTextHashesHostileValues() throws {
        let m = try mapper(#""first_name": "first", "last_name": "last", "full_name": "full""#)
        let csv = try mapper(#""first_name": "First", "last_name": "Last""#, nestedPaths: false, emptyTextReadsAsNull: true)
        let values: [Value] = ["", " ", "a\u{0}b", "\"quoted\"", "it's", "e\u{301}", "\u{e9}", "line\nbreak", "\u{1F600}", 7, true]
        var hashes: Set<String> = []
        for v in values {
            try expectSameHash(m, ["first": v, "last": "x", "full": .null])
            try expectSameHash(csv, ["First": v, "Last": v])
            hashes.insert(m.inboundHash(SpokeRecord(id: "1", fields: ["first": v]))!)
        }
        // 7 and "7", true and "true" read alike as text; every other value hashes apart (NFC and NFD too).
        #expect(hashes.count == values.count)
        #expect(m.inboundHash(SpokeRecord(id: "1", fields: ["first": 7])) == m.inboundHash(SpokeRecord(id: "1", fields: ["first": "7"])))
    }

    @Test("a record that cannot be read, or a mapping with a composite, has no direct hash")
    func noDirectHashWhereTheReadingFailsOrDependsOnABase() throws {
        let m = try mapper(#""email": "email", "age": "age""#)
        #expect(m.inboundHash(SpokeRecord(id: "1", fields: ["email": "a@x.org", "age": "forty"])) == nil)
        let composite = try mapper(#""email": "email", "first_name": {"field": "name", "parts": ["first_name", "last_name"]}"#)
        #expect(composite.inboundHash(SpokeRecord(id: "1", fields: ["email": "a@x.org", "name": "Ann Lee"])) == nil)
    }

    @Test("prepared keys hash a record as the field list does")
    func preparedKeysHashAsTheFieldList() {
        let record: CanonicalRecord = ["b": 1, "a": "x", "c": .null, "é": ["z": 1]]
        let fields = ["é", "b", "a", "c", "b", "zz"]
        #expect(ContentHash.of(record, keys: ContentHash.Keys(fields)) == ContentHash.of(record, fields: fields))
        #expect(ContentHash.Keys(fields).fields == ["a", "b", "c", "zz", "é"])
    }

    @Test("content hashes (swift-crypto's SHA-256) equal HubCore's SHA-256 at every block boundary")
    func contentHashesEqualHubCoresSHA256() {
        for length in 0..<150 {
            let text = String(repeating: "a", count: length)
            #expect(ContentHash.of(["t": .string(text)], fields: ["t"]) == SHA256.hex(#"{"t":""# + text + #""}"#, hexLength: 32))
        }
    }

    @Test("the allocation-free digest equals SHA-256 at every padding boundary")
    func hexDigestEqualsSHA256() {
        for length in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 200] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var message = bytes
            #expect(SHA256.hexDigest(padding: &message, length: 32) == SHA256.hexString(SHA256.hash(bytes), length: 32))
            var again = bytes
            #expect(SHA256.hexDigest(padding: &again) == SHA256.hexString(SHA256.hash(bytes)))
        }
    }
}

@Suite struct PredicateTests {
    static let record: CanonicalRecord = [
        "country": "Germany", "age": 42, "score": 2.5, "email": "ann@example.com", "born": "1990-07-14",
        "updated": "2026-02-03T10:00:05Z", "vip": true, "tags": ["a"],
    ]

    func check(_ p: Predicate, _ expected: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(p.matches(Self.record) == expected, sourceLocation: sourceLocation)
    }

    @Test func equalsAndNotEquals() {
        check(.compare("country", .equals("Germany")), true)
        check(.compare("country", .equals("germany")), false)
        check(.compare("age", .equals(42.0)), true)
        check(.compare("vip", .equals(true)), true)
        check(.compare("missing", .equals(.null)), true)
        check(.compare("country", .notEquals("France")), true)
        check(.compare("missing", .notEquals("x")), true)
        check(.compare("age", .notEquals(42)), false)
    }

    @Test func inMatchesAnyOfTheValues() {
        check(.compare("country", .isIn(["Brazil", "Germany"])), true)
        check(.compare("country", .isIn(["Brazil"])), false)
        check(.compare("age", .isIn([41, 42.0])), true)
        check(.compare("missing", .isIn([])), false)
    }

    @Test func orderingComparesNumbers() {
        check(.compare("age", .greaterThan(41)), true)
        check(.compare("age", .greaterThan(42)), false)
        check(.compare("age", .greaterOrEqual(42)), true)
        check(.compare("score", .lessThan(3)), true)
        check(.compare("score", .lessOrEqual(2.5)), true)
        check(.compare("score", .lessThan(2.5)), false)
        // Different kinds never compare.
        check(.compare("age", .greaterThan("1")), false)
        check(.compare("missing", .lessThan(1)), false)
    }

    @Test func orderingComparesISODatesAsInstants() {
        check(.compare("born", .greaterOrEqual("1990-01-01")), true)
        check(.compare("born", .lessThan("1990-07-14")), false)
        check(.compare("updated", .greaterThan("2026-02-03T10:00:04.500Z")), true)
        check(.compare("updated", .lessThan("2026-02-03T10:00:05.001Z")), true)
        check(.compare("updated", .greaterThan("2026-02-03T11:00:00+02:00")), true)
        check(.compare("updated", .greaterThan("2026-02-03")), true)
        check(.compare("country", .greaterThan("France")), true)
    }

    @Test func prefixContainsAndExists() {
        check(.compare("email", .prefix("ann@")), true)
        check(.compare("email", .prefix("bob@")), false)
        check(.compare("email", .contains("example")), true)
        check(.compare("age", .contains("4")), false)
        check(.compare("email", .exists(true)), true)
        check(.compare("missing", .exists(true)), false)
        check(.compare("missing", .exists(false)), true)
        check(.compare("tags", .exists(true)), true)
    }

    @Test func allAnyAndNotCombine() {
        check(.all([.compare("country", .equals("Germany")), .compare("age", .greaterThan(40))]), true)
        check(.all([.compare("country", .equals("Germany")), .compare("age", .greaterThan(50))]), false)
        check(.all([]), true)
        check(.any([.compare("country", .equals("France")), .compare("age", .greaterThan(40))]), true)
        check(.any([]), false)
        check(.not(.compare("country", .equals("France"))), true)
        check(.not(.any([.compare("vip", .equals(true))])), false)
    }

    @Test func predicatesFromATopologyCompareNormalisedConstants() throws {
        // email is lower-cased in the hub, so a filter written with capitals still matches.
        let text = """
            {"version": 1, "entities": {"customer": {"fields": {
                "email": {"type": "string", "normalize": ["trim", "lowercase"]}, "score": "number", "country": "string"}}},
             "systems": {"crm": {"adapter": "jsonl", "entities": {"customer": {"object": "c.jsonl",
                "fields": {"email": "e", "score": "s", "country": "c"},
                "filter": {"email": {"prefix": "ANN@"}, "score": 2, "not": {"country": {"in": ["France", " Italy"]}},
                           "any": [{"email": " ANN@EXAMPLE.COM "}, {"country": {"exists": false}}]}}}}}}
            """
        let t = try TopologyLoader.decode(text, baseDirectory: "/")
        let filter = try #require(t.system("crm")?.mapping(for: "customer")?.filter)
        #expect(filter == .all([
            .any([.compare("email", .equals("ann@example.com")), .compare("country", .exists(false))]),
            .compare("email", .prefix("ann@")),
            .not(.compare("country", .isIn(["France", " Italy"]))),
            .compare("score", .equals(2.0)),
        ]))
        #expect(filter.fields == ["email", "country", "score"])
        #expect(filter.matches(["email": "ann@example.com", "score": 2.0, "country": "Germany"]))
        #expect(!filter.matches(["email": "ann@example.com", "score": 2.0, "country": "France"]))
        #expect(!filter.matches(["email": "bob@example.com", "score": 2.0]))
    }
}
