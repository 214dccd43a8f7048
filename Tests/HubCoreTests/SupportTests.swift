import Foundation
import HubCore
import Testing

@Suite struct SHA256Tests {
    static let vectors: [(String, String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        (String(repeating: "a", count: 55), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (String(repeating: "a", count: 56), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (String(repeating: "a", count: 63), "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
        (String(repeating: "a", count: 64), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        (String(repeating: "a", count: 65), "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
        (String(repeating: "a", count: 1000), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"),
        ("héllo wörld 😀", "4d51765c5c512fcd71d5dfbb7bdf72e9ec2cb09bb2dfac7cdf3949fcd48f7613"),
    ]

    @Test(arguments: 0..<vectors.count)
    func digestsMatchKnownVectors(_ index: Int) {
        let (input, digest) = Self.vectors[index]
        #expect(SHA256.hex(input) == digest)
        #expect(SHA256.hexString(SHA256.hash(Array(input.utf8))) == digest)
    }

    @Test func feedingInPiecesGivesTheSameDigest() {
        let input = Array(String(repeating: "abcdefghij", count: 30).utf8)
        var h = SHA256()
        for chunk in stride(from: 0, to: input.count, by: 7) { h.update(input[chunk..<min(chunk + 7, input.count)]) }
        #expect(SHA256.hexString(h.finalize()) == SHA256.hex(String(repeating: "abcdefghij", count: 30)))
    }

    @Test func hexCanBeShortened() {
        #expect(SHA256.hex("abc", hexLength: 8) == "ba7816bf")
        #expect(SHA256.hash("".utf8).count == 32)
    }
}

@Suite struct CivilTimeTests {
    @Test func theEpochAndKnownInstants() {
        #expect(CivilTime(unixSeconds: 0) == CivilTime(year: 1970, month: 1, day: 1))
        #expect(CivilTime(unixSeconds: 1_700_000_000).rfc3339() == "2023-11-14T22:13:20Z")
        #expect(CivilTime(unixSeconds: 951_782_400).dateString == "2000-02-29")
        #expect(CivilTime(unixSeconds: 253_402_300_799).rfc3339() == "9999-12-31T23:59:59Z")
        #expect(CivilTime(unixSeconds: -62_135_596_800).rfc3339() == "0001-01-01T00:00:00Z")
    }

    @Test func negativeTimesAreBeforeTheEpoch() {
        #expect(CivilTime(unixSeconds: -1).rfc3339() == "1969-12-31T23:59:59Z")
        #expect(CivilTime(unixSeconds: -86_400).rfc3339() == "1969-12-31T00:00:00Z")
        #expect(CivilTime(unixSeconds: -86_401).rfc3339() == "1969-12-30T23:59:59Z")
        #expect(CivilTime(year: 1969, month: 12, day: 31, hour: 23, minute: 59, second: 59).unixSeconds == -1)
        #expect(CivilTime(unixSeconds: -62_167_219_201).dateString == "-0001-12-31")
    }

    @Test func leapYearsFollowTheGregorianRules() {
        #expect(CivilTime.isValidDate(year: 2024, month: 2, day: 29))
        #expect(CivilTime.isValidDate(year: 2000, month: 2, day: 29))
        #expect(!CivilTime.isValidDate(year: 1900, month: 2, day: 29))
        #expect(!CivilTime.isValidDate(year: 2100, month: 2, day: 29))
        #expect(!CivilTime.isValidDate(year: 2023, month: 2, day: 29))
        #expect(CivilTime.isValidDate(year: 0, month: 2, day: 29))
        #expect(!CivilTime.isValidDate(year: 2026, month: 4, day: 31))
        #expect(!CivilTime.isValidDate(year: 2026, month: 13, day: 1))
        #expect(!CivilTime.isValidDate(year: 2026, month: 0, day: 1))
        #expect(!CivilTime.isValidDate(year: 2026, month: 1, day: 0))
        #expect(CivilTime.daysFromCivil(year: 2024, month: 3, day: 1) - CivilTime.daysFromCivil(year: 2024, month: 2, day: 28) == 2)
        #expect(CivilTime.daysFromCivil(year: 2023, month: 3, day: 1) - CivilTime.daysFromCivil(year: 2023, month: 2, day: 28) == 1)
    }

    @Test func everyDayForThousandsOfYearsRoundTrips() {
        // Day by day from 1600 to 2400, the day count and the civil date agree both ways and
        // each day follows the previous one.
        var previous = CivilTime(unixSeconds: (CivilTime.daysFromCivil(year: 1599, month: 12, day: 31)) * 86_400)
        let first = CivilTime.daysFromCivil(year: 1600, month: 1, day: 1)
        let last = CivilTime.daysFromCivil(year: 2400, month: 12, day: 31)
        for day in first...last {
            let c = CivilTime(unixSeconds: day * 86_400)
            #expect(CivilTime.daysFromCivil(year: c.year, month: c.month, day: c.day) == day)
            #expect(CivilTime.isValidDate(year: c.year, month: c.month, day: c.day))
            let next = previous.day + 1
            let follows = (c.year == previous.year && c.month == previous.month && c.day == next)
                || (c.day == 1 && (c.month == previous.month + 1 || (c.month == 1 && previous.month == 12 && c.year == previous.year + 1)))
            if !follows { Issue.record("\(c.dateString) does not follow \(previous.dateString)"); return }
            previous = c
        }
    }

    @Test func randomInstantsRoundTripAndAgreeWithFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let seconds = Int64.random(in: -12_000_000_000...253_402_300_799, using: &rng)  // 1589 to 9999
            let c = CivilTime(unixSeconds: seconds)
            #expect(c.unixSeconds == seconds)
            let f = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second],
                                            from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect([f.year, f.month, f.day, f.hour, f.minute, f.second] == [c.year, c.month, c.day, c.hour, c.minute, c.second],
                    "\(seconds)")
        }
        for _ in 0..<5000 {
            let seconds = Int64.random(in: -100_000_000_000...100_000_000_000, using: &rng)
            #expect(CivilTime(unixSeconds: seconds).unixSeconds == seconds)
        }
    }

    @Test func rfc3339TextHasMillisecondsOnlyWhenAsked() {
        let c = CivilTime(year: 2026, month: 2, day: 3, hour: 4, minute: 5, second: 6)
        #expect(c.rfc3339() == "2026-02-03T04:05:06Z")
        #expect(c.rfc3339(millis: 7) == "2026-02-03T04:05:06.007Z")
        #expect(CivilTime(year: 33, month: 1, day: 2).dateString == "0033-01-02")
    }

    @Test func timestampsAreUTCWithMilliseconds() {
        #expect(Timestamp.string(Date(timeIntervalSince1970: 1_700_000_000.25)) == "2023-11-14T22:13:20.250Z")
        #expect(Timestamp.string(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.string(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.string(Date(timeIntervalSince1970: -1.5)) == "1969-12-31T23:59:58.500Z")
        // Times given to the millisecond keep it, although `Date` cannot hold them exactly.
        for ms in stride(from: Int64(1_700_000_000_000), to: 1_700_000_010_000, by: 1) {
            let text = Timestamp.string(Date(timeIntervalSince1970: Double(ms) / 1000))
            #expect(text.hasSuffix(String(format: ".%03dZ", Int(ms % 1000))), "\(ms) → \(text)")
            if !text.hasSuffix(String(format: ".%03dZ", Int(ms % 1000))) { break }
        }
    }
}

@Suite struct IDGeneratorTests {
    func isUUIDv7(_ id: String) -> Bool {
        let chars = Array(id)
        guard chars.count == 36, [8, 13, 18, 23].allSatisfy({ chars[$0] == "-" }) else { return false }
        return chars[14] == "7" && "89ab".contains(chars[19])
            && id.replacingOccurrences(of: "-", with: "").allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    @Test func uuidV7IDsAreWellFormedAndStrictlyIncreasing() {
        let generator = IDGenerator.uuidV7()
        var previous = ""
        for _ in 0..<20_000 {
            let id = generator.next()
            #expect(isUUIDv7(id), "\(id)")
            #expect(id > previous, "\(id) after \(previous)")
            if id <= previous { return }
            previous = id
        }
    }

    @Test func uuidV7IDsIncreaseEvenWhenTheClockStandsStillOrGoesBack() {
        let date = Date(timeIntervalSince1970: 1_700_000_000.123)
        let frozen = IDGenerator.uuidV7(clock: .fixed(date))
        var ids = (0..<10_000).map { _ in frozen.next() }
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        // The first 48 bits are the milliseconds since 1970.
        #expect(ids[0].replacingOccurrences(of: "-", with: "").prefix(12) == "018bcfe5687b")
        let backwards = IDGenerator.uuidV7(clock: WallClock(Counter.descending()))
        ids = (0..<1000).map { _ in backwards.next() }
        #expect(ids == ids.sorted())
    }

    @Test func uuidV7IDsAreUniqueAcrossThreads() async {
        let generator = IDGenerator.uuidV7()
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<4 { group.addTask { (0..<2000).map { _ in generator.next() } } }
            var all: [String] = []
            for await batch in group {
                #expect(batch == batch.sorted())
                all += batch
            }
            return all
        }
        #expect(Set(ids).count == 8000)
    }

    @Test func incrementingIDsAreForTests() {
        let g = IDGenerator.incrementing(prefix: "hub")
        #expect([g.next(), g.next(), g.next()] == ["hub-000001", "hub-000002", "hub-000003"])
    }
}

/// A clock that goes back one second per reading.
enum Counter {
    static func descending() -> @Sendable () -> Date {
        let state = Box()
        return { state.next() }
    }

    final class Box: @unchecked Sendable {
        let lock = NSLock()
        var t = 1_800_000_000.0
        func next() -> Date {
            lock.lock(); defer { lock.unlock() }
            t -= 1
            return Date(timeIntervalSince1970: t)
        }
    }
}

@Suite struct ValuePathTests {
    @Test func aDottedPathReadsNestedObjects() {
        let record: [String: Value] = ["properties": ["email": "a@x.org", "name": ["first": "Ann"]], "id": 1]
        #expect(record.value(atPath: "properties.email") == "a@x.org")
        #expect(record.value(atPath: "properties.name.first") == "Ann")
        #expect(record.value(atPath: "id") == 1)
        #expect(record.value(atPath: "properties.missing") == nil)
        #expect(record.value(atPath: "id.x") == nil)
        #expect(record.value(atPath: "nothing") == nil)
        #expect(Value.object(record).value(atPath: "properties.name") == ["first": "Ann"])
        #expect(Value.string("x").value(atPath: "a") == nil)
    }

    @Test func aLiteralKeyWithDotsWins() {
        let record: [String: Value] = ["a.b": "literal", "a": ["b": "nested"]]
        #expect(record.value(atPath: "a.b") == "literal")
        #expect(Value.object(record).value(atPath: "a.b") == "literal")
    }

    @Test func writingADottedPathCreatesNestedObjects() {
        var record: [String: Value] = ["properties": ["keep": 1]]
        record.setValue("a@x.org", atPath: "properties.email")
        record.setValue("Ann", atPath: "properties.name.first")
        record.setValue(2, atPath: "top")
        #expect(record == ["properties": ["keep": 1, "email": "a@x.org", "name": ["first": "Ann"]], "top": 2])
        // A scalar in the way is replaced by an object.
        record.setValue(true, atPath: "top.flag")
        #expect(record["top"] == ["flag": true])
    }

    @Test func writingWithoutNestingUsesTheLiteralKey() {
        var record: [String: Value] = [:]
        record.setValue("a@x.org", atPath: "properties.email", nested: false)
        #expect(record == ["properties.email": "a@x.org"])
    }

    @Test func deepMergingPatchesNestedObjectsKeyByKey() {
        let base: [String: Value] = ["p": ["a": 1, "b": ["c": 2, "d": 3]], "x": [1, 2], "y": "keep"]
        let merged = base.deepMerging(["p": ["b": ["c": 20], "e": 5], "x": [3], "z": nil])
        #expect(merged == ["p": ["a": 1, "b": ["c": 20, "d": 3], "e": 5], "x": [3], "y": "keep", "z": nil])
    }

    @Test func valuesDescribeThemselves() {
        #expect(Value.string("x").displayText == "x")
        #expect(Value.int(3).displayText == "3")
        #expect(Value.array([1, "a"]).json == #"[1,"a"]"#)
        #expect([Value.null, true, 1, 1.5, "s", [], [:]].map(\.typeName) == ["null", "boolean", "integer", "number", "string", "array", "object"])
        #expect(Value.int(2).numberValue == 2.0)
        #expect(Value.string("2").numberValue == nil)
    }
}
