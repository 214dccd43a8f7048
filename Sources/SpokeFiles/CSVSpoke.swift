import HubCore

/// A spoke over the CSV files of a directory: each bound object is one file, read and
/// rewritten by hubctl's own streaming RFC 4180 parser and writer.
///
/// - The first row is the header; `idField` names the ID column and rows are records. A UTF-8
///   byte order mark, CRLF or LF line ends, and quoted cells holding delimiters, quotes and line
///   breaks are all understood, and kept on rewrite.
/// - Every cell reads as a string, and an empty cell reads as null: CSV cannot tell null from
///   an empty string, so writing `""` reads back as null. Writes put null as an empty cell,
///   numbers and booleans as text, objects and arrays as JSON.
/// - Files never assign IDs: a create uses the ID its fields set, or else the hub's key.
/// - A push rewrites the file atomically; rows it does not change keep their bytes. New rows
///   are staged (``stageCreates(_:)``) into one rewrite per push, however many batches; a batch
///   that updates or deletes rewrites the file for itself. Columns a write needs that the
///   header lacks are added to it.
/// - A file (or directory) that does not exist is a ``SpokeError/Kind/missingObject`` error for
///   reads, ID scans, fetches, counts and pushes holding an update or a delete; a push of creates
///   only creates it, with a header of the ID field and the binding's fields. `check` reports a
///   missing file as ``SpokeCheckResult/missingObject`` with a warning.
/// - Text a spreadsheet would run as a formula (`=…`, `+…`, `-…`, `@…`, a leading tab or CR) is
///   written with a leading `'` and read back without it (``FormulaGuard``), unless
///   `formulaGuard` is off. Numbers are never guarded.
/// - Cells that are not valid UTF-8 make their row invalid (reported in ``SpokePage/invalid``
///   and kept as it is), unless `invalidUTF8` is `.replace`. A row larger than
///   `maxRecordBytes` is invalid too, and copied as it is by rewrites.
/// - A file that is a symbolic link is read through it; a push replaces the link's target and
///   keeps the link.
/// - With a `cursorField`, a run after the first reads only rows whose cursor cell is at least
///   the previous run's highest value (numbers compare as numbers, other text as text); the
///   whole file is still read. Rows with an empty cursor cell come only with a full read.
/// - An unterminated quote, a row with more cells than the header, a header naming a column
///   twice, a data row without an ID, or two rows with one ID are ``SpokeError/Kind/malformed``
///   errors naming the line.
///
/// For example:
/// ```swift
/// let sheet = CSVSpoke(system: "sheet", directory: "exports", delimiter: ";")
/// let customers = ObjectBinding(entity: "customer", object: "customers.csv", idField: "Row ID",
///                               fields: ["Email", "First", "Last"])
/// let results = try await sheet.write(customers, [.create(key: hubID, fields: ["Email": "a@b.c"])])
/// ```
public struct CSVSpoke: Spoke {
    public let system: SystemName
    /// The directory holding the files.
    public let directory: String
    /// The cell delimiter: one ASCII character other than a quote or a line break.
    public let delimiter: Character
    /// Invalid UTF-8, the formula guard and the record size limit.
    public let options: FileOptions
    public var capabilities: SpokeCapabilities {
        SpokeCapabilities(incrementalReads: true, tombstones: false, batchWrites: true)
    }

    /// Creates a spoke over the CSV files in `directory` (an empty path means the current directory).
    public init(system: SystemName, directory: String, delimiter: Character = ",", options: FileOptions = FileOptions()) {
        self.system = system
        self.directory = directory.isEmpty ? "." : directory
        self.delimiter = delimiter
        self.options = options
    }

    func store() throws -> FileTableStore<CSVFormat> {
        guard let byte = delimiter.asciiValue, byte != UInt8(ascii: "\""), byte != 0x0A, byte != 0x0D else {
            throw SpokeError(.configuration, system: system,
                             message: "the CSV delimiter must be one ASCII character other than a quote or a line break")
        }
        return FileTableStore(system: system, directory: directory, format: CSVFormat(delimiter: byte, options: options))
    }

    /// Checks the directory and each file to its end; a file that does not exist yet is
    /// reported as missing, with a warning.
    public func check(_ objects: [ObjectBinding]) async throws -> [SpokeCheckResult] {
        let store = try store()
        return try objects.map { try store.check($0) }
    }

    /// Nil (counting rows takes a read of the file), or `.missingObject` when the file does not exist.
    public func count(_ object: ObjectBinding) async throws -> Int? {
        try store().count(object)
    }

    public func read(_ object: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> SpokePage {
        try store().read(object, after: cursor, limit: limit)
    }

    public func scanIDs(_ object: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> IDPage {
        try store().scanIDs(object, after: cursor, limit: limit)
    }

    /// Creates use the hub's key as the record's ID, so a create is found by fetching its key.
    public func lookupCreated(_ object: ObjectBinding, keys: [String]) async throws -> [String: ExternalID]? {
        let found = Set(try await fetch(object, ids: keys.map(ExternalID.init)).map(\.id))
        var out: [String: ExternalID] = [:]
        for key in keys where found.contains(ExternalID(key)) { out[key] = ExternalID(key) }
        return out
    }

    public func fetch(_ object: ObjectBinding, ids: [ExternalID]) async throws -> [SpokeRecord] {
        try store().fetch(object, ids: ids)
    }

    public func write(_ object: ObjectBinding, _ writes: [SpokeWrite]) async throws -> [SpokeWriteResult] {
        try store().write(object, writes)
    }

    /// Creates of a whole push go into one rewrite of the file (see ``StagedCreates``).
    public func stageCreates(_ object: ObjectBinding) async throws -> (any StagedCreates)? {
        try store().stageCreates(object)
    }

    /// The .csv files of the directory and the fields their first records hold.
    public func discover(_ objects: [ObjectBinding]) async throws -> SpokeSchema {
        try store().discover(objects, fileExtension: ".csv", typed: false)
    }
}
