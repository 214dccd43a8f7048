import Foundation

/// Lines read from the connector's stdout by a thread, handed to one waiting reader at a time.
/// The lock guards the buffer, the end flag and the waiter.
final class LineQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer: [String] = []
    private var closed = false
    private var waiter: CheckedContinuation<String?, Never>?

    func push(_ line: String) {
        let resume: CheckedContinuation<String?, Never>? = lock.withLock {
            if let w = waiter { waiter = nil; return w }
            buffer.append(line)
            return nil
        }
        resume?.resume(returning: line)
    }

    /// No more lines: the waiting reader (and every later one) gets nil.
    func close() {
        let resume: CheckedContinuation<String?, Never>? = lock.withLock {
            closed = true
            defer { waiter = nil }
            return waiter
        }
        resume?.resume(returning: nil)
    }

    /// The next line, or nil once closed and drained.
    func next() async -> String? {
        await withCheckedContinuation { continuation in
            let ready: String?? = lock.withLock {
                if !buffer.isEmpty { return .some(buffer.removeFirst()) }
                if closed { return .some(nil) }
                waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
