import Foundation
import HubCore

/// What a connector's stdout gave next.
enum LineEvent: Sendable, Equatable {
    case line(String)
    /// The output ended (the connector closed it, or hubctl stopped listening).
    case end
    /// A line grew past the limit without ending; reading stopped.
    case tooLong(limit: Int)
    /// A line was not UTF-8; reading stopped.
    case invalidUTF8
}

/// Lines read from the connector's stdout by a thread, handed to one waiting reader at a time.
final class LineQueue: Sendable {
    private struct State {
        var buffer: [String] = []
        var head = 0
        var ending: LineEvent?
        var waiter: CheckedContinuation<LineEvent, Never>?
    }
    private let state = Locked(State())

    func push(_ line: String) {
        let resume: CheckedContinuation<LineEvent, Never>? = state.withLock { s in
            if let w = s.waiter { s.waiter = nil; return w }
            s.buffer.append(line)
            return nil
        }
        resume?.resume(returning: .line(line))
    }

    /// No more lines: the waiting reader (and every later one, once the buffer is drained) gets
    /// `ending` (`.end` unless a line was too long). The first ending wins.
    func close(_ ending: LineEvent = .end) {
        let resume: CheckedContinuation<LineEvent, Never>? = state.withLock { s in
            if s.ending == nil { s.ending = ending }
            defer { s.waiter = nil }
            return s.waiter
        }
        resume?.resume(returning: state.withLock { $0.ending ?? .end })
    }

    /// The next line, or how the output ended once closed and drained.
    func next() async -> LineEvent {
        await withCheckedContinuation { continuation in
            let ready: LineEvent? = state.withLock { s in
                if s.head < s.buffer.count {
                    defer {
                        s.head += 1
                        if s.head == s.buffer.count { s.buffer.removeAll(keepingCapacity: true); s.head = 0 }
                    }
                    return .line(s.buffer[s.head])
                }
                if let ending = s.ending { return ending }
                s.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

/// Splits a byte stream into lines in linear time: each chunk is scanned once, from where the
/// previous one stopped, and an unfinished line is kept until its end arrives.
struct LineSplitter {
    /// What happens to a line longer than the limit, and to bytes that are not UTF-8.
    enum Overflow {
        /// Reading stops with ``LineEvent/tooLong(limit:)``, or ``LineEvent/invalidUTF8`` for a
        /// line that is not UTF-8 (answers on stdout: never repaired into other text).
        case fail
        /// The line is cut into pieces of the limit's size, invalid UTF-8 shown as U+FFFD
        /// (messages on stderr).
        case split
    }

    let limit: Int
    let overflow: Overflow
    private var pending: [UInt8] = []

    init(limit: Int, overflow: Overflow) {
        self.limit = max(1, limit)
        self.overflow = overflow
    }

    /// Emits `bytes` as a line; false when they are not UTF-8 and must not be repaired.
    private func deliver<Bytes: Collection<UInt8>>(_ bytes: Bytes, _ emit: (String) -> Void) -> Bool {
        guard overflow == .fail else { emit(String(decoding: bytes, as: UTF8.self)); return true }
        guard let line = String(validating: bytes, as: UTF8.self) else { return false }
        emit(line)
        return true
    }

    /// Feeds `chunk`, calling `emit` for each line it completes.
    /// - Returns: nil, or how reading must stop (``Overflow/fail``): a line over the limit or not UTF-8.
    mutating func append(_ chunk: UnsafeRawBufferPointer, _ emit: (String) -> Void) -> LineEvent? {
        guard let base = chunk.baseAddress else { return nil }
        var start = 0
        while start < chunk.count {
            guard let hit = memchr(base + start, 0x0A, chunk.count - start) else {
                pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start...]))
                break
            }
            let end = base.distance(to: UnsafeRawPointer(hit))
            if pending.isEmpty {
                if end - start > limit, overflow == .fail { return .tooLong(limit: limit) }
                guard deliver(UnsafeRawBufferPointer(rebasing: chunk[start..<end]), emit) else { return .invalidUTF8 }
            } else {
                pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start..<end]))
                if pending.count > limit, overflow == .fail { return .tooLong(limit: limit) }
                guard deliver(pending, emit) else { return .invalidUTF8 }
                pending.removeAll(keepingCapacity: false)
            }
            start = end + 1
        }
        while pending.count > limit {
            guard overflow == .split else { return .tooLong(limit: limit) }
            emit(String(decoding: pending[..<limit], as: UTF8.self))
            pending.removeFirst(limit)
        }
        return nil
    }

    /// Emits the unfinished last line, if any, once the stream has ended.
    /// - Returns: nil, or ``LineEvent/invalidUTF8`` (``Overflow/fail``).
    mutating func finish(_ emit: (String) -> Void) -> LineEvent? {
        defer { pending = [] }
        guard !pending.isEmpty else { return nil }
        return deliver(pending, emit) ? nil : .invalidUTF8
    }

    /// Reads `fd` to its end (blocking), calling `emit` for each line.
    /// - Returns: `.end`, or `.tooLong` when a line exceeded the limit (``Overflow/fail``).
    static func read(_ fd: Int32, limit: Int, overflow: Overflow, _ emit: (String) -> Void) -> LineEvent {
        var splitter = LineSplitter(limit: limit, overflow: overflow)
        let size = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let n = Foundation.read(fd, buffer.baseAddress, size)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            if let ending = splitter.append(UnsafeRawBufferPointer(rebasing: buffer[..<n]), emit) { return ending }
        }
        return splitter.finish(emit) ?? .end
    }
}
