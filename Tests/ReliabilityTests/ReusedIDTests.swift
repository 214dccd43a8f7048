import Foundation
import HubCore
import HubTestServers
import Testing

/// Found by T3: SQLite gives a new row the highest rowid again after that row was deleted, so
/// a system can hand out an ID the hub still remembered for a deleted record. On either hub.
@Suite struct ReusedIDTests {
    /// The T3 systems with customers c1 (app) and c2 (billing) synced everywhere; c2 has the
    /// highest rowid in `app`.
    static func synced(_ hub: TestHubStore) async throws -> (ScratchDirectory, ConvergenceWorld) {
        let dir = try ScratchDirectory()
        let world = try ConvergenceWorld.create(in: dir.path, hub: hub)
        try world.insert(.app, .customer, ["email": "c1@example.com", "first_name": "Ann", "last_name": "Archer"], fresh: "")
        try world.insert(.billing, .customer, ["email": "c2@example.com", "full_name": "Bob Baker"], fresh: "")
        let report = try #require(try await world.sync())
        #expect(report.systemErrors.isEmpty && report.quarantined.isEmpty, "\(report.systemErrors) \(report.quarantined)")
        return (dir, world)
    }

    static func emails(_ world: ConvergenceWorld, _ system: ConvergenceWorld.System) throws -> [String] {
        let key = world.object(system, .customer).key
        return try world.rows(system, .customer).compactMap { $0.columns[key] ?? nil }.sorted()
    }

    @Test("A record hubctl creates under a rowid a deleted record had is linked, not a failed system", arguments: TestHubStore.all)
    func aCreateThatReusesADeletedRecordsRowidIsLinked(_ hub: TestHubStore) async throws {
        let (dir, world) = try await Self.synced(hub)
        defer { world.postgresHub?.drop() }
        let app = try world.rows(.app, .customer)
        let c2 = try #require(app.first { $0.columns["email"] == "c2@example.com" })
        try world.delete(.app, .customer, id: c2.id)
        try await world.sync()
        // A customer created elsewhere is created in app under the freed rowid.
        try world.insert(.billing, .customer, ["email": "c3@example.com", "full_name": "Cleo Ng"], fresh: "")
        let report = try #require(try await world.sync())
        #expect(report.systemErrors.isEmpty, "\(report.systemErrors)")
        #expect(try Self.emails(world, .app) == ["c1@example.com", "c3@example.com"])
        #expect(try world.rows(.app, .customer).first { $0.columns["email"] == "c3@example.com" }?.id == c2.id)
        let quiet = try #require(try await world.sync())
        #expect(quiet.systemErrors.isEmpty && quiet.totals.push.created == 0 && quiet.totals.push.updated == 0)
        _ = dir
    }

    @Test("A record a person adds under a rowid a deleted record had reaches every system", arguments: TestHubStore.all)
    func aNewRecordUnderADeletedRecordsRowidIsRead(_ hub: TestHubStore) async throws {
        let (dir, world) = try await Self.synced(hub)
        defer { world.postgresHub?.drop() }
        let c2 = try #require(try world.rows(.app, .customer).first { $0.columns["email"] == "c2@example.com" })
        try world.delete(.app, .customer, id: c2.id)
        try await world.sync()
        let reused = try world.insert(.app, .customer, ["email": "c4@example.com", "first_name": "Dan", "last_name": "Egan"], fresh: "")
        #expect(reused == c2.id)
        let report = try #require(try await world.sync())
        #expect(report.systemErrors.isEmpty, "\(report.systemErrors)")
        for system in ConvergenceWorld.System.allCases {
            #expect(try Self.emails(world, system).map { $0.lowercased() } == ["c1@example.com", "c4@example.com"], "\(system)")
        }
        _ = dir
    }
}

extension ReusedIDTests {
    @Test("A run stopped after a system deleted a record and created another under its rowid recovers without deleting the new one",
          arguments: TestHubStore.all)
    func aLostAnswerToADeleteAndACreateUnderTheSameRowidRecovers(_ hub: TestHubStore) async throws {
        let (dir, world) = try await Self.synced(hub)
        defer { world.postgresHub?.drop() }
        // c2 (highest rowid in app) is deleted in billing; c3 is new in the sheet. The run sends
        // app "delete c2" and "create c3" (SQLite reuses c2's rowid) and stops before it records the answer.
        let c2 = try #require(try world.rows(.billing, .customer).first { $0.columns["email"] == "c2@example.com" })
        try world.delete(.billing, .customer, id: c2.id)
        try world.insert(.sheet, .customer, ["Email": "c3@example.com", "First": "Cleo", "Last": "Ng"], fresh: "s3")
        _ = try await world.sync(fault: (.pushAfterResponse, 1))
        let recovery = try #require(try await world.sync())
        #expect(recovery.systemErrors.isEmpty, "\(recovery.systemErrors)")
        for system in ConvergenceWorld.System.allCases {
            #expect(try Self.emails(world, system).map { $0.lowercased() } == ["c1@example.com", "c3@example.com"], "\(system)")
        }
        let quiet = try #require(try await world.sync())
        #expect(quiet.systemErrors.isEmpty && quiet.totals.push.created + quiet.totals.push.updated + quiet.totals.push.deleted == 0)
        _ = dir
    }
}
