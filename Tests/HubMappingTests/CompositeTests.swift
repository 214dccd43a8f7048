import HubCore
import HubMapping
import HubTopology
import Testing

private typealias C = RelativeCompositeTests

/// Composite fields are read relative to the parts the hub knows, and never guessed.
@Suite struct RelativeCompositeTests {
    static func nameMapper(split: String = "left", separator: String = " ") throws -> EntityMapper {
        try mapper(#""email": "email", "first_name": {"field": "Full Name", "parts": ["first_name", "last_name"], "split": "\#(split)", "separator": "\#(separator)"}"#)
    }

    static func read(_ m: EntityMapper, _ text: String?, base: CanonicalRecord?) -> Result<CanonicalRecord, MappingError> {
        m.inbound(SpokeRecord(id: "1", fields: ["Full Name": text.map(Value.string) ?? .null]), base: base)
    }

    /// The composite's parts of a reading.
    static func names(_ r: CanonicalRecord) -> CanonicalRecord {
        ["first_name": r["first_name"] ?? .null, "last_name": r["last_name"] ?? .null]
    }

    static let eli: CanonicalRecord = ["first_name": "Eli Jo", "last_name": "Egan"]

    @Test func anEditOfTheSurnameChangesOnlyTheSurname() throws {
        let m = try C.nameMapper()
        let r = try C.read(m, "Eli Jo Egan-Fix", base: C.eli).get()
        #expect(r["first_name"] == "Eli Jo" && r["last_name"] == "Egan-Fix")
        let first = try C.read(m, "Elias Jo Egan", base: C.eli).get()
        #expect(first["first_name"] == "Elias Jo" && first["last_name"] == "Egan")
        // Unchanged text keeps the hub's parts, whatever the split rule says.
        #expect(C.names(try C.read(m, "Eli Jo Egan", base: C.eli).get()) == ["first_name": "Eli Jo", "last_name": "Egan"])
        for split in ["left", "right"] {
            let r = try C.read(try C.nameMapper(split: split), "Eli Jo Egan-Fix", base: C.eli).get()
            #expect(r["first_name"] == "Eli Jo" && r["last_name"] == "Egan-Fix", "\(split)")
        }
    }

    @Test func removingAPartEmptiesOnlyThatPart() throws {
        let m = try C.nameMapper()
        #expect(C.names(try C.read(m, "Egan", base: C.eli).get()) == ["first_name": .null, "last_name": "Egan"])
        #expect(C.names(try C.read(m, "Eli Jo", base: C.eli).get()) == ["first_name": "Eli Jo", "last_name": .null])
        #expect(C.names(try C.read(m, "", base: C.eli).get()) == ["first_name": .null, "last_name": .null])
        #expect(C.names(try C.read(m, nil, base: C.eli).get()) == ["first_name": .null, "last_name": .null])
    }

    @Test func aValueThatCannotBeSplitWithoutGuessingFailsAndSaysWhy() throws {
        let m = try C.nameMapper()
        // Both parts changed, three words for two parts: no rule can know where the surname starts.
        guard case .failure(let error) = C.read(m, "Ann Marie Smith", base: C.eli) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == "ambiguous_composite")
        #expect(error.message.contains("cannot be split into first_name and last_name without guessing"))
        #expect(!error.message.contains("Ann") && !error.message.contains("Smith"))
        // Two words for two parts is not a guess.
        #expect(C.names(try C.read(m, "Ann Smith", base: C.eli).get()) == ["first_name": "Ann", "last_name": "Smith"])
        // Repeated text: "Eli Egan Egan" splits two ways around (Eli, Egan).
        let repeated = C.read(m, "Eli Egan Egan", base: ["first_name": "Eli", "last_name": "Egan"])
        if case .success(let r) = repeated { Issue.record("expected a failure, got \(r)") }
    }

    @Test func withoutAnythingKnownTheSplitRuleApplies() throws {
        #expect(C.names(try C.read(try C.nameMapper(), "Mary Ann Smith", base: nil).get())
            == ["first_name": "Mary", "last_name": "Ann Smith"])
        #expect(C.names(try C.read(try C.nameMapper(split: "right"), "Mary Ann Smith", base: [:]).get())
            == ["first_name": "Mary Ann", "last_name": "Smith"])
    }

    /// Words for names: spaces inside parts, separators, marks and emoji.
    static func part(_ rng: inout SplitMix64) -> Value {
        let words = ["Eli", "Jo", "Egan", "Mary", "Ann", "de", "la", "O'Neil", "Jean-Luc", "Zoë", "Ñúñez", "李", "😀", "x,y", "a b"]
        let n = Int.random(in: 0...3, using: &rng)
        if n == 0 { return .null }
        return .string((0..<n).map { _ in words[Int.random(in: 0..<words.count, using: &rng)] }.joined(separator: " "))
    }

    @Test(arguments: [" ", ", ", "-"])
    func readingWhatWasWrittenGivesTheWrittenPartsBack(_ separator: String) throws {
        // inbound(outbound(x), base: x) == x, for every x the system can hold apart.
        let m = try C.nameMapper(separator: separator)
        var rng = SplitMix64(seed: 0xC0DE + UInt64(separator.unicodeScalars.first!.value))
        var checked = 0
        for _ in 0..<5000 {
            let x: CanonicalRecord = ["email": "a@b.c", "first_name": C.part(&rng), "last_name": C.part(&rng)]
            let written = m.outbound(x)
            let back = try m.inbound(SpokeRecord(id: "1", fields: written), base: x).get()
            let expected = m.project(x)
            #expect(back == expected, "\(x) wrote \(written)")
            // Parts that hold no separator of their own come back exactly.
            let clean = [x["first_name"], x["last_name"]].allSatisfy { v in
                (v ?? .null).isNull || !(v!.stringValue!.contains(separator.trimmingCharacters(in: .whitespaces).isEmpty ? "  " : separator))
            }
            if clean { #expect(back["first_name"] == x["first_name"] && back["last_name"] == x["last_name"], "\(x)"); checked += 1 }
            if back != expected { break }
        }
        #expect(checked > 1000)
    }

    @Test(arguments: [" ", ", "])
    func writingWhatWasReadGivesTheSystemsTextBack(_ separator: String) throws {
        // outbound(inbound(y, base: b)) == y, for every y the system could hold (whole pieces
        // between single separators) and any base it can be read against.
        let m = try C.nameMapper(separator: separator)
        var rng = SplitMix64(seed: 0xFACE + UInt64(separator.count))
        let words = ["Eli", "Jo", "Egan", "Mary", "Ann", "Zoë", "李", "O'Neil"]
        var read = 0
        for _ in 0..<5000 {
            let y = (0..<Int.random(in: 1...4, using: &rng)).map { _ in words[Int.random(in: 0..<words.count, using: &rng)] }
                .joined(separator: separator)
            let base: CanonicalRecord = ["first_name": C.part(&rng), "last_name": C.part(&rng)]
            guard case .success(let parts) = m.inbound(SpokeRecord(id: "1", fields: ["Full Name": .string(y)]), base: base)
            else { continue }
            read += 1
            #expect(m.outbound(parts)["Full Name"] == .string(y), "\(y) against \(base) read as \(parts)")
        }
        #expect(read > 2000)
    }
}

extension RelativeCompositeTests {
    @Test func aPartTheHubHasNoValueForIsFilledRatherThanAKnownPartChanged() throws {
        let m = try C.nameMapper()
        #expect(C.names(try C.read(m, "Ann Lee", base: ["first_name": "Ann"]).get()) == ["first_name": "Ann", "last_name": "Lee"])
        #expect(C.names(try C.read(m, "Ann Lee", base: ["last_name": "Lee"]).get()) == ["first_name": "Ann", "last_name": "Lee"])
        #expect(C.names(try C.read(m, "Annie", base: ["first_name": "Ann"]).get()) == ["first_name": "Annie", "last_name": .null])
    }
}

extension RelativeCompositeTests {
    /// What lets an unchanged record with a composite be recognised by its base hash alone: a
    /// reading without a base, where offered, is exactly what a reading against a base holding
    /// those values gives.
    @Test(arguments: [" ", ", "])
    func aReadingWithoutABaseIsOfferedOnlyWhereNoBaseHoldingItCouldReadItDifferently(_ separator: String) throws {
        let m = try C.nameMapper(separator: separator)
        var rng = SplitMix64(seed: 0xBA5E + UInt64(separator.count))
        let words = ["Eli", "Jo", "Egan", "Mary", "Ann", "Zoë", "李", "O'Neil", ""]
        var offered = 0
        for _ in 0..<5000 {
            // Text as systems hold it: sometimes with doubled or outer separators.
            let pieces = (0..<Int.random(in: 0...4, using: &rng)).map { _ in words[Int.random(in: 0..<words.count, using: &rng)] }
            let text = pieces.joined(separator: Bool.random(using: &rng) ? separator : separator + separator)
            let record = SpokeRecord(id: "1", fields: ["email": "a@b.c", "Full Name": .string(text)])
            guard let values = m.inboundWithoutBase(record) else { continue }
            offered += 1
            #expect(try m.inbound(record, base: values).get() == values, "\(text) read as \(values)")
            #expect(try m.inbound(record).get() == values)
        }
        #expect(offered > 1000)
        // Spacing the parts do not keep is read against the base instead.
        let spaced = SpokeRecord(id: "1", fields: ["email": "a@b.c", "Full Name": .string("Eli" + separator + separator + "Egan")])
        #expect(m.inboundWithoutBase(spaced) == nil)
        #expect(m.inboundWithoutBase(SpokeRecord(id: "1", fields: ["email": "a@b.c", "Full Name": "Eli Jo Egan"])) != nil
            || separator != " ")
    }
}
