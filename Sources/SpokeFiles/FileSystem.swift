import Foundation
import HubCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX calls the file spokes need, in one place.
enum FileSystem {
    /// What `stat` says about a path: enough to notice that a file changed between two pages.
    struct Status: Sendable, Hashable {
        var size: Int
        var isDirectory: Bool
        var mode: mode_t
        /// Size, modification time (ns) and inode, as text.
        var fingerprint: String
    }

    /// The status of `path`, or nil when nothing is there.
    static func status(_ path: String) throws(FileIOError) -> Status? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw FileIOError(operation: "stat", code: errno)
        }
        #if os(Linux)
        let modified = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
        #else
        let modified = Int(info.st_mtimespec.tv_sec) * 1_000_000_000 + Int(info.st_mtimespec.tv_nsec)
        #endif
        return Status(size: Int(info.st_size), isDirectory: (info.st_mode & S_IFMT) == S_IFDIR, mode: info.st_mode,
                      fingerprint: "\(info.st_size)-\(modified)-\(info.st_ino)")
    }

    /// Closes a descriptor this module opened.
    static func closeFile(_ descriptor: Int32) {
        _ = close(descriptor)
    }

    /// Moves a descriptor to `offset`; false when that fails.
    static func seek(_ descriptor: Int32, to offset: Int) -> Bool {
        lseek(descriptor, off_t(offset), SEEK_SET) >= 0
    }

    /// Opens `path` for reading, positioned at `offset`.
    static func openForReading(_ path: String, at offset: Int = 0) throws(FileIOError) -> Int32 {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw FileIOError(operation: "open", code: errno) }
        if offset > 0 && lseek(descriptor, off_t(offset), SEEK_SET) < 0 {
            let code = errno
            close(descriptor)
            throw FileIOError(operation: "seek", code: code)
        }
        return descriptor
    }
}

/// Writes a file's new content next to it and moves it into place in one step.
///
/// The content goes to a temporary file in the same directory (`.<name>.<uuid>.hubctl-tmp`),
/// which is flushed to disk (`fsync`) and then renamed over the original, so a reader or a crash
/// sees either the old file or the new one, never a half-written one. The new file keeps the
/// old one's permissions. If the writer is dropped without ``commit()``, the temporary file is
/// removed.
final class AtomicFileWriter {
    let destination: String
    let temporaryPath: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private var finished = false

    /// Creates the temporary file for replacing `destination`.
    init(replacing destination: String, mode: mode_t?) throws(FileIOError) {
        let url = URL(fileURLWithPath: destination)
        let name = url.lastPathComponent
        self.destination = destination
        Self.removeLeftovers(of: name, in: url.deletingLastPathComponent().path)
        temporaryPath = url.deletingLastPathComponent()
            .appendingPathComponent(".\(name).\(UUID().uuidString).hubctl-tmp").path
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL, mode_t(0o644))
        guard descriptor >= 0 else { throw FileIOError(operation: "create a temporary file", code: errno) }
        if let mode { _ = fchmod(descriptor, mode & 0o7777) }
        buffer.reserveCapacity(ByteReader.chunkSize)
    }

    deinit {
        if !finished { discard() }
    }

    /// Removes temporary files a killed process left next to `name` (the run lock guarantees
    /// no other hubctl run is writing them now).
    static func removeLeftovers(of name: String, in directory: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in entries where entry.hasPrefix(".\(name).") && entry.hasSuffix(".hubctl-tmp") {
            unlink((directory as NSString).appendingPathComponent(entry))
        }
    }

    /// Appends bytes to the new content.
    func write(_ bytes: some Sequence<UInt8>) throws(FileIOError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= ByteReader.chunkSize { try flush() }
    }

    private func flush() throws(FileIOError) {
        var written = 0
        while written < buffer.count {
            let n = buffer.withUnsafeBytes { raw in
                systemWrite(descriptor, raw.baseAddress! + written, raw.count - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError(operation: "write", code: errno)
            }
            written += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes the new content to disk and renames it over the destination.
    func commit() throws(FileIOError) {
        try flush()
        guard fsync(descriptor) == 0 else { throw FileIOError(operation: "fsync", code: errno) }
        close(descriptor)
        descriptor = -1
        try Self.fault(.fileAfterTempWrite)
        guard rename(temporaryPath, destination) == 0 else { throw FileIOError(operation: "rename", code: errno) }
        finished = true
        try Self.fault(.fileAfterRename)
        // Make the rename itself durable.
        let directory = open(URL(fileURLWithPath: destination).deletingLastPathComponent().path, O_RDONLY)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    static func fault(_ point: FaultPoint) throws(FileIOError) {
        do { try faultPoint(point) } catch { throw FileIOError(operation: "\(point.rawValue) (injected)", code: EIO) }
    }

    /// Removes the temporary file; the destination is left as it was.
    func discard() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(temporaryPath)
        finished = true
    }
}

/// `write(2)`, named apart from the writer's own `write` method.
@inline(__always)
private func systemWrite(_ descriptor: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(descriptor, pointer, count)
    #elseif canImport(Musl)
    return Musl.write(descriptor, pointer, count)
    #else
    return Darwin.write(descriptor, pointer, count)
    #endif
}
