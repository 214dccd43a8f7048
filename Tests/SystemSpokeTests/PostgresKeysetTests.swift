import Foundation
import HubCore
import HubTesting
import HubTestServers
import PostgresNIO
import SpokePostgres
import Testing

/// Incremental reads by keyset with a lookback window (``KeysetRun``) against a real PostgreSQL:
/// the window on a clock the tests move, and once on the server's `clock_timestamp()`.
@Suite(.enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct PostgresKeysetTests {
    static func binding(lookback: Double) -> ObjectBinding {
        ObjectBinding(entity: "customer", object: "contacts", cursorField: "updated_at", cursorLookback: lookback,
                      fields: ["email"])
    }

    /// A fixture with a `contacts` table whose rows share cursor values in bulk.
    static func contacts(_ rows: Int, at value: String) async throws -> PostgresFixture {
        let f = try await PostgresFixture.make()
        try await f.sql("CREATE TABLE contacts (id bigint PRIMARY KEY, email text, updated_at timestamptz)",
                        """
                        INSERT INTO contacts SELECT i, 'p' || i || '@example.com', '\(value)'::timestamptz
                        FROM generate_series(1, \(rows)) AS i
                        """)
        return f
    }

    @Test("A bulk-loaded table whose rows share one cursor value is read by the runs within one window, then never again")
    func aBulkLoadIsNotReadAgainAfterTheWindow() async throws {
        let f = try await Self.contacts(2_000, at: "2024-05-01T00:00:00Z")
        defer { Task { await f.tearDown() } }
        let clock = ManualClock()
        let spoke = PostgresSpoke(system: "billing", settings: f.settings(), clock: clock.wallClock)
        defer { Task { await spoke.close() } }
        let binding = Self.binding(lookback: 120)
        var cursor: Cursor?
        var readPerRun: [Int] = []
        for _ in 1...5 {
            let run = try await spoke.readRun(binding, from: cursor)
            readPerRun.append(run.ids.count)
            cursor = run.next
            clock.advance(seconds: 90)
        }
        // Runs at 0, 90 and 180 s read everything (the first run's checkpoint is not yet a
        // window before the previous run's read); from 270 s, nothing.
        #expect(readPerRun == [2_000, 2_000, 2_000, 0, 0])
    }

    @Test("A long transaction committing an older cursor value inside the window is read; the window's other rows again, once")
    func aLongTransactionsRowIsRead() async throws {
        let f = try await Self.contacts(3, at: "2024-05-01T10:00:00Z")
        defer { Task { await f.tearDown() } }
        let clock = ManualClock()
        let spoke = PostgresSpoke(system: "billing", settings: f.settings(), clock: clock.wallClock)
        defer { Task { await spoke.close() } }
        let binding = Self.binding(lookback: 120)
        let first = try await spoke.readRun(binding, from: nil)
        #expect(first.ids == ["1", "2", "3"])

        clock.advance(seconds: 600)
        try await f.sql("INSERT INTO contacts VALUES (4, 'd', '2024-05-01T10:00:20Z')")
        let second = try await spoke.readRun(binding, from: first.next)
        #expect(second.ids == ["1", "2", "3", "4"])
        clock.advance(seconds: 60)
        // A transaction takes the cursor value 10:00:10 and stays open across a run.
        try await f.sql("BEGIN", "INSERT INTO contacts VALUES (5, 'late', '2024-05-01T10:00:10Z')")
        let third = try await spoke.readRun(binding, from: second.next)
        #expect(third.ids == ["4"], "after the first run's position; row 5 is not committed")
        clock.advance(seconds: 30)
        try await f.sql("COMMIT")
        clock.advance(seconds: 10)
        let fourth = try await spoke.readRun(binding, from: third.next)
        #expect(fourth.ids == ["5", "4"], "the committed row is below the last position, inside the window")
        clock.advance(seconds: 600)
        let fifth = try await spoke.readRun(binding, from: fourth.next)
        clock.advance(seconds: 10)
        #expect(try await spoke.readRun(binding, from: fifth.next).ids.isEmpty)
    }

    @Test("An edit keeping the same cursor value after a read is read by the next run inside the window")
    func anEditWithinOneTimestampIsRead() async throws {
        let f = try await Self.contacts(2, at: "2024-05-01T10:00:05Z")
        defer { Task { await f.tearDown() } }
        let clock = ManualClock()
        let spoke = PostgresSpoke(system: "billing", settings: f.settings(), clock: clock.wallClock)
        defer { Task { await spoke.close() } }
        let binding = Self.binding(lookback: 60)
        let first = try await spoke.readRun(binding, from: nil)
        clock.advance(seconds: 1)
        try await f.sql("UPDATE contacts SET email = 'changed' WHERE id = 1")
        let page = try await spoke.read(binding, after: first.next, limit: 10)
        #expect(page.records.map(\.id) == ["1", "2"])
        #expect(page.records.first?.fields["email"] == "changed")
    }

    @Test("The window is timed on the server's clock_timestamp() when no clock is injected")
    func theServersClockTimesTheWindow() async throws {
        let f = try await Self.contacts(50, at: "2024-05-01T10:00:05Z")
        defer { Task { await f.tearDown() } }
        let spoke = f.spoke()
        defer { Task { await spoke.close() } }
        // A window far longer than the test: every run reads everything again.
        let long = Self.binding(lookback: 3600)
        let first = try await spoke.readRun(long, from: nil)
        let second = try await spoke.readRun(long, from: first.next)
        #expect(first.ids.count == 50 && second.ids.count == 50)
        let text = try #require(second.next?.value)
        let readAt = try #require(try JSONParser.parse(text).objectValue?["read"]?.intValue)
        let server = try await f.rows("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::int8::text")
        let now = try #require(server.first?.first.flatMap { $0.flatMap { Int64($0) } })
        #expect(readAt <= now && readAt > now - 600_000_000, "the run's read time is the server's (µs since 1970)")
        // A zero window: the next run starts after the last key read.
        let zero = Self.binding(lookback: 0)
        let third = try await spoke.readRun(zero, from: second.next)
        #expect(third.ids.isEmpty)
    }

    @Test("Cursors stored before keysets still read: the value inclusive, or a run continued after its key")
    func cursorsFromBeforeKeysetsDecode() async throws {
        let f = try await Self.contacts(3, at: "2024-05-01T10:00:05Z")
        defer { Task { await f.tearDown() } }
        try await f.sql("UPDATE contacts SET updated_at = '2024-05-01T10:00:00Z' WHERE id = 1")
        let spoke = f.spoke()
        defer { Task { await spoke.close() } }
        let binding = Self.binding(lookback: 60)
        let inclusive = try await spoke.readRun(binding, from: Cursor(#"{"v":"2024-05-01T10:00:05.000+00:00"}"#))
        #expect(inclusive.ids == ["2", "3"])
        #expect(try await spoke.readRun(binding, from: Cursor(#"{"v":null}"#)).ids == ["1", "2", "3"])
        #expect(try await spoke.readRun(binding, from: Cursor(#"{"v":"2024-05-01T10:00:05+00:00","id":"2"}"#)).ids == ["3"])
        await #expect(throws: SpokeError.self) {
            _ = try await spoke.read(binding, after: Cursor(#"{"from":[1,2],"cp":[]}"#), limit: 10)
        }
    }
}
