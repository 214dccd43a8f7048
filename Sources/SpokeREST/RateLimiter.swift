import Foundation

/// Spaces requests so that at most `perSecond` start in any second (one every `1/perSecond`).
actor RateLimiter {
    let interval: Double
    let clock: any RESTClock
    private var next: Date?

    init(perSecond: Double, clock: any RESTClock) {
        self.interval = 1 / perSecond
        self.clock = clock
    }

    /// Waits for this request's turn.
    func acquire() async throws {
        let now = clock.now()
        let slot = max(now, next ?? now)
        next = slot.addingTimeInterval(interval)
        let wait = slot.timeIntervalSince(now)
        if wait > 0 { try await clock.sleep(seconds: wait) }
    }
}
