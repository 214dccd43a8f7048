import Foundation
import HubCore
import HubSchedule
import HubService
import HubStore
import HubSync
import HubTesting
import HubTopology
import HubTestServers
import Testing

@Suite struct ScheduleTests {
    @Test("Schedules and webhooks decode from the topology; a topology without them still loads", arguments: TestHubStore.all)
    func schedulesDecode(_ kind: TestHubStore) throws {
        let f = try ServiceFixture(hub: kind)
        let crm = try #require(f.topology.system("crm"))
        #expect(crm.schedule == Schedule(every: 60, jitter: 0.1, maxBackoff: 600))
        #expect(crm.mapping(for: "invoice")?.schedule == Schedule(every: 3600, jitter: 0))
        #expect(crm.webhook?.secrets == ["new-secret-value", "old-secret-value"])
        #expect(crm.webhook?.debounce == 0.25)
        #expect(crm.webhook.map { "\($0)" } == "webhook(standard, 2 secret(s))")
        // Webhook secrets are scrubbed from output like every other secret.
        #expect(f.topology.secrets.redact("sig new-secret-value") == "sig *****")
        #expect(f.topology.system("app")?.schedule == nil)
    }

    @Test("A literal webhook secret, a bad duration and an unknown key are each reported with their path")
    func scheduleProblemsAreReported() throws {
        let json = ServiceFixture.json
            .replacingOccurrences(of: "\"${CRM_HOOK_NEW}\"", with: "\"hunter2hunter2\"")
            .replacingOccurrences(of: "\"every\": \"1m\"", with: "\"every\": \"soon\", \"evry\": 1")
        let error = #expect(throws: TopologyError.self) {
            try TopologyLoader.decode(json, baseDirectory: "/tmp", environment: ServiceFixture.environment)
        }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("must come from the environment"))
        #expect(text.contains("expected a duration"))
        #expect(text.contains("unknown key 'evry'"))
        #expect(!text.contains("hunter2hunter2"))
    }

    @Test("capture decodes on a postgres system and is refused on other adapters and on a push-only system")
    func captureDecodes() throws {
        func system(_ adapter: String, direction: String = "both", capture: String) -> String {
            let connection = adapter == "postgres" ? #"{"url": "postgres://hubctl@db/billing"}"# : "{}"
            return """
            {"version": 1, "name": "c",
             "entities": {"customer": {"fields": {"email": {"type": "string"}}, "match": [["email"]]}},
             "systems": {
               "app": {"adapter": "jsonl", "entities": {"customer": {"object": "users", "fields": {"email": "email"}}}},
               "billing": {"adapter": "\(adapter)", "direction": "\(direction)", "connection": \(connection), "capture": \(capture),
                           "entities": {"customer": {"object": "customers", "fields": {"email": "email"}}}}}}
            """
        }
        let topology = try TopologyLoader.decode(system("postgres", capture: #"{"notify": true, "debounce": "50ms"}"#),
                                                 baseDirectory: "/tmp", environment: [:])
        #expect(topology.system("billing")?.capture == CaptureSettings(notify: true, debounce: 0.05))
        #expect(topology.system("app")?.capture == nil)
        let defaults = try TopologyLoader.decode(system("postgres", capture: #"{"notify": true}"#), baseDirectory: "/tmp", environment: [:])
        #expect(defaults.system("billing")?.capture == CaptureSettings(notify: true, debounce: 0.1))
        for (adapter, direction, capture, message) in [
            ("jsonl", "both", #"{"notify": true}"#, "change capture is for postgres systems"),
            ("postgres", "push", #"{"notify": true}"#, "only written to"),
            ("postgres", "both", #"{"notfy": true}"#, "unknown key 'notfy'"),
            ("postgres", "both", #"{"notify": "yes"}"#, "capture.notify"),
        ] {
            let error = #expect(throws: TopologyError.self) {
                try TopologyLoader.decode(system(adapter, direction: direction, capture: capture), baseDirectory: "/tmp", environment: [:])
            }
            #expect(error.map { "\($0)" }?.contains(message) == true, "\(String(describing: error))")
        }
    }

    @Test("Durations read and print the short way")
    func durations() {
        #expect(DurationText.seconds("250ms") == 0.25)
        #expect(DurationText.seconds("5m") == 300)
        #expect(DurationText.seconds("1h") == 3600)
        #expect(DurationText.seconds("2d") == 172_800)
        #expect(DurationText.seconds("90") == 90)
        #expect(DurationText.seconds("soon") == nil)
        #expect(DurationText.seconds("-5s") == nil)
        #expect(DurationText.text(300) == "5m")
        #expect(DurationText.text(297) == "4m57s")
        #expect(DurationText.text(0.25) == "250ms")
    }

    @Test("Targets: one per pulling system, one per entity with its own schedule, none for a system only written to", arguments: TestHubStore.all)
    func targets(_ kind: TestHubStore) throws {
        let f = try ServiceFixture(hub: kind)
        let targets = f.planner.targets.map(\.target.description)
        #expect(targets == ["crm", "crm.invoice", "app"])
        #expect(f.planner.entities(of: ScheduleTarget(system: "crm")) == ["customer"])
        #expect(f.planner.schedule(for: ScheduleTarget(system: "app")).every == 300)
        #expect(f.planner.pullScope([ScheduleTarget(system: "crm"), ScheduleTarget(system: "crm", entity: "invoice")])
                == ["crm": ["customer", "invoice"]])
    }

    @Test("Jitter stays within the schedule's share either way", arguments: TestHubStore.all)
    func jitterBounds(_ kind: TestHubStore) throws {
        let f = try ServiceFixture(hub: kind)
        let schedule = Schedule(every: 100, jitter: 0.1)
        let low = SchedulePlanner(topology: f.topology, random: { 0 }).jittered(100, schedule)
        let high = SchedulePlanner(topology: f.topology, random: { 0.999999 }).jittered(100, schedule)
        #expect(low == 90)
        #expect(high > 109.99 && high <= 110)
        #expect(f.planner.jittered(100, schedule) == 100)
    }

    @Test("Failures back off by doubling the interval, capped at max_backoff; a success resets it", arguments: TestHubStore.all)
    func backoff(_ kind: TestHubStore) throws {
        let f = try ServiceFixture(hub: kind)
        let p = f.planner
        let start = f.clock.current()
        var s = ScheduleStateRecord(system: "crm")
        var waits: [Double] = []
        for _ in 0..<6 {
            s = p.failed(s, at: start, error: "unreachable")
            waits.append(s.nextDueAt!.timeIntervalSince(start))
        }
        #expect(waits == [60, 120, 240, 480, 600, 600])
        #expect(s.consecutiveFailures == 6)
        s = p.succeeded(s, at: start)
        #expect(s.consecutiveFailures == 0)
        #expect(s.lastError == nil)
        #expect(s.nextDueAt == start.addingTimeInterval(60))
    }

    @Test("A next run stored under a longer interval is brought forward to the schedule in force", arguments: TestHubStore.all)
    func reconcile(_ kind: TestHubStore) throws {
        let f = try ServiceFixture(hub: kind)
        let now = f.clock.current()
        let stored = ScheduleStateRecord(system: "crm", lastAttemptAt: now, lastSuccessAt: now, nextDueAt: now.addingTimeInterval(3600))
        #expect(f.planner.reconciled(stored).nextDueAt == now.addingTimeInterval(66))
        let soon = ScheduleStateRecord(system: "crm", lastAttemptAt: now, lastSuccessAt: now, nextDueAt: now.addingTimeInterval(30))
        #expect(f.planner.reconciled(soon).nextDueAt == now.addingTimeInterval(30))
    }

    @Test("A burst of triggers for one system opens one window; after it closes the next trigger opens another")
    func debounce() {
        var window = DebounceWindow()
        let t0 = Date(timeIntervalSince1970: 1000)
        let opened = window.hit("crm", at: t0)
        #expect(opened)
        var absorbed = 0
        for i in 1...1000 where !window.hit("crm", at: t0.addingTimeInterval(Double(i) / 1000)) { absorbed += 1 }
        #expect(absorbed == 1000)
        let other = window.hit("app", at: t0)
        #expect(other)
        #expect(window.open.count == 2)
        let first = window.close("crm")
        #expect(first == t0)
        let reopened = window.hit("crm", at: t0.addingTimeInterval(2))
        #expect(reopened)
    }

    @Test("A signal sent before anyone waits is kept: the next wait returns without sleeping")
    func wakeupKeepsSignal() async {
        let wakeup = Wakeup()
        await wakeup.signal()
        // A sleep that never ends: only the kept signal can end this wait.
        await wakeup.wait(seconds: 3600, sleep: { _ in try await Task.sleep(nanoseconds: UInt64.max / 2) })
    }
}
