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

    /// Where the symbolic link at `path` points (as the link spells it), or nil when `path` is
    /// not a symbolic link.
    static func symbolicLinkTarget(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return "?" }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The path a write must replace to change the file `path` names: `path` itself, or, when
    /// it is a symbolic link (or a chain of them), the file the links lead to.
    static func resolvedForWriting(_ path: String) -> String {
        guard symbolicLinkTarget(path) != nil, let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The absolute path `path` leads to, every symbolic link and `..` resolved; nil when it
    /// leads nowhere (a missing target, a loop).
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
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
/// old one's permissions. A destination that is a symbolic link is written through: the file
/// it leads to is replaced (its temporary file sits next to it) and the link stays. If the
/// writer is dropped without ``commit()``, the temporary file is removed.
final class AtomicFileWriter {
    let destination: String
    let temporaryPath: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private var finished = false

    /// Creates the temporary file for replacing `destination` (or the file it links to).
    init(replacing destination: String, mode: mode_t?) throws(FileIOError) {
        let destination = FileSystem.resolvedForWriting(destination)
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

    /// Appends `count` bytes of the open file `source` from `offset` (without moving its position).
    func copy(from source: Int32, offset: Int, count: Int) throws(FileIOError) {
        try flush()
        var chunk = [UInt8](repeating: 0, count: ByteReader.chunkSize)
        var done = 0
        while done < count {
            let n = chunk.withUnsafeMutableBytes { raw in
                pread(source, raw.baseAddress, min(raw.count, count - done), off_t(offset + done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError(operation: "read", code: errno)
            }
            if n == 0 { throw FileIOError(operation: "read", code: EIO) }
            buffer.append(contentsOf: chunk[0..<n])
            try flush()
            done += n
        }
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
