import Foundation
import GRDB
import HubCore
import HubTesting
import SpokeSQLite
import Testing

/// Incremental reads by keyset with a lookback window (``KeysetRun``), on a clock the tests move.
@Suite struct SQLiteKeysetTests {
    /// A `contacts` table with `rows` given as SQL tuples (id, email, modified_at), a spoke over it
    /// on `clock`, and a separate connection to change the table behind the spoke's back.
    static func contacts(_ directory: TemporaryDirectory, _ clock: ManualClock, _ rows: String) throws -> (SQLiteSpoke, DatabaseQueue) {
        let path = directory.path("\(UUID().uuidString).db")
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, modified_at TEXT)")
            if !rows.isEmpty { try db.execute(sql: "INSERT INTO contacts VALUES \(rows)") }
        }
        return (try SQLiteSpoke(system: "app", path: path, clock: clock.wallClock), queue)
    }

    static func binding(lookback: Double) -> ObjectBinding {
        ObjectBinding(entity: "customer", object: "contacts", cursorField: "modified_at", cursorLookback: lookback,
                      fields: ["email"])
    }

    @Test("A bulk-loaded table whose rows share one cursor value is read by the runs within one window, then never again")
    func aBulkLoadIsNotReadAgainAfterTheWindow() async throws {
        try await withTemporaryDirectory { directory in
            let clock = ManualClock()
            let rows = (1...500).map { "(\($0), 'p\($0)@example.com', '2024-05-01 00:00:00')" }.joined(separator: ", ")
            let (spoke, _) = try Self.contacts(directory, clock, rows)
            let binding = Self.binding(lookback: 60)
            var cursor: HubCore.Cursor?
            var readPerRun: [Int] = []
            var cursors: [String] = []
            for _ in 1...6 {
                let run = try await spoke.readRun(binding, from: cursor, limit: 128)
                readPerRun.append(run.ids.count)
                cursor = run.next
                cursors.append(cursor?.value ?? "")
                clock.advance(seconds: 30)
            }
            // Runs at 0 s, 30 s and 60 s: the first run's read is not yet a window before the
            // previous run's; from 90 s on, nothing is read.
            #expect(readPerRun == [500, 500, 500, 0, 0, 0])
            // A quiet table's cursor no longer changes (the stale-cursor audit relies on that).
            #expect(cursors[3] == cursors[4] && cursors[4] == cursors[5])
            #expect(cursors[5].count < 100, "\(cursors[5])")
        }
    }

    @Test("A row committed later with an older cursor value, inside the window, is read")
    func aLateRowBelowThePositionIsReadInsideTheWindow() async throws {
        for lookback in [120.0, 0] {
            try await withTemporaryDirectory { directory in
                let clock = ManualClock()
                let (spoke, queue) = try Self.contacts(directory, clock, "(1, 'a', '10'), (2, 'b', '10'), (3, 'c', '10')")
                let binding = Self.binding(lookback: lookback)
                let first = try await spoke.readRun(binding, from: nil)
                #expect(first.ids == ["1", "2", "3"])

                clock.advance(seconds: 600)
                try await queue.write { try $0.execute(sql: "INSERT INTO contacts VALUES (4, 'd', '20')") }
                let second = try await spoke.readRun(binding, from: first.next)
                clock.advance(seconds: 60)
                let third = try await spoke.readRun(binding, from: second.next)
                // A transaction that took the value 15 before 20 was written commits now.
                clock.advance(seconds: 40)
                try await queue.write { try $0.execute(sql: "INSERT INTO contacts VALUES (5, 'late', '15')") }
                clock.advance(seconds: 20)
                let fourth = try await spoke.readRun(binding, from: third.next)
                if lookback > 0 {
                    #expect(second.ids == ["1", "2", "3", "4"], "the first run is not a window before the second")
                    #expect(third.ids == ["4"], "the first run's position is safe: only what follows it")
                    #expect(fourth.ids == ["5", "4"], "the late row is below the last position, inside the window")
                    // After the window, the start passes it: only new rows.
                    clock.advance(seconds: 300)
                    let fifth = try await spoke.readRun(binding, from: fourth.next)
                    clock.advance(seconds: 10)
                    #expect(try await spoke.readRun(binding, from: fifth.next).ids == [])
                } else {
                    // Without a window, each run starts after the last key read: the late row is missed.
                    #expect(second.ids == ["4"])
                    #expect(third.ids == [])
                    #expect(fourth.ids == [])
                }
            }
        }
    }

    @Test("An edit at the same cursor value after a read is read by the next run inside the window")
    func anEditWithinOneTimestampIsRead() async throws {
        try await withTemporaryDirectory { directory in
            let clock = ManualClock()
            let (spoke, queue) = try Self.contacts(directory, clock, "(1, 'a', '2024-05-01 10:00:05'), (2, 'b', '2024-05-01 10:00:05')")
            let binding = Self.binding(lookback: 60)
            let first = try await spoke.readRun(binding, from: nil)
            clock.advance(seconds: 1)
            try await queue.write { try $0.execute(sql: "UPDATE contacts SET email = 'a2' WHERE id = 1") }
            let page = try await spoke.read(binding, after: first.next, limit: 10)
            #expect(page.records.map(\.id) == ["1", "2"])
            #expect(page.records.first?.fields["email"] == "a2")
        }
    }

    @Test("A run read in pages of one row leaves the same position as a run read in one page")
    func pagesCarryTheRunsCheckpoints() async throws {
        try await withTemporaryDirectory { directory in
            let clock = ManualClock()
            let (spoke, queue) = try Self.contacts(directory, clock, "(1, 'a', '1'), (2, 'b', '2'), (3, 'n', NULL)")
            let binding = Self.binding(lookback: 60)
            let whole = try await spoke.readRun(binding, from: nil)
            let paged = try await spoke.readRun(binding, from: nil, limit: 1)
            #expect(whole.ids == ["3", "1", "2"] && paged.ids == whole.ids)
            #expect(paged.next == whole.next)
            clock.advance(seconds: 61)
            try await queue.write { try $0.execute(sql: "INSERT INTO contacts VALUES (4, 'd', '3'), (5, 'e', '3')") }
            let second = try await spoke.readRun(binding, from: paged.next, limit: 1)
            #expect(second.ids == ["1", "2", "4", "5"], "rows with a cursor value, none twice; NULL rows only on full reads")
            clock.advance(seconds: 61)
            let third = try await spoke.readRun(binding, from: second.next, limit: 1)
            #expect(third.ids == ["4", "5"], "after the first run's last key (2, 2), read a window before the second run")
        }
    }

    @Test("Cursors stored before keysets still read: the value inclusive, or a run continued after its key")
    func cursorsFromBeforeKeysetsDecode() async throws {
        try await withTemporaryDirectory { directory in
            let clock = ManualClock()
            let (spoke, _) = try Self.contacts(directory, clock, """
                (1, 'a', '2024-05-01 10:00:00'), (2, 'b', '2024-05-01 10:00:05'), (3, 'c', '2024-05-01 10:00:05'), (4, 'n', NULL)
                """)
            let binding = Self.binding(lookback: 60)
            let inclusive = try await spoke.readRun(binding, from: Cursor(#"{"v":"2024-05-01 10:00:05"}"#))
            #expect(inclusive.ids == ["2", "3"])
            #expect(inclusive.next?.value.contains(#""from":{"v":"2024-05-01 10:00:05"}"#) == true, "\(inclusive.next?.value ?? "")")
            #expect(try await spoke.readRun(binding, from: Cursor(#"{"v":null}"#)).ids == ["1", "2", "3"])
            #expect(try await spoke.readRun(binding, from: Cursor(#"{"v":"2024-05-01 10:00:05","id":2}"#)).ids == ["3"])
            // The inclusive start holds until a checkpoint is a window old.
            clock.advance(seconds: 30)
            let again = try await spoke.readRun(binding, from: inclusive.next)
            #expect(again.ids == ["2", "3"])
            clock.advance(seconds: 61)
            let third = try await spoke.readRun(binding, from: again.next)
            #expect(third.ids == ["2", "3"], "the checkpoint is not a window before the previous run (at 30 s)")
            clock.advance(seconds: 1)
            #expect(try await spoke.readRun(binding, from: third.next).ids == [])
            await #expect(throws: SpokeError.self) {
                _ = try await spoke.read(binding, after: Cursor(#"{"from":[1],"cp":[]}"#), limit: 10)
            }
        }
    }

    @Test("Frequent changes keep at most eight checkpoints, and the start still moves on")
    func checkpointsArePruned() async throws {
        try await withTemporaryDirectory { directory in
            let clock = ManualClock()
            let (spoke, queue) = try Self.contacts(directory, clock, "")
            let binding = Self.binding(lookback: 60)
            var cursor: HubCore.Cursor?
            var last: [String] = []
            for i in 1...40 {
                try await queue.write { try $0.execute(sql: "INSERT INTO contacts VALUES (?, 'x', ?)", arguments: [i, 1000 + i]) }
                let run = try await spoke.readRun(binding, from: cursor)
                cursor = run.next
                last = run.ids
                clock.advance(seconds: 5)
                let state = try #require(try JSONParser.parse(cursor!.value).objectValue)
                #expect((state["cp"]?.arrayValue?.count ?? 0) <= 8)
            }
            // 40 runs five seconds apart: the start lags the window (and the pruning) but moved on.
            #expect(last.count < 30 && last.last == "40", "\(last)")
        }
    }
}
