import Foundation
import HubAudit
import HubCore
import HubStewardship
@testable import HubStore
import HubSync
import HubTestServers
import HubTesting
import HubTopology

/// Three in-memory systems, a hub (a SQLite file, or a fresh schema of the PostgreSQL test
/// cluster) that tests can tamper with through SQL, as a person editing it by hand would, and a
/// clock tests move by hand.
///
/// After ``seeded()`` and one sync: employees Maria and Tom (crm only); customers Ann (gold,
/// rep Tom), Bob (silver, rep Maria), Cleo (no tier) and Dan (gold). The crm reads contacts
/// incrementally (cursor `modified`); app and sheet are read in full. The sheet only holds gold
/// customers (a filter).
final class AuditFixture: Sendable {
    let topology: Topology
    let store: HubStore
    let crm = InMemorySpoke("crm", assignsIDs: true)
    let app = InMemorySpoke("app", assignsIDs: true)
    let sheet = InMemorySpoke("sheet", assignsIDs: false)
    let clock = ManualClock()
    let hubIDs = IDGenerator.incrementing(prefix: "hub")
    let directory: String

    static let topologyJSON = """
    {
      "version": 1,
      "name": "audit-fixture",
      "entities": {
        "employee": {
          "fields": {
            "email": {"type": "string", "required": true, "normalize": ["trim", "lowercase"]},
            "name": {"type": "string"},
            "manager": {"type": "ref", "entity": "employee"}
          },
          "match": [["email"]]
        },
        "customer": {
          "fields": {
            "email": {"type": "string", "required": true, "normalize": ["trim", "lowercase"]},
            "first_name": {"type": "string"},
            "last_name": {"type": "string"},
            "country": {"type": "string"},
            "tier": {"type": "string"},
            "support_rep": {"type": "ref", "entity": "employee"}
          },
          "match": [["email"]]
        }
      },
      "systems": {
        "crm": {
          "adapter": "jsonl",
          "entities": {
            "employee": {"object": "reps", "fields": {"email": "mail", "name": "display", "manager": "boss"}},
            "customer": {
              "object": "contacts", "cursor": "modified",
              "fields": {
                "email": "email", "first_name": "given", "last_name": "family",
                "country": {"field": "country", "values": {"Germany": "DE", "Brazil": "BR"}},
                "tier": "tier", "support_rep": "owner"
              }
            }
          }
        },
        "app": {
          "adapter": "jsonl",
          "entities": {
            "customer": {
              "object": "users",
              "fields": {"email": "email", "first_name": {"field": "full_name", "parts": ["first_name", "last_name"]},
                         "country": "country"}
            }
          }
        },
        "sheet": {
          "adapter": "jsonl",
          "entities": {
            "customer": {"object": "gold", "fields": {"email": "Email", "first_name": "First", "last_name": "Last", "tier": "Tier"},
                         "filter": {"tier": "gold"}}
          }
        }
      }
    }
    """

    init(_ hub: TestHubStore, json: String = AuditFixture.topologyJSON) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hubctl-audit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        topology = try TopologyLoader.decode(json, baseDirectory: directory)
        store = hub == .sqlite ? try HubStore(path: directory + "/hub.sqlite") : try hub.make()
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// The fixture with its seed data, synced once.
    static func seeded(_ hub: TestHubStore, json: String = AuditFixture.topologyJSON) async throws -> AuditFixture {
        let f = try AuditFixture(hub, json: json)
        await f.crm.put("reps", "r1", ["mail": "maria@acme.test", "display": "Maria"])
        await f.crm.put("reps", "r2", ["mail": "tom@acme.test", "display": "Tom", "boss": "r1"])
        await f.crm.put("contacts", "c1", ["email": "ann@example.com", "given": "Ann", "family": "Lee", "country": "DE",
                                           "tier": "gold", "owner": "r2"])
        await f.crm.put("contacts", "c2", ["email": "bob@example.com", "given": "Bob", "family": "Stone", "country": "BR",
                                           "tier": "silver", "owner": "r1"])
        await f.app.put("users", "u7", ["email": "ann@example.com", "full_name": "Ann Lee", "country": "Germany"])
        await f.app.put("users", "u8", ["email": "cleo@example.com", "full_name": "Cleo Park", "country": "Brazil"])
        await f.sheet.put("gold", "s1", ["Email": "dan@example.com", "First": "Dan", "Last": "Wu", "Tier": "gold"])
        let report = try await f.sync()
        guard report.status == .ok else { throw FixtureError("seed sync ended \(report.status): \(report.quarantined)") }
        return f
    }

    var spokes: [SystemName: any Spoke] { ["crm": crm, "app": app, "sheet": sheet] }

    func engine() -> SyncEngine {
        SyncEngine(topology: topology, store: store, spokes: spokes, clock: clock.wallClock, hubIDs: hubIDs,
                   runIDs: IDGenerator.uuidV7(clock: clock.wallClock))
    }

    @discardableResult
    func sync(_ options: SyncOptions = SyncOptions()) async throws -> SyncReport {
        clock.advance(seconds: 60)
        return try await engine().syncAll(options)
    }

    func audit(_ options: AuditOptions = AuditOptions()) async throws -> AuditReport {
        clock.advance(seconds: 1)
        return try await Auditor(topology: topology, store: store, spokes: spokes, clock: clock.wallClock).audit(options)
    }

    func steward() -> Steward {
        clock.advance(seconds: 1)
        return Steward(topology: topology, store: store, spokes: spokes, clock: clock.wallClock)
    }

    static let ana = Steward.Attribution(by: "ana", reason: "test")

    /// Runs one statement on the hub behind the engine's back, as a person editing it would:
    /// written in SQLite's dialect with `?` placeholders, which a PostgreSQL hub translates.
    func tamper(_ sql: String, _ arguments: HubArguments = HubArguments()) throws {
        try store.write { _ = try $0.executeCounted(sql, arguments) }
    }

    /// Sets one field of a hub entity's data behind the engine's back (no version, no history).
    func tamper(_ hubID: HubID, set field: String, to value: Value) throws {
        guard var data = try store.read({ try $0.entity(hubID) })?.data else { throw FixtureError("no entity \(hubID)") }
        data[field] = value
        try tamper("UPDATE entity SET data = ? WHERE hub_id = ?", [HubTransaction.encode(data), hubID.rawValue])
    }

    /// The hub entity linked to a system's record.
    func hubID(_ system: SystemName, _ id: ExternalID, entity: EntityName = "customer") throws -> HubID {
        guard let link = try store.read({ try $0.link(entity: entity, system: system, externalID: id) }) else {
            throw FixtureError("\(system) \(id) is not linked")
        }
        return link.hubID
    }

    /// The hub entity whose email is `email`.
    func hubID(email: String, entity: EntityName = "customer") throws -> HubID {
        let ids = try store.read { tx in
            try tx.entitiesChanged(entity, after: 0, limit: 10_000).filter { $0.data["email"] == .string(email) && !$0.isDeleted }
        }
        guard ids.count == 1 else { throw FixtureError("\(ids.count) live entities have email \(email)") }
        return ids[0].hubID
    }

    /// The link of a hub entity in a system.
    func link(_ system: SystemName, _ hubID: HubID, entity: EntityName = "customer") throws -> Link? {
        try store.read { try $0.link(entity: entity, system: system, hubID: hubID) }
    }

    /// Writes every spoke received since the last call.
    func takeWrites() async -> Int {
        var n = 0
        for spoke in [crm, app, sheet] {
            n += await spoke.writeLog.count
            await spoke.clearWriteLog()
        }
        return n
    }

    func hubSeq() throws -> Int64 { try store.read { try $0.maxSeq() } }
}

extension AuditReport {
    /// The findings of one check.
    func findings(_ check: AuditCheck) -> [Finding] { findings.filter { $0.check == check } }

    /// Every finding as `check system entity count`, for exact comparisons.
    var digest: [String] {
        findings.map { "\($0.check.rawValue) \($0.system?.rawValue ?? "-") \($0.entity?.rawValue ?? "-") \($0.count)" }.sorted()
    }

    func summary(_ system: SystemName, _ entity: EntityName) -> LinkSummary? {
        summary.first { $0.system == system && $0.entity == entity }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
