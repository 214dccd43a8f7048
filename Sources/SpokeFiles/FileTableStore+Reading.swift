import HubCore

extension FileTableStore {
    /// Reads one page from the position the cursor holds (see ``FilePosition``).
    ///
    /// Without a `cursorField`, every data row is read and the last page's `next` is nil. With
    /// one, a read from `nil` is a full read (rows whose cursor cell is empty included), and
    /// the last page's `next` starts the next run at the highest cursor value seen; a read from
    /// there returns only rows whose cursor value is at least that (numbers compare as numbers,
    /// other values as text), so rows with an empty cursor come only with full reads.
    func read(_ binding: ObjectBinding, after cursor: Cursor?, limit: Int) throws -> SpokePage {
        let limit = max(1, limit)
        guard var position = FilePosition(cursor) else { throw badCursor(binding) }
        let cursorField = binding.cursorField
        if cursorField == nil { position.isIncremental = false }
        let path = try path(for: binding)

        /// Where the next run starts, once this one has read everything.
        func nextRun(_ highest: Value?) -> Cursor? {
            guard cursorField != nil else { return nil }
            var since = position.since
            if let highest, since.map({ CursorOrder.less($0, highest) }) ?? true { since = highest }
            return FilePosition(offset: nil, isIncremental: true, since: since).cursor
        }

        guard var file = try open(path, binding) else { return SpokePage(records: [], next: nextRun(position.max), isLast: true) }
        defer { file.close() }
        guard let layout = file.layout else { return SpokePage(records: [], next: nextRun(position.max), isLast: true) }
        if let offset = position.offset, position.fingerprint == file.status.fingerprint, offset >= file.reader.offset {
            try seek(&file, to: offset, line: position.line, binding)
        }
        // Otherwise: the start of the run, or the file changed since the cursor was made, and the
        // read starts again from the first row (keeping `since` and `max`).

        let fingerprint = file.status.fingerprint
        var records: [SpokeRecord] = []
        var invalid: [InvalidRecord] = []
        var highest = position.max
        var next: FilePosition?
        try run(binding) {
            try forEachRow(in: &file, layout: layout, binding: binding, invalid: { invalid.append($0) }) { row, id, offset, line in
                let value = cursorField.flatMap { format.value(of: row, field: $0, layout: layout) }
                if position.isIncremental {
                    guard let value, !CursorOrder.isEmpty(value) else { return true }
                    if let since = position.since, CursorOrder.less(value, since) { return true }
                }
                if records.count == limit {
                    next = FilePosition(offset: offset, line: line, fingerprint: fingerprint,
                                        isIncremental: position.isIncremental, since: position.since, max: highest)
                    return false
                }
                records.append(SpokeRecord(id: id, fields: format.fields(of: row, layout: layout)))
                if let value, !CursorOrder.isEmpty(value), highest.map({ CursorOrder.less($0, value) }) ?? true {
                    highest = value
                }
                return true
            }
        }
        let schema = format.schema(layout, records: records, binding: binding)
        if let next { return SpokePage(records: records, next: next.cursor, isLast: false, invalid: invalid, schema: schema) }
        return SpokePage(records: records, next: nextRun(highest), isLast: true, invalid: invalid, schema: schema)
    }

    /// Lists the IDs of all data rows, page by page; the last page's `next` is nil.
    func scanIDs(_ binding: ObjectBinding, after cursor: Cursor?, limit: Int) throws -> IDPage {
        let limit = max(1, limit)
        guard let position = FilePosition(cursor) else { throw badCursor(binding) }
        let path = try path(for: binding)
        guard var file = try open(path, binding) else { return IDPage(ids: [], next: nil, isLast: true) }
        defer { file.close() }
        guard let layout = file.layout else { return IDPage(ids: [], next: nil, isLast: true) }
        if let offset = position.offset, position.fingerprint == file.status.fingerprint, offset >= file.reader.offset {
            try seek(&file, to: offset, line: position.line, binding)
        }
        let fingerprint = file.status.fingerprint
        var ids: [ExternalID] = []
        var next: FilePosition?
        try run(binding) {
            try forEachRow(in: &file, layout: layout, binding: binding) { _, id, offset, line in
                if ids.count == limit {
                    next = FilePosition(offset: offset, line: line, fingerprint: fingerprint, isIncremental: false)
                    return false
                }
                ids.append(id)
                return true
            }
        }
        return IDPage(ids: ids, next: next?.cursor, isLast: next == nil)
    }

    /// Fetches records by ID in one pass over the file.
    func fetch(_ binding: ObjectBinding, ids: [ExternalID]) throws -> [SpokeRecord] {
        var wanted = Set(ids)
        guard !wanted.isEmpty else { return [] }
        let path = try path(for: binding)
        guard var file = try open(path, binding) else { return [] }
        defer { file.close() }
        guard let layout = file.layout else { return [] }
        var records: [SpokeRecord] = []
        try run(binding) {
            try forEachRow(in: &file, layout: layout, binding: binding) { row, id, _, _ in
                if wanted.remove(id) != nil { records.append(SpokeRecord(id: id, fields: format.fields(of: row, layout: layout))) }
                return !wanted.isEmpty
            }
        }
        return records
    }

    /// Checks the directory and each file: its layout, every row and every ID.
    ///
    /// A file that does not exist yet is not a problem: reads find it empty and the first push
    /// creates it. Columns the mapping names but the CSV header lacks are not problems either:
    /// they read as empty and a push adds them. A missing directory, a malformed file (checked
    /// to the end, so a sync does not stop halfway on it), a CSV header without the ID column
    /// (when rows exist), a row without an ID, or two rows with one ID are.
    func check(_ binding: ObjectBinding) throws -> [String] {
        let path: String
        do {
            path = try self.path(for: binding)
        } catch let error as SpokeError where error.kind == .configuration {
            return [error.message]
        }
        do {
            guard var file = try open(path, binding) else { return [] }
            defer { file.close() }
            guard let layout = file.layout else { return [] }
            let afterLayout = (offset: file.reader.offset, line: file.reader.line)
            var hasRows = false
            while let row = try format.readRow(&file.reader, layout: layout), !hasRows {
                hasRows = !format.isBlank(row)
            }
            let problems = format.problems(layout, binding: binding, hasRows: hasRows)
            guard problems.isEmpty, hasRows else { return problems }
            try seek(&file, to: afterLayout.offset, line: afterLayout.line, binding)
            var lines: [ExternalID: Int] = [:]
            var invalid: [String] = []
            try forEachRow(in: &file, layout: layout, binding: binding, invalid: { invalid.append("\($0.pointer): \($0.message)") }) {
                _, id, _, line in
                if let first = lines.updateValue(line, forKey: id) {
                    throw FileSyntaxError(line: line, message: "the row's ID is already used on line \(first)")
                }
                return true
            }
            return invalid.map { "'\(binding.object)' \($0) (the row is skipped and quarantined by each sync)" }
        } catch let error as SpokeError where error.kind == .malformed {
            return [error.message]
        } catch let error as FileSyntaxError {
            return [(spokeError(error, binding) as? SpokeError)?.message ?? "\(error)"]
        }
    }

    func badCursor(_ binding: ObjectBinding) -> SpokeError {
        SpokeError(.configuration, system: system, object: binding.object,
                   message: "the stored cursor is not a file read position; reset the cursor to read from the start")
    }
}
