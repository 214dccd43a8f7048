import Foundation
import HubCore

/// Collapses bursts of wake-ups per system: the first trigger opens a window, triggers inside
/// it are absorbed, and the window fires once when it closes. One entry per system, whatever
/// the burst, so memory stays bounded.
public struct DebounceWindow: Sendable {
    /// Per system: when its open window's first trigger arrived.
    public private(set) var open: [SystemName: Date] = [:]

    public init() {}

    /// Records a trigger for `system`; true when it opened a window (the caller fires it after
    /// the system's debounce time), false when an open window absorbed it.
    public mutating func hit(_ system: SystemName, at now: Date) -> Bool {
        if open[system] != nil { return false }
        open[system] = now
        return true
    }

    /// Closes `system`'s window; returns when its first trigger arrived.
    public mutating func close(_ system: SystemName) -> Date? {
        open.removeValue(forKey: system)
    }
}

/// Wakes the runner once per debounce window for each system.
public actor WakeDebouncer {
    private var window = DebounceWindow()
    private let sleep: @Sendable (TimeInterval) async throws -> Void
    private let fire: @Sendable (SystemName, Date) async -> Void

    /// - Parameters:
    ///   - sleep: waits out a window (injected in tests).
    ///   - fire: wakes a system; given when the window's first trigger arrived.
    public init(sleep: @escaping @Sendable (TimeInterval) async throws -> Void,
                fire: @escaping @Sendable (SystemName, Date) async -> Void) {
        self.sleep = sleep
        self.fire = fire
    }

    /// A trigger for `system` at `now`; `debounce` seconds later the system is woken once.
    /// Returns false when an open window absorbed it.
    @discardableResult
    public func trigger(_ system: SystemName, at now: Date, debounce: TimeInterval) -> Bool {
        guard window.hit(system, at: now) else { return false }
        Task {
            try? await sleep(debounce)
            await self.fireWindow(system)
        }
        return true
    }

    private func fireWindow(_ system: SystemName) async {
        guard let first = window.close(system) else { return }
        await fire(system, first)
    }
}
