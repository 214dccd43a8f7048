import Foundation

/// Wakes a waiting loop early: `wait` returns when `signal` is called or its time is up.
/// A signal sent while nobody waits is kept for the next `wait`.
public actor Wakeup {
    private var pending = false
    private var waiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
    private var nextID = 0
    /// Waits up to this ID are over: a signal wait that starts late returns at once.
    private var finishedID = 0

    public init() {}

    /// Wakes the current or next `wait`.
    public func signal() {
        if let w = waiter {
            waiter = nil
            w.continuation.resume()
        } else {
            pending = true
        }
    }

    /// Returns after `seconds` (slept with `sleep`), or sooner on a signal.
    public func wait(seconds: TimeInterval, sleep: @escaping @Sendable (TimeInterval) async throws -> Void) async {
        if pending {
            pending = false
            return
        }
        nextID += 1
        let id = nextID
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await sleep(seconds) }
            group.addTask { await self.waitForSignal(id) }
            await group.next()
            group.cancelAll()
            self.cancelWaiter(id)
        }
    }

    private func waitForSignal(_ id: Int) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            if id <= finishedID {
                c.resume()
            } else if pending {
                pending = false
                c.resume()
            } else {
                waiter = (id, c)
            }
        }
    }

    private func cancelWaiter(_ id: Int) {
        finishedID = max(finishedID, id)
        if let w = waiter, w.id == id {
            waiter = nil
            w.continuation.resume()
        }
    }
}

/// A flag set once from any thread (a signal handler's task, a test) and read between pages.
public final class StopFlag: Sendable {
    private let lock = NSLock()
    nonisolated(unsafe) private var set = false

    public init() {}

    public var isSet: Bool {
        lock.lock(); defer { lock.unlock() }
        return set
    }

    public func raise() {
        lock.lock(); defer { lock.unlock() }
        set = true
    }
}
