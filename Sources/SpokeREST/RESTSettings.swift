import Foundation
import HubCore

/// How to reach a REST API: the system-wide part of a rest system's `connection`.
///
/// Secrets (the token, the password, the API key) travel only in request headers: never in a
/// URL, a log line or an error message.
public struct RESTSettings: Sendable {
    /// The API root every endpoint path is relative to (`http://127.0.0.1:8888/v1`).
    public var baseURL: URL
    public var auth: RESTAuth
    /// Extra headers sent with every request.
    public var headers: [String: String]
    /// Seconds before a request times out.
    public var timeout: Double
    /// Requests per second at most; nil for no limit.
    public var rateLimit: Double?
    public var retry: RetryPolicy
    /// Endpoint settings shared by every object of the system (each entity's `endpoint` overrides them).
    public var defaults: [String: Value]

    public init(baseURL: URL, auth: RESTAuth = .none, headers: [String: String] = [:], timeout: Double = 30,
                rateLimit: Double? = nil, retry: RetryPolicy = RetryPolicy(), defaults: [String: Value] = [:]) {
        self.baseURL = baseURL
        self.auth = auth
        self.headers = headers
        self.timeout = timeout
        self.rateLimit = rateLimit
        self.retry = retry
        self.defaults = defaults
    }

    /// The keys a rest system's `connection` may hold.
    public static let connectionKeys = ["base_url", "auth", "headers", "timeout", "rate_limit", "retry", "endpoint"]

    /// Reads a rest system's `connection` object.
    /// - Throws: ``RESTConfigurationError`` naming the key at fault (never a secret's value).
    public static func parse(_ connection: [String: Value]) throws(RESTConfigurationError) -> RESTSettings {
        guard let text = connection["base_url"]?.stringValue else {
            throw RESTConfigurationError("connection.base_url is missing (the API root, e.g. https://api.example.com/v1)")
        }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              url.host != nil else {
            throw RESTConfigurationError("connection.base_url must be an http:// or https:// URL")
        }
        guard url.user == nil, url.password == nil, url.query == nil else {
            throw RESTConfigurationError("connection.base_url must not carry a user, password or query; put credentials under connection.auth")
        }
        var settings = RESTSettings(baseURL: url)
        if let auth = connection["auth"] { settings.auth = try RESTAuth.parse(auth) }
        if let headers = connection["headers"] {
            guard let object = headers.objectValue else { throw RESTConfigurationError("connection.headers must be an object of header names and values") }
            for (name, value) in object {
                guard let v = value.stringValue else { throw RESTConfigurationError("connection.headers.\(name) must be a string") }
                settings.headers[name] = v
            }
        }
        if let t = connection["timeout"] {
            guard let seconds = t.numberValue, seconds > 0 else { throw RESTConfigurationError("connection.timeout must be a number of seconds") }
            settings.timeout = seconds
        }
        if let r = connection["rate_limit"] {
            guard let rate = r.numberValue, rate > 0 else {
                throw RESTConfigurationError("connection.rate_limit must be a number of requests per second")
            }
            settings.rateLimit = rate
        }
        if let r = connection["retry"] { settings.retry = try RetryPolicy.parse(r) }
        if let d = connection["endpoint"] {
            guard let object = d.objectValue else { throw RESTConfigurationError("connection.endpoint must be an object") }
            settings.defaults = object
        }
        return settings
    }

    /// `https://api.example.com/v1`: where the system is, without anything secret.
    public var displayURL: String {
        var parts = URLComponents(url: baseURL, resolvingAgainstBaseURL: false)
        parts?.user = nil
        parts?.password = nil
        parts?.query = nil
        return parts?.string ?? baseURL.absoluteString
    }
}

/// A rest connection or endpoint setting that cannot be used, with what to write instead.
public struct RESTConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
