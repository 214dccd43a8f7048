import Foundation
import HubCore

/// A spoke over a REST API, configured in the topology rather than written for one vendor.
///
/// Each bound object is a collection of JSON records behind an endpoint (``RESTEndpoint``):
/// listed page by page in any of the common pagination styles, read incrementally through a
/// query parameter fed by the highest `cursor` value seen, with tombstones where the API
/// reports deleted records; records are created, updated and deleted one request each, with
/// the body wrapped in the API's envelope.
///
/// Requests authenticate with a bearer token, basic auth or an API-key header; respect the
/// system's rate limit; and are retried with exponential backoff and full jitter, honouring
/// `Retry-After`, when the API is rate-limited or unavailable (see ``RetryPolicy``). A 4xx
/// answer to a write (other than 408 and 429) is that record's `.failed` result, not retried.
/// Secrets travel only in headers and are never part of a URL or a message; response bodies are
/// never quoted in messages (servers echo requests in them).
///
/// For example, Kinto:
/// ```swift
/// let settings = try RESTSettings.parse(["base_url": "http://127.0.0.1:8888/v1",
///                                        "auth": ["type": "basic", "username": "app", "password": "…"]])
/// let endpoint = try RESTEndpoint.parse(object: "buckets/crm/collections/contacts/records", defaults: [:], overrides: [
///     "records": "data", "envelope": "data", "limit_param": "_limit", "since_param": "_since",
///     "pagination": ["style": "header", "header": "Next-Page"], "tombstone": ["field": "deleted", "value": true]])
/// let spoke = RESTSpoke(system: "crm", settings: settings, endpoints: ["buckets/crm/collections/contacts/records": endpoint])
/// ```
public struct RESTSpoke: Spoke {
    public let system: SystemName
    public let settings: RESTSettings
    /// Endpoint settings by object name.
    public let endpoints: [String: RESTEndpoint]
    let client: RESTClient
    /// Stops reads whose pages come round again or never end.
    let pages = PaginationGuard()
    /// What this run's reads and writes saw of each record's version, for conditional updates.
    let versions = RecordVersions()

    public var capabilities: SpokeCapabilities {
        // Tombstones stand in for ID scans only when every object reports them.
        SpokeCapabilities(incrementalReads: true,
                          tombstones: !endpoints.isEmpty && endpoints.values.allSatisfy { $0.tombstoneField != nil && $0.sinceParam != nil },
                          batchWrites: false, retriesRequests: true)
    }

    /// - Parameters:
    ///   - transport: sends the requests (default: URLSession).
    ///   - clock: the time retries and the rate limit wait on (default: the real clock).
    ///   - jitter: a random wait between 0 and its argument (default: uniform).
    public init(system: SystemName, settings: RESTSettings, endpoints: [String: RESTEndpoint],
                transport: any HTTPTransport = URLSessionTransport(), clock: any RESTClock = SystemRESTClock(),
                jitter: @escaping @Sendable (Double) -> Double = { Double.random(in: 0...max(0, $0)) }) {
        self.system = system
        self.settings = settings
        self.endpoints = endpoints
        self.client = RESTClient(system: system, settings: settings, transport: transport, clock: clock, jitter: jitter)
    }

    /// The endpoint of a bound object (the system defaults when the object has no settings of its own).
    func endpoint(_ binding: ObjectBinding) throws -> RESTEndpoint {
        if let e = endpoints[binding.object] { return e }
        do {
            return try RESTEndpoint.parse(object: binding.object, defaults: settings.defaults, overrides: [:])
        } catch {
            throw SpokeError(.configuration, system: system, object: binding.object, message: error.message)
        }
    }

    /// Parses a response body as JSON, or fails with a message that does not quote it.
    func json(_ response: HTTPResponse, _ method: String, _ url: URL, object: String) throws -> Value {
        if response.body.isEmpty { return .null }
        // Text that is not UTF-8 is refused, never repaired into other text.
        guard let text = String(validating: response.body, as: UTF8.self) else {
            throw SpokeError(.malformed, system: system, object: object,
                             message: "\(RESTClient.label(method, url)) answered HTTP \(response.status) with a body that is not UTF-8")
        }
        do {
            return try JSONParser.parse(text)
        } catch {
            let reason = (error as? JSONSyntaxError).map { " (\($0.message), at line \($0.position.line), column \($0.position.column))" } ?? ""
            throw SpokeError(.malformed, system: system, object: object,
                             message: "\(RESTClient.label(method, url)) answered HTTP \(response.status) with a body that is not JSON\(reason)")
        }
    }

    /// A record's ID as text: a string, or a whole number.
    static func id(_ value: Value?) -> ExternalID? {
        switch value {
        case .string(let s)? where !s.isEmpty: return ExternalID(s)
        case .int(let i)?: return ExternalID(String(i))
        case .double(let d)? where d == d.rounded() && abs(d) < 9e15: return ExternalID(String(Int64(d)))
        default: return nil
        }
    }

    /// Checks that the API answers, accepts the credentials, and serves each endpoint; mapped
    /// fields that no sampled record has are reported as warnings (APIs leave empty fields out).
    public func check(_ objects: [ObjectBinding]) async throws -> [SpokeCheckResult] {
        var results: [SpokeCheckResult] = []
        for binding in objects {
            let sample: [[String: Value]]
            do {
                sample = try await self.sample(binding, count: 20)
            } catch let error as SpokeError where (error.kind == .configuration && !error.message.contains("authentication failed"))
                || error.kind == .missingObject {
                results.append(SpokeCheckResult(object: binding.object, problems: [error.message]))
                continue
            }
            guard !sample.isEmpty else {
                results.append(SpokeCheckResult(object: binding.object, problems: [],
                                                warnings: ["the endpoint has no records yet, so field names could not be checked"]))
                continue
            }
            let seen = DiscoveredObject.inferred(name: binding.object, from: sample)
            var warnings: [String] = []
            for field in [binding.idField] + (binding.cursorField.map { [$0] } ?? []) + binding.fields
            where seen.field(named: field) == nil && !sample.contains(where: { $0.value(atPath: field) != nil }) {
                var message = "no sampled record has the field '\(field)'"
                if let guess = Suggest.closest(to: field, in: seen.fields.map(\.name)) { message += "; did you mean '\(guess)'?" }
                warnings.append(message)
            }
            var problems: [String] = []
            if !sample.contains(where: { Self.id($0.value(atPath: binding.idField)) != nil }) {
                problems.append("no sampled record has an ID in '\(binding.idField)'; set the entity's \"id\" to the field holding it")
                warnings.removeAll { $0.contains("'\(binding.idField)'") }
            }
            results.append(SpokeCheckResult(object: binding.object, problems: problems, warnings: warnings))
        }
        return results
    }

    /// The fields of each bound endpoint, from a sample of its records.
    public func discover(_ objects: [ObjectBinding]) async throws -> SpokeSchema {
        var out: [DiscoveredObject] = []
        for binding in objects {
            let sample = try await self.sample(binding, count: 50)
            out.append(DiscoveredObject.inferred(name: binding.object, from: sample, keys: [binding.idField]))
        }
        return SpokeSchema(objects: out)
    }

    /// The first records of a full read.
    func sample(_ binding: ObjectBinding, count: Int) async throws -> [[String: Value]] {
        var plain = binding
        plain.cursorField = nil
        return try await read(plain, after: nil, limit: count).records.map(\.fields)
    }
}
