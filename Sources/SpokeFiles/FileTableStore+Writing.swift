import HubCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension FileTableStore {
    /// Applies a batch with one atomic rewrite of the file.
    ///
    /// - A create appends a row whose ID is the ID its fields set, or else the create's hub key
    ///   (files never assign IDs). A create whose key is already a row's ID answers `.created`
    ///   with it (creates are idempotent by key); another ID already in the file is `.failed`.
    /// - An update changes only the given fields of its row (never the ID); no row → `.notFound`.
    /// - A delete removes the row; a row that is already gone is `.deleted` too.
    /// - Fields a write names that a CSV header lacks are added to the header: the binding's
    ///   fields in their order, then any others by name.
    ///
    /// Rows the batch does not change keep their bytes (a row too large to read included); the
    /// rest of the file keeps its order, its line ends and its byte order mark. A missing file is
    /// created with a header of the ID field and the binding's fields (CSV) when the batch holds
    /// only creates; a batch with an update or a delete for a missing file throws
    /// `.missingObject` and writes nothing.
    func write(_ binding: ObjectBinding, _ writes: [SpokeWrite]) throws -> [SpokeWriteResult] {
        guard !writes.isEmpty else { return [] }
        let path = try path(for: binding)
        let existing = try open(path, binding)
        defer { existing?.close() }
        if existing == nil, writes.contains(where: { if case .create = $0 { false } else { true } }) {
            throw missingFile(binding)
        }

        // The writes for each record, in batch order.
        var plan: [ExternalID: [Int]] = [:]
        var order: [ExternalID] = []
        var mentioned: Set<String> = []
        for (index, write) in writes.enumerated() {
            let id: ExternalID
            switch write {
            case .create(let key, let fields):
                id = Self.externalID(fields.value(atPath: binding.idField)) ?? ExternalID(key)
                mentioned.formUnion(fields.keys)
                mentioned.insert(binding.idField)
            case .update(let target, let fields):
                id = target
                mentioned.formUnion(fields.keys)
            case .delete(let target):
                id = target
            }
            if plan[id] == nil { order.append(id) }
            plan[id, default: []].append(index)
        }

        let fileLayout = existing?.layout
        var layout = fileLayout ?? format.newLayout(for: binding)
        let known = [binding.idField] + binding.fields
        let newNames = known.filter(mentioned.contains) + mentioned.subtracting(known).sorted()
        let grew = format.grow(&layout, for: newNames)

        let output = try io({ try AtomicFileWriter(replacing: path, mode: existing?.status.mode) }, binding)
        var sink = RewriteSink(writer: output)
        var changed = false
        var results = [SpokeWriteResult?](repeating: nil, count: writes.count)

        try run(binding) {
            changed = try writeHead(of: existing, layout: layout, grew: grew, to: &sink)

            // Existing rows: copied, changed or dropped.
            if var file = existing, let fileLayout {
                let source = file.descriptor
                try copyRows(of: &file, fileLayout: fileLayout, layout: layout, binding: binding, to: &sink) { row, id, bytes, sink in
                    guard let indices = plan.removeValue(forKey: id) else {
                        try sink.raw(bytes, from: source)
                        return
                    }
                    var state: Format.Row? = row
                    let modified = apply(indices, of: writes, to: &state, id: id, layout: layout, binding: binding, results: &results)
                    if let state, modified {
                        var encoded: [UInt8] = []
                        format.encode(state, layout: layout, to: &encoded)
                        try sink.encoded(encoded)
                    } else if state != nil {
                        try sink.raw(bytes, from: source)
                    }
                    changed = changed || modified
                }
            }

            // Records not in the file: created at the end.
            for id in order {
                guard let indices = plan[id] else { continue }
                var state: Format.Row?
                _ = apply(indices, of: writes, to: &state, id: id, layout: layout, binding: binding, results: &results)
                if let state {
                    var encoded: [UInt8] = []
                    format.encode(state, layout: layout, to: &encoded)
                    try sink.encoded(encoded)
                    changed = true
                }
            }
        }

        if changed {
            try io({ try output.commit() }, binding)
        } else {
            output.discard()
        }
        return results.map { $0 ?? .failed("not applied") }
    }

    /// Starts a rewrite: the file's byte order mark and its layout, as they are or (when the
    /// layout `grew`, or the file is new) re-encoded. Returns true when the layout changed.
    func writeHead(of existing: OpenFile?, layout: Format.Layout, grew: Bool, to sink: inout RewriteSink) throws -> Bool {
        if existing?.hasByteOrderMark == true { try sink.raw(Self.byteOrderMark, isRow: false) }
        if let existing, existing.layout != nil, !grew {
            try sink.raw(existing.layoutBytes, isRow: true)
            return false
        }
        var header: [UInt8] = []
        if format.encodeLayout(layout, to: &header) {
            sink.adoptLineEnding(from: existing?.layoutBytes ?? [])
            try sink.encoded(header)
        }
        return existing?.layout != nil
    }

    /// Reads `file`'s rows to its end for a rewrite: blank rows, rows that cannot be read and
    /// rows without an ID are copied as they are; every other row goes to `body` with its ID and
    /// its bytes, to copy, re-encode or drop. Throws when two rows have one ID.
    func copyRows(of file: inout OpenFile, fileLayout: Format.Layout, layout: Format.Layout, binding: ObjectBinding,
                  to sink: inout RewriteSink,
                  _ body: (Format.Row, ExternalID, ByteReader.Capture, inout RewriteSink) throws -> Void) throws {
        var lines: [ExternalID: Int] = [:]
        while true {
            let line = file.reader.line
            // A row is kept as bytes up to a little over the record limit; past it, it is
            // copied from the file by position (a row that large is unreadable anyway).
            file.reader.startCapture(limit: options.maxRecordBytes + 4)
            guard let row = try format.readRow(&file.reader, layout: fileLayout) else { return }
            let bytes = file.reader.takeCapture()
            // Blank rows and rows that cannot be read are kept byte for byte.
            if format.isBlank(row) || format.problem(of: row) != nil {
                try sink.raw(bytes, from: file.descriptor)
                continue
            }
            guard let id = try? recordID(row, layout: layout, binding: binding, line: line) else {
                try sink.raw(bytes, from: file.descriptor)
                continue
            }
            if let first = lines.updateValue(line, forKey: id) {
                throw FileSyntaxError(line: line, message: "the row's ID is already used on line \(first)")
            }
            try body(row, id, bytes, &sink)
        }
    }

    /// Applies one record's writes, in order, to its row (nil: no row). Returns true when the
    /// row's content changed.
    private func apply(_ indices: [Int], of writes: [SpokeWrite], to state: inout Format.Row?, id: ExternalID,
                       layout: Format.Layout, binding: ObjectBinding, results: inout [SpokeWriteResult?]) -> Bool {
        var modified = false
        for index in indices {
            switch writes[index] {
            case .create(let key, var fields):
                if state != nil {
                    // The hub's key is the ID: a row with it is this create, applied before
                    // (a run stopped before recording the answer). Any other ID is a clash.
                    results[index] = id.rawValue == key ? .created(id) : .failed("a record with this ID already exists")
                    continue
                }
                if Self.externalID(fields.value(atPath: binding.idField)) == nil {
                    fields.setValue(.string(id.rawValue), atPath: binding.idField, nested: format.nestedPaths)
                }
                state = format.makeRow(fields, layout: layout)
                modified = true
                results[index] = .created(id)
            case .update(_, let fields):
                guard var row = state else {
                    results[index] = .notFound
                    continue
                }
                // Compared as bytes: text that is only canonically equivalent (é and e + ◌́) is a change.
                let before = JSONWriter.bytes(.object(format.fields(of: row, layout: layout)))
                format.update(&row, with: fields, binding: binding, layout: layout)
                if JSONWriter.bytes(.object(format.fields(of: row, layout: layout))) != before {
                    state = row
                    modified = true
                }
                results[index] = .updated
            case .delete:
                if state != nil {
                    state = nil
                    modified = true
                }
                results[index] = .deleted
            }
        }
        return modified
    }
}

/// Writes a rewritten file's rows, keeping its line ends: the first line end in the file is
/// used for re-encoded rows, and a last row without one gets one before anything follows it.
struct RewriteSink {
    let writer: AtomicFileWriter
    private var lineEnding: [UInt8] = [0x0A]
    private var lineEndingKnown = false
    private var needsLineEnd = false

    init(writer: AtomicFileWriter) { self.writer = writer }

    /// Uses the line end of `bytes` (CRLF or LF) for re-encoded rows, if it has one.
    mutating func adoptLineEnding(from bytes: [UInt8]) {
        guard !lineEndingKnown, bytes.last == 0x0A else { return }
        lineEnding = bytes.count >= 2 && bytes[bytes.count - 2] == 0x0D ? [0x0D, 0x0A] : [0x0A]
        lineEndingKnown = true
    }

    /// Copies a row as it was in the file: its captured bytes, or its range of `source`.
    mutating func raw(_ capture: ByteReader.Capture, from source: Int32) throws(FileIOError) {
        switch capture {
        case .bytes(let bytes):
            try raw(bytes, isRow: true)
        case .range(let offset, let count):
            guard count > 0 else { return }
            if needsLineEnd { try writer.write(lineEnding) }
            try writer.copy(from: source, offset: offset, count: count)
            // The last two bytes tell whether the row ended with a line end, and which one.
            var tail = [UInt8](repeating: 0, count: min(2, count))
            let read = tail.withUnsafeMutableBytes { pread(source, $0.baseAddress, $0.count, off_t(offset + count - $0.count)) }
            guard read == tail.count else { throw FileIOError(operation: "read", code: EIO) }
            adoptLineEnding(from: tail)
            needsLineEnd = tail.last != 0x0A && tail.last != 0x0D
        }
    }

    /// Copies bytes as they were in the file.
    mutating func raw(_ bytes: [UInt8], isRow: Bool) throws(FileIOError) {
        guard !bytes.isEmpty else { return }
        if needsLineEnd { try writer.write(lineEnding) }
        try writer.write(bytes)
        if isRow {
            adoptLineEnding(from: bytes)
            needsLineEnd = bytes.last != 0x0A && bytes.last != 0x0D
        }
    }

    /// Writes a re-encoded row and a line end.
    mutating func encoded(_ bytes: [UInt8]) throws(FileIOError) {
        if needsLineEnd { try writer.write(lineEnding) }
        try writer.write(bytes)
        try writer.write(lineEnding)
        needsLineEnd = false
    }
}
