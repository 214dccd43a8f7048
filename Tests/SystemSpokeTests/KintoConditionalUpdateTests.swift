import Foundation
import HubCore
import HubTesting
import HubTestServers
import SpokeREST
import Testing

/// Updates of a Kinto record never overwrite what someone else changed meanwhile: nested
/// updates are built from the record as it is, sent with `If-Match`, and a record changed
/// since this run read it is left for the next run to merge.
@Suite(.enabled(if: TestServices.runKintoTests, "needs Kinto: run scripts/with-test-services.sh swift test"))
struct KintoConditionalUpdateTests {
    static let binding = ObjectBinding(entity: "person", object: "people", cursorField: "last_modified",
                                       fields: ["contact.email", "contact.name.first", "contact.phone"])

    static func spoke(_ k: KintoCollection, ifMatch: Bool = false, transport: (any HTTPTransport)? = nil) throws -> RESTSpoke {
        let settings = try RESTSettings.parse([
            "base_url": .string(k.root), "auth": ["type": "basic", "username": .string(k.user), "password": .string(k.password)],
        ])
        var overrides = KintoCollection.endpoint
        overrides["path"] = .string(k.path)
        overrides["if_match"] = .bool(ifMatch)
        let endpoint = try RESTEndpoint.parse(object: "people", defaults: [:], overrides: overrides)
        return RESTSpoke(system: "kinto", settings: settings, endpoints: ["people": endpoint], transport: transport ?? URLSessionTransport())
    }

    static func person(_ k: KintoCollection) async throws -> String {
        let made = try await k.request("POST", k.path, body: ["data": ["contact": ["email": "ann@example.com",
                                                                                   "name": ["first": "Ann", "last": "Lee"]]]])
        return try #require(made.value(atPath: "data.id")?.stringValue)
    }

    func record(_ k: KintoCollection, _ id: String) async throws -> Value {
        try #require(try await k.request("GET", "\(k.path)/\(id)").value(atPath: "data"))
    }

    @Test func aRecordChangedSinceThisRunReadItIsNotOverwritten() async throws {
        let k = try await KintoCollection.make()
        let id = try await Self.person(k)
        let spoke = try Self.spoke(k)
        _ = try await spoke.read(Self.binding, after: nil, limit: 100)
        // Someone changes the first name after hubctl read the record.
        try await k.request("PATCH", "\(k.path)/\(id)", body: ["data": ["contact": ["email": "ann@example.com",
                                                                                   "name": ["first": "Anna", "last": "Lee"]]]])
        let results = try await spoke.write(Self.binding, [.update(id: ExternalID(id), fields: ["contact": ["name": ["first": "Annie"]]])])
        guard case .notSent(let message)? = results.first else { Issue.record("\(results)"); return }
        #expect(message.contains("changed in the system after this run read it"))
        #expect(try await record(k, id).value(atPath: "contact.name.first") == "Anna")
    }

    @Test func hubctlsOwnEarlierWriteInTheRunIsNotTakenForSomeoneElses() async throws {
        let k = try await KintoCollection.make()
        let id = try await Self.person(k)
        let spoke = try Self.spoke(k, ifMatch: true)
        _ = try await spoke.read(Self.binding, after: nil, limit: 100)
        #expect(try await spoke.write(Self.binding, [.update(id: ExternalID(id), fields: ["contact": ["phone": "555"]])]) == [.updated])
        #expect(try await spoke.write(Self.binding, [.update(id: ExternalID(id), fields: ["contact": ["name": ["first": "Annie"]]])])
                == [.updated])
        let now = try await record(k, id)
        #expect(now.value(atPath: "contact") == ["email": "ann@example.com", "phone": "555", "name": ["first": "Annie", "last": "Lee"]])
    }

    /// Sends requests to Kinto; before the first PATCH it lets someone else edit the record.
    struct EditBeforeFirstPatch: HTTPTransport {
        let k: KintoCollection
        let id: String
        let inner = URLSessionTransport()
        let done = Locked(false)
        let statuses = Locked<[String]>([])
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            if request.method == "PATCH", done.withLock({ d in defer { d = true }; return !d }) {
                try await k.request("PATCH", "\(k.path)/\(id)", body: ["data": ["contact": ["email": "ann@example.com",
                                                                                          "name": ["first": "Ann", "last": "Lee"],
                                                                                          "note": "VIP"]]])
            }
            let response = try await inner.send(request)
            statuses.withLock { $0.append("\(request.method) \(response.status)") }
            return response
        }
    }

    @Test func anEditBetweenTheFetchAndTheWriteIsKeptThroughIfMatch() async throws {
        let k = try await KintoCollection.make()
        let id = try await Self.person(k)
        // No read in this run: the fetch before the write is what the update is built on.
        let transport = EditBeforeFirstPatch(k: k, id: id)
        let spoke = try Self.spoke(k, transport: transport)
        let results = try await spoke.write(Self.binding, [.update(id: ExternalID(id), fields: ["contact": ["phone": "555"]])])
        #expect(results == [.updated])
        #expect(transport.statuses.withLock { $0 } == ["GET 200", "PATCH 412", "GET 200", "PATCH 200"])
        let now = try await record(k, id)
        #expect(now.value(atPath: "contact.note") == "VIP", "the concurrent edit survived: \(now.json)")
        #expect(now.value(atPath: "contact.phone") == "555" && now.value(atPath: "contact.name.last") == "Lee")
    }
}
