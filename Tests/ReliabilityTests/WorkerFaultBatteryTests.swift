import Foundation
import HubCore
import HubTestServers
import HubTesting
import Testing

/// T11 of the reliability battery: `hubctl run --worker` processes sharing one PostgreSQL hub
/// while four faults are repeated, in an order and at moments drawn from a logged seed, with
/// edits in three systems and a new customer before each: a worker holding a lease killed with
/// SIGKILL, a worker stopped (SIGSTOP) past its lease and resumed (SIGCONT), a worker's hub
/// session ended by the server (`pg_terminate_backend`), and the hub's server restarted (`fast`)
/// or crashed (`immediate`). After each fault, two rounds later, every system is read back with
/// its own tool and compared with the model: duplicates and lost updates must be 0, every resumed
/// worker's late write refused by the fence (a write it committed would be a zombie commit).
///
/// `HUBCTL_T11_REPEATS` sets how often each fault comes (default 3); `HUBCTL_T11_SEED` replays
/// a run's order and timing.
@Suite(.serialized, .enabled(if: OwnPostgresCluster.available || TestServices.isCI,
                             "needs PostgreSQL 15 in /usr/lib/postgresql/15/bin (apt-get install postgresql-15)"))
struct WorkerFaultBatteryTests {
    enum Fault: String, CaseIterable {
        case kill, pause, terminate, restart
    }

    static var repeats: Int { Int(ProcessInfo.processInfo.environment["HUBCTL_T11_REPEATS"] ?? "") ?? 3 }
    static var seed: UInt64 {
        UInt64(ProcessInfo.processInfo.environment["HUBCTL_T11_SEED"] ?? "") ?? UInt64.random(in: 1...999_999_999)
    }

    /// What the faults did, summed over the run.
    struct Figures {
        var faults = 0, kills = 0, killsHoldingLease = 0, pauses = 0, pausesFenced = 0, zombieCommits = 0
        var sessionsTerminated = 0, restarts = 0, workersStarted = 0, edits = 0, creates = 0
        var duplicates = 0, lostUpdates = 0
    }

    @Test("Workers killed, stopped past their lease, cut off by the server and across hub restarts, each fault repeated: every system converges without a duplicate or a lost update, late writes fenced")
    func repeatedWorkerFaultsLoseAndDuplicateNothing() async throws {
        let seed = Self.seed
        print("T11: seed \(seed) (HUBCTL_T11_SEED=\(seed) replays this order and timing)")
        var random = SplitMix64(seed: seed)
        let started = Date()
        let world = try await WorkerFaultWorld.make()
        defer { world.stop() }
        var figures = Figures()

        // Three workers converge the four systems.
        var pool = try (0..<3).map { _ in try world.startWorker() }
        figures.workersStarted = 3
        try await world.waitForReadsAndPushes()
        let converged = try await world.check()
        #expect(converged.duplicates == 0 && converged.lost == 0, "\(converged.notes)")

        let faults = Fault.allCases.flatMap { Array(repeating: $0, count: Self.repeats) }.shuffled(using: &random)
        for (k, fault) in faults.enumerated() {
            try await world.edit(round: k + 1)
            figures.edits += 3
            figures.creates += 1
            // The fault lands at a random moment of the round that carries the edits.
            try await Task.sleep(nanoseconds: UInt64.random(in: 0...1_500_000_000, using: &random))
            figures.faults += 1
            switch fault {
            case .kill:
                let i = Int.random(in: 0..<pool.count, using: &random)
                let victim = pool[i]
                // Frozen (SIGSTOP) to look at its leases, and killed there if it holds one;
                // otherwise it goes on (SIGCONT) and is looked at again.
                try await eventually("worker \(victim.pid) holds a lease", within: 60) {
                    kill(victim.pid, SIGSTOP)
                    guard try await world.leases(of: victim.pid).isEmpty else { return true }
                    kill(victim.pid, SIGCONT)
                    return false
                }
                figures.killsHoldingLease += try await world.leases(of: victim.pid).isEmpty ? 0 : 1
                kill(victim.pid, SIGKILL)
                figures.kills += 1
                _ = victim.wait()
                pool[i] = try world.startWorker()
                figures.workersStarted += 1
            case .pause:
                try await pause(world, hit: Int.random(in: 1...2, using: &random), &figures)
                figures.workersStarted += 1
            case .terminate:
                let victim = pool[Int.random(in: 0..<pool.count, using: &random)]
                try await eventually("worker \(victim.pid)'s hub session was ended") {
                    let ended = Int(try await world.cluster.psql("""
                        SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                        WHERE application_name LIKE 'hubctl-worker %-\(victim.pid)-%'
                        """)) ?? 0
                    figures.sessionsTerminated += ended
                    return ended > 0
                }
            case .restart:
                try await world.cluster.restart(Bool.random(using: &random) ? "fast" : "immediate")
                figures.restarts += 1
            }
            // Every system read again after the fault, and pushed to: every edit is everywhere.
            try await world.waitForReadsAndPushes()
            let seen = try await world.check()
            figures.duplicates += seen.duplicates
            figures.lostUpdates += seen.lost
            #expect(seen.duplicates == 0 && seen.lost == 0, "after \(fault.rawValue) \(k + 1): \(seen.notes.prefix(20))")
        }

        // Every worker of the pool is alive (a terminated session was reopened, a restart
        // survived) and leaves cleanly; the hub holds one entity per customer, linked once in
        // each system, and no open create.
        for worker in pool {
            #expect(worker.process.isRunning, "\(String(worker.stderrSoFar().suffix(2000)))")
            kill(worker.pid, SIGTERM)
        }
        for worker in pool {
            let result = worker.wait()
            #expect(result.exitCode == 0, "\(String(result.stderr.suffix(2000)))")
            #expect(!(result.stdout + result.stderr).contains(world.cluster.password), "the hub's password was printed")
        }
        let customers = world.model.count
        #expect(try await world.hub("SELECT count(*) FROM entity WHERE deleted_at IS NULL") == "\(customers)")
        #expect(try await world.hub("""
            SELECT string_agg(system || ' ' || n || ' ' || d, ',' ORDER BY system) FROM (
              SELECT system, count(*) AS n, count(DISTINCT external_id) AS d FROM xref WHERE state = 'linked' GROUP BY system) s
            """) == WorkerFaultWorld.systems.sorted().map { "\($0) \(customers) \(customers)" }.joined(separator: ","))
        #expect(try await world.hub("SELECT count(*) FROM intent") == "0")
        let end = try await world.check()
        #expect(end.duplicates == 0 && end.lost == 0, "\(end.notes)")

        let seconds = Date().timeIntervalSince(started)
        print("T11: \(figures.faults) faults in \(Int(seconds)) s: \(figures)")
        Scorecard.record("T11-workers", [
            "seed": Double(seed), "faults": Double(figures.faults), "kills": Double(figures.kills),
            "kills_holding_lease": Double(figures.killsHoldingLease), "pauses": Double(figures.pauses),
            "pauses_fenced": Double(figures.pausesFenced), "zombie_commits_accepted": Double(figures.zombieCommits),
            "sessions_terminated": Double(figures.sessionsTerminated), "restarts": Double(figures.restarts),
            "workers_started": Double(figures.workersStarted), "edits": Double(figures.edits), "creates": Double(figures.creates),
            "customers": Double(customers), "duplicates": Double(figures.duplicates), "lost_updates": Double(figures.lostUpdates),
            "seconds": seconds.rounded(),
        ])
        #expect(figures.kills == figures.killsHoldingLease)
        #expect(figures.pauses == Self.repeats && figures.pausesFenced == figures.pauses)
        #expect(figures.zombieCommits == 0)
    }

    /// A worker that stops itself (SIGSTOP) right after fetching a page, at its `hit`-th page,
    /// before merging it: its unit is taken over once its lease runs out, then it is resumed
    /// (SIGCONT), and its write must be refused by the fence and counted. It then leaves (SIGTERM).
    ///
    /// Its lease (6 s) is longer than the others' so that its first heartbeat (a third of the lease
    /// after the claim) is not in flight when it stops: a process stopped inside a transaction
    /// holds its row locks until PostgreSQL ends the session, which is another fault.
    func pause(_ world: WorkerFaultWorld, hit: Int, _ figures: inout Figures) async throws {
        let paused = try world.startWorker(faults: "readAfterPageFetched@\(hit):stop", lease: "6s")
        try await eventually("the worker stopped itself", within: 120) { ProcessTable.isStopped(paused.pid) }
        let held = try await world.leases(of: paused.pid)
        // On a loaded machine its lease may already have run out and its unit been taken over
        // before this look (then `held` is empty and there is nothing left to wait for); either
        // way its write after SIGCONT must be refused.
        if held.isEmpty { print("T11: the stopped worker's unit was taken over before it was looked at") }
        // Another worker takes each of its units over: the unit's token grows.
        try await eventually("the stopped worker's units were taken over") {
            let now = try await world.hub("SELECT unit || '=' || token FROM work_unit")
            let tokens = Dictionary(now.split(separator: "\n").compactMap { line -> (String, Int)? in
                let parts = line.split(separator: "=")
                return parts.count == 2 ? (String(parts[0]), Int(parts[1]) ?? 0) : nil
            }, uniquingKeysWith: { a, _ in a })
            return held.allSatisfy { (tokens[$0.key] ?? 0) > $0.value }
        }
        figures.pauses += 1
        kill(paused.pid, SIGCONT)
        // Its late write is refused and counted; had it committed, that would be a zombie commit.
        do {
            try await eventually("the resumed worker's write was refused", within: 90) { try await world.counters(of: paused.pid).fenced > 0 }
            figures.pausesFenced += 1
            #expect(paused.stderrSoFar().contains("was taken over by another worker; the hub refused the write"))
        } catch {
            figures.zombieCommits += 1
            Issue.record("a resumed worker's write was not refused: \(String(paused.stderrSoFar().suffix(2000)))")
        }
        kill(paused.pid, SIGTERM)
        let result = paused.wait()
        #expect(result.exitCode == 0, "\(String(result.stderr.suffix(2000)))")
    }
}
