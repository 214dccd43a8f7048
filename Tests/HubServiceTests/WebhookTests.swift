import Foundation
import HubCore
import HubSchedule
import HubService
import HubStore
import HubTesting
import HubTopology
import HubTestServers
import Testing

@Suite struct WebhookTests {
    static let body = Array(#"{"type":"contact.updated","id":"c1"}"#.utf8)
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    static func headers(id: String = "msg_1", timestamp: Int64 = 1_790_000_000, signature: String) -> (String) -> String? {
        let all = ["webhook-id": id, "webhook-timestamp": "\(timestamp)", "webhook-signature": signature]
        return { all[$0] }
    }

    static func sign(_ secret: String, id: String = "msg_1", timestamp: Int64 = 1_790_000_000) -> String {
        WebhookVerifier.standardSignature(id: id, timestamp: timestamp, body: body, secret: secret)
    }

    let verifier = WebhookVerifier(WebhookSettings(secrets: ["new-secret-value", "old-secret-value"]))

    @Test("A Standard Webhooks delivery signed with either secret of a rotation is accepted")
    func rotationAcceptsBothSecrets() {
        for secret in ["new-secret-value", "old-secret-value"] {
            let result = verifier.verify(header: Self.headers(signature: Self.sign(secret)), body: Self.body, now: Self.now)
            #expect(result == .success("msg_1"))
        }
        // Several signatures in one header: one valid is enough.
        let both = "v1,AAAA " + Self.sign("old-secret-value")
        #expect(verifier.verify(header: Self.headers(signature: both), body: Self.body, now: Self.now) == .success("msg_1"))
    }

    @Test("A wrong secret, a changed body, a changed ID or a non-v1 scheme is a bad signature")
    func badSignatures() {
        let wrong = Self.sign("someone-else")
        #expect(verifier.verify(header: Self.headers(signature: wrong), body: Self.body, now: Self.now) == .failure(.badSignature))
        let good = Self.sign("new-secret-value")
        #expect(verifier.verify(header: Self.headers(signature: good), body: Self.body + [32], now: Self.now) == .failure(.badSignature))
        #expect(verifier.verify(header: Self.headers(id: "msg_2", signature: good), body: Self.body, now: Self.now)
                == .failure(.badSignature))
        let v2 = "v2," + good.dropFirst(3)
        #expect(verifier.verify(header: Self.headers(signature: v2), body: Self.body, now: Self.now) == .failure(.badSignature))
    }

    @Test("A delivery signed more than five minutes away from now is stale, either way")
    func staleTimestamps() {
        for offset: Int64 in [-301, 301] {
            let t = 1_790_000_000 + offset
            let result = verifier.verify(header: Self.headers(timestamp: t, signature: Self.sign("new-secret-value", timestamp: t)),
                                         body: Self.body, now: Self.now)
            #expect(result == .failure(.stale))
        }
        let t: Int64 = 1_790_000_000 - 299
        #expect(verifier.verify(header: Self.headers(timestamp: t, signature: Self.sign("new-secret-value", timestamp: t)),
                                body: Self.body, now: Self.now) == .success("msg_1"))
    }

    @Test("Missing headers and a non-numeric timestamp are malformed")
    func malformed() {
        #expect(verifier.verify(header: { _ in nil }, body: Self.body, now: Self.now) == .failure(.malformed))
        let all = ["webhook-id": "m", "webhook-timestamp": "yesterday", "webhook-signature": "v1,AAAA"]
        #expect(verifier.verify(header: { all[$0] }, body: Self.body, now: Self.now) == .failure(.malformed))
    }

    @Test("A whsec_ secret is used as its base64-decoded key, as Standard Webhooks libraries do")
    func whsecSecrets() {
        // The example from the Standard Webhooks specification's test vectors.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let headers = ["webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
                       "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="]
        let v = WebhookVerifier(WebhookSettings(secrets: [secret], tolerance: .infinity))
        #expect(v.verify(header: { headers[$0] }, body: body, now: Self.now) == .success("msg_p5jXN8AQM9LWM0D4loKWxJek"))
    }

    @Test("GitHub-style deliveries are checked against X-Hub-Signature-256 and keyed by X-GitHub-Delivery")
    func github() {
        let v = WebhookVerifier(WebhookSettings(style: .github, secrets: ["gh-secret"]))
        let good = ["x-github-delivery": "d-1", "x-hub-signature-256": WebhookVerifier.githubSignature(body: Self.body, secret: "gh-secret")]
        #expect(v.verify(header: { good[$0] }, body: Self.body, now: Self.now) == .success("d-1"))
        let bad = ["x-github-delivery": "d-1", "x-hub-signature-256": WebhookVerifier.githubSignature(body: Self.body, secret: "nope")]
        #expect(v.verify(header: { bad[$0] }, body: Self.body, now: Self.now) == .failure(.badSignature))
        let notHex = ["x-github-delivery": "d-1", "x-hub-signature-256": "sha256=zz"]
        #expect(v.verify(header: { notHex[$0] }, body: Self.body, now: Self.now) == .failure(.malformed))
    }

    @Test("A receiver wakes the system once per burst, refuses a replayed ID, and counts every outcome", arguments: TestHubStore.all)
    func receiverCountsAndRefusesReplays(_ kind: TestHubStore) async throws {
        let f = try ServiceFixture(hub: kind)
        let metrics = RunMetrics()
        let fired = Locked<[SystemName]>([])
        // Windows close only when the test says so: the sleep waits on a stream the test ends.
        let (gate, open) = AsyncStream<Void>.makeStream()
        let debouncer = WakeDebouncer(sleep: { _ in for await _ in gate {} }) { system, _ in
            fired.withLock { $0.append(system) }
        }
        let receiver = try WebhookReceiver(topology: f.topology, store: f.store, metrics: metrics, debouncer: debouncer,
                                       clock: WallClock.fixed(Self.now), logger: f.logger)
        var statuses: [Int] = []
        for i in 0..<5 {
            let id = "msg_\(i)"
            let answer = await receiver.receive(system: "crm", header: Self.headers(id: id, signature: Self.sign("new-secret-value", id: id)),
                                                body: Self.body)
            statuses.append(answer.status)
        }
        let replay = await receiver.receive(system: "crm", header: Self.headers(id: "msg_0", signature: Self.sign("new-secret-value", id: "msg_0")),
                                            body: Self.body)
        let forged = await receiver.receive(system: "crm", header: Self.headers(signature: Self.sign("guess")), body: Self.body)
        let unknown = await receiver.receive(system: "nope", header: Self.headers(signature: Self.sign("guess")), body: Self.body)
        let noHook = await receiver.receive(system: "app", header: Self.headers(signature: Self.sign("guess")), body: Self.body)
        #expect(statuses == [200, 200, 200, 200, 200])
        #expect(replay.outcome == .replayed)
        #expect(forged.status == 401)
        #expect(unknown.status == 404)
        #expect(noHook.status == 404)
        open.finish()
        for _ in 0..<1000 where fired.withLock({ $0.isEmpty }) { await Task.yield() }
        #expect(fired.withLock { $0 } == ["crm"])
        let text = metrics.text()
        #expect(text.contains(#"hubctl_webhook_deliveries_total{system="crm",outcome="accepted"} 5"#))
        #expect(text.contains(#"hubctl_webhook_deliveries_total{system="crm",outcome="replayed"} 1"#))
        #expect(text.contains(#"hubctl_webhook_deliveries_total{system="crm",outcome="bad_signature"} 1"#))
        #expect(text.contains(#"hubctl_webhook_deliveries_total{system="",outcome="unknown_system"} 2"#))
        // Delivery IDs are durable: a second receiver on the same hub refuses the replay too.
        let again = try WebhookReceiver(topology: f.topology, store: f.store, metrics: metrics, debouncer: debouncer,
                                    clock: WallClock.fixed(Self.now), logger: f.logger)
        let replayAgain = await again.receive(system: "crm", header: Self.headers(id: "msg_3", signature: Self.sign("old-secret-value", id: "msg_3")),
                                              body: Self.body)
        #expect(replayAgain.outcome == .replayed)
    }
}

@Suite struct StatusReportTests {
    @Test("Status: never run, on time, delayed past one interval, failing, paused by a schema change", arguments: TestHubStore.all)
    func states(_ kind: TestHubStore) async throws {
        let f = try ServiceFixture(hub: kind)
        let p = f.planner
        func state(_ system: SystemName, _ entity: EntityName) throws -> StatusReport.State {
            let report = try StatusReport.compute(planner: p, store: f.store, now: f.clock.current())
            return try #require(report.rows.first { $0.system == system && $0.entity == entity }).state
        }
        #expect(try state("crm", "customer") == .notRun)
        let now = f.clock.current()
        try f.store.saveScheduleStates([
            p.succeeded(ScheduleStateRecord(system: "crm"), at: now),
            p.succeeded(ScheduleStateRecord(system: "crm", entity: "invoice"), at: now),
            p.failed(ScheduleStateRecord(system: "app"), at: now, error: "connection refused"),
        ])
        #expect(try state("crm", "customer") == .onTime)
        #expect(try state("crm", "invoice") == .onTime)
        #expect(try state("app", "customer") == .failing)
        #expect(try state("export", "customer") == .notRun)
        f.clock.advance(seconds: 119)
        #expect(try state("crm", "customer") == .onTime)  // 59 s late: within one interval
        f.clock.advance(seconds: 2)
        #expect(try state("crm", "customer") == .delayed)
        #expect(try state("crm", "invoice") == .onTime)
        _ = try f.store.write { tx in
            try tx.recordSchemaDrift(SchemaDriftRecord(run: "r1", system: "crm", entity: "invoice", object: "invoices",
                                                       change: .removed, field: "no", message: "mapped field 'no' is gone",
                                                       pauses: true, detectedAt: "2026-01-01T00:00:00.000Z"))
        }
        #expect(try state("crm", "invoice") == .paused)
        let report = try StatusReport.compute(planner: p, store: f.store, now: f.clock.current())
        #expect(!report.healthy)
        let json = report.json
        #expect(json["healthy"] == false)
        #expect(json["systems"]?.arrayValue?.count == 4)
    }
}
