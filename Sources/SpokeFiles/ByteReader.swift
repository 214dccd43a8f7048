#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads bytes one at a time from a file (in 64 KiB chunks) or from memory, counting lines and
/// optionally keeping a copy of what it consumed.
///
/// The parsers pull from it, so a page of a large file is read from its byte offset without
/// loading or re-parsing what comes before.
struct ByteReader {
    private let descriptor: Int32
    private var buffer: [UInt8]
    private var index = 0
    private var atEnd = false
    /// The absolute byte offset of the next byte.
    private(set) var offset: Int
    /// The 1-based line number of the next byte.
    private(set) var line: Int
    private var capturing = false
    private var captured: [UInt8] = []
    /// The most bytes a capture keeps; past it the capture only counts (see ``Capture``).
    private var captureLimit = Int.max
    private var captureStart = 0
    private var captureOverflowed = false

    static let chunkSize = 64 * 1024

    /// Reads `bytes` from memory.
    init(bytes: [UInt8]) {
        descriptor = -1
        buffer = bytes
        atEnd = true
        offset = 0
        line = 1
    }

    /// Reads the open file `descriptor`, which is positioned at `offset` (on line `line`).
    /// The caller keeps ownership of the descriptor.
    init(descriptor: Int32, offset: Int = 0, line: Int = 1) {
        self.descriptor = descriptor
        buffer = []
        self.offset = offset
        self.line = line
    }

    /// The next byte without consuming it, or nil at the end.
    @inline(__always)
    mutating func peek() throws(FileIOError) -> UInt8? {
        if index < buffer.count { return buffer[index] }
        guard try refill() else { return nil }
        return buffer[index]
    }

    /// Consumes and returns the next byte, or nil at the end.
    @inline(__always)
    mutating func next() throws(FileIOError) -> UInt8? {
        if index >= buffer.count {
            guard try refill() else { return nil }
        }
        let byte = buffer[index]
        index += 1
        offset += 1
        if byte == 0x0A { line += 1 }
        if capturing { keep(byte) }
        return byte
    }

    @inline(__always)
    private mutating func keep(_ byte: UInt8) {
        if captured.count < captureLimit { captured.append(byte) } else { captureOverflowed = true }
    }

    /// Consumes bytes up to and including the next line feed (or to the end), appending those
    /// before it to `bytes` while `bytes` holds fewer than `limit`; returns whether any byte
    /// was consumed and whether some were left out for the limit.
    ///
    /// It moves through the buffer a chunk at a time, so a long line costs a few copies of
    /// 64 KiB, not a call per byte.
    mutating func readLine(into bytes: inout [UInt8], limit: Int) throws(FileIOError) -> (sawAny: Bool, overflowed: Bool) {
        var sawAny = false
        var overflowed = false
        while true {
            if index >= buffer.count {
                guard try refill() else { return (sawAny, overflowed) }
            }
            sawAny = true
            let end = buffer[index...].firstIndex(of: 0x0A)
            let stop = end ?? buffer.count
            let room = max(0, limit - bytes.count)
            let take = min(room, stop - index)
            if take > 0 { bytes.append(contentsOf: buffer[index..<index + take]) }
            if take < stop - index { overflowed = true }
            let consumed = (end.map { $0 + 1 } ?? stop) - index
            if capturing {
                let roomInCapture = max(0, captureLimit - captured.count)
                let kept = min(roomInCapture, consumed)
                if kept > 0 { captured.append(contentsOf: buffer[index..<index + kept]) }
                if kept < consumed { captureOverflowed = true }
            }
            index += consumed
            offset += consumed
            if end != nil {
                line += 1
                return (true, overflowed)
            }
        }
    }

    /// Consumes the bytes before the next `stop`, `otherStop` or line feed (or the end), which
    /// it leaves unread, appending at most `room` of them to `bytes`; returns how many it
    /// consumed. A scan of the buffer, not a call per byte: a CSV cell's text in one go.
    mutating func readRun(into bytes: inout [UInt8], until stop: UInt8, _ otherStop: UInt8, room: Int) throws(FileIOError) -> Int {
        var total = 0
        while true {
            if index >= buffer.count {
                guard try refill() else { return total }
            }
            let start = index
            let end = buffer.withUnsafeBufferPointer { p in
                var i = start
                while i < p.count, p[i] != stop, p[i] != otherStop, p[i] != 0x0A { i += 1 }
                return i
            }
            let count = end - start
            let take = min(max(0, room - total), count)
            if take > 0 { bytes.append(contentsOf: buffer[start..<start + take]) }
            if capturing {
                let kept = min(max(0, captureLimit - captured.count), count)
                if kept > 0 { captured.append(contentsOf: buffer[start..<start + kept]) }
                if kept < count { captureOverflowed = true }
            }
            index = end
            offset += count
            total += count
            if end < buffer.count { return total }
        }
    }

    /// Skips a UTF-8 byte order mark at the current position; returns true if there was one.
    mutating func skipByteOrderMark() throws(FileIOError) -> Bool {
        guard try peek() == 0xEF, buffer.count - index >= 3,
              buffer[index + 1] == 0xBB, buffer[index + 2] == 0xBF else { return false }
        index += 3
        offset += 3
        return true
    }

    /// True when no byte is left.
    mutating func isAtEnd() throws(FileIOError) -> Bool { try peek() == nil }

    /// What a capture saw: the bytes, or only where they are when there were more than its limit.
    enum Capture {
        case bytes([UInt8])
        /// More bytes than the limit: they are `count` bytes at `offset` in the file.
        case range(offset: Int, count: Int)
    }

    /// Starts keeping a copy of every byte consumed from now on, up to `limit` bytes.
    mutating func startCapture(limit: Int = .max) {
        capturing = true
        captured.removeAll(keepingCapacity: true)
        captureLimit = limit
        captureStart = offset
        captureOverflowed = false
    }

    /// Stops keeping bytes and returns those consumed since ``startCapture()``.
    mutating func takeCaptured() -> [UInt8] {
        capturing = false
        return captured
    }

    /// Stops keeping bytes and returns what was consumed since ``startCapture(limit:)``.
    mutating func takeCapture() -> Capture {
        capturing = false
        return captureOverflowed ? .range(offset: captureStart, count: offset - captureStart) : .bytes(captured)
    }

    private mutating func refill() throws(FileIOError) -> Bool {
        guard !atEnd else { return false }
        if buffer.count != Self.chunkSize { buffer = [UInt8](repeating: 0, count: Self.chunkSize) }
        let count = buffer.withUnsafeMutableBytes { raw -> Int in
            while true {
                let n = read(descriptor, raw.baseAddress, raw.count)
                if n < 0 && errno == EINTR { continue }
                return n
            }
        }
        if count < 0 { throw FileIOError(operation: "read", code: errno) }
        if count == 0 {
            atEnd = true
            buffer.removeAll()
            index = 0
            return false
        }
        if count < buffer.count { buffer.removeSubrange(count...) }
        index = 0
        return true
    }
}

/// A failed system call on a file, with its `errno`.
struct FileIOError: Error, CustomStringConvertible {
    var operation: String
    var code: Int32

    var description: String {
        "\(operation) failed: \(String(cString: strerror(code)))"
    }
}
