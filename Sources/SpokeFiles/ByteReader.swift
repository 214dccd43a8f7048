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
        if capturing { captured.append(byte) }
        return byte
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

    /// Starts keeping a copy of every byte consumed from now on.
    mutating func startCapture() {
        capturing = true
        captured.removeAll(keepingCapacity: true)
    }

    /// Stops keeping bytes and returns those consumed since ``startCapture()``.
    mutating func takeCaptured() -> [UInt8] {
        capturing = false
        return captured
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
