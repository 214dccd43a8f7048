import Foundation
import HubCore
import HubStore
import HubSync
import HubTestServers
import HubTesting
import HubTopology
import SpokeREST
import Testing

/// T5 of the reliability battery over HTTP: a CRM API answering 429 with both forms of
/// Retry-After, bursts of 500s, timeouts, a create applied and then failed, an API going down
/// mid-batch and for a whole run, and a refused record — synced through the engine against an
/// in-memory system. Counted: records lost and duplicated after the next healthy run, waits that
/// did not follow Retry-After, and refusals that were retried.
@Suite(.serialized) struct HTTPOutageTests {
    static let topology = """
    {
      "version": 1,
      "entities": { "customer": { "fields": {
          "email": { "type": "string", "required": true, "normalize": "lowercase" },
          "firstname": { "type": "string" } }, "match": [["email"]] } },
      "systems": {
        "crm": { "adapter": "rest", "connection": { "base_url": "http://127.0.0.1:9" },
                 "entities": { "customer": { "object": "crm/v3/objects/contacts",
                 "cursor": "updatedAt", "fields": { "email": "email", "firstname": "firstname" } } } },
        "sheet": { "adapter": "jsonl", "entities": { "customer": { "object": "customers",
                   "fields": { "email": "Email", "firstname": "First" } } } }
      }
    }
    """

    struct Setup {
        let crm: FakeCRM
        let sheet: InMemorySpoke
        let clock: VirtualClock
        /// Records waits on the real clock (HTTP dates are absolute).
        let dateClock: VirtualClock
        let engine: SyncEngine
    }

    /// A fake CRM with two contacts, a sheet with two others, and an engine between them.
    static func setUp(realDates: Bool = false) async throws -> Setup {
        let crm = try await FakeCRM.start(token: "tok-5678")
        await crm.add("contacts", ["email": "ann@example.com", "firstname": "Ann"])
        await crm.add("contacts", ["email": "bob@example.com", "firstname": "Bob"])
        let sheet = InMemorySpoke("sheet", assignsIDs: false)
        await sheet.put("customers", "s1", ["Email": "cleo@example.com", "First": "Cleo"])
        await sheet.put("customers", "s2", ["Email": "dan@example.com", "First": "Dan"])
        let clock = VirtualClock()
        let dateClock = VirtualClock()
        let rest = try await CRMShape.spoke(crm, clock: realDates ? SystemClockAt(dateClock) : clock,
                                            retry: ["max_attempts": 3, "base_delay": 1, "max_delay": 4], timeout: 60)
        let topology = try TopologyLoader.decode(topology, baseDirectory: "/tmp")
        let engine = SyncEngine(topology: topology, store: try HubStore.inMemory(), spokes: ["crm": rest, "sheet": sheet],
                                settings: EngineSettings(readAttempts: 1, sleep: { _ in }))
        return Setup(crm: crm, sheet: sheet, clock: clock, dateClock: dateClock, engine: engine)
    }

    static let emails = ["ann@example.com", "bob@example.com", "cleo@example.com", "dan@example.com"]

    /// Emails missing from either system, and records more than once in either.
    static func lostAndDuplicated(_ s: Setup) async -> (lost: Int, duplicates: Int) {
        let inCRM = await s.crm.records("contacts").compactMap { $0.properties["email"]?.stringValue }
        let inSheet = await s.sheet.records("customers").values.compactMap { $0["Email"]?.stringValue }
        var lost = 0
        for email in emails { lost += (inCRM.contains(email) ? 0 : 1) + (inSheet.contains(email) ? 0 : 1) }
        return (lost, inCRM.count - Set(inCRM).count + inSheet.count - Set(inSheet).count)
    }

    @Test func httpFaultsLoseAndDuplicateNothing() async throws {
        var lost = 0, duplicates = 0, retryAfterViolations = 0, nonRetryableRetried = 0, scenarios = 0

        func finish(_ s: Setup) async throws {
            // The next healthy run catches up.
            _ = try await s.engine.syncAll()
            let r = await Self.lostAndDuplicated(s)
            lost += r.lost
            duplicates += r.duplicates
            scenarios += 1
            await s.crm.stop()
        }

        // 429 with Retry-After in seconds, on a read.
        var s = try await Self.setUp()
        await s.crm.inject(.init(method: "GET", nth: 1, action: .status(429, retryAfter: .seconds(7))))
        #expect(try await s.engine.syncAll().status == .ok)
        if !s.clock.sleeps.contains(7) { retryAfterViolations += 1 }
        try await finish(s)

        // 503 with Retry-After as an HTTP date, on a create.
        s = try await Self.setUp(realDates: true)
        await s.crm.inject(.init(method: "POST", nth: 1, action: .status(503, retryAfter: .date(secondsFromNow: 30))))
        #expect(try await s.engine.syncAll().status == .ok)
        if !s.dateClock.sleeps.contains(where: { $0 >= 28 && $0 <= 31 }) { retryAfterViolations += 1 }
        try await finish(s)

        // A 500 and a timed-out read, fewer failures than the retries.
        s = try await Self.setUp()
        await s.crm.inject(.init(method: "GET", nth: 1, action: .status(500, retryAfter: nil)))
        // Longer than the 60 s timeout, which is generous so that the in-process API answering
        // late on a machine running the whole suite at once is not mistaken for a fault.
        await s.crm.inject(.init(method: "GET", nth: 2, action: .delay(seconds: 300)))
        #expect(try await s.engine.syncAll().status == .ok)
        try await finish(s)

        // A create applied, then answered 500: parked, never sent twice.
        s = try await Self.setUp()
        await s.crm.inject(.init(method: "POST", nth: 1, action: .applyThenStatus(500)))
        let parked = try await s.engine.syncAll()
        #expect(parked.quarantined.contains { $0.reason == "indeterminate_create" })
        _ = try await s.engine.syncAll()
        let crmEmails = await s.crm.records("contacts").compactMap { $0.properties["email"]?.stringValue }
        duplicates += crmEmails.count - Set(crmEmails).count
        #expect(crmEmails.count == 4)
        scenarios += 1
        await s.crm.stop()

        // The API goes down after the first create of a batch: the rest wait, nothing is lost.
        s = try await Self.setUp()
        for n in 2...4 { await s.crm.inject(.init(method: "POST", nth: n, action: .status(503, retryAfter: nil))) }
        #expect(try await s.engine.syncAll().status == .partial)
        try await finish(s)

        // Down for the whole run (every attempt of its first read).
        s = try await Self.setUp()
        for n in 1...3 { await s.crm.inject(.init(method: "GET", nth: n, action: .status(503, retryAfter: nil))) }
        #expect(try await s.engine.syncAll().status == .partial)
        try await finish(s)

        // Refused records (400: a field the CRM requires is missing) fail alone and are sent once.
        s = try await Self.setUp()
        await s.crm.setRequired(["email", "phone"])
        let refused = try await s.engine.syncAll()
        #expect(refused.quarantined.filter { $0.reason == "rejected" && $0.system == "crm" }.count == 2)
        let posts = await s.crm.requests.filter { $0.method == "POST" }.count
        nonRetryableRetried += max(0, posts - 2)
        await s.crm.setRequired(["email"])
        try await finish(s)

        Scorecard.record("T5-http", [
            "scenarios": Double(scenarios), "records_lost": Double(lost), "duplicates": Double(duplicates),
            "retry_after_violations": Double(retryAfterViolations), "non_retryable_retried": Double(nonRetryableRetried),
        ])
        #expect(lost == 0)
        #expect(duplicates == 0)
        #expect(retryAfterViolations == 0)
        #expect(nonRetryableRetried == 0)
    }
}
