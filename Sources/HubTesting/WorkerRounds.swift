import Foundation

/// Waiting on `hubctl run --worker` processes through their hub's tables.
public enum WorkerRounds {
    /// Waits until the workers have read every system again and pushed what they read: every pull
    /// unit has run, and not failed (nor been skipped as not due by its schedule), in a round
    /// begun after this call, then the round after the last of those is done. An edit made in a system before the
    /// call has then reached every system, whatever the schedules; counting rounds alone does not
    /// say so, since a round reads only what is due.
    ///
    /// A pull unit's run is seen by polling (`done_round` and `run_id` of its row): one seen is
    /// certain, one missed between two polls only makes the wait last until its next run.
    /// - Parameters:
    ///   - query: runs SQL on the hub's schema and answers its rows, one per line.
    ///   - poll: waits, within a bound, until its condition holds (named by its first argument).
    public static func waitForReadsAndPushes(query: @escaping (String) async throws -> String,
                                             poll: (String, () async throws -> Bool) async throws -> Void) async throws {
        func number(_ sql: String) async throws -> Int { Int(try await query(sql).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 }
        func units(_ sql: String) async throws -> Set<String> {
            Set(try await query(sql).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        // The first worker creates the hub's tables and its units: until then, nothing to wait on.
        var pulls: Set<String> = []
        try await poll("the workers' units in the hub") {
            pulls = (try? await units("SELECT unit FROM work_unit WHERE phase = 'pull'")) ?? []
            return !pulls.isEmpty
        }
        let start = try await number("SELECT round FROM work_round")
        var seen: Set<String> = []
        try await poll("every pull unit run in a round after round \(start)") {
            seen.formUnion(try await units("""
                SELECT u.unit FROM work_unit u JOIN run r ON r.id = u.run_id
                WHERE u.phase = 'pull' AND u.done_round > \(start) AND r.status IN ('ok', 'partial')
                """))
            return pulls.isSubset(of: seen)
        }
        let last = try await number("SELECT round FROM work_round")
        try await poll("every unit done for round \(last + 1)") {
            try await number("SELECT coalesce(min(done_round), 0) FROM work_unit") >= last + 1
        }
    }
}
