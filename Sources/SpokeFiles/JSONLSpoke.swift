import HubCore

/// A spoke over the JSON Lines files of a directory: each bound object is one file holding one
/// JSON object per line.
///
/// - Records may nest; dotted field names (`properties.email`) reach into nested objects. An
///   update sets each mapped field whole: with `properties.email` mapped, the other keys of
///   `properties` are kept; a field mapped to `prefs` (an object) replaces `prefs` entirely.
/// - The ID is the `idField` value, a string or a number (its text is the ``ExternalID``). A
///   create writes the ID its fields set, or else the hub's key as a string.
/// - Blank lines are skipped and kept. A line that is not a JSON object, a record without an ID,
///   or two records with one ID are ``SpokeError/Kind/malformed`` errors naming the line.
/// - Pushes, missing files, symbolic links, invalid UTF-8, the record size limit and cursors work
///   as for ``CSVSpoke``: one atomic rewrite per push of
///   creates (per batch for updates and deletes), untouched lines keep their bytes, changed
///   records are written as compact JSON with sorted keys (a NUL as `\u0000`), and a missing file
///   is a ``SpokeError/Kind/missingObject`` error until a push of creates makes it.
public struct JSONLSpoke: Spoke {
    public let system: SystemName
    /// The directory holding the files.
    public let directory: String
    public var capabilities: SpokeCapabilities {
        SpokeCapabilities(incrementalReads: true, tombstones: false, batchWrites: true)
    }

    let store: FileTableStore<JSONLFormat>

    /// Creates a spoke over the JSON Lines files in `directory` (an empty path means the current
    /// directory). `options.formulaGuard` does not apply to JSON Lines.
    public init(system: SystemName, directory: String, options: FileOptions = FileOptions()) {
        self.system = system
        self.directory = directory.isEmpty ? "." : directory
        store = FileTableStore(system: system, directory: self.directory, format: JSONLFormat(options: options))
    }

    /// Checks the directory and each file to its end; a file that does not exist yet is
    /// reported as missing, with a warning.
    public func check(_ objects: [ObjectBinding]) async throws -> [SpokeCheckResult] {
        try objects.map { try store.check($0) }
    }

    /// Nil (counting records takes a read of the file), or `.missingObject` when the file does not exist.
    public func count(_ object: ObjectBinding) async throws -> Int? {
        try store.count(object)
    }

    public func read(_ object: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> SpokePage {
        try store.read(object, after: cursor, limit: limit)
    }

    public func scanIDs(_ object: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> IDPage {
        try store.scanIDs(object, after: cursor, limit: limit)
    }

    /// Creates use the hub's key as the record's ID, so a create is found by fetching its key.
    public func lookupCreated(_ object: ObjectBinding, keys: [String]) async throws -> [String: ExternalID]? {
        let found = Set(try await fetch(object, ids: keys.map(ExternalID.init)).map(\.id))
        var out: [String: ExternalID] = [:]
        for key in keys where found.contains(ExternalID(key)) { out[key] = ExternalID(key) }
        return out
    }

    public func fetch(_ object: ObjectBinding, ids: [ExternalID]) async throws -> [SpokeRecord] {
        try store.fetch(object, ids: ids)
    }

    public func write(_ object: ObjectBinding, _ writes: [SpokeWrite]) async throws -> [SpokeWriteResult] {
        try store.write(object, writes)
    }

    /// Creates of a whole push go into one rewrite of the file (see ``StagedCreates``).
    public func stageCreates(_ object: ObjectBinding) async throws -> (any StagedCreates)? {
        store.stageCreates(object)
    }

    /// The .jsonl files of the directory and the fields their first records hold.
    public func discover(_ objects: [ObjectBinding]) async throws -> SpokeSchema {
        try store.discover(objects, fileExtension: ".jsonl", typed: true)
    }
}
