import HubCore
import HubMapping
import HubTopology
import Testing

@Suite struct TypeConversionTests {
    static let fields = #""email": "mail", "age": "age", "score": "score", "vip": "vip", "full_name": "name", "tags": "tags""#

    @Test func textIsReadAsIntegerNumberAndBoolean() throws {
        let m = try mapper(Self.fields)
        #expect(try m.read(["age": "42", "score": "3.25", "vip": "yes"]) == [
            "email": .null, "age": 42, "score": 3.25, "vip": true, "full_name": .null, "tags": .null,
        ])
        #expect(try m.read(["age": " -7 ", "score": "-1e3", "vip": "N"])["age"] == -7)
        #expect(try m.read(["score": "-1e3"])["score"] == -1000.0)
        #expect(try m.read(["age": "4.0"])["age"] == 4)
        #expect(try m.read(["age": "1e3"])["age"] == 1000)
        for (text, expected) in [("true", true), ("T", true), ("1", true), ("on", true), ("YES", true), ("y", true),
                                 ("false", false), ("f", false), ("0", false), ("off", false), ("no", false), ("n", false)] {
            #expect(try m.read(["vip": .string(text)])["vip"] == .bool(expected), "\(text)")
        }
    }

    @Test func emptyTextIsNullForNonTextTypes() throws {
        let m = try mapper(Self.fields)
        #expect(try m.read(["age": "", "score": " ", "vip": ""]) == [
            "email": .null, "age": .null, "score": .null, "vip": .null, "full_name": .null, "tags": .null,
        ])
        #expect(try m.read(["tags": " "])["tags"] == .null)
        // Text stays text, even when empty.
        #expect(try m.read(["name": ""])["full_name"] == "")
    }

    @Test func numbersAndBooleansConvertAmongThemselves() throws {
        let m = try mapper(Self.fields)
        #expect(try m.read(["age": 42.0])["age"] == 42)
        #expect(try m.read(["age": true])["age"] == 1)
        #expect(try m.read(["score": 3])["score"] == 3.0)
        #expect(try m.read(["score": false])["score"] == 0.0)
        #expect(try m.read(["vip": 1])["vip"] == true)
        #expect(try m.read(["vip": 0.0])["vip"] == false)
    }

    @Test func anythingScalarReadsAsText() throws {
        let m = try mapper(Self.fields)
        #expect(try m.read(["name": 42])["full_name"] == "42")
        #expect(try m.read(["name": 2.5])["full_name"] == "2.5")
        #expect(try m.read(["name": 3.0])["full_name"] == "3")
        #expect(try m.read(["name": true])["full_name"] == "true")
    }

    @Test func jsonFieldsKeepStructureAndParseJSONText() throws {
        let m = try mapper(Self.fields)
        #expect(try m.read(["tags": ["a", "b"]])["tags"] == ["a", "b"])
        #expect(try m.read(["tags": #"{"b": [1, 2.5]}"#])["tags"] == ["b": [1, 2.5]])
        #expect(try m.read(["tags": "not json"])["tags"] == "not json")
    }

    /// Each failing case: the system value, the canonical field, and the exact message.
    static let failures: [(Value, String, String)] = [
        ("4.5", "age", "text that is not a whole number cannot be read as integer"),
        ("12abc", "age", "text that is not a whole number cannot be read as integer"),
        ("0x1F", "age", "text that is not a whole number cannot be read as integer"),
        (4.5, "age", "a number with a fraction cannot be read as integer"),
        (1e30, "age", "a number this large cannot be read as integer"),
        (["n": 1], "age", "an object cannot be read as integer"),
        ("3,5", "score", "text that is not a number cannot be read as number"),
        ("nan", "score", "text that is not a number cannot be read as number"),
        ("inf", "score", "text that is not a number cannot be read as number"),
        ("1e999", "score", "text that is not a number cannot be read as number"),
        ([1], "score", "an array cannot be read as number"),
        ("maybe", "vip", "text other than true/false/yes/no/1/0 cannot be read as boolean"),
        (2, "vip", "a number other than 0 or 1 cannot be read as boolean"),
        (["x"], "vip", "an array cannot be read as boolean"),
        (["secret": "x"], "full_name", "an object cannot be read as string"),
        ([7], "full_name", "an array cannot be read as string"),
    ]

    @Test(arguments: 0..<failures.count)
    func aValueThatCannotBeConvertedFailsTheRecordWithoutShowingTheValue(_ index: Int) throws {
        let (value, field, message) = Self.failures[index]
        let systemField = field == "full_name" ? "name" : field
        let m = try mapper(Self.fields)
        let error = try #require(m.failure([systemField: value], id: "c-9"))
        #expect(error.message == message)
        #expect(error.field == field)
        #expect(error.systemField == systemField)
        #expect(error.externalID == "c-9")
        #expect(error.description == "system 'sys' customer id c-9: field '\(systemField)' (canonical '\(field)'): \(message)")
        // The value itself never appears: records are often personal data.
        let shown = value.displayText
        #expect(!error.description.contains(shown), "\(error.description) shows \(shown)")
        if case .object(let o) = value { #expect(!o.values.contains { error.description.contains($0.displayText) }) }
    }

    @Test func outboundConvertsToTheSystemsType() throws {
        let m = try mapper(#"""
            "email": "mail", "age": {"field": "age", "type": "string"}, "score": {"field": "score", "type": "string"},
            "vip": {"field": "vip", "type": "integer"}, "tags": {"field": "tags", "type": "json"},
            "full_name": {"field": "n", "type": "number"}, "country": {"field": "c", "type": "boolean"},
            "first_name": {"field": "fn", "type": "integer"}
            """#)
        let out = m.outbound(["age": 42, "score": 2.5, "vip": true, "tags": ["a": 1], "full_name": "1.50", "country": "yes", "first_name": "007"])
        #expect(out == ["mail": .null, "age": "42", "score": "2.5", "vip": 1, "tags": #"{"a":1}"#, "n": 1.5, "c": true, "fn": 7])
        // …and back.
        let back = try m.read(out)
        #expect(back == ["email": .null, "age": 42, "score": 2.5, "vip": true, "tags": ["a": 1], "full_name": "1.5", "country": "true",
                         "first_name": "7"])
    }

    @Test func textThatIsNotANumberIsWrittenAsItIs() throws {
        let m = try mapper(#""email": "mail", "full_name": {"field": "n", "type": "number"}, "first_name": {"field": "fn", "type": "integer"}"#)
        #expect(m.outbound(["full_name": "0x10", "first_name": "12.5"]) == ["mail": .null, "n": "0x10", "fn": "12.5"])
        #expect(m.outbound(["full_name": "inf"])["n"] == "inf")
    }
}

@Suite struct DateTests {
    static func dates(_ born: String = "\"born\"", _ updated: String = "\"updated\"") throws -> EntityMapper {
        try mapper(#""email": "mail", "born": \#(born), "updated": \#(updated)"#)
    }

    @Test func isoDateTimesWithOffsetsBecomeUTC() throws {
        let m = try Self.dates()
        #expect(try m.read(["updated": "2026-02-03T10:00:00+02:00"])["updated"] == "2026-02-03T08:00:00Z")
        #expect(try m.read(["updated": "2026-02-03T10:00:00-0530"])["updated"] == "2026-02-03T15:30:00Z")
        #expect(try m.read(["updated": "2026-02-03T23:30:00-01:00"])["updated"] == "2026-02-04T00:30:00Z")
        #expect(try m.read(["updated": "2026-02-03t10:00:00z"])["updated"] == "2026-02-03T10:00:00Z")
        #expect(try m.read(["updated": "2026-02-03 10:00"])["updated"] == "2026-02-03T10:00:00Z")
        #expect(try m.read(["updated": "2026-02-03"])["updated"] == "2026-02-03T00:00:00Z")
    }

    @Test func millisecondsAreKeptOnlyWhenNotZero() throws {
        let m = try Self.dates()
        #expect(try m.read(["updated": "2026-02-03T10:00:00.5Z"])["updated"] == "2026-02-03T10:00:00.500Z")
        #expect(try m.read(["updated": "2026-02-03T10:00:00,123456+00:00"])["updated"] == "2026-02-03T10:00:00.123Z")
        #expect(try m.read(["updated": "2026-02-03T10:00:00.000Z"])["updated"] == "2026-02-03T10:00:00Z")
    }

    @Test func aDateIsTheUTCDay() throws {
        let m = try Self.dates()
        #expect(try m.read(["born": "1990-07-14"])["born"] == "1990-07-14")
        #expect(try m.read(["born": "1990-07-14T23:30:00-05:00"])["born"] == "1990-07-15")
        #expect(try m.read(["born": "2024-02-29"])["born"] == "2024-02-29")
    }

    @Test func invalidDatesAreRejected() throws {
        let m = try Self.dates()
        for text in ["2023-02-29", "2026-13-01", "2026-02-03T24:00:00Z", "03/02/2026", "2026-02-03T10:00:00+25:00", "yesterday"] {
            #expect(m.failure(["updated": .string(text)])?.message == "the value is not a date-time in the expected format (ISO 8601)", "\(text)")
        }
        #expect(m.failure(["born": 20260203])?.message == "the value is not a date in the expected format (ISO 8601)")
    }

    @Test func unixSecondsReadAndWrite() throws {
        let m = try Self.dates(#"{"field": "born", "format": "unix"}"#, #"{"field": "updated", "format": "unix"}"#)
        #expect(try m.read(["updated": 1_700_000_000])["updated"] == "2023-11-14T22:13:20Z")
        #expect(try m.read(["updated": "1700000000"])["updated"] == "2023-11-14T22:13:20Z")
        #expect(try m.read(["updated": 1_700_000_000.25])["updated"] == "2023-11-14T22:13:20.250Z")
        #expect(try m.read(["updated": 1_700_000_000.9996])["updated"] == "2023-11-14T22:13:21Z")
        #expect(try m.read(["updated": -1])["updated"] == "1969-12-31T23:59:59Z")
        #expect(try m.read(["born": 0])["born"] == "1970-01-01")
        #expect(m.outbound(["updated": "2023-11-14T22:13:20Z", "born": "1970-01-02"]) == ["mail": .null, "updated": 1_700_000_000, "born": 86_400])
        // Milliseconds are written as a fraction, so they read back.
        #expect(m.outbound(["updated": "2023-11-14T22:13:20.250Z"])["updated"] == 1_700_000_000.25)
        #expect(m.failure(["updated": 1e15])?.message == "the value is not a date-time in the expected format (unix seconds)")
        #expect(m.failure(["updated": "soon"])?.message == "the value is not a date-time in the expected format (unix seconds)")
    }

    @Test func unixMillisecondsReadAndWrite() throws {
        let m = try Self.dates("\"born\"", #"{"field": "updated", "format": "unix_ms"}"#)
        #expect(try m.read(["updated": 1_700_000_000_250])["updated"] == "2023-11-14T22:13:20.250Z")
        #expect(try m.read(["updated": "1700000000250"])["updated"] == "2023-11-14T22:13:20.250Z")
        #expect(try m.read(["updated": -1])["updated"] == "1969-12-31T23:59:59.999Z")
        #expect(m.outbound(["updated": "2023-11-14T22:13:20.250Z"])["updated"] == 1_700_000_000_250)
        #expect(m.outbound(["updated": "1969-12-31T23:59:59.999Z"])["updated"] == -1)
    }

    @Test func patternsReadAndWriteDates() throws {
        let m = try Self.dates(#"{"field": "born", "format": "DD/MM/YYYY"}"#, #"{"field": "updated", "format": "YYYY-MM-DD HH:mm:ss"}"#)
        #expect(try m.read(["born": "03/02/2026"])["born"] == "2026-02-03")
        #expect(try m.read(["updated": "2026-02-03 10:11:12"])["updated"] == "2026-02-03T10:11:12Z")
        #expect(m.outbound(["born": "2026-02-03", "updated": "2026-02-03T10:11:12.999Z"])
            == ["mail": .null, "born": "03/02/2026", "updated": "2026-02-03 10:11:12"])
        // ISO text is still understood, so a system's mixed data reads.
        #expect(try m.read(["born": "2026-02-03"])["born"] == "2026-02-03")
        #expect(m.failure(["born": "31/02/2026"])?.message == "the value is not a date in the expected format (DD/MM/YYYY)")
        #expect(m.failure(["updated": "2026-02-03 10h11"])?.message == "the value is not a date-time in the expected format (YYYY-MM-DD HH:mm:ss)")
    }

    @Test func patternsWithMillisecondsAndNumericDates() throws {
        let m = try Self.dates(#"{"field": "born", "format": "YYYYMMDD", "type": "integer"}"#,
                               #"{"field": "updated", "format": "DD.MM.YYYY HH:mm:ss.SSS"}"#)
        #expect(try m.read(["born": 20260203])["born"] == "2026-02-03")
        #expect(try m.read(["born": "20260203"])["born"] == "2026-02-03")
        #expect(m.outbound(["born": "2026-02-03"])["born"] == 20_260_203)
        #expect(try m.read(["updated": "03.02.2026 10:11:12.045"])["updated"] == "2026-02-03T10:11:12.045Z")
        #expect(m.outbound(["updated": "2026-02-03T10:11:12.045Z"])["updated"] == "03.02.2026 10:11:12.045")
    }

    @Test func yearsOutsideZeroToNineThousandNineHundredNinetyNineAreRejected() throws {
        let m = try Self.dates("\"born\"", #"{"field": "updated", "format": "unix_ms"}"#)
        #expect(m.failure(["updated": 300_000_000_000_000])?.message == "the value is not a date-time in the expected format (unix milliseconds)")
        #expect(try m.read(["updated": 253_402_300_799_000])["updated"] == "9999-12-31T23:59:59Z")
    }
}
