import HubCore

/// The creates of one push to one file, streamed into a single rewrite: the first batch copies
/// the file's rows (their bytes as they are) into the replacement, every batch appends its new
/// rows, and ``commit()`` moves the replacement into place atomically (``AtomicFileWriter``) —
/// one pass over the file per run, however many batches, instead of one rewrite per batch.
///
/// A create's ID is its key (a create whose fields set another ID is not staged). A batch with a
/// key that is already a row's ID is not staged either: ``FileTableStore/write(_:_:)`` answers it
/// with that row (creates are idempotent by key).
/// The commit refuses, writing nothing, when the file changed since the first batch read it:
/// the staged rows would overwrite that change.
actor FileStagedCreates<Format: FileTableFormat>: StagedCreates {
    let store: FileTableStore<Format>
    let binding: ObjectBinding

    /// The replacement being written, once the first batch is staged.
    private var output: AtomicFileWriter?
    private var sink: RewriteSink?
    private var layout: Format.Layout?
    /// The file's fingerprint when it was copied; nil when there was no file.
    private var original: String?
    /// Hashes of the IDs of the file's rows and of the staged ones: 16 bytes or so per row
    /// rather than the ID's text (a million-row file). A batch with a create whose ID hashes
    /// like one of them is not staged; the rewrite of ``FileTableStore/write(_:_:)`` then
    /// compares the IDs themselves.
    private var ids: Set<Int> = []
    /// Whether the replacement differs from the file (a new header or new rows).
    private var changed = false

    init(store: FileTableStore<Format>, binding: ObjectBinding) {
        self.store = store
        self.binding = binding
    }

    func stage(_ writes: [SpokeWrite]) async throws -> Bool {
        guard !writes.isEmpty else { return true }
        var creates: [(id: ExternalID, fields: [String: Value])] = []
        var mentioned: Set<String> = [binding.idField]
        for write in writes {
            guard case .create(let key, let fields) = write else { return false }
            let id = FileTableStore<Format>.externalID(fields.value(atPath: binding.idField)) ?? ExternalID(key)
            guard id.rawValue == key else { return false }
            creates.append((id, fields))
            mentioned.formUnion(fields.keys)
        }
        let known = [binding.idField] + binding.fields
        let names = known.filter(mentioned.contains) + mentioned.subtracting(known).sorted()
        if var layout {
            // The header is written: a batch that needs more columns waits for a rewrite.
            guard !store.format.grow(&layout, for: names) else { return false }
        } else {
            try start(growingFor: names)
        }
        guard let layout, var sink else { return false }
        var batch: Set<Int> = []
        for (id, _) in creates where ids.contains(id.hashValue) || !batch.insert(id.hashValue).inserted { return false }
        do {
            for case (let id, var fields) in creates {
                ids.insert(id.hashValue)
                if FileTableStore<Format>.externalID(fields.value(atPath: binding.idField)) == nil {
                    fields.setValue(.string(id.rawValue), atPath: binding.idField, nested: store.format.nestedPaths)
                }
                var encoded: [UInt8] = []
                store.format.encode(store.format.makeRow(fields, layout: layout), layout: layout, to: &encoded)
                try sink.encoded(encoded)
                changed = true
            }
        } catch {
            // A row may be half written: nothing staged is kept.
            await discard()
            throw store.spokeError(error, binding)
        }
        self.sink = sink
        return true
    }

    /// Opens the replacement and copies the file into it: its byte order mark, its layout
    /// (grown for `names`) and every row as it is, noting their IDs.
    private func start(growingFor names: [String]) throws {
        let path = try store.path(for: binding)
        let existing = try store.open(path, binding)
        defer { existing?.close() }
        var layout = existing?.layout ?? store.format.newLayout(for: binding)
        let grew = store.format.grow(&layout, for: names)
        let output: AtomicFileWriter
        do {
            output = try AtomicFileWriter(replacing: path, mode: existing?.status.mode)
        } catch {
            throw store.spokeError(error, binding)
        }
        var sink = RewriteSink(writer: output)
        var ids: Set<Int> = []
        let changed: Bool
        do {
            changed = try store.writeHead(of: existing, layout: layout, grew: grew, to: &sink)
            if var file = existing, let fileLayout = file.layout {
                let source = file.descriptor
                try store.copyRows(of: &file, fileLayout: fileLayout, layout: layout, binding: binding, to: &sink) {
                    _, id, bytes, sink in
                    ids.insert(id.hashValue)
                    try sink.raw(bytes, from: source)
                }
            }
        } catch {
            output.discard()
            throw store.spokeError(error, binding)
        }
        self.changed = changed
        self.output = output
        self.sink = sink
        self.layout = layout
        self.ids = ids
        original = existing?.status.fingerprint
    }

    func commit() async throws {
        guard let output else { return }
        defer { self.output = nil; sink = nil; layout = nil; ids = [] }
        guard changed else { return output.discard() }
        let now: FileSystem.Status?
        do {
            now = try FileSystem.status(output.destination)
        } catch {
            output.discard()
            throw store.spokeError(error, binding)
        }
        guard now?.fingerprint == original else {
            output.discard()
            throw SpokeError(.unavailable, system: store.system, object: binding.object,
                             message: "'\(binding.object)' in '\(store.directory)' changed while hubctl was adding records to it; "
                                + "nothing was written, and the records go out again with the next sync")
        }
        do {
            try output.commit()
        } catch {
            output.discard()
            throw store.spokeError(error, binding)
        }
    }

    func discard() async {
        output?.discard()
        output = nil
        sink = nil
        layout = nil
        ids = []
    }
}

extension FileTableStore {
    /// Stages the creates of one push to the binding's file (see ``FileStagedCreates``).
    func stageCreates(_ binding: ObjectBinding) -> FileStagedCreates<Format> {
        FileStagedCreates(store: self, binding: binding)
    }
}
