import FlyingFox
import Foundation
import HubCore

/// A small CRM API served over HTTP on 127.0.0.1, shaped like HubSpot's CRM objects API, for
/// tests: real requests, an in-memory store, a request log, and scripted faults.
///
/// - `GET /crm/v3/objects/{type}?limit=&after=&updatedAfter=` →
///   `{"results": [record…], "paging": {"next": {"after": "…"}}}` (by ID; `updatedAfter`
///   keeps records changed strictly after an `updatedAt` value)
/// - `GET|PATCH|DELETE /crm/v3/objects/{type}/{id}`, `POST /crm/v3/objects/{type}`, bodies
///   `{"properties": {…}}`; a record is `{"id", "properties", "createdAt", "updatedAt", "archived"}`
/// - `Authorization: Bearer <token>` or 401, whose body echoes the request's Authorization header
///   (as careless servers do), so tests can prove the client never repeats error bodies.
///
/// For example:
/// ```swift
/// let crm = try await FakeCRM.start(token: "t0ken")
/// await crm.inject(.init(method: "GET", nth: 1, action: .status(429, retryAfter: .seconds(2))))
/// // … point a rest spoke at crm.baseURL …
/// await crm.stop()
/// ```
public actor FakeCRM {
    /// One stored record.
    public struct Record: Sendable, Hashable {
        public var id: String
        public var properties: [String: Value]
        public var createdAt: String
        public var updatedAt: String

        var json: Value {
            ["id": .string(id), "properties": .object(properties), "createdAt": .string(createdAt),
             "updatedAt": .string(updatedAt), "archived": false]
        }
    }

    /// A `Retry-After` header's value.
    public enum RetryAfter: Sendable, Hashable {
        case seconds(Int)
        /// An HTTP date this many seconds after the fake's clock.
        case date(secondsFromNow: Int)
    }

    /// What a scripted fault does to the request it hits.
    public enum FaultAction: Sendable, Hashable {
        /// Answer with this status without applying the request.
        case status(Int, retryAfter: RetryAfter?)
        /// Apply the request, then answer with this status (a committed but unacknowledged write).
        case applyThenStatus(Int)
        /// Wait this many seconds before handling the request (a client timeout).
        case delay(seconds: Double)
        /// Answer 200 with a body that is not JSON (a truncated page).
        case malformedBody
        /// Answer 200 with exactly this body (JSON nested too deep, of the wrong shape, empty).
        case body(String)
        /// Answer 200 with exactly these bytes (text that is not UTF-8).
        case bytes([UInt8])
    }

    /// A fault hitting the `nth` request (from 1) whose method and path match.
    public struct Fault: Sendable, Hashable {
        public var method: String?
        public var pathContains: String?
        public var nth: Int
        public var action: FaultAction

        public init(method: String? = nil, pathContains: String? = nil, nth: Int = 1, action: FaultAction) {
            self.method = method
            self.pathContains = pathContains
            self.nth = nth
            self.action = action
        }
    }

    /// A request as the fake received it.
    public struct LoggedRequest: Sendable, Hashable {
        public var method: String
        public var path: String
        public var query: [String: String]
        public var headers: [String: String]
        public var body: String
        /// The status the fake answered.
        public var status: Int
    }

    /// How lists continue past their first page.
    public enum Paging: String, Sendable, CaseIterable {
        /// `paging.next.after` in the body, sent back as `after` (HubSpot's).
        case cursor
        /// The next page's URL in a `Next-Page` header (Kinto's).
        case header
        /// The next page's URL in `Link: <…>; rel="next"`.
        case link
        /// The next page's URL in the body, at `paging.next.link`.
        case nextURL = "next_url"
        /// `?page=N` from 1; the list ends with a short or empty page.
        case page
        /// `?offset=N`; the list ends with a short or empty page.
        case offset
    }

    public nonisolated let token: String
    /// How lists continue past their first page (default: a cursor in the body).
    public var paging: Paging = .cursor
    /// When set, requests authenticate with this header (`X-API-Key: <key>`) instead of a bearer token.
    public var apiKey: (header: String, value: String)?
    /// When true, every error answer (401, injected faults) echoes the request's headers in its
    /// body, as careless servers do.
    public var echoesHeaders = false
    /// When true, lists never end: a next-page cursor or link points back at the page just
    /// read, and page numbers and offsets are ignored (every request answers the first page),
    /// as broken APIs do.
    public var repeatsPages = false
    public private(set) var requests: [LoggedRequest] = []
    /// Properties a create must carry (a 400 otherwise, like a CRM's required fields).
    public var requiredProperties: Set<String> = []
    public private(set) var port: UInt16 = 0

    private var server: HTTPServer?
    private var serverTask: Task<Void, any Error>?
    /// The fake's own thread: its server and its actor run there, never on Swift's pool.
    private let executor = ThreadTaskExecutor(name: "hubctl.fake-crm")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private var store: [String: [Int: Record]] = [:]
    private var nextID = 1
    private var lastMillis: Int64 = 0
    private var faults: [Fault] = []
    private var matched: [String: Int] = [:]

    init(token: String) { self.token = token }

    /// Starts a fake on 127.0.0.1 and a free port.
    public static func start(token: String) async throws -> FakeCRM {
        let crm = FakeCRM(token: token)
        try await crm.listen()
        return crm
    }

    private func listen() async throws {
        let server = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: 0), timeout: 30, logger: .disabled)
        await server.appendRoute("*") { [weak self] request in
            guard let self else { return HTTPResponse(statusCode: .serviceUnavailable) }
            return await self.handle(request)
        }
        self.server = server
        // A thread of its own: the fake keeps answering while tests block the cooperative pool.
        serverTask = Task(executorPreference: executor) { try await server.run() }
        try await server.waitUntilListening(timeout: 60)
        if case .ip4(_, let port)? = await server.listeningAddress { self.port = port }
    }

    /// The API root: `http://127.0.0.1:PORT`.
    public func url() -> String { "http://127.0.0.1:\(port)" }

    /// Stops serving.
    public func stop() async {
        await server?.stop()
        serverTask?.cancel()
        _ = await serverTask?.result
        // The thread stays: the fake's state (its request log) is still read after it stopped serving.
    }

    /// Adds a scripted fault.
    public func inject(_ fault: Fault) {
        faults.append(fault)
    }

    /// Every record of an object type, by ID.
    public func records(_ type: String) -> [Record] {
        (store[type] ?? [:]).keys.sorted().compactMap { store[type]?[$0] }
    }

    /// Changes a record as a person in the CRM's own interface would.
    public func edit(_ type: String, id: String, _ properties: [String: Value]) {
        guard let key = Int(id), var record = store[type]?[key] else { return }
        record.properties = record.properties.merging(properties) { $1 }
        record.updatedAt = tick()
        store[type]?[key] = record
    }

    /// Adds a record as a person in the CRM would; returns its ID.
    @discardableResult
    public func add(_ type: String, _ properties: [String: Value]) -> String {
        let now = tick()
        let id = nextID
        nextID += 1
        store[type, default: [:]][id] = Record(id: String(id), properties: properties, createdAt: now, updatedAt: now)
        return String(id)
    }

    /// Removes a record as a person in the CRM would.
    public func remove(_ type: String, id: String) {
        if let key = Int(id) { store[type]?[key] = nil }
    }

    /// Sets how lists continue, and whether they never end.
    public func setPaging(_ paging: Paging, repeating: Bool = false) {
        self.paging = paging
        repeatsPages = repeating
    }

    /// Authenticates requests by an API-key header instead of the bearer token.
    public func setAPIKey(header: String, value: String) { apiKey = (header, value) }

    /// Makes error answers echo the request's headers (credentials included).
    public func setEchoesHeaders(_ on: Bool) { echoesHeaders = on }

    /// Forgets the request log.
    public func clearLog() { requests = [] }

    /// A timestamp after every earlier one (milliseconds, RFC 3339).
    private func tick() -> String {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        lastMillis = max(now, lastMillis + 1)
        return Timestamp.string(Date(timeIntervalSince1970: Double(lastMillis) / 1000))
    }

    // MARK: - Handling

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let method = request.method.rawValue
        var headers: [String: String] = [:]
        for (name, values) in zip(request.headers.keys, request.headers.values) { headers[name.rawValue] = values.joined(separator: ", ") }
        let body = (try? await request.bodyData) ?? Data()
        var query: [String: String] = [:]
        for item in request.query { query[item.name] = item.value }
        // The path as sent, still percent-encoded, so tests can see how IDs were encoded.
        var entry = LoggedRequest(method: method, path: request.target.path(percentEncoded: true), query: query, headers: headers,
                                  body: String(decoding: body, as: UTF8.self), status: 0)
        let response = await respond(method: method, path: request.path, query: query, headers: headers, body: body)
        entry.status = response.statusCode.code
        requests.append(entry)
        return response
    }

    /// The action of the fault this request hits, counting requests per (method, path filter).
    private func fault(method: String, path: String) -> FaultAction? {
        var counted: Set<String> = []
        var hit: FaultAction?
        for fault in faults where (fault.method == nil || fault.method == method) && (fault.pathContains.map(path.contains) ?? true) {
            let key = "\(fault.method ?? "*") \(fault.pathContains ?? "*")"
            if counted.insert(key).inserted { matched[key, default: 0] += 1 }
            if hit == nil, matched[key] == fault.nth { hit = fault.action }
        }
        return hit
    }

    private func respond(method: String, path: String, query: [String: String], headers: [String: String],
                         body: Data) async -> HTTPResponse {
        let authorization = headers.first { $0.key.lowercased() == "authorization" }?.value ?? ""
        let echo: Value = .object(Dictionary(uniqueKeysWithValues: headers.map { ($0.key, Value.string($0.value)) }))
        let authorized = apiKey.map { key in headers.first { $0.key.lowercased() == key.header.lowercased() }?.value == key.value }
            ?? (authorization == "Bearer \(token)")
        guard authorized else {
            var body: [String: Value] = ["status": "error", "message": .string("invalid token: \(authorization)")]
            if echoesHeaders { body["request_headers"] = echo }
            return json(401, .object(body), headers: ["WWW-Authenticate": "Bearer error=\"invalid_token\", token=\"\(authorization)\""])
        }
        let action = fault(method: method, path: path)
        switch action {
        case .status(let code, let retryAfter)?:
            var extra: [String: String] = [:]
            switch retryAfter {
            case .seconds(let s)?: extra["Retry-After"] = String(s)
            case .date(let s)?: extra["Retry-After"] = HTTPDate.string(Date().addingTimeInterval(Double(s)))
            case nil: break
            }
            var body: [String: Value] = ["status": "error", "message": "injected fault"]
            if echoesHeaders { body["request_headers"] = echo }
            return json(code, .object(body), headers: extra)
        case .delay(let seconds)?:
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
        case .malformedBody?:
            return HTTPResponse(statusCode: .ok, headers: [.contentType: "application/json"], body: Data(#"{"results": [{"id": "1", "#.utf8))
        case .body(let text)?:
            return HTTPResponse(statusCode: .ok, headers: [.contentType: "application/json"], body: Data(text.utf8))
        case .bytes(let bytes)?:
            return HTTPResponse(statusCode: .ok, headers: [.contentType: "application/json"], body: Data(bytes))
        default:
            break
        }
        let response = route(method: method, path: path, query: query, body: body)
        if case .applyThenStatus(let code)? = action {
            return json(code, ["status": "error", "message": "injected fault after applying"])
        }
        return response
    }

    private func route(method: String, path: String, query: [String: String], body: Data) -> HTTPResponse {
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count >= 4, parts[0] == "crm", parts[1] == "v3", parts[2] == "objects" else {
            return json(404, ["status": "error", "message": "no such endpoint"])
        }
        let type = parts[3]
        let id = parts.count > 4 ? parts[4] : nil
        let input = (try? JSONParser.parse(String(decoding: body, as: UTF8.self))) ?? .null
        switch (method, id) {
        case ("GET", nil):
            return list(type, path: path, query: query)
        case ("GET", let id?):
            guard let key = Int(id), let record = store[type]?[key] else { return json(404, ["message": "not found"]) }
            return json(200, record.json)
        case ("POST", nil):
            guard let properties = input.value(atPath: "properties")?.objectValue else {
                return json(400, ["message": "the body must be {\"properties\": {…}}"])
            }
            for required in requiredProperties where (properties[required]?.displayText ?? "").isEmpty {
                return json(400, ["message": .string("property \(required) is required")])
            }
            let id = add(type, properties)
            return json(201, store[type]![Int(id)!]!.json)
        case ("PATCH", let id?):
            guard let properties = input.value(atPath: "properties")?.objectValue else {
                return json(400, ["message": "the body must be {\"properties\": {…}}"])
            }
            guard let key = Int(id), store[type]?[key] != nil else { return json(404, ["message": "not found"]) }
            edit(type, id: id, properties)
            return json(200, store[type]![key]!.json)
        case ("DELETE", let id?):
            guard let key = Int(id), store[type]?[key] != nil else { return json(404, ["message": "not found"]) }
            store[type]?[key] = nil
            return HTTPResponse(statusCode: .noContent)
        default:
            return json(405, ["message": "method not allowed"])
        }
    }

    /// A page of a list in the fake's paging style (see ``Paging``, ``repeatsPages``).
    private func list(_ type: String, path: String, query: [String: String]) -> HTTPResponse {
        let limit = max(1, min(100, Int(query["limit"] ?? "") ?? 10))
        let since = query["updatedAfter"]
        let all = records(type).filter { r in since.map { r.updatedAt > $0 } ?? true }
        var page: ArraySlice<Record>
        var next: String?
        switch paging {
        case .page, .offset:
            let param = paging == .page ? "page" : "offset"
            var start = Int(query[param] ?? "") ?? (paging == .page ? 1 : 0)
            if repeatsPages { start = paging == .page ? 1 : 0 }
            let skip = paging == .page ? (start - 1) * limit : start
            page = all.dropFirst(max(0, skip)).prefix(limit)
        case .cursor, .header, .link, .nextURL:
            let after = Int(query["after"] ?? "") ?? 0
            let matching = all.filter { Int($0.id)! > after }
            page = matching.prefix(limit)
            if matching.count > limit, let last = page.last {
                // A repeating list points at the page just read (or, from the first page, at the second, then back).
                next = repeatsPages && query["after"] != nil ? String(after) : last.id
            }
        }
        var out: [String: Value] = ["results": .array(page.map(\.json))]
        var headers: [String: String] = [:]
        if let next {
            var items = query.filter { $0.key != "after" }.map { URLQueryItem(name: $0.key, value: $0.value) }
            items.append(URLQueryItem(name: "after", value: next))
            var parts = URLComponents(string: url() + (path.hasPrefix("/") ? path : "/" + path)) ?? URLComponents()
            parts.queryItems = items.sorted { $0.name < $1.name }
            let link = parts.string ?? ""
            switch paging {
            case .cursor: out["paging"] = ["next": ["after": .string(next)]]
            case .header: headers["Next-Page"] = link
            case .link: headers["Link"] = "<\(link)>; rel=\"next\""
            case .nextURL: out["paging"] = ["next": ["link": .string(link)]]
            case .page, .offset: break
            }
        }
        return json(200, .object(out), headers: headers)
    }

    private func json(_ status: Int, _ value: Value, headers extra: [String: String] = [:]) -> HTTPResponse {
        var headers: HTTPHeaders = [.contentType: "application/json"]
        for (k, v) in extra { headers[HTTPHeader(rawValue: k)] = v }
        return HTTPResponse(statusCode: HTTPStatusCode(status, phrase: "Status \(status)"), headers: headers,
                            body: Data(JSONWriter.bytes(value)))
    }
}
