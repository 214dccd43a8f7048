import Foundation
import HubCore
import HubStore
import HubSync
import HubTesting
import HubTestServers
import Testing

/// The run lock, fencing, and creates whose answer was lost.
@Suite struct CrashSafetyTests {
    @Test(arguments: TestHubStore.all) func aSecondRunIsRefusedWhileALiveRunHoldsTheHub(_ kind: TestHubStore) async throws {
        let f = try await SyncCycleTests.seeded(kind)
        let lease = try f.store.acquireRunLock("other-run", now: f.clock.current(), staleAfter: 600)
        await #expect(throws: HubLocked.self) { try await f.sync() }
        #expect(try f.hubSeq() == 0)
        try f.store.releaseRunLock(lease)
        #expect(try await f.sync().status == .ok)
    }

    @Test func aStaleLockIsTakenOverAndItsHolderIsFencedOut() throws {
        let store = try HubStore.inMemory()
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        let old = try store.acquireRunLock("old", now: t0, staleAfter: 60)
        #expect(throws: HubLocked.self) { try store.acquireRunLock("new", now: t0.addingTimeInterval(30), staleAfter: 60) }
        let new = try store.acquireRunLock("new", now: t0.addingTimeInterval(61), staleAfter: 60)
        #expect(new.generation == old.generation + 1)
        #expect(throws: FencedOut.self) { try store.write { try $0.checkLease(old, now: t0.addingTimeInterval(62)) } }
        try store.write { try $0.checkLease(new, now: t0.addingTimeInterval(62)) }
        // Releasing with the old lease does not free the new holder's lock.
        try store.releaseRunLock(old)
        #expect(throws: HubLocked.self) { try store.acquireRunLock("third", now: t0.addingTimeInterval(63), staleAfter: 60) }
    }

    @Test(arguments: TestHubStore.all) func createsWhoseAnswerWasLostAreFoundByKeyNotSentTwice(_ kind: TestHubStore) async throws {
        let f = try await SyncCycleTests.seeded(kind)
        // The app applies the batch of creates, but hubctl never hears back.
        await f.app.setFailAfterApplying(SpokeError(.unavailable, system: "app", message: "connection reset"))
        let first = try await f.sync()
        #expect(first.status == .partial)
        let pending = try f.store.read { try $0.openIntents() }
        #expect(pending.count == 2)
        #expect(await f.app.liveRecordCount("users") == 3)

        let second = try await f.sync()
        #expect(second.status == .ok)
        #expect(second.recoveredCreates == 2)
        #expect(await f.app.liveRecordCount("users") == 3)
        #expect(try f.store.read { try $0.openIntents() }.isEmpty)
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
    }

    @Test(arguments: TestHubStore.all) func aCreateThatNeverReachedTheSystemIsSentAgain(_ kind: TestHubStore) async throws {
        let f = try await SyncCycleTests.seeded(kind)
        try await f.sync()
        // A run recorded its intent to create a new customer in the app, then died before sending.
        let hubID = try #require(try f.store.read { try $0.link(entity: "customer", system: "sheet", externalID: "s1") }?.hubID)
        let appLink = try #require(try f.store.read { try $0.link(entity: "customer", system: "app", hubID: hubID) })
        await f.app.remove("users", appLink.externalID!)
        try f.store.write { tx in
            try tx.deleteLink(entity: "customer", system: "app", hubID: hubID)
            try tx.addIntent(WriteIntent(run: "dead-run", generation: 1, system: "app", entity: "customer", hubID: hubID,
                                         key: hubID.rawValue, baseData: [:], version: 1, createdAt: "t"))
        }
        let report = try await f.sync()
        #expect(report.status == .ok)
        #expect(report.recoveredCreates == 0)
        #expect(await f.app.records("users").values.filter { $0["email"] == "cleo@example.com" }.count == 1)
        #expect(try f.store.read { try $0.link(entity: "customer", system: "app", hubID: hubID) }?.state == .linked)
    }

    @Test(arguments: TestHubStore.all) func aSystemThatCannotLookUpCreatesParksThemInsteadOfDuplicating(_ kind: TestHubStore) async throws {
        let f = try await SyncCycleTests.seeded(kind)
        await f.app.setSupportsCreateLookup(false)
        await f.app.setFailAfterApplying(SpokeError(.unavailable, system: "app", message: "connection reset"))
        try await f.sync()
        let second = try await f.sync()
        #expect(second.status == .partial)
        #expect(second.quarantined.filter { $0.reason == "indeterminate_create" }.count == 2)
        #expect(await f.app.liveRecordCount("users") == 3)
        // Later runs do not send them again either.
        try await f.sync()
        #expect(await f.app.liveRecordCount("users") == 3)
    }

    @Test(arguments: TestHubStore.all) func writesNotSentWhenASystemGoesDownMidBatchAreSentOnTheNextRun(_ kind: TestHubStore) async throws {
        let f = try await SyncCycleTests.seeded(kind)
        await f.sheet.setSendOnly(1)
        let first = try await f.sync()
        #expect(first.status == .partial)
        #expect(first.systemErrors["sheet"]?.contains("1 of 2 writes were not sent") == true)
        #expect(first.quarantined.isEmpty)
        #expect(await f.sheet.records("customers").count == 2)
        let second = try await f.sync()
        #expect(second.status == .ok)
        #expect(await f.sheet.records("customers").count == 3)
        #expect(await f.sheet.liveRecordCount("customers") == 3)
    }

    @Test(arguments: TestHubStore.all) func aCreateWithAnUnknownOutcomeIsParkedNotSentAgain(_ kind: TestHubStore) async throws {
        let f = try await SyncCycleTests.seeded(kind)
        await f.app.setAnswerCreatesIndeterminate(true)
        let first = try await f.sync()
        #expect(first.status == .partial)
        #expect(first.quarantined.filter { $0.reason == "indeterminate_create" }.count == 2)
        await f.app.setAnswerCreatesIndeterminate(false)
        try await f.sync()
        // The two creates were applied once and never repeated.
        #expect(await f.app.liveRecordCount("users") == 3)
    }
}
