import HubCore
import HubStore
import HubSync
import HubTesting
import HubTestServers
import Testing

/// Matching, references, conflict policies, deletes and filters, on three in-memory systems.
@Suite struct DataIntegrityTests {
    /// A topology of customers in crm, app and sheet (all plain renames), with `extra` spliced
    /// into the customer entity and `crmExtra`/`appExtra`/`sheetExtra` into each system's mapping.
    static func topology(entity extra: String = "", crm crmExtra: String = "", app appExtra: String = "",
                         sheet sheetExtra: String = "", match: String = #"[["email"]]"#, emailRequired: Bool = true) -> String {
        """
        {
          "version": 1,
          "entities": {
            "customer": {
              "fields": {
                "email": {"type": "string", "required": \(emailRequired), "normalize": ["trim", "lowercase"]},
                "first_name": {"type": "string"},
                "last_name": {"type": "string"},
                "country": {"type": "string"},
                "phone": {"type": "string"},
                "active": {"type": "boolean"}
              },
              "match": \(match)\(extra)
            }
          },
          "systems": {
            "crm": {"adapter": "jsonl", "entities": {"customer": {"object": "c", "cursor": "seq",
              "fields": {"email": "email", "first_name": "first", "last_name": "last", "country": "country", "phone": "phone", "active": "active"}\(crmExtra)}}},
            "app": {"adapter": "jsonl", "entities": {"customer": {"object": "c",
              "fields": {"email": "email", "first_name": "first", "last_name": "last", "country": "country", "phone": "phone", "active": "active"}\(appExtra)}}},
            "sheet": {"adapter": "jsonl", "entities": {"customer": {"object": "c",
              "fields": {"email": "email", "first_name": "first", "last_name": "last", "country": "country", "active": "active"}\(sheetExtra)}}}
          }
        }
        """
    }

    static func person(_ email: String, _ first: String, _ last: String = "Doe", country: String = "DE") -> [String: Value] {
        ["email": .string(email), "first": .string(first), "last": .string(last), "country": .string(country)]
    }

    static func id(_ spoke: InMemorySpoke, email: String) async -> ExternalID? {
        await spoke.records("c").first { $0.value["email"]?.stringValue?.lowercased() == email }?.key
    }

    // MARK: - Matching

    @Test(arguments: TestHubStore.all) func theSamePersonInTwoSystemsWithDifferentlyCasedEmailsBecomesOneEntity(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(), hub: kind)
        await f.crm.put("c", "1", Self.person("Ann@Example.COM", "Ann"))
        await f.app.put("c", "a1", Self.person("  ann@example.com", "Ann"))
        let report = try await f.sync()
        #expect(report.status == .ok)
        #expect(try f.store.read { try $0.entityCount("customer") } == 1)
        #expect(await f.crm.records("c").count == 1)
        #expect(await f.app.records("c").count == 1)
        #expect(await f.sheet.records("c").count == 1)
        let link = try f.store.read { try $0.link(entity: "customer", system: "app", externalID: "a1") }
        #expect(link?.linkedBy == "match:email")
    }

    @Test(arguments: TestHubStore.all) func anAmbiguousMatchIsQuarantinedAndLinksNothing(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(match: #"[["email"], ["first_name", "last_name"]]"#, emailRequired: false), hub: kind)
        // Two different people; a typo fixed later gives them the same name.
        await f.crm.put("c", "1", Self.person("john1@example.com", "John", "Smith"))
        await f.crm.put("c", "2", Self.person("john2@example.com", "Jon", "Smith"))
        try await f.sync()
        await f.crm.update("c", "2", ["first": "John"])
        try await f.sync()
        var noEmail = Self.person("x", "John", "Smith")
        noEmail["email"] = nil
        await f.app.put("c", "a9", noEmail)
        let report = try await f.sync()
        #expect(report.quarantined.count == 1)
        let q = try #require(report.quarantined.first)
        #expect(q.reason == "ambiguous_match")
        #expect(q.message.hasPrefix("match:first_name+last_name matches 2 hub entities"))
        #expect(try f.store.read { try $0.link(entity: "customer", system: "app", externalID: "a9") } == nil)
        #expect(try f.store.read { try $0.entityCount("customer") } == 2)
    }

    @Test(arguments: TestHubStore.all) func recordsArrivingFromTwoSystemsInOneRunLinkTheSecondToTheFirst(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(), hub: kind)
        await f.app.put("c", "a1", Self.person("new@example.com", "Nia"))
        await f.sheet.put("c", "s1", Self.person("NEW@example.com", "Nia"))
        try await f.sync()
        #expect(try f.store.read { try $0.entityCount("customer") } == 1)
        let sheetLink = try f.store.read { try $0.link(entity: "customer", system: "sheet", externalID: "s1") }
        #expect(sheetLink?.linkedBy == "match:email")
        #expect(await f.crm.records("c").count == 1)
    }

    @Test(arguments: TestHubStore.all) func aFirstLinkFillsGapsAndNeverErasesValues(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(), hub: kind)
        await f.crm.put("c", "1", ["email": "ann@example.com", "first": "Ann", "phone": "+49 1"])
        try await f.sync(SyncOptions(only: ["crm", "sheet"]))
        // The app knows Ann's last name but not her phone.
        await f.app.put("c", "a1", ["email": "ann@example.com", "last": "Lee"])
        try await f.sync()
        let crmAnn = try #require(await f.crm.record("c", "1"))
        #expect(crmAnn["phone"] == "+49 1")
        #expect(crmAnn["last"] == "Lee")
        #expect(await f.app.record("c", "a1")?["phone"] == "+49 1")
    }

    // MARK: - Conflict policies

    static func editBothSides(_ f: SyncFixture, crmFirst: String, appFirst: String) async throws -> SyncReport {
        await f.crm.put("c", "1", Self.person("ann@example.com", "Ann"))
        try await f.sync()
        let appID = try #require(await Self.id(f.app, email: "ann@example.com"))
        await f.crm.update("c", "1", ["first": .string(crmFirst)])
        await f.app.update("c", appID, ["first": .string(appFirst)])
        return try await f.sync()
    }

    @Test(arguments: TestHubStore.all) func priorityLetsTheFirstListedSystemWin(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(entity: #", "conflicts": {"resolve": "priority", "priority": ["crm", "app"]}"#), hub: kind)
        let report = try await Self.editBothSides(f, crmFirst: "Annie", appFirst: "Anne")
        #expect(report.conflicts.count == 1)
        #expect(report.conflicts.first?.winner == "hub")
        #expect(report.conflicts.first?.rule == .priority)
        for spoke in [f.crm, f.app, f.sheet] {
            #expect(await spoke.records("c").values.first?["first"] == "Annie")
        }
    }

    @Test(arguments: TestHubStore.all) func aFieldOwnerAlwaysWinsItsField(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(entity: #", "conflicts": {"fields": {"first_name": {"owner": "app"}}}"#), hub: kind)
        let report = try await Self.editBothSides(f, crmFirst: "Annie", appFirst: "Anne")
        #expect(report.conflicts.first?.winner == "app")
        #expect(report.conflicts.first?.rule == .owner("app"))
        for spoke in [f.crm, f.app, f.sheet] {
            #expect(await spoke.records("c").values.first?["first"] == "Anne")
        }
    }

    @Test(arguments: TestHubStore.all) func aManualConflictIsParkedListedResolvedAndPropagated(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(entity: #", "conflicts": {"resolve": "manual"}"#), hub: kind)
        let report = try await Self.editBothSides(f, crmFirst: "Annie", appFirst: "Anne")
        #expect(report.status == .partial)
        #expect(report.openConflicts == 1)
        // Parked: the hub keeps the value it had (the CRM's, pulled first), and the field is held back.
        #expect(await f.app.records("c").values.first?["first"] == "Anne")
        #expect(await f.sheet.records("c").values.first?["first"] == "Ann")
        let open = try f.store.read { try $0.conflicts(openOnly: true) }
        #expect(open.count == 1)
        let conflict = try #require(open.first)
        #expect(conflict.candidates["app"] == "Anne")
        #expect(conflict.candidates["crm"] == "Annie")
        // A later run does not park it again.
        let again = try await f.sync()
        #expect(again.conflicts.isEmpty)
        #expect(try f.store.read { try $0.conflicts(openOnly: false) }.count == 1)

        try ConflictResolver(topology: f.topology, store: f.store).resolve(conflict.id!, .take("app"), by: "tester")
        let after = try await f.sync()
        #expect(after.status == .ok)
        for spoke in [f.crm, f.app, f.sheet] {
            #expect(await spoke.records("c").values.first?["first"] == "Anne")
        }
        let resolved = try #require(try f.store.read { try $0.conflict(conflict.id!) })
        #expect(resolved.status == .resolved && resolved.winner == "app" && resolved.resolvedBy == "tester")
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
    }

    @Test(arguments: TestHubStore.all) func aConflictCanBeResolvedWithATypedValue(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(entity: #", "conflicts": {"resolve": "manual"}"#), hub: kind)
        _ = try await Self.editBothSides(f, crmFirst: "Annie", appFirst: "Anne")
        let conflict = try #require(try f.store.read { try $0.conflicts(openOnly: true) }.first)
        try ConflictResolver(topology: f.topology, store: f.store).resolve(conflict.id!, .value("Ann-Marie"), by: "tester")
        try await f.sync()
        for spoke in [f.crm, f.app, f.sheet] {
            #expect(await spoke.records("c").values.first?["first"] == "Ann-Marie")
        }
        #expect(throws: ConflictResolver.Failure.self) {
            try ConflictResolver(topology: f.topology, store: f.store).resolve(999, .take("crm"), by: "tester")
        }
    }

    // MARK: - Deletes

    static func threeCustomers(_ f: SyncFixture) async throws {
        await f.crm.put("c", "1", Self.person("ann@example.com", "Ann"))
        await f.crm.put("c", "2", Self.person("bob@example.com", "Bob"))
        await f.crm.put("c", "3", Self.person("cleo@example.com", "Cleo"))
        try await f.sync()
    }

    @Test(arguments: TestHubStore.all) func aDeleteInOneSystemPropagatesToTheOthersAndKeepsAHubTombstone(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(), hub: kind)
        try await Self.threeCustomers(f)
        let hubID = try #require(try f.store.read { try $0.link(entity: "customer", system: "crm", externalID: "2") }?.hubID)
        await f.crm.remove("c", "2")
        let report = try await f.sync()
        #expect(report.status == .ok)
        #expect(await f.app.records("c").count == 2)
        #expect(await f.sheet.records("c").count == 2)
        let tombstone = try #require(try f.store.read { try $0.entity(hubID) })
        #expect(tombstone.isDeleted)
        #expect(try f.store.read { try $0.version(hubID, 1) }?["email"] == "bob@example.com")
        // Quiet afterwards.
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
    }

    @Test(arguments: TestHubStore.all) func aRowMissingFromAFullScanIsADelete(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(), hub: kind)
        try await Self.threeCustomers(f)
        // The app is read in full every run (no cursor): a missing row was deleted there.
        let bobInApp = try #require(await Self.id(f.app, email: "bob@example.com"))
        await f.app.remove("c", bobInApp)
        try await f.sync()
        #expect(await f.crm.record("c", "2") == nil)
        #expect(await f.sheet.records("c").count == 2)
    }

    @Test(arguments: TestHubStore.all) func ignoreUnlinksAndRestoreRecreates(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(app: #", "deletes": {"pull": "ignore"}"#, sheet: #", "deletes": {"pull": "restore"}"#), hub: kind)
        try await Self.threeCustomers(f)
        let annInApp = try #require(await Self.id(f.app, email: "ann@example.com"))
        let bobInSheet = try #require(await Self.id(f.sheet, email: "bob@example.com"))
        await f.app.remove("c", annInApp)
        await f.sheet.remove("c", bobInSheet)
        try await f.sync()
        // ignore: Ann stays everywhere else and is not re-created in the app.
        #expect(await f.crm.record("c", "1") != nil)
        #expect(await Self.id(f.app, email: "ann@example.com") == nil)
        // restore: Bob is back in the sheet (the sheet takes the hub's key as ID, so the same one).
        #expect(await f.sheet.record("c", bobInSheet)?["first"] == "Bob")
        #expect(await f.crm.record("c", "2") != nil)
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
    }

    @Test(arguments: TestHubStore.all) func pushPoliciesDeleteIgnoreOrSoftDelete(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(app: #", "deletes": {"push": {"set": {"active": false}}}"#,
                                                   sheet: #", "deletes": {"push": "ignore"}"#), hub: kind)
        try await Self.threeCustomers(f)
        await f.crm.remove("c", "3")
        try await f.sync()
        let cleoInApp = try #require(await f.app.records("c").values.first { $0["email"] == "cleo@example.com" })
        #expect(cleoInApp["active"] == false)
        #expect(await Self.id(f.sheet, email: "cleo@example.com") != nil)
        _ = await f.takeWrites()
        try await f.sync()
        #expect(await f.takeWrites() == 0)
    }

    @Test(arguments: TestHubStore.all) func theMassDeleteGuardStopsDeletesUntilAllowed(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(crm: #", "deletes": {"max_share": 0.5, "min_count": 2}"#), hub: kind)
        try await Self.threeCustomers(f)
        await f.crm.remove("c", "1")
        await f.crm.remove("c", "2")
        let report = try await f.sync()
        #expect(report.status == .partial)
        #expect(report.guardTrips == [
            "mass-delete guard: 2 of 3 linked customer records (67 %, above the limit of 50 %) are gone from 'crm'; "
                + "nothing was deleted. Check 'crm', then run again with --allow-mass-delete to apply the deletes",
        ])
        #expect(await f.app.records("c").count == 3)
        let allowed = try await f.sync(SyncOptions(allowMassDelete: true))
        #expect(allowed.status == .ok)
        #expect(await f.app.records("c").count == 1)
        #expect(await f.sheet.records("c").count == 1)
    }

    @Test(arguments: TestHubStore.all) func tombstonesFromAnIncrementalReadAreDeletes(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(), hub: kind)
        try await Self.threeCustomers(f)
        await f.crm.remove("c", "1")
        let report = try await f.sync()
        #expect(report.rows.first { $0.system == "crm" }?.pull.deleted == 1)
        #expect(await Self.id(f.app, email: "ann@example.com") == nil)
    }

    // MARK: - Filters

    @Test(arguments: TestHubStore.all) func aFilteredSystemReceivesOnlyMatchingEntitiesAndAcceptsOnlyMatchingRecords(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(sheet: #", "filter": {"country": {"in": ["DE", "FR"]}}"#), hub: kind)
        await f.crm.put("c", "1", Self.person("ann@example.com", "Ann", country: "DE"))
        await f.crm.put("c", "2", Self.person("bob@example.com", "Bob", country: "BR"))
        await f.sheet.put("c", "s1", Self.person("zed@example.com", "Zed", country: "US"))
        try await f.sync()
        let sheet = await f.sheet.records("c")
        #expect(sheet.count == 2)  // Ann, and Zed who was there already
        #expect(await Self.id(f.sheet, email: "bob@example.com") == nil)
        // Zed does not pass the sheet's filter, so the hub never took him.
        #expect(await Self.id(f.crm, email: "zed@example.com") == nil)
    }

    @Test(arguments: TestHubStore.all) func onUnmatchDeleteRemovesAnEntityThatStopsMatching(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(sheet: #", "filter": {"country": "DE"}, "on_unmatch": "delete""#), hub: kind)
        await f.crm.put("c", "1", Self.person("ann@example.com", "Ann", country: "DE"))
        try await f.sync()
        #expect(await f.sheet.records("c").count == 1)
        await f.crm.update("c", "1", ["country": "FR"])
        try await f.sync()
        #expect(await f.sheet.records("c").isEmpty)
        #expect(await f.app.records("c").values.first?["country"] == "FR")
        // Matching again brings it back.
        await f.crm.update("c", "1", ["country": "DE"])
        try await f.sync()
        #expect(await f.sheet.records("c").count == 1)
    }

    @Test(arguments: TestHubStore.all) func anEntityThatStopsMatchingIsLeftInPlaceByDefault(_ kind: TestHubStore) async throws {
        let f = try SyncFixture(json: Self.topology(sheet: #", "filter": {"country": "DE"}"#), hub: kind)
        await f.crm.put("c", "1", Self.person("ann@example.com", "Ann", country: "DE"))
        try await f.sync()
        await f.crm.update("c", "1", ["country": "FR", "first": "Anna"])
        try await f.sync()
        let inSheet = try #require(await f.sheet.records("c").values.first)
        #expect(inSheet["country"] == "DE")
        #expect(inSheet["first"] == "Ann")
    }
}
