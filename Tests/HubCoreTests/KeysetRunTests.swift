import HubCore
import Testing

@Suite struct KeysetRunTests {
    typealias Run = KeysetRun<String>
    static func key(_ v: String, _ id: String) -> Run.Key { Run.Key(value: v, id: id) }

    @Test("A run starts after the newest checkpoint read a window before the previous run began, and drops the older ones")
    func beginningMovesTheStart() {
        let s: Int64 = 1_000_000  // times are in microseconds, windows in seconds
        let run = Run(start: .all, checkpoints: [.init(key: Self.key("a", "1"), readAt: 100 * s), .init(key: Self.key("b", "2"), readAt: 200 * s),
                                                 .init(key: Self.key("c", "3"), readAt: 300 * s)], readAt: 260 * s)
        let next = run.beginning(lookback: 60, at: 400 * s)
        #expect(next.start == .after(Self.key("b", "2")))
        #expect(next.checkpoints.map(\.key) == [Self.key("c", "3")])
        #expect(next.readAt == 400 * s)
        #expect(run.beginning(lookback: 200, at: 400 * s).start == .all, "no checkpoint is a window old")
        #expect(run.beginning(lookback: .infinity, at: 400 * s).start == .all, "an endless window never trusts a checkpoint")
        #expect(run.beginning(lookback: 1e300, at: 400 * s).start == .all)
        #expect(run.beginning(lookback: 0, at: 400 * s).start == .after(Self.key("c", "3")), "no window: the last key")
    }

    @Test("A finished run adds its last key once, keeps the older time for a repeated key, and keeps at most eight")
    func finishedAddsACheckpoint() {
        var run = Run(start: .all, readAt: 0)
        for i in 1...20 { run = run.finished(last: Self.key("v\(i)", "\(i)"), at: Int64(i)) }
        #expect(run.checkpoints.count == Run.maxCheckpoints)
        #expect(run.checkpoints.first?.readAt == 1 && run.checkpoints.last?.readAt == 20)
        let again = run.finished(last: Self.key("v20", "20"), at: 99)
        #expect(again.checkpoints.last?.readAt == 20)
        #expect(run.finished(last: nil, at: 99) == run)
    }

    @Test("The state round-trips through a cursor's JSON members; malformed members are refused")
    func membersRoundTrip() throws {
        let runs = [Run(start: .all), Run(start: .atLeast("2024"), checkpoints: [.init(key: Self.key("x", "7"), readAt: 5)], readAt: 9),
                    Run(start: .after(Self.key("a\"b", "1")), checkpoints: [], readAt: 0)]
        for run in runs {
            let text = JSONWriter.string(.object(run.members(withReadAt: true, Value.string)))
            let parsed = try #require(JSONParser.parse(text).objectValue)
            #expect(Run(members: parsed, \.stringValue) == run, "\(text)")
        }
        let between = Run(start: .all, readAt: 42).members(withReadAt: false, Value.string)
        #expect(between["read"] == nil, "a quiet cursor's text does not change with the time")
        for bad in [#"{"cp":[]}"#, #"{"from":[1],"cp":[]}"#, #"{"from":null}"#, #"{"from":null,"cp":[["a","b"]]}"#,
                    #"{"from":{"w":"a"},"cp":[]}"#, #"{"from":null,"cp":[],"read":"soon"}"#] {
            #expect(Run(members: try #require(JSONParser.parse(bad).objectValue), \.stringValue) == nil, "\(bad)")
        }
    }
}
