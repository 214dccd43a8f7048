import Foundation
import HubCore
import HubTestServers
import SpokeREST
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A clock that never waits: `sleep` moves time forward and records how long it was asked to wait.
final class VirtualClock: RESTClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_800_000_000)
    private var waits: [Double] = []

    func now() -> Date { lock.withLock { current } }
    func sleep(seconds: Double) async throws {
        lock.withLock {
            waits.append(seconds)
            current = current.addingTimeInterval(seconds)
        }
    }
    /// Every wait asked for, in order.
    var sleeps: [Double] { lock.withLock { waits } }
}

/// A Kinto account, bucket and collection made for one test.
struct KintoCollection {
    let root: String
    let user: String
    let password: String
    let bucket: String
    let collection: String

    var path: String { "buckets/\(bucket)/collections/\(collection)/records" }

    static func make() async throws -> KintoCollection {
        let root = try TestServices.requireKinto()
        let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let k = KintoCollection(root: root, user: "u\(token.prefix(10))", password: "pw-\(token)", bucket: "b\(token.prefix(8))",
                                collection: "contacts")
        _ = try await k.request("PUT", "accounts/\(k.user)", body: ["data": ["password": .string(k.password)]], auth: false)
        _ = try await k.request("PUT", "buckets/\(k.bucket)")
        _ = try await k.request("PUT", "buckets/\(k.bucket)/collections/\(k.collection)")
        return k
    }

    /// Sends a request to Kinto as a person with curl would.
    @discardableResult
    func request(_ method: String, _ path: String, body: Value? = nil, auth: Bool = true) async throws -> Value {
        var r = URLRequest(url: URL(string: root + "/" + path)!)
        r.httpMethod = method
        if auth { r.setValue("Basic " + Data("\(user):\(password)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization") }
        if let body {
            r.httpBody = Data(JSONWriter.bytes(body))
            r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: r)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else { throw FixtureError(message: "Kinto answered \(status) to \(method) \(path)") }
        return data.isEmpty ? .null : try JSONParser.parse(String(decoding: data, as: UTF8.self))
    }

    /// The rest spoke's settings for this collection.
    func spoke(password: String? = nil, transport: (any HTTPTransport)? = nil) throws -> RESTSpoke {
        let settings = try RESTSettings.parse([
            "base_url": .string(root),
            "auth": ["type": "basic", "username": .string(user), "password": .string(password ?? self.password)],
        ])
        let endpoint = try RESTEndpoint.parse(object: path, defaults: [:], overrides: Self.endpoint)
        return RESTSpoke(system: "kinto", settings: settings, endpoints: [path: endpoint],
                         transport: transport ?? URLSessionTransport())
    }

    /// Kinto's API shape, as the example topology writes it.
    static let endpoint: [String: Value] = [
        "records": "data", "record": "data", "envelope": "data", "limit_param": "_limit", "since_param": "_since",
        "query": ["_sort": "last_modified"], "pagination": ["style": "header", "header": "Next-Page"],
        "tombstone": ["field": "deleted", "value": true],
    ]
}

/// The fake CRM's API shape, as the example topology writes it.
enum CRMShape {
    static let endpoint: [String: Value] = [
        "records": "results", "record_fields": "properties", "envelope": "properties", "limit_param": "limit",
        "since_param": "updatedAfter", "pagination": ["style": "cursor", "param": "after", "next": "paging.next.after"],
    ]

    /// The timeout of tests that do not test timeouts: the fake answers on a thread of its own,
    /// but a full suite on two busy cores can keep an answer waiting longer than a real API's 30 s.
    static let patientTimeout: Double = 300

    static func spoke(_ crm: FakeCRM, object: String = "crm/v3/objects/contacts", token: String? = nil,
                      clock: any RESTClock = SystemRESTClock(), retry: [String: Value] = [:], timeout: Double = CRMShape.patientTimeout,
                      rateLimit: Double? = nil, endpoint extra: [String: Value] = [:]) async throws -> RESTSpoke {
        var connection: [String: Value] = [
            "base_url": .string(await crm.url()),
            "auth": ["type": "bearer", "token": .string(token ?? crm.token)],
            "timeout": .double(timeout),
        ]
        if !retry.isEmpty { connection["retry"] = .object(retry) }
        if let rateLimit { connection["rate_limit"] = .double(rateLimit) }
        let settings = try RESTSettings.parse(connection)
        let endpoint = try RESTEndpoint.parse(object: object, defaults: [:], overrides: Self.endpoint.merging(extra) { $1 })
        return RESTSpoke(system: "crm", settings: settings, endpoints: [object: endpoint], clock: clock,
                         jitter: { $0 / 2 })
    }
}
