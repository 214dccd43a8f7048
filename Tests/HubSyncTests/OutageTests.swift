import HubCore
import HubStore
import HubSync
import HubTesting
import HubTestServers
import Testing

/// T5 of the reliability battery, at the engine: bursts of failures, a system down for a whole
/// run, a page failing mid-read, answers lost after a write, errors that must not be retried.
/// Counted: records lost and duplicated after the next healthy run. (HTTP specifics such as
/// Retry-After are tested with the REST adapter.)
@Suite struct OutageTests {
    static let emails = ["ann@example.com", "bob@example.com", "cleo@example.com"]

    /// Emails missing from a system, and emails it holds twice.
    static func lostAndDuplicated(_ f: SyncFixture) async -> (lost: Int, duplicates: Int) {
        var lost = 0, duplicates = 0
        for (spoke, object, path) in [(f.crm, "contacts", "properties.email"), (f.app, "users", "email"), (f.sheet, "customers", "Email")] {
            let values = await spoke.records(object).values.compactMap { $0.value(atPath: path)?.stringValue?.lowercased() }
                .map { $0.trimmingCharacters(in: .whitespaces) }
            for email in emails where !values.contains(email) { lost += 1 }
            duplicates += values.count - Set(values).count
        }
        return (lost, duplicates)
    }

    @Test(arguments: TestHubStore.all) func outagesLoseAndDuplicateNothing(_ kind: TestHubStore) async throws {
        var lost = 0, duplicates = 0, scenarios = 0, nonRetryableRetried = 0

        // A burst of 503s shorter than the retries: the run succeeds.
        var f = try await SyncCycleTests.seeded(kind)
        await f.app.setFailNext(SpokeError(.unavailable, system: "app", message: "503"), times: 2)
        #expect(try await f.sync().status == .ok)
        var r = await Self.lostAndDuplicated(f)
        lost += r.lost; duplicates += r.duplicates; scenarios += 1

        // Down for the whole run: partial now, caught up by the next healthy run.
        f = try await SyncCycleTests.seeded(kind)
        await f.app.setFailNext(SpokeError(.unavailable, system: "app", message: "connection refused"), times: 1000)
        #expect(try await f.sync().status == .partial)
        await f.app.setFailNext(nil)
        #expect(try await f.sync().status == .ok)
        r = await Self.lostAndDuplicated(f)
        lost += r.lost; duplicates += r.duplicates; scenarios += 1

        // A page fails mid-read (the second read call, with pages of one record).
        f = try await SyncCycleTests.seeded(kind)
        await f.crm.setFailNext(SpokeError(.unavailable, system: "crm", message: "reset"), times: 5, after: 1)
        #expect(try await f.sync(SyncOptions(pageSize: 1)).status == .partial)
        await f.crm.setFailNext(nil)
        #expect(try await f.sync(SyncOptions(pageSize: 1)).status == .ok)
        r = await Self.lostAndDuplicated(f)
        lost += r.lost; duplicates += r.duplicates; scenarios += 1

        // Applied, then the answer was lost.
        f = try await SyncCycleTests.seeded(kind)
        await f.sheet.setFailAfterApplying(SpokeError(.unavailable, system: "sheet", message: "timeout"))
        #expect(try await f.sync().status == .partial)
        #expect(try await f.sync().status == .ok)
        r = await Self.lostAndDuplicated(f)
        lost += r.lost; duplicates += r.duplicates; scenarios += 1

        // Errors that retrying cannot fix are not retried.
        f = try await SyncCycleTests.seeded(kind)
        await f.app.setFailNext(SpokeError(.configuration, system: "app", message: "no such table"), times: 1)
        _ = try await f.sync()
        nonRetryableRetried += f.sleeps.all.count
        #expect(try await f.sync().status == .ok)
        r = await Self.lostAndDuplicated(f)
        lost += r.lost; duplicates += r.duplicates; scenarios += 1

        Scorecard.record("T5-outages", ["scenarios": Double(scenarios), "records_lost": Double(lost),
                                        "duplicates": Double(duplicates), "non_retryable_retried": Double(nonRetryableRetried)])
        #expect(lost == 0)
        #expect(duplicates == 0)
        #expect(nonRetryableRetried == 0)
    }
}
