import Foundation
import HubCore

/// A system held in memory, for engine tests: every object is a dictionary of records, every
/// change gets a sequence number (the cursor), and every write the engine makes is logged.
///
/// Edit it "from outside" with ``put(_:_:_:)`` and ``remove(_:_:)`` to simulate users of the
/// system; ``writeLog`` counts what the engine wrote.
public actor InMemorySpoke: Spoke {
    public nonisolated let system: SystemName
    public nonisolated let capabilities: SpokeCapabilities
    /// How its records map: by default as a JSON system (dotted paths reach into nested objects).
    public nonisolated let traits: AdapterTraits
    /// When true the spoke assigns IDs (`1`, `2`, …) on create; otherwise it uses the hub's key.
    public let assignsIDs: Bool

    struct Stored {
        var fields: [String: Value]
        var changeSeq: Int64
        var deleted: Bool
    }

    private var objects: [String: [ExternalID: Stored]] = [:]
    /// The record each create key made, per object (like a side table or an idempotency store).
    private var createdKeys: [String: [String: ExternalID]] = [:]
    /// When false, the spoke cannot find creates by key (a system without any dedup capability).
    public var supportsCreateLookup = true
    private var seq: Int64 = 0
    private var nextID = 0
    /// IDs the next creates take before new ones are made (see ``reuseIDs(_:)``).
    private var reusableIDs: [ExternalID] = []
    /// Every write the engine made, in order, with the object it went to.
    public private(set) var writeLog: [(object: String, write: SpokeWrite)] = []
    /// When set, the next `failCount` calls (reads, scans, fetches, writes) throw this error.
    public var failNext: SpokeError?
    /// How many more calls fail with `failNext`.
    public var failCount = 0
    /// How many calls failed on purpose so far.
    public private(set) var injectedFailures = 0

    /// When true, the cursor field holds a change time (`2026-01-01T00:00:07.000Z` for the
    /// seventh change) instead of a bare number: the system has change times of its own.
    public let cursorIsTime: Bool

    public init(_ system: SystemName, assignsIDs: Bool = true, tombstones: Bool = true, retriesRequests: Bool = false,
                traits: AdapterTraits = AdapterTraits(nestedPaths: true), cursorIsTime: Bool = false) {
        self.system = system
        self.traits = traits
        self.cursorIsTime = cursorIsTime
        self.assignsIDs = assignsIDs
        self.capabilities = SpokeCapabilities(incrementalReads: true, tombstones: tombstones, batchWrites: true,
                                              retriesRequests: retriesRequests)
    }

    // MARK: - Test hooks

    /// Creates or replaces a record, as a user of the system would.
    public func put(_ object: String, _ id: ExternalID, _ fields: [String: Value]) {
        seq += 1
        objects[object, default: [:]][id] = Stored(fields: fields, changeSeq: seq, deleted: false)
    }

    /// Changes some fields of a record, as a user of the system would (nested objects merge).
    public func update(_ object: String, _ id: ExternalID, _ fields: [String: Value]) {
        seq += 1
        guard var stored = objects[object]?[id] else { return }
        stored.fields = stored.fields.deepMerging(fields)
        stored.changeSeq = seq
        objects[object]![id] = stored
    }

    /// Changes some fields of a record without moving its change sequence: an edit the system's
    /// change tracking missed, so incremental reads never see it (drift only an audit finds).
    public func editUnseen(_ object: String, _ id: ExternalID, _ fields: [String: Value]) {
        guard var stored = objects[object]?[id] else { return }
        stored.fields = stored.fields.deepMerging(fields)
        objects[object]![id] = stored
    }

    /// Deletes a record, as a user of the system would.
    public func remove(_ object: String, _ id: ExternalID) {
        seq += 1
        objects[object]?[id]?.deleted = true
        objects[object]?[id]?.changeSeq = seq
    }

    /// Foreign keys: a record of `target` cannot be deleted while a live record of `object`
    /// holds its ID in `field` (as SQLite or PostgreSQL refuse it).
    public private(set) var foreignKeys: [(object: String, field: String, target: String)] = []

    /// Adds a foreign key from `object.field` to `target`.
    public func addForeignKey(from object: String, _ field: String, to target: String) {
        foreignKeys.append((object, field, target))
    }

    /// Objects that do not exist (a file moved away, a table dropped): reading them fails with
    /// `missingObject`, and so does writing anything but creates (which bring the object back).
    public private(set) var missingObjects: Set<String> = []

    /// Takes an object away with its records, or (`false`) puts it back as it was.
    public func setMissing(_ object: String, _ missing: Bool = true) {
        if missing { missingObjects.insert(object) } else { missingObjects.remove(object) }
    }

    private func requireObject(_ object: ObjectBinding) throws {
        guard missingObjects.contains(object.object) else { return }
        throw SpokeError(.missingObject, system: system, object: object.object, message: "'\(object.object)' does not exist")
    }

    /// The live records of an object.
    public func records(_ object: String) -> [ExternalID: [String: Value]] {
        (objects[object] ?? [:]).filter { !$0.value.deleted }.mapValues(\.fields)
    }

    /// One live record.
    public func record(_ object: String, _ id: ExternalID) -> [String: Value]? {
        guard let s = objects[object]?[id], !s.deleted else { return nil }
        return s.fields
    }

    /// Forgets the write log.
    public func clearWriteLog() { writeLog.removeAll() }

    /// Makes the next read or write fail.
    /// Calls that succeed before the failures start.
    public var failAfterCalls = 0

    /// Makes calls fail with `error`, `times` times, after `after` calls succeeded.
    public func setFailNext(_ error: SpokeError?, times: Int = 1, after: Int = 0) {
        failNext = error
        failCount = error == nil ? 0 : times
        failAfterCalls = after
    }

    /// When set, the next `write` applies its batch and then throws this error, like a system
    /// that committed but whose answer was lost.
    public var failAfterApplying: SpokeError?

    /// When set, the next batch applies this many writes and answers `.notSent` for the rest.
    public var sendOnly: Int?
    /// When true, creates are applied but answered `.indeterminate` (an API that gave no answer).
    public var answerCreatesIndeterminate = false

    /// Makes the next creates take these IDs, in order, as SQLite gives a new row the rowid of
    /// the deleted row that had the largest one.
    public func reuseIDs(_ ids: [ExternalID]) { reusableIDs = ids }

    /// Makes the next batch stop after `count` writes, as an API going down mid-batch.
    public func setSendOnly(_ count: Int?) { sendOnly = count }

    /// Makes creates answer `.indeterminate` after applying them.
    public func setAnswerCreatesIndeterminate(_ value: Bool) { answerCreatesIndeterminate = value }

    /// Makes the next write apply, then fail.
    public func setFailAfterApplying(_ error: SpokeError?) { failAfterApplying = error }

    /// Turns finding creates by key on or off.
    public func setSupportsCreateLookup(_ value: Bool) { supportsCreateLookup = value }

    /// How many live records of an object were created with each key (more than one = a duplicate).
    /// Whether pushes stage their creates (see ``StagedCreates``), applied in one write at the
    /// commit, as a file spoke does. Only for spokes that use the key as the ID.
    public private(set) var stagesCreates = false
    public func setStagesCreates(_ value: Bool) { stagesCreates = value }
    /// How many commits of staged creates were applied.
    public private(set) var stagedCommits = 0
    /// Thrown (once) by the next commit of staged creates, which then applies nothing.
    public private(set) var failStagedCommit: SpokeError?
    public func setFailStagedCommit(_ error: SpokeError?) { failStagedCommit = error }

    public func stageCreates(_ object: ObjectBinding) async throws -> (any StagedCreates)? {
        stagesCreates && !assignsIDs ? InMemoryStagedCreates(spoke: self, binding: object) : nil
    }

    func applyStaged(_ object: ObjectBinding, _ writes: [SpokeWrite]) async throws {
        if let e = failStagedCommit {
            failStagedCommit = nil
            injectedFailures += 1
            throw e
        }
        stagedCommits += 1
        _ = try await write(object, writes)
    }

    public func liveRecordCount(_ object: String) -> Int {
        (objects[object] ?? [:]).values.filter { !$0.deleted }.count
    }

    // MARK: - Spoke

    public func lookupCreated(_ object: ObjectBinding, keys: [String]) async throws -> [String: ExternalID]? {
        guard supportsCreateLookup else { return nil }
        var out: [String: ExternalID] = [:]
        for key in keys {
            if let id = createdKeys[object.object]?[key], objects[object.object]?[id]?.deleted == false { out[key] = id }
        }
        return out
    }

    public func check(_ objects: [ObjectBinding]) async throws -> [SpokeCheckResult] {
        objects.map { SpokeCheckResult(object: $0.object, problems: []) }
    }

    private func takeFailure() throws {
        if failNext != nil, failAfterCalls > 0 {
            failAfterCalls -= 1
            return
        }
        if let e = failNext, failCount > 0 {
            failCount -= 1
            injectedFailures += 1
            if failCount == 0 { failNext = nil }
            throw e
        }
    }

    private func decorate(_ id: ExternalID, _ s: Stored, _ binding: ObjectBinding) -> SpokeRecord {
        var fields = s.fields
        fields[binding.idField] = .string(id.rawValue)
        if let c = binding.cursorField {
            fields[c] = cursorIsTime ? .string(Self.changeTime(s.changeSeq)) : .int(s.changeSeq)
        }
        return SpokeRecord(id: id, fields: fields)
    }

    /// Moves the change sequence forward so the next change is at least number `seq` (with
    /// `cursorIsTime`, changes made after another spoke's, whatever each has done so far).
    public func skipChanges(to seq: Int64) { self.seq = max(self.seq, seq - 1) }

    /// The change time of change number `seq`: seconds after 2026-01-01T00:00:00Z.
    public static func changeTime(_ seq: Int64) -> String {
        Timestamp.string(Date(timeIntervalSince1970: 1_767_225_600 + Double(seq)))
    }

    public func read(_ object: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> SpokePage {
        try takeFailure()
        try requireObject(object)
        let all = objects[object.object] ?? [:]
        if object.cursorField != nil {
            // Incremental: by change sequence.
            let since = cursor.flatMap { Int64($0.value) } ?? 0
            let changed = all.filter { $0.value.changeSeq > since }.sorted { $0.value.changeSeq < $1.value.changeSeq }
            let page = changed.prefix(limit)
            let records = page.filter { !$0.value.deleted }.map { decorate($0.key, $0.value, object) }
            let deleted = capabilities.tombstones ? page.filter { $0.value.deleted }.map(\.key) : []
            let last = page.last?.value.changeSeq ?? since
            return SpokePage(records: records, deleted: deleted, next: Cursor(String(last)), isLast: changed.count <= limit)
        }
        // Full scan: by ID.
        let after = cursor?.value
        let live = all.filter { !$0.value.deleted && (after == nil || $0.key.rawValue > after!) }
            .sorted { $0.key.rawValue < $1.key.rawValue }
        let page = live.prefix(limit)
        return SpokePage(records: page.map { decorate($0.key, $0.value, object) }, next: page.last.map { Cursor($0.key.rawValue) },
                         isLast: live.count <= limit)
    }

    /// A full scan can be read in parts, as a table's can.
    public nonisolated func readsPartitions(_ object: ObjectBinding) -> Bool { object.cursorField == nil }

    /// One page of a part of a full scan: the records whose ID's FNV-1a hash falls in its bucket.
    public func read(_ object: ObjectBinding, partition: IDPartition, after cursor: Cursor?, limit: Int) async throws -> SpokePage {
        try takeFailure()
        try requireObject(object)
        let after = cursor?.value
        let live = (objects[object.object] ?? [:]).filter {
            !$0.value.deleted && (after == nil || $0.key.rawValue > after!)
                && Int(IDPartition.fnv1a($0.key.rawValue.utf8) % UInt64(partition.count)) == partition.bucket
        }.sorted { $0.key.rawValue < $1.key.rawValue }
        let page = live.prefix(limit)
        return SpokePage(records: page.map { decorate($0.key, $0.value, object) }, next: page.last.map { Cursor($0.key.rawValue) },
                         isLast: live.count <= limit)
    }

    public func scanIDs(_ object: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> IDPage {
        try takeFailure()
        try requireObject(object)
        let after = cursor?.value
        let ids = (objects[object.object] ?? [:]).filter { !$0.value.deleted && (after == nil || $0.key.rawValue > after!) }
            .keys.sorted()
        let page = Array(ids.prefix(limit))
        return IDPage(ids: page, next: page.last.map { Cursor($0.rawValue) }, isLast: ids.count <= limit)
    }

    public func count(_ object: ObjectBinding) async throws -> Int? {
        try takeFailure()
        try requireObject(object)
        return (objects[object.object] ?? [:]).values.filter { !$0.deleted }.count
    }

    public func fetch(_ object: ObjectBinding, ids: [ExternalID]) async throws -> [SpokeRecord] {
        try takeFailure()
        try requireObject(object)
        return ids.compactMap { id in
            guard let s = objects[object.object]?[id], !s.deleted else { return nil }
            return decorate(id, s, object)
        }
    }

    public func write(_ object: ObjectBinding, _ writes: [SpokeWrite]) async throws -> [SpokeWriteResult] {
        try takeFailure()
        if missingObjects.contains(object.object) {
            guard writes.allSatisfy({ if case .create = $0 { true } else { false } }) else { try requireObject(object); return [] }
            missingObjects.remove(object.object)
            objects[object.object] = [:]
        }
        var results: [SpokeWriteResult] = []
        let limit = sendOnly
        sendOnly = nil
        for w in writes {
            if let limit, results.count >= limit {
                results.append(.notSent("not sent: the system went down"))
                continue
            }
            writeLog.append((object.object, w))
            seq += 1
            switch w {
            case .create(let key, var fields):
                fields[object.idField] = nil
                if supportsCreateLookup, let existing = createdKeys[object.object]?[key],
                    objects[object.object]?[existing]?.deleted == false
                {
                    results.append(.created(existing))
                    continue
                }
                let id: ExternalID
                if !reusableIDs.isEmpty {
                    id = reusableIDs.removeFirst()
                } else if assignsIDs {
                    nextID += 1
                    id = ExternalID(String(nextID))
                } else {
                    id = ExternalID(key)
                }
                objects[object.object, default: [:]][id] = Stored(fields: fields, changeSeq: seq, deleted: false)
                createdKeys[object.object, default: [:]][key] = id
                results.append(answerCreatesIndeterminate ? .indeterminate("no answer to the create") : .created(id))
            case .update(let id, let fields):
                guard var stored = objects[object.object]?[id], !stored.deleted else {
                    results.append(.notFound)
                    continue
                }
                var patch = fields
                patch[object.idField] = nil
                stored.fields = stored.fields.applyingUpdate(patch, paths: object.fields)
                stored.changeSeq = seq
                objects[object.object]![id] = stored
                results.append(.updated)
            case .delete(let id):
                let referenced = foreignKeys.contains { fk in
                    fk.target == object.object && (objects[fk.object] ?? [:]).values.contains {
                        !$0.deleted && $0.fields[fk.field]?.stringValue == id.rawValue
                    }
                }
                if referenced {
                    results.append(.failed("FOREIGN KEY constraint failed"))
                    continue
                }
                if objects[object.object]?[id] != nil {
                    objects[object.object]![id]!.deleted = true
                    objects[object.object]![id]!.changeSeq = seq
                }
                results.append(.deleted)
            }
        }
        if let e = failAfterApplying {
            failAfterApplying = nil
            injectedFailures += 1
            throw e
        }
        return results
    }
}

/// Creates staged for an ``InMemorySpoke``: kept until the commit applies them in one write.
actor InMemoryStagedCreates: StagedCreates {
    let spoke: InMemorySpoke
    let binding: ObjectBinding
    private var pending: [SpokeWrite] = []

    init(spoke: InMemorySpoke, binding: ObjectBinding) {
        self.spoke = spoke
        self.binding = binding
    }

    func stage(_ writes: [SpokeWrite]) async throws -> Bool {
        for write in writes {
            guard case .create(_, let fields) = write, fields[binding.idField] == nil else { return false }
        }
        pending += writes
        return true
    }

    func commit() async throws {
        guard !pending.isEmpty else { return }
        let writes = pending
        pending = []
        try await spoke.applyStaged(binding, writes)
    }

    func discard() async { pending = [] }
}
