import Foundation
import HubCore
import HubStore
import HubSync
import HubTesting
import HubTestServers
import HubTopology

/// Three in-memory systems with different schemas, a hub in memory, and a fixed clock.
struct SyncFixture {
    let topology: Topology
    let store: HubStore
    let crm: InMemorySpoke
    let app: InMemorySpoke
    let sheet: InMemorySpoke
    let clock = ManualClock()
    let hubIDs = IDGenerator.incrementing(prefix: "hub")
    /// Reads are retried 3 times; waits go to `sleeps` instead of the real clock.
    let sleeps = SleepLog()
    var settings: EngineSettings {
        let log = sleeps
        return EngineSettings(readAttempts: 3, retryDelay: 1, sleep: { seconds in log.record(seconds) })
    }

    static let topologyJSON = """
    {
      "version": 1,
      "name": "fixture",
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
            "score": {"type": "integer"},
            "vip": {"type": "boolean"},
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
                "email": "properties.email", "first_name": "properties.given", "last_name": "properties.family",
                "country": {"field": "properties.country", "values": {"Germany": "DE", "Brazil": "BR"}},
                "score": "properties.score", "support_rep": "owner"
              }
            }
          }
        },
        "app": {
          "adapter": "jsonl",
          "entities": {
            "customer": {
              "object": "users",
              "fields": {
                "email": "email",
                "first_name": {"field": "full_name", "parts": ["first_name", "last_name"]},
                "vip": {"field": "tier", "values": {"true": "gold", "false": "basic"}},
                "score": {"field": "points", "type": "string"}
              }
            }
          }
        },
        "sheet": {
          "adapter": "jsonl",
          "entities": {
            "customer": {"object": "customers", "fields": {"email": "Email", "first_name": "First", "last_name": "Last", "country": "Country"}}
          }
        }
      }
    }
    """

    init(json: String = SyncFixture.topologyJSON, tombstones: Bool = true, app: InMemorySpoke? = nil,
         crm: InMemorySpoke? = nil, hub: TestHubStore = .sqlite) throws {
        topology = try TopologyLoader.decode(json, baseDirectory: "/tmp")
        store = try hub.make()
        self.crm = crm ?? InMemorySpoke("crm", assignsIDs: true, tombstones: tombstones)
        self.app = app ?? InMemorySpoke("app", assignsIDs: true, tombstones: tombstones)
        sheet = InMemorySpoke("sheet", assignsIDs: false, tombstones: tombstones)
    }

    func engine() -> SyncEngine {
        SyncEngine(topology: topology, store: store, spokes: ["crm": crm, "app": app, "sheet": sheet],
                   clock: clock.wallClock, hubIDs: hubIDs, runIDs: IDGenerator.uuidV7(clock: clock.wallClock),
                   settings: settings)
    }

    @discardableResult
    func sync(_ options: SyncOptions = SyncOptions()) async throws -> SyncReport {
        clock.advance(seconds: 60)
        return try await engine().syncAll(options)
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

    /// The highest change sequence in the hub: unchanged when a run wrote no entity.
    func hubSeq() throws -> Int64 { try store.read { try $0.maxSeq() } }
}

/// Records the waits of retries instead of waiting.
final class SleepLog: Sendable {
    private let lock = NSLock()
    nonisolated(unsafe) private var waits: [Double] = []

    func record(_ seconds: Double) {
        lock.lock(); defer { lock.unlock() }
        waits.append(seconds)
    }

    var all: [Double] {
        lock.lock(); defer { lock.unlock() }
        return waits
    }
}
