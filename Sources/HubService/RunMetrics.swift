import Foundation
import HubCore
import HubSchedule
import HubStore
import HubSync
import HubTopology
import Metrics
import Prometheus

/// The metrics of `hubctl run`, through swift-metrics into a Prometheus registry of its own
/// (served on `/metrics`, written by `--metrics-file`). Names follow Prometheus conventions:
/// base units as suffixes, counters ending in `_total`. docs/operations.md lists each one.
public final class RunMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        let latencyBuckets: [Duration] = [.milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                          .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
                                          .seconds(60), .seconds(300)]
        let commitBuckets: [Duration] = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                         .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                         .seconds(5)]
        factory.durationHistogramBuckets = ["hubctl_trigger_to_synced_seconds": latencyBuckets,
                                            "hubctl_webhook_commit_seconds": commitBuckets]
        factory.defaultDurationHistogramBuckets = [.milliseconds(10), .milliseconds(50), .milliseconds(100),
                                                   .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2),
                                                   .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
                                                   .seconds(900)]
        self.factory = factory
    }

    /// The registry's text, in the Prometheus exposition format.
    public func text() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Writes `text()` to `path` atomically (a temporary file renamed over it), as node_exporter's
    /// textfile collector expects.
    public func write(to path: String) throws {
        let temporary = path + ".tmp.\(getpid())"
        try Data(text().utf8).write(to: URL(fileURLWithPath: temporary))
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw MetricsFileError(path: path, message: String(cString: strerror(code)))
        }
    }

    // MARK: - Recording

    /// One cycle ended with `result` (`ok`, `partial`, `failed`, `stopped`, `locked`, `error`).
    public func cycle(result: String, seconds: Double) {
        Counter(label: "hubctl_runs_total", dimensions: [("result", result)], factory: factory).increment()
        Metrics.Timer(label: "hubctl_run_duration_seconds", dimensions: [], factory: factory)
            .recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    /// A cycle's record counts, per system, entity, direction and operation.
    public func records(_ report: SyncReport) {
        for row in report.rows {
            for (direction, counts) in [("pull", row.pull), ("push", row.push)] {
                for (operation, n) in [("read", counts.read), ("created", counts.created), ("updated", counts.updated),
                                       ("deleted", counts.deleted), ("failed", counts.failed)] where n > 0 {
                    Counter(label: "hubctl_records_total",
                            dimensions: [("system", row.system.rawValue), ("entity", row.entity.rawValue),
                                         ("direction", direction), ("operation", operation)],
                            factory: factory).increment(by: n)
                }
            }
        }
    }

    /// A target failed (`system_failures`), and one was tried again after failing (`retries`).
    public func failure(_ target: ScheduleTarget) {
        Counter(label: "hubctl_system_failures_total", dimensions: labels(target), factory: factory).increment()
    }

    public func retry(_ target: ScheduleTarget) {
        Counter(label: "hubctl_retries_total", dimensions: labels(target), factory: factory).increment()
    }

    /// The schedule state of a target: last success, consecutive failures, and (for a target
    /// read this cycle) how late its read started.
    public func state(_ target: ScheduleTarget, _ state: ScheduleStateRecord, lag: Double?) {
        let dims = labels(target)
        if let success = state.lastSuccessAt {
            Gauge(label: "hubctl_last_success_timestamp_seconds", dimensions: dims, factory: factory)
                .record(success.timeIntervalSince1970)
        }
        Gauge(label: "hubctl_consecutive_failures", dimensions: dims, factory: factory).record(Double(state.consecutiveFailures))
        if let lag {
            Gauge(label: "hubctl_schedule_lag_seconds", dimensions: dims, factory: factory).record(max(0, lag))
        }
    }

    /// Open quarantine entries per system and entity; open conflicts per entity.
    public func backlog(quarantine: [SystemName: [EntityName: Int]], conflicts: [EntityName: Int],
                        systems: [(SystemName, [EntityName])]) {
        for (system, entities) in systems {
            for entity in entities {
                Gauge(label: "hubctl_quarantine_open", dimensions: [("system", system.rawValue), ("entity", entity.rawValue)],
                      factory: factory).record(Double(quarantine[system]?[entity] ?? 0))
            }
        }
        for entity in Set(systems.flatMap(\.1)).sorted(by: { $0.rawValue < $1.rawValue }) {
            Gauge(label: "hubctl_conflicts_open", dimensions: [("entity", entity.rawValue)], factory: factory)
                .record(Double(conflicts[entity] ?? 0))
        }
    }

    /// The open quarantine and conflicts of `topology`'s systems, as the hub holds them now
    /// (left as they were when the hub cannot be read).
    public func updateBacklog(from store: HubStore, topology: Topology) {
        guard let quarantine = try? store.openQuarantineCounts(), let conflicts = try? store.openConflictCounts() else { return }
        backlog(quarantine: quarantine, conflicts: conflicts, systems: topology.systems.map { ($0.name, $0.entities.map(\.entity)) })
    }

    /// A webhook delivery and what became of it.
    public func webhook(system: String, outcome: String) {
        Counter(label: "hubctl_webhook_deliveries_total", dimensions: [("system", system), ("outcome", outcome)],
                factory: factory).increment()
    }

    /// One group commit of webhook delivery IDs: how many it recorded and how long it took
    /// (waiting for the hub's write lock included).
    public func webhookCommit(deliveries: Int, seconds: Double) {
        Counter(label: "hubctl_webhook_commits_total", dimensions: [], factory: factory).increment()
        Counter(label: "hubctl_webhook_committed_deliveries_total", dimensions: [], factory: factory).increment(by: deliveries)
        Metrics.Timer(label: "hubctl_webhook_commit_seconds", dimensions: [], factory: factory)
            .recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    /// A trigger (`webhook`, `pg_notify`, `pg_reconnect`) woke a system (once per debounce window).
    public func wakeup(trigger: String, system: SystemName) {
        Counter(label: "hubctl_wakeups_total", dimensions: [("trigger", trigger), ("system", system.rawValue)],
                factory: factory).increment()
    }

    /// A PostgreSQL change notification arrived (before debouncing).
    public func notification(system: SystemName) {
        Counter(label: "hubctl_pg_notifications_total", dimensions: [("system", system.rawValue)], factory: factory).increment()
    }

    /// A change listener's connection failed or dropped.
    public func listenerDropped(system: SystemName) {
        Counter(label: "hubctl_pg_listener_drops_total", dimensions: [("system", system.rawValue)], factory: factory).increment()
    }

    /// The time from a trigger (webhook, notification) to the end of the cycle that synced it.
    public func triggerLatency(trigger: String, system: SystemName, seconds: Double) {
        Metrics.Timer(label: "hubctl_trigger_to_synced_seconds", dimensions: [("trigger", trigger), ("system", system.rawValue)],
                      factory: factory).recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    func labels(_ target: ScheduleTarget) -> [(String, String)] {
        [("system", target.system.rawValue), ("entity", target.entity?.rawValue ?? "")]
    }
}

/// The metrics file could not be replaced.
public struct MetricsFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String {
        "cannot write the metrics file \(path): \(message); check that its folder exists and is writable"
    }
}
