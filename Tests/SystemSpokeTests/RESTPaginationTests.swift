import Foundation
import HubCore
import SpokeREST
import Testing

/// Every pagination style reads a list of 23 records exactly once, whatever the page size, and
/// a read restarts from any page's cursor. The API is an in-memory transport serving each style.
@Suite struct RESTPaginationTests {
    /// An API holding records 1…23 that paginates in one style.
    struct ListAPI: HTTPTransport {
        let style: String
        let ids = (1...23).map { "r\($0)" }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            let parts = URLComponents(url: request.url, resolvingAgainstBaseURL: false)!
            var query: [String: String] = [:]
            for item in parts.queryItems ?? [] { query[item.name] = item.value }
            let limit = Int(query["limit"] ?? "") ?? 10
            var start = 0
            switch style {
            case "page": start = ((Int(query["page"] ?? "") ?? 1) - 1) * limit
            case "offset": start = Int(query["offset"] ?? "") ?? 0
            default: start = Int(query["at"] ?? query["after"] ?? "") ?? 0
            }
            let slice = Array(ids.dropFirst(start).prefix(limit))
            let end = start + slice.count
            var body: [String: Value] = ["items": .array(slice.map { ["key": .string($0)] })]
            var headers: [String: String] = ["Content-Type": "application/json"]
            let next = "http://api.test/v1/things?limit=\(limit)&at=\(end)"
            if end < ids.count {
                switch style {
                case "cursor": body["next"] = ["token": .string(String(end))]
                case "link": headers["Link"] = "<http://api.test/v1/things?x=1>; rel=\"prev\", <\(next)>; rel=\"next\""
                case "next_url": body["links"] = ["next": .string(next)]
                default: break
                }
            }
            return HTTPResponse(status: 200, headers: headers, body: Data(JSONWriter.bytes(.object(body))))
        }
    }

    static let styles: [(String, [String: Value])] = [
        ("page", ["style": "page", "param": "page", "start": 1]),
        ("offset", ["style": "offset", "param": "offset"]),
        ("cursor", ["style": "cursor", "param": "after", "next": "next.token"]),
        ("link", ["style": "link"]),
        ("next_url", ["style": "next_url", "next": "links.next"]),
    ]

    static func spoke(_ style: String, _ pagination: [String: Value]) throws -> (RESTSpoke, ObjectBinding) {
        let settings = try RESTSettings.parse(["base_url": "http://api.test/v1"])
        let endpoint = try RESTEndpoint.parse(object: "things", defaults: [:], overrides: [
            "records": "items", "limit_param": "limit", "pagination": .object(pagination),
        ])
        return (RESTSpoke(system: "api", settings: settings, endpoints: ["things": endpoint], transport: ListAPI(style: style)),
                ObjectBinding(entity: "thing", object: "things", idField: "key", fields: []))
    }

    @Test(arguments: styles.map(\.0))
    func everyRecordIsReadOnceAtAnyPageSize(_ style: String) async throws {
        let (spoke, binding) = try Self.spoke(style, Self.styles.first { $0.0 == style }!.1)
        for limit in [1, 4, 7, 23, 50] {
            var ids: [String] = []
            var cursor: Cursor?
            var pages = 0
            while true {
                let page = try await spoke.read(binding, after: cursor, limit: limit)
                #expect(page.records.count <= limit)
                ids += page.records.map(\.id.rawValue)
                cursor = page.next
                pages += 1
                if page.isLast || pages > 100 { break }
            }
            #expect(ids == (1...23).map { "r\($0)" }, "\(style), limit \(limit)")
        }
        // A read restarts after any page's cursor.
        let first = try await spoke.read(binding, after: nil, limit: 5)
        let second = try await spoke.read(binding, after: first.next, limit: 5)
        #expect(second.records.map(\.id.rawValue) == (6...10).map { "r\($0)" }, "\(style)")
    }

    @Test func aNextPageLinkToAnotherHostIsNotFollowed() async throws {
        struct Elsewhere: HTTPTransport {
            func send(_ request: HTTPRequest) async throws -> HTTPResponse {
                HTTPResponse(status: 200, headers: ["Link": "<https://evil.test/steal?limit=5>; rel=\"next\""],
                             body: Data(#"{"items": [{"key": "a"}]}"#.utf8))
            }
        }
        let settings = try RESTSettings.parse(["base_url": "http://api.test/v1", "auth": ["type": "bearer", "token": "t0ken"]])
        let endpoint = try RESTEndpoint.parse(object: "things", defaults: [:], overrides: ["records": "items", "pagination": ["style": "link"]])
        let spoke = RESTSpoke(system: "api", settings: settings, endpoints: ["things": endpoint], transport: Elsewhere())
        let binding = ObjectBinding(entity: "thing", object: "things", idField: "key", fields: [])
        let first = try await spoke.read(binding, after: nil, limit: 5)
        await #expect(throws: SpokeError.self) { _ = try await spoke.read(binding, after: first.next, limit: 5) }
    }

    @Test func retryAfterReadsSecondsAndHTTPDates() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(RetryPolicy.retryAfter("12", now: now) == 12)
        #expect(RetryPolicy.retryAfter(HTTPDate.string(now.addingTimeInterval(90)), now: now) == 90)
        #expect(RetryPolicy.retryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == 0)
        #expect(RetryPolicy.retryAfter("soon", now: now) == nil)
        #expect(RetryPolicy(baseDelay: 0.5, maxDelay: 3).ceiling(after: 1) == 0.5)
        #expect(RetryPolicy(baseDelay: 0.5, maxDelay: 3).ceiling(after: 4) == 3)
    }
}
