import Foundation
import HubCore
import HubSchedule
import HubService
import HubStore
import HubSync
import HubTesting
import HubTestServers
import HubTopology
import Logging

/// A topology of three systems (one with an entity on its own schedule, one only written to),
/// a hub in memory, a manual clock, and a runner whose cycles are scripted.
struct ServiceFixture {
    static let json = """
    {
      "version": 1,
      "name": "ops",
      "entities": {
        "customer": {"fields": {"email": {"type": "string"}}, "match": [["email"]]},
        "invoice": {"fields": {"number": {"type": "string"}}, "match": [["number"]]}
      },
      "systems": {
        "crm": {
          "adapter": "jsonl",
          "schedule": {"every": "1m", "jitter": "10%", "max_backoff": "10m"},
          "webhook": {"secrets": ["${CRM_HOOK_NEW}", "${CRM_HOOK_OLD}"], "debounce": "250ms"},
          "entities": {
            "customer": {"object": "contacts", "fields": {"email": "email"}},
            "invoice": {"object": "invoices", "fields": {"number": "no"}, "schedule": {"every": "1h", "jitter": 0}}
          }
        },
        "app": {
          "adapter": "jsonl",
          "entities": {"customer": {"object": "users", "fields": {"email": "email"}}}
        },
        "export": {
          "adapter": "jsonl", "direction": "push",
          "entities": {"customer": {"object": "out", "fields": {"email": "email"}}}
        }
      }
    }
    """

    static let environment = ["CRM_HOOK_NEW": "new-secret-value", "CRM_HOOK_OLD": "old-secret-value"]

    let topology: Topology
    let store: HubStore
    let clock = ManualClock()
    let logs = LogSink.memory()

    init(json: String = Self.json, hub: TestHubStore = .sqlite) throws {
        topology = try TopologyLoader.decode(json, baseDirectory: "/tmp", environment: Self.environment)
        store = try hub.make()
    }

    /// A planner whose jitter is always zero (random 0.5 lands in the middle of the range).
    var planner: SchedulePlanner { SchedulePlanner(topology: topology, defaultSchedule: Schedule(every: 300), random: { 0.5 }) }

    var logger: Logger {
        let sink = logs
        return Logger(label: "test") { label in
            LineLogHandler(label: label, format: .json, level: .debug, redactor: SecretRedactor(), sink: sink)
        }
    }

    /// A runner whose cycles answer with `answer(options)`.
    func runner(_ answer: @escaping @Sendable (SyncOptions) throws -> SyncReport) -> ContinuousRunner {
        ContinuousRunner(planner: planner, store: store, clock: clock.wallClock, logger: logger) { options in
            try answer(options)
        }
    }

    /// A runner whose cycles succeed, each logging what it was asked to read into `scopes`.
    func recordingRunner(_ scopes: ScopeLog) -> ContinuousRunner {
        runner { options in
            scopes.record(options)
            return Self.report(options)
        }
    }

    /// A report with a row per system × entity the options pull, and these systems failed.
    static func report(_ options: SyncOptions, failed: [SystemName: String] = [:], stopped: Bool = false) -> SyncReport {
        var r = SyncReport(runID: RunID("run-\(UUID().uuidString)"), dryRun: false, startedAt: "2026-01-01T00:00:00.000Z")
        r.systemErrors = failed
        r.stopped = stopped
        return r
    }
}

/// What the scripted cycles were asked to read, in order.
final class ScopeLog: Sendable {
    private let lock = NSLock()
    nonisolated(unsafe) private var scopes: [[SystemName: Set<EntityName>]] = []

    func record(_ options: SyncOptions) {
        lock.lock(); defer { lock.unlock() }
        scopes.append(options.pullScope ?? [:])
    }

    var all: [[SystemName: Set<EntityName>]] {
        lock.lock(); defer { lock.unlock() }
        return scopes
    }
}
