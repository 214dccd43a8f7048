/// A connected system, as the engine sees it: read pages of records, write batches of changes.
///
/// Implementation requirements (checked by `SpokeConformance` in HubTesting, which every
/// adapter must pass):
/// - `read` pages neither drop nor duplicate records; restarting from any page's `next` cursor
///   continues exactly after that page.
/// - With a `cursorField`, a read from the last page's cursor returns only records changed since,
///   except that records read within the binding's `cursorLookback` may be read again (the
///   engine recognises them as unchanged); with a zero lookback, a run skips every record the
///   previous run read and no change since.
/// - `write` is idempotent for updates and deletes: applying the same batch twice leaves the
///   same state. A create carries the hub's key; where the system keeps no ID of its own, the
///   adapter uses that key as the new record's ID. Where it can, the adapter makes creates
///   idempotent by key too (a create whose key already exists answers `.created` with the
///   existing record's ID) and implements `lookupCreated`.
/// - A record written by `write` reads back with the written values.
/// - Spokes never see the hub: the engine owns cursors and links, the adapter only interprets them.
///
/// For example, the engine reads a whole object like this:
/// ```swift
/// var cursor = storedCursor
/// repeat {
///     let page = try await spoke.read(binding, after: cursor, limit: 500)
///     // … merge page.records into the hub and store page.next in the same transaction …
///     cursor = page.next
/// } while !page.isLast
/// ```
public protocol Spoke: Sendable {
    /// The system's name in the topology.
    var system: SystemName { get }

    /// What the adapter can do; the engine adapts to it.
    var capabilities: SpokeCapabilities { get }

    /// How every spoke of this adapter maps records (default: flat, empty text is a value).
    static var traits: AdapterTraits { get }

    /// How this spoke's records map (default: the adapter's ``traits``).
    var traits: AdapterTraits { get }

    /// Checks that the system is reachable and that each object and field exists.
    func check(_ objects: [ObjectBinding]) async throws -> [SpokeCheckResult]

    /// Reads one page of records after `cursor` (`nil` = from the start).
    ///
    /// With a `cursorField`, records come in increasing cursor order and the last page's `next`
    /// is where the next run starts. Without one, the read is a full scan and `next` is only a
    /// position within it.
    func read(_ object: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> SpokePage

    /// True when a read of `object` can start where the previous run's last page stopped, so
    /// the engine keeps each page's `next` as the object's cursor. Has a default: a `cursorField`
    /// and ``SpokeCapabilities/incrementalReads``. An adapter that reads changes another way (a
    /// database's change log) says so here.
    func readsIncrementally(_ object: ObjectBinding) -> Bool

    /// True when the adapter can read `object` in parts (``read(_:partition:after:limit:)``): a
    /// table read without a cursor. Has a default: false.
    func readsPartitions(_ object: ObjectBinding) -> Bool

    /// Reads one page of a full scan of `object`, keeping only the records of `partition`; `next`
    /// is a position within the part, nil after its last page. Has a default that throws (an
    /// adapter says it can with ``readsPartitions(_:)``).
    func read(_ object: ObjectBinding, partition: IDPartition, after cursor: Cursor?, limit: Int) async throws -> SpokePage

    /// Lists the IDs of all records, page by page (cheap; used to detect deletes).
    func scanIDs(_ object: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> IDPage

    /// Fetches records by ID. IDs that do not exist are left out of the result.
    func fetch(_ object: ObjectBinding, ids: [ExternalID]) async throws -> [SpokeRecord]

    /// Applies a batch of writes and returns one result per write, in order.
    ///
    /// A record-level failure is a `.failed` result; a system-level failure (unreachable, the
    /// file cannot be written) throws.
    func write(_ object: ObjectBinding, _ writes: [SpokeWrite]) async throws -> [SpokeWriteResult]

    /// Finds records created with these keys; nil when the system cannot tell. Has a default
    /// (nil) for adapters without the capability.
    func lookupCreated(_ object: ObjectBinding, keys: [String]) async throws -> [String: ExternalID]?

    /// How many records the object holds, when the system can tell cheaply; nil otherwise
    /// (the default). The engine uses it to skip ID scans when no record can be missing.
    func count(_ object: ObjectBinding) async throws -> Int?

    /// Lists the objects and fields the system has (`hubctl discover`), with their types.
    ///
    /// `objects` are the topology's bindings: systems without a catalog (a REST API) sample
    /// those; systems with one (a database) list everything. Has a default that throws, so an
    /// adapter without discovery still compiles.
    func discover(_ objects: [ObjectBinding]) async throws -> SpokeSchema

    /// Starts staging creates for `object` (see ``StagedCreates``); nil (the default) when the
    /// adapter applies each batch as it comes.
    func stageCreates(_ object: ObjectBinding) async throws -> (any StagedCreates)?
}

extension Spoke {
    public static var traits: AdapterTraits { AdapterTraits() }
    public var traits: AdapterTraits { Self.traits }

    /// Finds records created with these keys (the `key` of ``SpokeWrite/create(key:fields:)``),
    /// so that a run stopped between sending a create and recording its answer neither loses
    /// nor duplicates it.
    ///
    /// - Returns: the ID of each key's record, for the keys that exist; nil when the system
    ///   offers no way to tell (then an unanswered create is parked for a person, never re-sent).
    public func lookupCreated(_ object: ObjectBinding, keys: [String]) async throws -> [String: ExternalID]? {
        nil
    }

    /// Incremental where the mapping names a cursor field and the adapter reads from one.
    public func readsIncrementally(_ object: ObjectBinding) -> Bool {
        object.cursorField != nil && capabilities.incrementalReads
    }

    /// No partitioned reads by default.
    public func readsPartitions(_ object: ObjectBinding) -> Bool { false }

    public func read(_ object: ObjectBinding, partition: IDPartition, after cursor: Cursor?, limit: Int) async throws -> SpokePage {
        throw SpokeError(.configuration, system: system, object: object.object,
                         message: "this kind of system cannot read its records in parts; remove \"partitions\" from its mapping")
    }

    /// No cheap count by default.
    public func count(_ object: ObjectBinding) async throws -> Int? { nil }

    /// Each batch is applied as it comes by default.
    public func stageCreates(_ object: ObjectBinding) async throws -> (any StagedCreates)? { nil }
}

/// What a spoke adapter supports.
public struct SpokeCapabilities: Sendable, Hashable {
    /// Reads can start from a cursor (needs a `cursor` field in the mapping).
    public var incrementalReads: Bool
    /// Reads report deleted records (tombstones).
    public var tombstones: Bool
    /// Writes of several records are applied together.
    public var batchWrites: Bool
    /// The adapter retries failed requests itself (with its own backoff, honouring the system's
    /// `Retry-After`), so the engine does not retry its calls again on top.
    public var retriesRequests: Bool

    public init(incrementalReads: Bool, tombstones: Bool, batchWrites: Bool, retriesRequests: Bool = false) {
        self.incrementalReads = incrementalReads
        self.tombstones = tombstones
        self.batchWrites = batchWrites
        self.retriesRequests = retriesRequests
    }
}

/// What the engine tells a spoke about one mapped object.
public struct ObjectBinding: Sendable, Hashable {
    /// The canonical entity stored in this object.
    public var entity: EntityName
    /// Table, file, collection or endpoint.
    public var object: String
    /// The field holding the system's own ID.
    public var idField: String
    /// A field that increases on every change, for incremental reads.
    public var cursorField: String?
    /// Seconds after a read within which rows may still appear at or below the cursor position
    /// it reached (long transactions committing older values, edits within one timestamp):
    /// adapters reading by keyset read such recent positions again (see ``KeysetRun``).
    public var cursorLookback: Double
    /// Every system field (or dotted path) the mapping reads or writes.
    public var fields: [String]

    /// The lookback when a mapping sets none: five minutes.
    public static let defaultCursorLookback: Double = 300

    public init(entity: EntityName, object: String, idField: String = "id", cursorField: String? = nil,
                cursorLookback: Double = ObjectBinding.defaultCursorLookback, fields: [String]) {
        self.entity = entity
        self.object = object
        self.idField = idField
        self.cursorField = cursorField
        self.cursorLookback = cursorLookback
        self.fields = fields
    }
}

/// An opaque read position. Adapters define what is inside; the engine stores it as text.
public struct Cursor: Sendable, Hashable, CustomStringConvertible {
    public var value: String
    public init(_ value: String) { self.value = value }
    public var description: String { value }
}

/// One record read from a system.
public struct SpokeRecord: Sendable, Hashable {
    /// The system's ID of the record.
    public var id: ExternalID
    /// The record's fields, keyed by system field name; nested objects for nested data.
    public var fields: [String: Value]

    public init(id: ExternalID, fields: [String: Value]) {
        self.id = id
        self.fields = fields
    }
}

/// One page of a read.
public struct SpokePage: Sendable {
    /// Records created or changed.
    public var records: [SpokeRecord]
    /// Records the system reports deleted (tombstones), where it has them.
    public var deleted: [ExternalID]
    /// Where the read continues after this page, or where the next run starts after the last page.
    public var next: Cursor?
    /// True when nothing follows this page.
    public var isLast: Bool
    /// Records the adapter could not read (a malformed line); the rest of the page is good.
    public var invalid: [InvalidRecord]
    /// The object's fields as this read found them, for schema drift detection, where the
    /// adapter knows them at no extra cost: the columns a database's catalog lists (the same
    /// lookup the read makes), a CSV header, or the fields of this page's records (`fromSample`:
    /// JSON files and APIs). Nil when the adapter cannot tell; the engine then asks `discover`.
    public var schema: DiscoveredObject?

    public init(records: [SpokeRecord], deleted: [ExternalID] = [], next: Cursor?, isLast: Bool,
                invalid: [InvalidRecord] = [], schema: DiscoveredObject? = nil) {
        self.records = records
        self.deleted = deleted
        self.next = next
        self.isLast = isLast
        self.invalid = invalid
        self.schema = schema
    }
}

/// A record a system holds that its adapter cannot read, with where it is.
public struct InvalidRecord: Sendable, Hashable {
    /// The record's ID, when it could be read.
    public var id: ExternalID?
    /// Where it is: `line 7`.
    public var pointer: String
    /// What is wrong, without the record's values.
    public var message: String

    public init(id: ExternalID?, pointer: String, message: String) {
        self.id = id
        self.pointer = pointer
        self.message = message
    }
}

/// One page of an ID scan.
public struct IDPage: Sendable {
    public var ids: [ExternalID]
    public var next: Cursor?
    public var isLast: Bool
    public init(ids: [ExternalID], next: Cursor?, isLast: Bool) {
        self.ids = ids
        self.next = next
        self.isLast = isLast
    }
}

/// A change the engine asks a spoke to make.
public enum SpokeWrite: Sendable, Hashable {
    /// Create a record. `key` is the hub's deterministic key for it (the hub ID); an adapter
    /// whose system does not assign IDs uses it as the new record's ID.
    case create(key: String, fields: [String: Value])
    /// Set the given fields of an existing record.
    case update(id: ExternalID, fields: [String: Value])
    /// Remove a record. Deleting a record that is already gone succeeds.
    case delete(id: ExternalID)
}

/// What happened to one write.
public enum SpokeWriteResult: Sendable, Hashable {
    case created(ExternalID)
    case updated
    case deleted
    /// The record to update does not exist (any more).
    case notFound
    /// The system rejected this record; the others in the batch are unaffected.
    case failed(String)
    /// The write was not sent: the system became unavailable partway through the batch. The
    /// engine sends it again on a later run (nothing is quarantined).
    case notSent(String)
    /// A create was sent but its outcome is unknown (no answer, and no way to repeat it safely
    /// or look it up): the engine parks it for a person rather than risk a duplicate.
    case indeterminate(String)
}

extension SpokeWriteResult {
    /// True for `.failed`.
    public var isFailure: Bool { if case .failed = self { return true } else { return false } }
}

/// The outcome of checking one object.
public struct SpokeCheckResult: Sendable, Hashable {
    public var object: String
    /// What stops the object from syncing (a missing table, a missing column).
    public var problems: [String]
    /// What may be wrong but cannot be proven (a field no sampled record of an API has).
    public var warnings: [String]
    /// Set when the object itself (a file) does not exist yet but the first push would create
    /// it: what is missing, in words (`'people.csv' does not exist in 'sheet'`). `hubctl check`
    /// makes that a problem when the hub has records linked to the object.
    public var missingObject: String?
    public init(object: String, problems: [String], warnings: [String] = [], missingObject: String? = nil) {
        self.object = object
        self.problems = problems
        self.warnings = warnings
        self.missingObject = missingObject
    }
}
