import HubAudit
import HubCore
import HubStewardship
import HubStore
import HubSync
import HubTestServers
import Testing

/// `links`, `explain` and `runs show`: where links and values came from, from either side.
@Suite struct LineageTests {
    @Test(arguments: TestHubStore.all) func linksShowEverySystemsIDWithHowAndWhenItWasLinked(_ hub: TestHubStore) async throws {
        let f = try AuditFixture(hub)
        await f.crm.put("contacts", "c1", ["email": "ann@example.com", "given": "Ann", "tier": "gold"])
        await f.app.put("users", "u7", ["email": "ANN@example.com", "full_name": "Ann Lee"])
        let run = try await f.sync().runID
        let inspector = LinkInspector(topology: f.topology, store: f.store)
        let byHub = try inspector.links("customer", .hub(try f.hubID("crm", "c1")))
        let byApp = try inspector.links("customer", .system("app", "u7"))
        #expect(byHub.entity.hubID == byApp.entity.hubID)
        let rows = Dictionary(uniqueKeysWithValues: byApp.systems.map { ($0.system, $0) })
        #expect(rows["crm"]?.link?.externalID == "c1" && rows["crm"]?.link?.linkedBy == "created")
        #expect(rows["app"]?.link?.linkedBy == "match:email")
        #expect(rows["sheet"]?.link?.linkedBy == "pushed")
        #expect(byApp.systems.allSatisfy { $0.run == run && $0.belongs == true })
    }

    @Test(arguments: TestHubStore.all) func linksNameTheStewardshipEntryOfALinkMadeByHandAndTheEntitiesAMergeJoined(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let dan = try f.hubID("sheet", "s1"), cleo = try f.hubID("app", "u8")
        try f.tamper("DELETE FROM xref WHERE system = 'sheet' AND hub_id = ?", [dan.rawValue])
        let linked = try await f.steward().link("customer", .hub(dan), system: "sheet", externalID: "s1", as: AuditFixture.ana)
        let inspector = LinkInspector(topology: f.topology, store: f.store)
        let links = try inspector.links("customer", .system("sheet", "s1"))
        let sheet = try #require(links.systems.first { $0.system == "sheet" })
        #expect(sheet.stewardship?.id == linked.entry.id && sheet.run == nil)
        #expect(links.stewardship.map(\.action) == [.link])
        // Cleo is not gold: not linked in the sheet, and she does not belong there.
        let cleoLinks = try inspector.links("customer", .hub(cleo))
        #expect(cleoLinks.systems.first { $0.system == "sheet" }.map { $0.link == nil && $0.belongs == false } == true)

        _ = try f.steward().merge("customer", survivor: .hub(dan), absorbed: .hub(cleo), as: AuditFixture.ana)
        #expect(try inspector.links("customer", .hub(cleo)).mergedInto == dan)
        #expect(try inspector.links("customer", .hub(dan)).absorbed == [cleo])
    }

    @Test(arguments: TestHubStore.all) func linksOfAnUnknownRecordOrEntityAreNotFound(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let inspector = LinkInspector(topology: f.topology, store: f.store)
        #expect(throws: AuditError(.notFound, "no customer is linked to crm nope",
                                   hint: "`hubctl audit --deep --system crm` lists the records no link knows")) {
            try inspector.links("customer", .system("crm", "nope"))
        }
        #expect(throws: AuditError.self) { try inspector.links("customer", .hub("hub-999999")) }
        #expect(throws: AuditError.self) { try inspector.links("customer", .hub(try f.hubID("crm", "r1", entity: "employee"))) }
        #expect(throws: AuditError.self) { try inspector.links("customer", .system("nowhere", "1")) }
    }

    @Test(arguments: TestHubStore.all) func referencesNameASystemOnlyWhenTheTopologyHasIt(_ hub: TestHubStore) throws {
        let f = try AuditFixture(hub)
        #expect(EntityReference(parsing: "crm:42", topology: f.topology) == .system("crm", "42"))
        #expect(EntityReference(parsing: "crm:a:b", topology: f.topology) == .system("crm", "a:b"))
        #expect(EntityReference(parsing: "0190f0a1-aaaa", topology: f.topology) == .hub("0190f0a1-aaaa"))
        #expect(EntityReference(parsing: "urn:x", topology: f.topology) == .hub("urn:x"))
    }

    @Test(arguments: TestHubStore.all) func explainGivesEachFieldsOriginHistoryAndConflicts(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        let ann = try f.hubID("crm", "c1")
        let seedRun = try #require(try f.store.read { try $0.runs(limit: 1) }.first?.id)
        await f.app.update("users", "u7", ["full_name": "Anna Lee"])
        let renamed = try await f.sync().runID
        // The same field changed in two places without change times: newest cannot tell which was
        // last, so the topology's order decides (crm is declared first).
        await f.crm.update("contacts", "c1", ["given": "Annie"])
        await f.app.update("users", "u7", ["full_name": "Annabel Lee"])
        let conflicted = try await f.sync()
        #expect(conflicted.conflicts.count == 1)

        let lineage = try LineageExplainer(topology: f.topology, store: f.store).explain("customer", .system("app", "u7"))
        #expect(lineage.entity.hubID == ann)
        let first = try #require(lineage.fields.first { $0.field == "first_name" })
        #expect(first.value == "Annie")
        #expect(first.origin?.system == "crm" && first.origin?.run == conflicted.runID)
        // crm is pulled first: its Annie is taken, and keeps the field against the app's Annabel.
        #expect(first.changes.map(\.value) == ["Ann", "Anna", "Annie"])
        #expect(first.changes.map(\.system) == ["crm", "app", "crm"])
        #expect(first.changes.map(\.run) == [seedRun, renamed, conflicted.runID])
        #expect(first.conflicts.count == 1 && first.conflicts.first?.winner == "hub")
        #expect(first.conflicts.first?.rule == .newestByPriority)
        let email = try #require(lineage.fields.first { $0.field == "email" })
        #expect(email.changes.count == 1 && email.conflicts.isEmpty && email.origin?.system == "crm")
        #expect(lineage.events.map(\.kind) == [.created])

        let one = try LineageExplainer(topology: f.topology, store: f.store).explain("customer", .hub(ann), field: "tier")
        #expect(one.fields.map(\.field) == ["tier"])
        #expect(throws: AuditError.self) {
            try LineageExplainer(topology: f.topology, store: f.store).explain("customer", .hub(ann), field: "shoe_size")
        }
    }

    @Test(arguments: TestHubStore.all) func explainNamesTheStewardshipEntryBehindAManualValue(_ hub: TestHubStore) async throws {
        let (f, ann, work) = try await MergeTests.duplicated(hub)
        let merge = try f.steward().merge("customer", survivor: .hub(work), absorbed: .hub(ann), as: AuditFixture.ana)
        let lineage = try LineageExplainer(topology: f.topology, store: f.store).explain("customer", .hub(work))
        let tier = try #require(lineage.fields.first { $0.field == "tier" })
        // Taken from the absorbed entity, keeping where it came from there; the version is the merge's.
        #expect(tier.origin?.system == "crm")
        #expect(tier.changes.last?.run == RunID("stewardship:\(merge.entry.id!)"))
        #expect(lineage.stewardship[merge.entry.id!]?.action == .merge)
        let absorbed = try LineageExplainer(topology: f.topology, store: f.store).explain("customer", .hub(ann))
        #expect(absorbed.mergedInto == work)
        #expect(absorbed.events.map(\.kind) == [.created, .deleted])
    }

    @Test(arguments: TestHubStore.all) func runsShowCountsQuarantineAndConflictsOfOneRun(_ hub: TestHubStore) async throws {
        let f = try await AuditFixture.seeded(hub)
        await f.crm.put("contacts", "c70", ["given": "No Email"])
        await f.crm.update("contacts", "c1", ["given": "Annie"])
        await f.app.update("users", "u7", ["full_name": "Anna Lee"])
        let report = try await f.sync()
        let inspector = RunInspector(store: f.store)
        let details = try inspector.run(String(report.runID.rawValue.prefix(30)))
        #expect(details.run.id == report.runID && details.run.status == .partial)
        #expect(details.quarantine.map(\.entry.externalID) == ["c70"])
        #expect(details.conflicts.map(\.field) == ["first_name"])
        let crm = try #require(details.counts.first { $0.system == "crm" && $0.entity == "customer" && $0.direction == "pull" })
        #expect(crm.counts.updated == 1, "\(crm.counts)")
        #expect(crm.counts.failed == 1)
        #expect(throws: AuditError.self) { try inspector.run("no-such-run") }
    }
}
