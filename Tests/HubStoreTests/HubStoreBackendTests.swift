import Foundation
import HubCore
import HubStore
import HubTestServers
import Testing

/// The store's operations whose SQL differs most between SQLite and PostgreSQL (JSON fields,
/// upserts, new IDs, booleans and sums read back, the run lock), on every hub.
@Suite struct HubStoreBackendTests {
    static let at = "2026-01-01T00:00:00.000Z"

    static func entity(_ id: String, _ entity: EntityName = "order", data: [String: Value]) -> EntityRecord {
        EntityRecord(hubID: HubID(id), entity: entity, data: data, version: 1, seq: 0, fieldOrigins: [:], createdAt: at, updatedAt: at)
    }

    @Test("References are found through a JSON field, even with a space in its name", arguments: TestHubStore.all)
    func referencesAreFoundThroughAJSONField(_ kind: TestHubStore) throws {
        let store = try kind.make()
        try store.write { tx in
            try tx.insertEntity(Self.entity("c1", "customer", data: ["email": "Ann@Example.com"]), sourceSystem: nil, run: "r")
            try tx.insertEntity(Self.entity("o1", data: ["buyer id": "c1"]), sourceSystem: nil, run: "r")
            try tx.insertEntity(Self.entity("o2", data: ["buyer id": "c9"]), sourceSystem: nil, run: "r")
            try tx.insertEntity(Self.entity("o3", data: ["buyer id": .int(7)]), sourceSystem: nil, run: "r")
        }
        let (referrers, broken, found, missing) = try store.read { tx in
            (try tx.referrers(of: ["c1", "c9"], entity: "order", field: "buyer id", liveOnly: true),
             try tx.brokenReferences(entity: "order", field: "buyer id", target: "customer"),
             try tx.entities("customer", field: "email", equalsIgnoringCase: "ann@example.COM", limit: 5),
             try tx.entities("customer", field: "email", equalsIgnoringCase: "bob@example.com", limit: 5))
        }
        #expect(referrers == ["c1": ["o1"], "c9": ["o2"]])
        #expect(broken.map(\.hubID) == ["o2"])
        #expect(broken.first?.targetDeleted == false)
        #expect(found.map(\.hubID) == ["c1"])
        #expect(missing.isEmpty)
    }

    @Test("New rows get increasing IDs and a replaced intent a new one", arguments: TestHubStore.all)
    func newRowsGetIncreasingIDs(_ kind: TestHubStore) throws {
        let store = try kind.make()
        func intent(_ hub: String, run: String) -> WriteIntent {
            WriteIntent(run: RunID(run), generation: 1, system: "crm", entity: "customer", hubID: HubID(hub), key: hub,
                        baseData: ["email": "a@example.com"], version: 1, createdAt: Self.at)
        }
        let (q1, q2, intents) = try store.write { tx in
            let q1 = try tx.quarantine(QuarantineEntry(run: "r", system: "crm", entity: "customer", externalID: "1", hubID: nil,
                                                       direction: .pull, reason: .unmappable, message: "bad", createdAt: Self.at))
            let q2 = try tx.quarantine(QuarantineEntry(run: "r", system: "crm", entity: "customer", externalID: "2", hubID: nil,
                                                       direction: .pull, reason: .unmappable, message: "bad", createdAt: Self.at))
            try tx.addIntent(intent("h1", run: "r1"))
            try tx.addIntent(intent("h2", run: "r1"))
            try tx.addIntent(intent("h1", run: "r2"))  // replaces h1's, which now comes last
            return (q1, q2, try tx.openIntents())
        }
        #expect(q2 > q1)
        #expect(intents.map(\.hubID) == ["h2", "h1"])
        #expect(intents.map(\.run) == ["r1", "r2"])
    }

    @Test("A stewardship entry rolled back (a dry run) leaves no gap in the entries' numbers", arguments: TestHubStore.all)
    func aRolledBackStewardshipEntryLeavesNoGap(_ kind: TestHubStore) throws {
        struct DryRun: Error {}
        let store = try kind.make()
        let entry = StewardshipEntry(action: .merge, entity: "customer", hubID: "h1", by: "ana", reason: "same person", at: Self.at)
        #expect(throws: DryRun.self) {
            try store.write { tx -> Void in
                #expect(try tx.recordStewardship(entry) == 1)
                throw DryRun()
            }
        }
        let (first, second) = try store.write { tx in (try tx.recordStewardship(entry), try tx.recordStewardship(entry)) }
        #expect(first == 1 && second == 2)
    }

    @Test("Intents recorded together are recorded as one by one: in order, a repeated create keeping its last intent",
          arguments: TestHubStore.all)
    func intentsRecordedTogether(_ kind: TestHubStore) throws {
        let store = try kind.make()
        func intent(_ hub: String, run: String) -> WriteIntent {
            WriteIntent(run: RunID(run), generation: 1, system: "crm", entity: "customer", hubID: HubID(hub), key: hub,
                        baseData: ["email": .string("\(hub)@example.com")], version: 1, createdAt: Self.at)
        }
        let many = (0..<250).map { intent(String(format: "h%03d", $0), run: "r1") }
        let intents = try store.write { tx in
            try tx.addIntent(intent("h000", run: "r0"))
            try tx.addIntents(many + [intent("h001", run: "r2")])  // h001 twice in one call: the last one counts
            return try tx.openIntents()
        }
        #expect(intents.count == 250)
        #expect(intents.map(\.hubID.rawValue) == ["h000"] + (2..<250).map { String(format: "h%03d", $0) } + ["h001"])
        #expect(intents.first?.run == "r1")  // replaced by the batch
        #expect(intents.last?.run == "r2")
        #expect(intents.last?.baseData == ["email": "h001@example.com"])
    }

    @Test("A run's activity sums its counts and reads its dry-run flag", arguments: TestHubStore.all)
    func activitySumsCounts(_ kind: TestHubStore) throws {
        let store = try kind.make()
        var counts = RunCounts()
        counts.created = 2
        counts.updated = 3
        try store.write { tx in
            try tx.beginRun("r1", startedAt: Self.at, dryRun: false, topologyHash: nil)
            try tx.finishRun("r1", finishedAt: Self.at, status: .ok, exitCode: 0, report: .object([:]),
                             counts: [("crm", "customer", "pull", counts), ("crm", "customer", "push", counts)])
            // Finishing twice replaces the counts instead of adding a row.
            try tx.finishRun("r1", finishedAt: Self.at, status: .ok, exitCode: 0, report: .object([:]),
                             counts: [("crm", "customer", "pull", counts)])
            try tx.beginRun("r2", startedAt: Self.at, dryRun: true, topologyHash: nil)
        }
        let (activity, runs) = try store.read { tx in (try tx.activity(lastRuns: 5), try tx.runs(limit: 5)) }
        #expect(activity.map(\.run) == ["r1"])
        #expect(activity.first?.pulled == 5)
        #expect(activity.first?.pushed == 5)
        #expect(runs.first { $0.id == "r2" }?.dryRun == true)
        #expect(runs.first { $0.id == "r1" }?.dryRun == false)
    }

    @Test("A webhook delivery is accepted once", arguments: TestHubStore.all)
    func aWebhookDeliveryIsAcceptedOnce(_ kind: TestHubStore) throws {
        let store = try kind.make()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let deliveries = try store.webhookDeliveries()
        let d1 = WebhookDeliveryID(system: "crm", id: "d1")
        #expect(try deliveries.record([d1, d1], at: now, keepFor: 600) == [true, false])
        #expect(try deliveries.record([d1], at: now, keepFor: 600) == [false])
        #expect(try deliveries.record([d1], at: now.addingTimeInterval(900), keepFor: 600) == [true])
        #expect(try deliveries.count() == 1)
    }

    @Test("Links a scan did not see are the ones deleted in the system", arguments: TestHubStore.all)
    func linksMissingFromAScan(_ kind: TestHubStore) throws {
        let store = try kind.make()
        let missing = try store.write { tx in
            for id in ["1", "2", "3"] {
                try tx.saveLink(Link(entity: "customer", system: "crm", externalID: ExternalID(id), hubID: HubID("h\(id)"),
                                     state: .linked, baseHash: "x", baseData: [:], baseVersion: 1, linkedBy: "created",
                                     linkedAt: Self.at, lastSeenRun: nil))
            }
            try tx.beginIDScan()
            try tx.addScannedIDs(["1", "3", "3"])
            let missing = try tx.linksMissingFromScan(entity: "customer", system: "crm", limit: 10)
            try tx.endIDScan()
            return missing
        }
        #expect(missing.map(\.hubID) == ["h2"])
    }

    @Test("A second run is refused the lock while the first holds it, and fenced out after a takeover",
          arguments: TestHubStore.all)
    func theRunLockRefusesASecondRun(_ kind: TestHubStore) throws {
        let store = try kind.make()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let first = try store.acquireRunLock("r1", now: now, staleAfter: 60)
        #expect(throws: HubLocked.self) { try store.acquireRunLock("r2", now: now.addingTimeInterval(5), staleAfter: 60) }
        try store.write { try $0.checkLease(first, now: now.addingTimeInterval(10)) }
        // Silent for longer than `staleAfter`: taken over, and the first run can no longer write.
        let second = try store.acquireRunLock("r2", now: now.addingTimeInterval(200), staleAfter: 60)
        #expect(second.generation == first.generation + 1)
        #expect(throws: FencedOut.self) { try store.write { try $0.checkLease(first, now: now.addingTimeInterval(201)) } }
        try store.releaseRunLock(second)
        _ = try store.acquireRunLock("r3", now: now.addingTimeInterval(202), staleAfter: 60)
    }
}

/// The translation of the hub's SQLite statements into PostgreSQL's dialect.
@Suite struct HubDialectTests {
    @Test("Placeholders are numbered outside quotes, and a null test is typed")
    func placeholdersAreNumbered() {
        #expect(HubDialect.postgres.translate("SELECT '?', \"a?\" FROM t WHERE a = ? AND (? IS NULL OR b = ?)")
                == "SELECT '?', \"a?\" FROM t WHERE a = $1 AND ($2::text IS NULL OR b = $3)")
        #expect(HubDialect.sqlite.translate("SELECT ? IS NULL") == "SELECT ? IS NULL")
    }

    @Test("INSERT OR IGNORE and OR REPLACE become ON CONFLICT clauses")
    func insertOrBecomesOnConflict() {
        #expect(HubDialect.postgres.translate("INSERT OR IGNORE INTO match_key (entity, key) VALUES (?, ?)")
                == "INSERT INTO match_key (entity, key) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        #expect(HubDialect.postgres.translate("INSERT OR REPLACE INTO intent (run_id, system, entity, hub_id) VALUES (?, ?, ?, ?)")
                == "INSERT INTO intent (run_id, system, entity, hub_id) VALUES ($1, $2, $3, $4) "
                + "ON CONFLICT (system, entity, hub_id) DO UPDATE SET run_id = excluded.run_id, id = DEFAULT")
    }

    @Test("Index hints, the temp schema and IS NOT between values are PostgreSQL's")
    func sqliteOnlySyntaxIsTranslated() {
        #expect(HubDialect.postgres.translate("SELECT x FROM xref INDEXED BY xref_by_external_id JOIN temp.scanned_id s")
                == "SELECT x FROM xref JOIN pg_temp.scanned_id s")
        #expect(HubDialect.postgres.translate("UPDATE t SET v = 1 WHERE v IS NOT excluded.v")
                == "UPDATE t SET v = 1 WHERE v IS DISTINCT FROM excluded.v")
    }

    @Test("DDL gets identity keys, 64-bit integers and byte-order text")
    func ddlIsTranslated() {
        #expect(HubDialect.postgres.ddl("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, s TEXT) WITHOUT ROWID;")
                == "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT, s TEXT COLLATE \"C\");")
    }
}
