import HubCore
import HubMapping
import HubTopology
import Testing

/// No system value, however odd, crashes the mapper: it maps or fails with a message.
@Suite struct RobustnessTests {
    static let extremes: [Value] = [
        .int(.min), .int(.max), .int(-1), .int(0), .double(-1e308), .double(1e308), .double(.leastNonzeroMagnitude),
        .double(-0.0), .double(9.3e18), .double(-9.3e18), .double(1e15), .double(Double.leastNonzeroMagnitude),
        "", " ", "-", "+", ".", "e", "1e", "1e99999", "-9223372036854775809", "9223372036854775808", "99999999999999999999",
        "0000-01-01", "9999-12-31T23:59:59.999Z", "0000-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "2026-02-30",
        "24:00", "T", "2026-02-03T", "2026-02-03T10:00:00.Z", "2026-02-03T10:00:00+", "2026-02-03T10:00:00+1",
        .string(String(repeating: "9", count: 400)), .string(String(repeating: " a", count: 200)), "\u{0}", "😀", "🇩🇪",
        [], [:], [[[]]], ["a": ["b": .int(.min)]], true, false, .null,
    ]

    static let forms = [
        #""email": "e", "age": "a", "score": "s", "vip": "v", "born": "b", "updated": "u", "tags": "t", "rep": "r", "full_name": "n""#,
        #""email": "e", "born": {"field": "b", "format": "unix"}, "updated": {"field": "u", "format": "unix_ms"}"#,
        #""email": "e", "born": {"field": "b", "format": "YYYYMMDD", "type": "integer"}, "updated": {"field": "u", "format": "DD/MM/YYYY HH:mm:ss.SSS"}"#,
        #""email": "e", "first_name": {"field": "n", "parts": ["first_name", "last_name"], "split": "right", "separator": "--"}"#,
        #""email": "e", "country": {"field": "c", "values": {"a": 1, "b": "x"}, "default": "z", "normalize": ["collapse_spaces", "empty_to_null"]}"#,
        #""email": "e", "age": {"field": "a", "type": "string"}, "vip": {"field": "v", "type": "integer"}, "score": {"field": "s", "type": "boolean"}"#,
    ]

    @Test(arguments: 0..<forms.count)
    func extremeSystemValuesMapOrFailWithAMessage(_ form: Int) throws {
        let m = try mapper(Self.forms[form], nestedPaths: form % 2 == 0)
        for value in Self.extremes {
            var record: [String: Value] = [:]
            for field in m.binding.fields { record[field] = value }
            switch m.inbound(SpokeRecord(id: "x", fields: record)) {
            case .success(let canonical):
                // Whatever reads, writes and projects.
                _ = m.outbound(canonical)
                #expect(m.project(canonical) == m.project(m.project(canonical)))
            case .failure(let error):
                #expect(!error.message.isEmpty)
            }
            // Hub values of any kind write and project.
            var hub: CanonicalRecord = [:]
            for field in m.mappedFields { hub[field] = value }
            _ = m.outbound(hub)
            #expect(m.project(hub) == m.project(m.project(hub)), "\(value)")
        }
    }
}
