import Foundation
import HubCore

/// A clock tests move by hand, so runs and audits see exactly the time a test sets.
public final class ManualClock: Sendable {
    private let lock = NSLock()
    nonisolated(unsafe) private var now: Date

    /// Starts at `start` (default 2026-09-21T14:13:20Z).
    public init(start: Date = Date(timeIntervalSince1970: 1_790_000_000)) { now = start }

    /// The clock as the engine, auditor and steward take it.
    public var wallClock: WallClock { WallClock { [self] in self.current() } }

    /// The time now.
    public func current() -> Date {
        lock.lock(); defer { lock.unlock() }
        return now
    }

    /// Moves the clock forward.
    public func advance(seconds: Double) {
        lock.lock(); defer { lock.unlock() }
        now = now.addingTimeInterval(seconds)
    }
}
