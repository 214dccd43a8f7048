import Foundation
import HubCore
import HubTestServers
import HubTesting
import Testing

/// What a `hubctl run --worker` tells an operator: its `/metrics`, scraped from the real binary.
@Suite(.serialized, .enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
struct WorkerMetricsEndToEndTests {
    @Test("A worker's /metrics and metrics file carry the sync metrics `run` exports, fed by its units, and its own by phase")
    func aWorkerExportsTheSyncMetrics() async throws {
        let world = try await WorkersWorld.make()
        defer { world.started.killAll(); let drop = world.drop; Task { await drop() } }
        let file = world.directory.path + "/worker.prom"
        // Alone, with rounds an hour apart: one round, every unit its own.
        let worker = try world.startWorker(every: "1h", ["--listen", "127.0.0.1:0", "--log-format", "json", "--metrics-file", file])
        try await world.waitForRound(1)
        try await RunEndToEndTests.eventually("the listener") { RunEndToEndTests.port(worker) != nil }
        let port = try #require(RunEndToEndTests.port(worker))
        // The hub has every unit done before the worker counts the last one: scrape until it has.
        var samples: [String: Double] = [:]
        try await eventually("the round's eight units counted", detail: { "\(samples)" }) {
            samples = try PrometheusText.parse(try await RunEndToEndTests.curl(["http://127.0.0.1:\(port)/metrics"]).body)
            return samples[#"hubctl_worker_units_total{phase="push",outcome="ok"}"#] == 4
        }
        #expect(samples[#"hubctl_worker_units_total{phase="pull",outcome="ok"}"#] == 4)
        #expect(samples["hubctl_worker_round"] == 1)
        #expect(samples[#"hubctl_runs_total{result="ok"}"#] == 8)
        #expect(samples["hubctl_run_duration_seconds_count"] == 8)
        // Each system held two of the five customers: two read from it, three created in it.
        for system in WorkersWorld.systems {
            #expect(samples["hubctl_records_total{system=\"\(system)\",entity=\"customer\",direction=\"pull\",operation=\"read\"}"] == 2,
                    "\(system)")
            #expect(samples["hubctl_records_total{system=\"\(system)\",entity=\"customer\",direction=\"push\",operation=\"created\"}"] == 3,
                    "\(system)")
            #expect(samples["hubctl_consecutive_failures{system=\"\(system)\",entity=\"\"}"] == 0, "\(system)")
            let success = try #require(samples["hubctl_last_success_timestamp_seconds{system=\"\(system)\",entity=\"\"}"], "\(system)")
            #expect(abs(success - Date().timeIntervalSince1970) < 600, "\(system): \(success)")
            #expect(samples["hubctl_quarantine_open{system=\"\(system)\",entity=\"customer\"}"] == 0, "\(system)")
        }
        #expect(samples[#"hubctl_conflicts_open{entity="customer"}"#] == 0)
        // The metrics file holds the same families (written after every unit).
        let written = try PrometheusText.parse(try String(contentsOfFile: file, encoding: .utf8))
        #expect(written[#"hubctl_worker_units_total{phase="pull",outcome="ok"}"#] == 4)
        kill(worker.pid, SIGTERM)
        #expect(worker.wait().exitCode == 0)
    }
}
