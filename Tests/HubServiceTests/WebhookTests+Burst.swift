import Dispatch
import Foundation
import HubCore
import HubService
import HubStore
import HubTesting
import HubTopology
import Testing

/// Bursts: group commit of delivery IDs, replays among concurrent deliveries, the in-flight cap.
extension WebhookTests {
    static func delivery(_ id: String) -> (String) -> String? {
        headers(id: id, signature: sign("new-secret-value", id: id))
    }

    /// A debouncer whose windows never close during the test.
    static var quietDebouncer: WakeDebouncer {
        WakeDebouncer(sleep: { _ in try await Task.sleep(nanoseconds: 3_600_000_000_000) }) { _, _ in }
    }

    @Test("Concurrent deliveries, some replaying each other, get one acceptance per ID and the rest are refused as replays")
    func concurrentDeliveriesWithReplays() async throws {
        let f = try ServiceFixture()
        let dir = try TemporaryDirectory()
        let store = try HubStore(path: dir.path + "/hub.sqlite")
        let metrics = RunMetrics()
        let receiver = try WebhookReceiver(topology: f.topology, store: store, metrics: metrics,
                                       debouncer: Self.quietDebouncer, clock: WallClock.fixed(Self.now), logger: f.logger)
        // 40 IDs, each sent 3 times, all at once and interleaved.
        let ids = (0..<40).map { "evt_\($0)" }
        let answers = await withTaskGroup(of: (String, WebhookAnswer).self) { group in
            for round in 0..<3 {
                for id in (round == 1 ? ids.reversed() : ids) {
                    group.addTask { (id, await receiver.receive(system: "crm", header: Self.delivery(id), body: Self.body)) }
                }
            }
            var all: [(String, WebhookAnswer)] = []
            for await answer in group { all.append(answer) }
            return all
        }
        #expect(answers.count == 120)
        #expect(answers.allSatisfy { $0.1.status == 200 })
        for id in ids {
            let outcomes = answers.filter { $0.0 == id }.map(\.1.outcome)
            #expect(outcomes.filter { $0 == .accepted }.count == 1, "\(id): \(outcomes)")
            #expect(outcomes.filter { $0 == .replayed }.count == 2, "\(id): \(outcomes)")
        }
        // Each ID is in the hub once: recording any of them again finds it.
        let deliveries = try store.webhookDeliveries()
        let again = try deliveries.record(ids.map { WebhookDeliveryID(system: "crm", id: $0) }, at: Self.now, keepFor: 3600)
        #expect(again == Array(repeating: false, count: 40))
        #expect(try deliveries.count() == 40)
        let text = metrics.text()
        #expect(text.contains(#"hubctl_webhook_deliveries_total{system="crm",outcome="accepted"} 40"#))
        #expect(text.contains(#"hubctl_webhook_deliveries_total{system="crm",outcome="replayed"} 80"#))
        #expect(text.contains("hubctl_webhook_committed_deliveries_total 120"))
    }

    @Test("Deliveries that arrive while a commit is under way are recorded together by the next single commit")
    func groupCommit() async throws {
        let store = try WebhookDeliveryStore.inMemory()
        let batches = Locked<[[WebhookDeliveryID]]>([])
        let firstCommit = DispatchSemaphore(value: 0)
        let ledger = WebhookLedger { batch in
            let n = batches.withLock { $0.append(batch); return $0.count }
            if n == 1 { firstCommit.wait() }
            return try store.record(batch, at: Self.now, keepFor: 3600)
        }
        let first = Task { try await ledger.record(WebhookDeliveryID(system: "crm", id: "a")) }
        while batches.withLock({ $0.isEmpty }) { await Task.yield() }
        // While "a" commits, 30 more arrive: "a" again, then b0…b13 twice each, then c.
        let later = ["a"] + (0..<14).flatMap { ["b\($0)", "b\($0)"] } + ["c"]
        let tasks = later.map { id in Task { try await ledger.record(WebhookDeliveryID(system: "crm", id: id)) } }
        while ledger.waitingCount < later.count { await Task.yield() }
        firstCommit.signal()
        #expect(try await first.value)
        var fresh: [Bool] = []
        for task in tasks { fresh.append(try await task.value) }
        let sizes = batches.withLock { $0.map(\.count) }
        #expect(sizes == [1, 30])
        // "a" is a replay; of each b pair exactly one is new; c is new.
        #expect(fresh.first == false)
        #expect(fresh.filter { $0 }.count == 15)
        #expect(fresh.last == true)
    }

    @Test("A replay is still refused after the hub is closed and opened again by a new process")
    func replayAfterRestart() async throws {
        let f = try ServiceFixture()
        let dir = try TemporaryDirectory()
        let path = dir.path + "/hub.sqlite"
        do {
            let store = try HubStore(path: path)
            let receiver = try WebhookReceiver(topology: f.topology, store: store, metrics: RunMetrics(),
                                           debouncer: Self.quietDebouncer, clock: WallClock.fixed(Self.now), logger: f.logger)
            #expect(await receiver.receive(system: "crm", header: Self.delivery("evt_1"), body: Self.body).outcome == .accepted)
        }
        let reopened = try HubStore(path: path)
        let metrics = RunMetrics()
        let receiver = try WebhookReceiver(topology: f.topology, store: reopened, metrics: metrics,
                                       debouncer: Self.quietDebouncer, clock: WallClock.fixed(Self.now.addingTimeInterval(60)),
                                       logger: f.logger)
        let replay = await receiver.receive(system: "crm", header: Self.delivery("evt_1"), body: Self.body)
        let fresh = await receiver.receive(system: "crm", header: Self.delivery("evt_2"), body: Self.body)
        #expect(replay == WebhookAnswer(status: 200, outcome: .replayed))
        #expect(fresh.outcome == .accepted)
        let text = metrics.text()
        #expect(text.contains(#"hubctl_webhook_deliveries_total{system="crm",outcome="replayed"} 1"#))
        #expect(text.contains(#"hubctl_webhook_deliveries_total{system="crm",outcome="accepted"} 1"#))
    }

    @Test("Beyond the in-flight cap a delivery is answered 503 with Retry-After before its body is read, and counted")
    func inFlightCap() async throws {
        let f = try ServiceFixture()
        let metrics = RunMetrics()
        let receiver = try WebhookReceiver(topology: f.topology, store: f.store, metrics: metrics,
                                       debouncer: Self.quietDebouncer, clock: WallClock.fixed(Self.now), logger: f.logger,
                                       maxInFlight: 2)
        // Two deliveries whose bodies arrive only when the test says so hold both slots.
        let (gate, open) = AsyncStream<Void>.makeStream()
        let reading = Locked(0)
        let slow = (0..<2).map { i in
            Task {
                await receiver.receive(system: "crm", header: Self.delivery("slow_\(i)"), readBody: {
                    reading.withLock { $0 += 1 }
                    for await _ in gate {}
                    return Self.body
                })
            }
        }
        while reading.withLock({ $0 }) < 2 { await Task.yield() }
        let bodyRead = Locked(false)
        let refused = await receiver.receive(system: "crm", header: Self.delivery("third"), readBody: {
            bodyRead.withLock { $0 = true }
            return Self.body
        })
        #expect(refused == WebhookAnswer(status: 503, outcome: .overloaded, retryAfter: WebhookReceiver.retryAfter))
        #expect(!bodyRead.withLock { $0 })
        open.finish()
        for task in slow { #expect(await task.value.outcome == .accepted) }
        // The slots are free again: the refused delivery, sent again, is accepted.
        #expect(await receiver.receive(system: "crm", header: Self.delivery("third"), body: Self.body).outcome == .accepted)
        #expect(metrics.text().contains(#"hubctl_webhook_deliveries_total{system="crm",outcome="overloaded"} 1"#))
    }

    @Test("A delivery whose ID cannot be recorded is answered 503, not accepted, and its system is still woken")
    func unrecordedDelivery() async throws {
        let f = try ServiceFixture()
        let metrics = RunMetrics()
        let woken = Locked<[SystemName]>([])
        let ledger = WebhookLedger { _ in throw HubStoreError("database is locked") }
        // Windows close at once, so the wake is seen.
        let debouncer = WakeDebouncer(sleep: { _ in }) { system, _ in woken.withLock { $0.append(system) } }
        let receiver = try WebhookReceiver(topology: f.topology, store: f.store, metrics: metrics,
                                       debouncer: debouncer, clock: WallClock.fixed(Self.now), logger: f.logger, ledger: ledger)
        let answer = await receiver.receive(system: "crm", header: Self.delivery("evt_1"), body: Self.body)
        #expect(answer == WebhookAnswer(status: 503, outcome: .unrecorded, retryAfter: WebhookReceiver.retryAfter))
        for _ in 0..<10_000 where woken.withLock({ $0.isEmpty }) { await Task.yield() }
        #expect(woken.withLock { $0 } == ["crm"])
        #expect(metrics.text().contains(#"hubctl_webhook_deliveries_total{system="crm",outcome="unrecorded"} 1"#))
    }
}

extension WebhookTests {
    @Test("A delivery is recorded and answered while a cycle holds the hub's write transaction open")
    func deliveryDoesNotWaitForTheHub() async throws {
        let f = try ServiceFixture()
        let dir = try TemporaryDirectory()
        let store = try HubStore(path: dir.path + "/hub.sqlite")
        let receiver = try WebhookReceiver(topology: f.topology, store: store, metrics: RunMetrics(), debouncer: Self.quietDebouncer,
                                           clock: WallClock.fixed(Self.now), logger: f.logger)
        // A page transaction (BEGIN IMMEDIATE: it holds the hub's write lock) that lasts until
        // the delivery has been answered.
        let inTransaction = DispatchSemaphore(value: 0), answered = DispatchSemaphore(value: 0)
        let page = Thread {
            try? store.write { _ in
                inTransaction.signal()
                answered.wait()
            }
        }
        page.start()
        await withCheckedContinuation { c in DispatchQueue.global().async { inTransaction.wait(); c.resume() } }
        let answer = await receiver.receive(system: "crm", header: Self.delivery("evt_1"), body: Self.body)
        answered.signal()
        #expect(answer.outcome == .accepted)
        #expect(FileManager.default.fileExists(atPath: dir.path + "/hub.sqlite-webhooks"))
    }
}

extension WebhookTests {
    struct ConnectionClosed: Error {}

    @Test("A body that never arrives whole is answered 400 as incomplete, one over the limit 413, and neither takes a slot for good")
    func bodiesThatFail() async throws {
        let f = try ServiceFixture()
        let metrics = RunMetrics()
        let receiver = try WebhookReceiver(topology: f.topology, store: f.store, metrics: metrics, debouncer: Self.quietDebouncer,
                                           clock: WallClock.fixed(Self.now), logger: f.logger, maxInFlight: 1)
        let closed = await receiver.receive(system: "crm", header: Self.delivery("evt_1"), readBody: { throw ConnectionClosed() })
        let large = await receiver.receive(system: "crm", header: Self.delivery("evt_1"), readBody: { throw WebhookOutcome.tooLarge })
        #expect(closed == WebhookAnswer(status: 400, outcome: .incomplete))
        #expect(large == WebhookAnswer(status: 413, outcome: .tooLarge))
        // The one slot is free again, and the ID was never recorded: the full delivery is accepted.
        #expect(await receiver.receive(system: "crm", header: Self.delivery("evt_1"), body: Self.body).outcome == .accepted)
        #expect(metrics.text().contains(#"hubctl_webhook_deliveries_total{system="crm",outcome="incomplete"} 1"#))
    }
}
