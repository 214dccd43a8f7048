import Foundation
import HubCore

/// When and how long to wait before trying a request again.
///
/// Retried: 429 and 503 (the server did not process the request), and 408, 500, 502, 504 and
/// transport failures (timeouts, refused or dropped connections) for requests that are safe to
/// repeat: GET, PUT, PATCH, DELETE, and a POST that carries an idempotency key. Never retried:
/// any other 4xx. The wait honours `Retry-After` (seconds or an HTTP date) when the server sends
/// it, up to `maxRetryAfter`; otherwise it is full jitter: a random time between 0 and
/// `min(maxDelay, baseDelay × 2^(attempt-1))`.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts per request, the first included.
    public var maxAttempts: Int
    /// Seconds: the backoff's first ceiling.
    public var baseDelay: Double
    /// Seconds: the backoff's largest ceiling.
    public var maxDelay: Double
    /// Seconds: the longest `Retry-After` honoured; a server asking for more fails the request.
    public var maxRetryAfter: Double

    public init(maxAttempts: Int = 5, baseDelay: Double = 0.5, maxDelay: Double = 30, maxRetryAfter: Double = 120) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// The keys of `connection.retry`.
    public static let keys = ["max_attempts", "base_delay", "max_delay", "max_retry_after"]

    static func parse(_ value: Value) throws(RESTConfigurationError) -> RetryPolicy {
        guard let o = value.objectValue else { throw RESTConfigurationError("connection.retry must be an object") }
        var policy = RetryPolicy()
        if let v = o["max_attempts"] {
            guard let n = v.intValue, n >= 1, n <= 20 else { throw RESTConfigurationError("connection.retry.max_attempts must be 1 to 20") }
            policy.maxAttempts = Int(n)
        }
        for (key, path) in [("base_delay", \RetryPolicy.baseDelay), ("max_delay", \.maxDelay), ("max_retry_after", \.maxRetryAfter)] {
            if let v = o[key] {
                guard let seconds = v.numberValue, seconds >= 0 else {
                    throw RESTConfigurationError("connection.retry.\(key) must be a number of seconds")
                }
                policy[keyPath: path] = seconds
            }
        }
        return policy
    }

    /// The backoff ceiling before attempt `attempt + 1` (attempt counts from 1).
    public func ceiling(after attempt: Int) -> Double {
        min(maxDelay, baseDelay * pow(2, Double(max(0, attempt - 1))))
    }

    /// True when a response with `status` may be retried.
    static func isRetryable(status: Int, idempotent: Bool) -> Bool {
        switch status {
        case 429, 503: return true
        case 408, 500, 502, 504: return idempotent
        default: return false
        }
    }

    /// Seconds a `Retry-After` value asks for: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
    public static func retryAfter(_ header: String?, now: Date) -> Double? {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return nil }
        if let seconds = Double(header), seconds >= 0 { return seconds }
        guard let date = HTTPDate.parse(header) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}

/// Time for the REST spoke: the current date and waiting. Injected so that retries and rate
/// limits can be tested on a virtual clock without real sleeping.
public protocol RESTClock: Sendable {
    func now() -> Date
    /// Waits `seconds` (or returns at once on a virtual clock, having advanced it).
    func sleep(seconds: Double) async throws
}

/// The real clock.
public struct SystemRESTClock: RESTClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
    }
}
