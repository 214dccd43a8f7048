import Foundation
import HubCore

/// Sends the REST spoke's requests: authentication, the rate limit, retries with backoff.
struct RESTClient: Sendable {
    let system: SystemName
    let settings: RESTSettings
    let transport: any HTTPTransport
    let clock: any RESTClock
    /// A random wait between 0 and the given ceiling (full jitter); injected for tests.
    let jitter: @Sendable (Double) -> Double
    let limiter: RateLimiter?

    init(system: SystemName, settings: RESTSettings, transport: any HTTPTransport, clock: any RESTClock,
         jitter: @escaping @Sendable (Double) -> Double) {
        self.system = system
        self.settings = settings
        self.transport = transport
        self.clock = clock
        self.jitter = jitter
        self.limiter = settings.rateLimit.map { RateLimiter(perSecond: $0, clock: clock) }
    }

    /// The URL of `path` (relative to the base URL, `{id}` replaced) with `query`.
    func url(_ path: String, id: ExternalID? = nil, query: [String: String] = [:]) -> URL {
        var p = path
        if let id { p = p.replacingOccurrences(of: "{id}", with: Self.pathSegment(id.rawValue)) }
        var base = settings.baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        while p.hasPrefix("/") { p.removeFirst() }
        var components = URLComponents(string: base + "/" + p) ?? URLComponents()
        if !query.isEmpty {
            components.percentEncodedQueryItems = (components.percentEncodedQueryItems ?? [])
                + query.sorted { $0.key < $1.key }.map { URLQueryItem(name: Self.queryPart($0.key), value: Self.queryPart($0.value)) }
        }
        return components.url ?? settings.baseURL
    }

    /// An ID as one path segment: `/`, `?`, `#`, `%` and `..` cannot change the path.
    static func pathSegment(_ text: String) -> String {
        if text == "." || text == ".." { return text.replacingOccurrences(of: ".", with: "%2E") }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func queryPart(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// A next-page URL the server gave, accepted only on the base URL's scheme, host and port so
    /// that credentials never go anywhere else.
    func sameOrigin(_ text: String) -> URL? {
        guard let url = URL(string: text, relativeTo: settings.baseURL)?.absoluteURL,
              url.scheme?.lowercased() == settings.baseURL.scheme?.lowercased(),
              url.host?.lowercased() == settings.baseURL.host?.lowercased(),
              (url.port ?? defaultPort(url)) == (settings.baseURL.port ?? defaultPort(settings.baseURL)) else { return nil }
        return url
    }

    private func defaultPort(_ url: URL) -> Int { url.scheme?.lowercased() == "https" ? 443 : 80 }

    /// `GET /records`: the method and the URL's path, for messages (never the query or host credentials).
    static func label(_ method: String, _ url: URL) -> String { "\(method) \(url.path)" }

    /// Sends a request, retrying what may be retried (see ``RetryPolicy``), and returns the
    /// final response whatever its status.
    /// - Parameter idempotent: true when repeating the request cannot apply it twice.
    /// - Throws: ``SpokeError`` (`.unavailable`) when no answer came, or the server stayed
    ///   unavailable through every attempt; ``NoAnswer`` when a request that is not safe to
    ///   repeat got no answer at all (it may have been applied).
    func send(_ method: String, _ url: URL, body: Value? = nil, headers extra: [String: String] = [:],
              idempotent: Bool, object: String?) async throws -> HTTPResponse {
        var headers = settings.headers
        headers["Accept"] = "application/json"
        if body != nil { headers["Content-Type"] = "application/json" }
        if let auth = settings.auth.header { headers[auth.name] = auth.value }
        for (k, v) in extra { headers[k] = v }
        let request = HTTPRequest(method: method, url: url, headers: headers, body: body.map { Data(JSONWriter.bytes($0)) },
                                  timeout: settings.timeout)
        let policy = settings.retry
        var attempt = 1
        while true {
            try await limiter?.acquire()
            let outcome: Result<HTTPResponse, TransportError>
            do {
                outcome = .success(try await transport.send(request))
            } catch let error as TransportError {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let response):
                guard RetryPolicy.isRetryable(status: response.status, idempotent: idempotent) else { return response }
                guard attempt < policy.maxAttempts else {
                    throw SpokeError(.unavailable, system: system, object: object, message:
                        "\(Self.label(method, url)) answered HTTP \(response.status) \(Self.reason(response.status)) "
                            + "\(attempt) times; the API is unavailable or rate-limited, try again later")
                }
                let delay: Double
                if let asked = RetryPolicy.retryAfter(response.header("Retry-After"), now: clock.now()) {
                    guard asked <= policy.maxRetryAfter else {
                        throw SpokeError(.unavailable, system: system, object: object, message:
                            "\(Self.label(method, url)) answered HTTP \(response.status) asking to wait \(Int(asked)) s, "
                                + "more than retry.max_retry_after (\(Int(policy.maxRetryAfter)) s); try again later")
                    }
                    delay = asked
                } else {
                    delay = jitter(policy.ceiling(after: attempt))
                }
                try await clock.sleep(seconds: delay)
            case .failure(let error):
                guard idempotent, attempt < policy.maxAttempts else {
                    let failure = SpokeError(.unavailable, system: system, object: object, message:
                        "\(Self.label(method, url)) at \(settings.displayURL): \(error.reason)"
                            + (attempt > 1 ? " (\(attempt) attempts)" : "") + "; check that the API is up and reachable")
                    throw idempotent ? failure : NoAnswer(error: failure) as any Error
                }
                try await clock.sleep(seconds: jitter(policy.ceiling(after: attempt)))
            }
            attempt += 1
        }
    }

    /// The standard reason phrase of a status code.
    static func reason(_ status: Int) -> String {
        switch status {
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 412: return "Precondition Failed"
        case 413: return "Payload Too Large"
        case 415: return "Unsupported Media Type"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return ""
        }
    }

    /// A system-level error for a response that stops a read: authentication, a missing
    /// endpoint, a server error. The body is never quoted: servers echo requests (and so
    /// credentials) in error bodies.
    func failure(_ response: HTTPResponse, _ method: String, _ url: URL, object: String?) -> SpokeError {
        let what = "\(Self.label(method, url)) answered HTTP \(response.status) \(Self.reason(response.status))"
        switch response.status {
        case 401:
            return SpokeError(.configuration, system: system, object: object,
                              message: "\(what): authentication failed; check connection.auth and the credential's environment variable")
        case 403:
            return SpokeError(.configuration, system: system, object: object,
                              message: "\(what): the credentials may not do this; check the account's permissions")
        case 404:
            return SpokeError(.configuration, system: system, object: object,
                              message: "\(what): no such endpoint; check connection.base_url and the entity's endpoint path")
        case 300..<400:
            return SpokeError(.configuration, system: system, object: object,
                              message: "\(what): the API redirects; set connection.base_url to the address it redirects to")
        case 400..<500:
            return SpokeError(.configuration, system: system, object: object,
                              message: "\(what): the API refused the request; check the endpoint's query and pagination settings")
        default:
            return SpokeError(.unavailable, system: system, object: object, message: "\(what); try again later")
        }
    }
}

/// A request that is not safe to repeat got no answer: it may or may not have been applied.
struct NoAnswer: Error {
    let error: SpokeError
}
