import HubCore

/// Reads and rewrites the record files of one directory, in one ``FileTableFormat``: the shared
/// engine of ``CSVSpoke`` and ``JSONLSpoke``.
///
/// - Reads stream rows from the page's byte offset (see ``FilePosition``), so a page costs the
///   rows it returns, not the rows before it.
/// - A record's ID is its `idField` value: text, or a number's text. A data row without one, or
///   an ID used by two rows (noticed when the file is rewritten), is malformed: the sync cannot
///   tell which record it is.
/// - A push rewrites the file once per batch, streaming: rows the batch does not change are
///   copied byte for byte, changed rows are re-encoded, new rows are appended, and the result
///   replaces the file atomically (``AtomicFileWriter``). A batch that changes nothing leaves the
///   file alone. Creates can instead be staged over a whole push into one rewrite
///   (``FileStagedCreates``).
/// - A missing file, or a missing directory, is a ``SpokeError/Kind/missingObject`` error for
///   reads, ID scans, fetches and counts, and for a push holding any update or delete: a file
///   moved away is never read as "every record was deleted". A push of creates only creates a
///   missing file (the first push of a new export).
/// - A file that is a symbolic link is read through the link, and a push replaces the link's
///   target (atomically, next to it) and keeps the link.
///
/// One push at a time per file: concurrent pushes to the same file from two processes or tasks
/// would each rewrite it, and the last one wins.
struct FileTableStore<Format: FileTableFormat> {
    let system: SystemName
    let directory: String
    let format: Format

    static var byteOrderMark: [UInt8] { [0xEF, 0xBB, 0xBF] }

    // MARK: - Files

    var options: FileOptions { format.options }

    /// The path of the binding's file: `object` must be a plain file name in the directory.
    /// - Throws: `.missingObject` when the directory does not exist.
    func path(for binding: ObjectBinding) throws -> String {
        let name = binding.object
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.contains("\0") else {
            throw SpokeError(.configuration, system: system, object: name,
                             message: "the object must be a file name inside '\(directory)'")
        }
        guard let status = try io({ try FileSystem.status(directory) }, binding) else {
            throw SpokeError(.missingObject, system: system, object: name,
                             message: "the folder '\(directory)' does not exist")
        }
        guard status.isDirectory else {
            throw SpokeError(.configuration, system: system, object: name, message: "'\(directory)' is not a folder")
        }
        let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
        try refuseLinkLeavingTheFolder(path, binding)
        return path
    }

    /// A symbolic link must lead to a file inside the system's folder: hubctl reads and writes
    /// nothing outside the folders a topology names, whatever links someone placed there.
    func refuseLinkLeavingTheFolder(_ path: String, _ binding: ObjectBinding) throws {
        guard FileSystem.symbolicLinkTarget(path) != nil, let resolved = FileSystem.realPath(path),
              let folder = FileSystem.realPath(directory) else { return }
        guard !resolved.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/") else { return }
        throw SpokeError(.configuration, system: system, object: binding.object,
                         message: "'\(binding.object)' in '\(directory)' is a symbolic link to '\(resolved)', outside the system's folder; "
                             + "hubctl reads and writes files only inside it: move the file into the folder (and the link out), "
                             + "or set connection.path to the file's folder")
    }

    /// The error for a bound file that is not there.
    func missingFile(_ binding: ObjectBinding) -> SpokeError {
        SpokeError(.missingObject, system: system, object: binding.object,
                   message: "'\(binding.object)' does not exist in '\(directory)'")
    }

    /// An open file, positioned after its layout.
    struct OpenFile {
        let descriptor: Int32
        let status: FileSystem.Status
        var reader: ByteReader
        let hasByteOrderMark: Bool
        /// Nil for an empty file.
        let layout: Format.Layout?
        /// The layout's bytes as they are in the file, line end included.
        let layoutBytes: [UInt8]

        func close() { FileSystem.closeFile(descriptor) }
    }

    /// Opens `path` and reads its layout; nil when the file does not exist.
    /// - Throws: `.missingObject` for a symbolic link whose target does not exist (a push must
    ///   not replace the link with a file).
    func open(_ path: String, _ binding: ObjectBinding) throws -> OpenFile? {
        guard let status = try io({ try FileSystem.status(path) }, binding) else {
            if let target = FileSystem.symbolicLinkTarget(path) {
                throw SpokeError(.missingObject, system: system, object: binding.object,
                                 message: "'\(binding.object)' in '\(directory)' is a symbolic link to '\(target)', which does not exist")
            }
            return nil
        }
        guard !status.isDirectory else {
            throw SpokeError(.configuration, system: system, object: binding.object, message: "'\(path)' is a directory")
        }
        let descriptor = try io({ try FileSystem.openForReading(path) }, binding)
        do {
            var reader = ByteReader(descriptor: descriptor)
            let bom = try reader.skipByteOrderMark()
            reader.startCapture()
            let layout = try format.readLayout(&reader)
            let layoutBytes = reader.takeCaptured()
            return OpenFile(descriptor: descriptor, status: status, reader: reader, hasByteOrderMark: bom,
                            layout: layout, layoutBytes: layoutBytes)
        } catch {
            FileSystem.closeFile(descriptor)
            throw spokeError(error, binding)
        }
    }

    /// Opens the binding's file, which must exist.
    /// - Throws: `.missingObject` when the file or its directory does not exist.
    func openExisting(_ binding: ObjectBinding) throws -> OpenFile {
        guard let file = try open(try path(for: binding), binding) else { throw missingFile(binding) }
        return file
    }

    /// Moves `file`'s reader to `offset` (on `line`).
    func seek(_ file: inout OpenFile, to offset: Int, line: Int, _ binding: ObjectBinding) throws {
        guard FileSystem.seek(file.descriptor, to: offset) else {
            throw SpokeError(.unavailable, system: system, object: binding.object, message: "cannot seek in the file")
        }
        file.reader = ByteReader(descriptor: file.descriptor, offset: offset, line: line)
    }

    // MARK: - Rows

    /// The ID of a value in the ID field: text, or a number's text.
    static func externalID(_ value: Value?) -> ExternalID? {
        switch value {
        case .string(let s)? where !s.isEmpty: return ExternalID(s)
        case .int(let i)?: return ExternalID(String(i))
        case .double(let d)?: return ExternalID(JSONWriter.string(.double(d)))
        default: return nil
        }
    }

    /// The ID of a data row, or a syntax error naming its line.
    func recordID(_ row: Format.Row, layout: Format.Layout, binding: ObjectBinding, line: Int) throws -> ExternalID {
        let value = format.value(of: row, field: binding.idField, layout: layout)
        if let id = Self.externalID(value) { return id }
        switch value {
        case nil, .null?, .string?:
            throw FileSyntaxError(line: line, message: "the row has no ID in '\(binding.idField)'")
        case let value?:
            throw FileSyntaxError(line: line, message: "the ID in '\(binding.idField)' is \(value.typeName), not text or a number")
        }
    }

    /// Reads data rows from `file`'s reader, skipping blank ones, until `body` returns false or
    /// the file ends. `body` gets each row with its ID and the offset and line it starts at.
    func forEachRow(in file: inout OpenFile, layout: Format.Layout, binding: ObjectBinding,
                    invalid: ((InvalidRecord) -> Void)? = nil,
                    _ body: (Format.Row, ExternalID, _ offset: Int, _ line: Int) throws -> Bool) throws {
        while true {
            let offset = file.reader.offset
            let line = file.reader.line
            guard let row = try format.readRow(&file.reader, layout: layout) else { return }
            if format.isBlank(row) { continue }
            // A row that cannot be read is reported (when asked) and skipped; the others go on.
            if let problem = format.problem(of: row) {
                invalid?(InvalidRecord(id: nil, pointer: "line \(line)", message: problem))
                continue
            }
            let id: ExternalID
            do {
                id = try recordID(row, layout: layout, binding: binding, line: line)
            } catch let error as FileSyntaxError {
                invalid?(InvalidRecord(id: nil, pointer: "line \(line)", message: error.message))
                continue
            }
            guard try body(row, id, offset, line) else { return }
        }
    }

    // MARK: - Errors

    /// Runs a file system call, turning its failure into a ``SpokeError``.
    func io<T>(_ body: () throws -> T, _ binding: ObjectBinding) throws -> T {
        do {
            return try body()
        } catch {
            throw spokeError(error, binding)
        }
    }

    /// A ``SpokeError`` for a failure reading or writing the binding's file.
    func spokeError(_ error: any Error, _ binding: ObjectBinding) -> any Error {
        switch error {
        case let error as FileSyntaxError:
            return SpokeError(.malformed, system: system, object: binding.object,
                              message: "'\(binding.object)' \(error)")
        case let error as FileIOError:
            return SpokeError(.unavailable, system: system, object: binding.object,
                              message: "'\(binding.object)' in '\(directory)': \(error)")
        default:
            return error
        }
    }

    /// Runs `body`, turning file errors into ``SpokeError``s.
    func run<T>(_ binding: ObjectBinding, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw spokeError(error, binding)
        }
    }
}
