import Foundation
import HubCore

/// How the engine behaves under failure; the defaults suit production, tests shorten them.
public struct EngineSettings: Sendable {
    /// A run lock whose holder has not been seen for this long is stale and taken over.
    public var lockTimeout: TimeInterval
    /// How many times a failing read from a system is tried before the system is skipped.
    public var readAttempts: Int
    /// The wait before the first retry; it doubles each time, with up to 20 % jitter.
    public var retryDelay: TimeInterval
    /// Waits; injected so tests run retries on a virtual clock.
    public var sleep: @Sendable (TimeInterval) async throws -> Void

    public init(lockTimeout: TimeInterval = 600, readAttempts: Int = 3, retryDelay: TimeInterval = 1,
                sleep: @escaping @Sendable (TimeInterval) async throws -> Void = { seconds in
                    try await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1_000_000_000))
                }) {
        self.lockTimeout = lockTimeout
        self.readAttempts = readAttempts
        self.retryDelay = retryDelay
        self.sleep = sleep
    }

    /// Runs a call to `spoke`, retrying it while it fails with an `unavailable` system error —
    /// unless the adapter retries its requests itself.
    func withRetries<T>(_ spoke: any Spoke, _ body: () async throws -> T) async throws -> T {
        let attempts = spoke.capabilities.retriesRequests ? 1 : readAttempts
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let error as SpokeError where error.kind == .unavailable && attempt < attempts {
                let delay = retryDelay * pow(2, Double(attempt - 1)) * Double.random(in: 1.0...1.2)
                try await sleep(delay)
                attempt += 1
            }
        }
    }
}
