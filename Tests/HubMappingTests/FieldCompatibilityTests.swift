import HubCore
import HubMapping
import HubTopology
import Testing

/// `hubctl check` judges a mapping by `FieldCompatibility`; the engine converts with
/// `ValueConversion`. A mapping one accepts, the other must handle.
@Suite struct FieldCompatibilityTests {
    static func mapping(format: DateFormat?, type: SystemValueType? = nil) -> FieldMapping {
        FieldMapping(canonical: ["since"], systemField: "since", systemType: type, format: format)
    }

    @Test(arguments: [
        (DateFormat.pattern("YYYYMMDD"), SystemValueType?.some(.integer)), (.pattern("YYYYMMDD"), nil),
        (.unixSeconds, nil), (.unixMilliseconds, .integer),
    ])
    func aDateWrittenAsDigitsFitsAnIntegerColumnAndReadsBack(format: DateFormat, type: SystemValueType?) throws {
        let m = Self.mapping(format: format, type: type)
        #expect(FieldCompatibility.verdict(.date, mapping: m, kind: .integer) == .compatible)
        // What the engine writes is a whole number (or its digits), and reads back as the date.
        let written = ValueConversion.toSystem("2024-01-31", type: .date, systemType: type, format: format)
        let stored: Value = written.intValue.map(Value.int) ?? written.stringValue.flatMap { Int64($0) }.map(Value.int) ?? written
        #expect(stored.intValue != nil, "\(written)")
        #expect(try ValueConversion.toCanonical(stored, type: .date, format: format).get() == "2024-01-31")
        // A REAL column holds the same number as a double.
        if case .pattern = format {
            #expect(try ValueConversion.toCanonical(.double(20240131), type: .date, format: format).get() == "2024-01-31")
        }
    }

    @Test func aDatePatternWithSeparatorsCannotBeAnInteger() {
        let verdict = FieldCompatibility.verdict(.date, mapping: Self.mapping(format: .pattern("DD/MM/YYYY"), type: .integer),
                                                 kind: .integer)
        #expect(verdict == .incompatible("the format 'DD/MM/YYYY' writes separators, which an integer field cannot hold; "
                                         + "use a pattern of digits only such as YYYYMMDD, or unix"))
        // The engine would indeed write text.
        #expect(ValueConversion.toSystem("2024-01-31", type: .date, systemType: .integer, format: .pattern("DD/MM/YYYY"))
            == "31/01/2024")
        #expect(FieldCompatibility.verdict(.date, mapping: Self.mapping(format: nil), kind: .integer)
            == .incompatible("the field holds numbers; give the mapping \"format\": \"unix\", \"unix_ms\" or a pattern of digits such as \"YYYYMMDD\""))
    }

    @Test func aDateTimeWrittenAsADateOnlyPatternLosesItsTime() {
        let verdict = FieldCompatibility.verdict(.datetime, mapping: Self.mapping(format: .pattern("YYYYMMDD")), kind: .integer)
        #expect(verdict == .risky("the format 'YYYYMMDD' keeps the date only: times are lost"))
        #expect(FieldCompatibility.verdict(.datetime, mapping: Self.mapping(format: .pattern("YYYYMMDDHHmmss")), kind: .number)
            == .compatible)
    }
}
