import HubCore
import HubStore
import HubSync
import HubTesting
import HubTestServers
import Testing

/// Creates to a system that stages them (a file) are applied in one write per push, and stay
/// crash safe: their intents are closed only once the commit succeeded.
@Suite struct StagedCreatesTests {
    @Test("Creates a system stages reach it in one write per push and are linked with their base", arguments: TestHubStore.all)
    func stagedCreatesAreCommittedOnceAndLinked(_ kind: TestHubStore) async throws {
        let f = try await SyncCycleTests.seeded(kind)
        await f.sheet.setStagesCreates(true)
        let report = try await f.sync(SyncOptions(pageSize: 1))
        #expect(report.status == .ok)
        #expect(await f.sheet.stagedCommits == 1)
        #expect(await f.sheet.liveRecordCount("customers") == 3)
        let ids = Array(await f.sheet.records("customers").keys)
        let links = try f.store.read { try $0.links(entity: "customer", system: "sheet", externalIDs: ids) }.values
        #expect(links.count == 3)
        #expect(links.allSatisfy { $0.state == .linked && $0.baseHash != nil && $0.baseVersion != nil })
        #expect(try f.store.read { try $0.openIntents() }.isEmpty)
        // Nothing echoes back.
        _ = await f.takeWrites()
        #expect(try await f.sync().status == .ok)
        #expect(await f.takeWrites() == 0)
    }

    @Test("A staged commit that fails leaves the intents open, and the next run sends those creates once", arguments: TestHubStore.all)
    func aFailedStagedCommitIsSentAgainOnce(_ kind: TestHubStore) async throws {
        let f = try await SyncCycleTests.seeded(kind)
        await f.sheet.setStagesCreates(true)
        await f.sheet.setFailStagedCommit(SpokeError(.unavailable, system: "sheet", message: "disk full"))
        let first = try await f.sync(SyncOptions(pageSize: 1))
        #expect(first.status == .partial)
        #expect(await f.sheet.liveRecordCount("customers") == 1)
        #expect(try f.store.read { try $0.openIntents() }.count == 2)

        let second = try await f.sync(SyncOptions(pageSize: 1))
        #expect(second.status == .ok)
        #expect(await f.sheet.liveRecordCount("customers") == 3)
        #expect(try f.store.read { try $0.openIntents() }.isEmpty)
        let ids = Array(await f.sheet.records("customers").keys)
        let links = try f.store.read { try $0.links(entity: "customer", system: "sheet", externalIDs: ids) }.values
        #expect(links.filter { $0.state == .linked }.count == 3)
        _ = await f.takeWrites()
        #expect(try await f.sync().status == .ok)
        #expect(await f.takeWrites() == 0)
    }
}
