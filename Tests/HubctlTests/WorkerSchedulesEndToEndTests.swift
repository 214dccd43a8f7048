import Foundation
import HubCore
import HubTestServers
import HubTesting
import Testing

/// `hubctl run --worker` processes on a topology whose systems have schedules of their own.
@Suite(.serialized, .enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct WorkerSchedulesEndToEndTests {
    @Test("Workers read a system on its own schedule: an hourly sheet is not read every second with the others, and is still written to")
    func workersHonourASystemsSchedule() async throws {
        let world = try await WorkersWorld.make()
        defer { world.started.killAll(); let drop = world.drop; Task { await drop() } }
        let topology = try String(contentsOfFile: world.topology, encoding: .utf8)
        try topology.replacingOccurrences(of: #""sheet": {"adapter": "csv","#, with: #""sheet": {"adapter": "csv", "schedule": {"every": "1h"},"#)
            .write(toFile: world.topology, atomically: true, encoding: .utf8)
        let workers = try (0..<2).map { _ in try world.startWorker(every: "1s") }
        try await world.waitForRound(1)
        let seen = try await world.contents()
        for system in WorkersWorld.systems { #expect(seen[system] == WorkersEndToEndTests.converged, "\(system)") }

        // An edit in the app (read every second) and one in the sheet (read hourly).
        _ = try await world.sqlite("app.db", "UPDATE users SET given = 'Dorothy' WHERE email = 'dora@example.com'")
        let csv = world.directory.path + "/sheet/customers.csv"
        try String(contentsOfFile: csv, encoding: .utf8).replacingOccurrences(of: ",Evans,", with: ",Evans-Lee,")
            .write(toFile: csv, atomically: true, encoding: .utf8)
        // The app's edit reaches every system, the sheet included (pushed to every round)…
        var after: [String: [String: String]] = [:]
        try await eventually("the app's edit everywhere", detail: { "\(after)" }) {
            after = try await world.contents()
            return WorkersWorld.systems.allSatisfy { after[$0]?["dora@example.com"] == "Dorothy|Dunn|" }
        }
        // Two more rounds, each reading the systems that fell due (all but the sheet).
        let round = try await world.currentRound()
        try await world.waitForRound(round + 2)
        after = try await world.contents()
        // …the sheet's did not leave it: its read is not due for an hour.
        #expect(after["sheet"]?["eve@example.com"] == "Eve|Evans-Lee|555")
        for system in ["billing", "app", "books"] { #expect(after[system]?["eve@example.com"] == "Eve|Evans|555", "\(system)") }
        // Its pull is done each round without a run; pushes always run (a unit held has no run
        // yet). Another system's pull may be skipped too, in a round begun before its second was up.
        #expect(try await world.psql("SELECT run_id IS NULL FROM work_unit WHERE unit = 'pull:sheet/customer'") == "t")
        #expect(try await world.psql("SELECT count(*) FROM work_unit WHERE run_id IS NULL AND owner IS NULL AND phase = 'push'") == "0")
        let logs = workers.map { $0.stderrSoFar() }.joined()
        #expect(logs.contains("unit skipped: sheet is not due (next read at "), "\(logs.suffix(3000))")
        for worker in workers { kill(worker.pid, SIGTERM) }
        for worker in workers { #expect(worker.wait().exitCode == 0) }
    }
}
