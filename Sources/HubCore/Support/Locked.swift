import Foundation

/// A value guarded by a lock: every access goes through ``withLock(_:)``.
///
/// For state shared between threads where an actor does not fit (signal handlers, blocking
/// reader threads, synchronous callers).
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    /// Runs `body` with the value, holding the lock.
    public func withLock<T, E: Error>(_ body: (inout Value) throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
