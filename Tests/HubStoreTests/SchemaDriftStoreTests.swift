import HubCore
import HubStore
import HubTestServers
import Testing

/// The hub's fingerprints of each mapped object and its open schema changes.
@Suite struct SchemaDriftStoreTests {
    static func fingerprint(_ fields: [String], run: String = "r1", mapping: [String: String] = ["email": "a"]) -> SchemaFingerprint {
        SchemaFingerprint(system: "crm", entity: "customer", object: "contacts",
                          fields: fields.map { DiscoveredField(name: $0, nativeType: "TEXT", kind: .text, isKey: $0 == "id") },
                          sampled: false, mapping: mapping, run: RunID(run), takenAt: "2026-01-0\(run.suffix(1))T00:00:00.000Z")
    }

    static func change(_ kind: SchemaDriftRecord.Change, _ field: String, run: String, pauses: Bool = false) -> SchemaDriftRecord {
        SchemaDriftRecord(run: RunID(run), system: "crm", entity: "customer", object: "contacts", change: kind, field: field,
                          message: "\(kind) \(field)", pauses: pauses, detectedAt: "t-\(run)")
    }

    @Test(arguments: TestHubStore.all) func aFingerprintRoundTripsAndAnUnchangedOneIsNotRewritten(_ kind: TestHubStore) throws {
        let store = try kind.make()
        try store.write { try $0.saveSchemaFingerprint(Self.fingerprint(["id", "email", "Phone Number"])) }
        let stored = try #require(try store.read { try $0.schemaFingerprint(system: "crm", entity: "customer") })
        #expect(stored == Self.fingerprint(["id", "email", "Phone Number"]))
        #expect(stored.field("id")?.isKey == true)
        // The same fields and mapping from a later run: nothing to store, the first run stays.
        try store.write { try $0.saveSchemaFingerprint(Self.fingerprint(["id", "email", "Phone Number"], run: "r2")) }
        #expect(try store.read { try $0.schemaFingerprint(system: "crm", entity: "customer") }?.run == "r1")
        // A new field, or a new mapping, replaces it.
        try store.write { try $0.saveSchemaFingerprint(Self.fingerprint(["id", "email"], run: "r3")) }
        #expect(try store.read { try $0.schemaFingerprint(system: "crm", entity: "customer") }?.run == "r3")
        try store.write { try $0.saveSchemaFingerprint(Self.fingerprint(["id", "email"], run: "r4", mapping: ["email": "b"])) }
        #expect(try store.read { try $0.schemaFingerprints() }.map(\.run) == ["r4"])
    }

    @Test(arguments: TestHubStore.all) func aChangeSeenAgainStaysOneOpenEntryUntilARunNoLongerSeesIt(_ kind: TestHubStore) throws {
        let store = try kind.make()
        let first = try store.write { try $0.recordSchemaDrift(Self.change(.removed, "phone", run: "r1", pauses: true)) }
        #expect(first.isNew)
        #expect(try store.write { try $0.recordSchemaDrift(Self.change(.added, "tier", run: "r1")) }.isNew)
        var again = Self.change(.removed, "phone", run: "r2", pauses: true)
        again.message = "still gone"
        let second = try store.write { try $0.recordSchemaDrift(again) }
        #expect(!second.isNew)
        #expect(second.record.run == "r1", "the run that first noticed it")
        #expect(second.record.lastRun == "r2")
        let open = try store.read { try $0.openSchemaDrift() }
        #expect(open.map(\.field) == ["phone", "tier"], "pausing changes first")
        #expect(open.first?.message == "still gone")
        #expect(try store.read { try $0.schemaDrift(run: "r2") }.map(\.field) == ["phone"])

        // A run that sees only the new field closes the removal.
        try store.write { tx in
            try tx.resolveSchemaDrift(system: "crm", entity: "customer", except: [Self.change(.added, "tier", run: "r3").key],
                                      run: "r3", at: "t3")
        }
        #expect(try store.read { try $0.openSchemaDrift(system: "crm", entity: "customer") }.map(\.field) == ["tier"])
        #expect(try store.read { try $0.openSchemaDrift(system: "app") }.isEmpty)
        let closed = try store.read { try $0.schemaDrift(run: "r1") }.first { $0.field == "phone" }
        #expect(closed?.resolvedAt == "t3" && closed?.resolvedRun == "r3")
        // Gone again later: a new entry.
        #expect(try store.write { try $0.recordSchemaDrift(Self.change(.removed, "phone", run: "r4", pauses: true)) }.isNew)
    }

    @Test(arguments: TestHubStore.all) func theLinksTellWhetherASystemHeldValuesForAFieldAndAPushMarkCanStartOver(_ kind: TestHubStore) throws {
        let store = try kind.make()
        try store.write { tx in
            for (i, base) in [["email": Value.string("a@example.com")], ["email": "b@example.com", "phone": "1"]].enumerated() {
                try tx.saveLink(Link(entity: "customer", system: "crm", externalID: ExternalID("\(i)"), hubID: HubID("h\(i)"),
                                     state: .linked, baseHash: nil, baseData: base, baseVersion: 1, linkedBy: "created",
                                     linkedAt: "t", lastSeenRun: nil))
            }
            try tx.setPushMark(42, system: "crm", entity: "customer", at: "t")
        }
        func held(_ system: SystemName, _ fields: [String]) throws -> Bool {
            try store.read { try $0.linkBasesHoldValues(entity: "customer", system: system, fields: fields) }
        }
        #expect(try held("crm", ["phone"]))
        #expect(try held("crm", ["fax", "phone"]))
        #expect(try !held("crm", ["fax", #"we"ird"#]))
        #expect(try !held("app", ["phone"]))
        try store.write { try $0.resetPushMark(system: "crm", entity: "customer") }
        #expect(try store.read { try $0.pushMark(system: "crm", entity: "customer") } == 0)
    }

    @Test func aChangeRoundTripsThroughTheJSONARunReportStores() throws {
        var d = Self.change(.renamed, "Country", run: "r1", pauses: true)
        d.newField = "Land"
        d.oldType = "text"
        d.newType = "text"
        #expect(SchemaDriftRecord(json: d.json) == d)
        #expect(SchemaDriftRecord(json: ["change": "exploded", "system": "crm", "entity": "customer", "field": "x"]) == nil)
    }
}
