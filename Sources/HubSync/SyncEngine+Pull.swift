import Foundation
import HubCore
import HubMapping
import HubStore
import HubTopology

extension SyncEngine {
    /// The linked records a pull found gone, whose delete policy is applied once every entity of
    /// the system was pulled (children first, so a customer's delete sees that its orders went too).
    struct PendingDeletes {
        var system: SystemDefinition
        var mapper: EntityMapper
        var missing: [Link]
        /// The deletes came as tombstones: held-back ones must be read again (cursor rewound).
        var tombstones: Bool
        var startCursor: Cursor?
        /// Records read that were linked once merged (a part's read: the deletes are looked for later).
        var linkedSeen = 0
        /// The quarantine keys of the records that could not be read (a part's read).
        var malformed: Set<String> = []
    }

    /// Reads one system's object page by page and merges every page into the hub in one
    /// transaction, together with the cursor that page advanced to. Returns the records found
    /// deleted, for ``applyPendingDeletes(_:_:_:)``.
    ///
    /// With a `partition` (a worker's unit of a table read in parts), reads only that part and
    /// leaves the deletes and the malformed rows no longer there to the system's `pull-deletes`
    /// unit: the part cannot tell them from the other parts' records (it returns what it saw).
    func pull(_ system: SystemDefinition, _ mapper: EntityMapper, _ options: SyncOptions,
              _ ctx: RunContext, partition: IDPartition? = nil) async throws -> PendingDeletes? {
        guard let spoke = spokes[system.name] else { throw missingSpoke(system.name) }
        if partition != nil && !spoke.readsPartitions(mapper.binding) {
            throw SpokeError(.configuration, system: system.name, object: mapper.binding.object,
                             message: "this system cannot read \(mapper.binding.object) in parts (a table read through change "
                                 + "capture or by a cursor is read whole); remove \"partitions\" from its mapping")
        }
        // Schema drift (SyncEngine+Drift.swift): nil when the object's schema pauses this system × entity.
        guard var watch = try await watchSchema(spoke, system, mapper, ctx) else { return nil }
        watch.partition = partition
        let binding = mapper.binding
        let incremental = spoke.readsIncrementally(binding)
        // Deletes: tombstones where the system reports them; otherwise a full read sees every
        // ID, and an incremental read is followed by an ID scan.
        let tombstones = incremental && spoke.capabilities.tombstones && !watch.readsFromStart
        var cursor = incremental ? try store.read { try $0.cursor(system: system.name, entity: mapper.entity.name) } : nil
        let startCursor = cursor
        var counts = RunCounts()
        // Records quarantined earlier are fetched again: those gone from the system have nothing
        // left to retry; the others are retried, whatever the cursor says (a full read sees them
        // anyway). Read again later in this pull, a record is counted once.
        let open = try store.read { tx in
            try tx.openQuarantine(system: system.name, entity: mapper.entity.name, direction: .pull)
        }
        // Of a table read in parts, the first part's unit looks at them (fetched by ID, whatever their part).
        let retries = (partition?.number ?? 1) == 1 ? open.compactMap(\.externalID) : []
        // Deletes held because live entities referred to them are looked at again below.
        let held = Set(open.filter { $0.reason == .referencedDelete }.compactMap(\.externalID))
        var heldAgain: [Link] = []
        var retried: Set<ExternalID> = []
        if !retries.isEmpty {
            let records: [SpokeRecord]
            do {
                records = try await settings.withRetries(spoke) { try await spoke.fetch(binding, ids: retries) }
            } catch let error as SpokeError where error.kind == .missingObject {
                try refuseMissingObject(error, system.name, mapper, cursor: startCursor)
                ctx.report.add(system.name, mapper.entity.name, pull: counts)
                return nil
            }
            let found = Set(records.map(\.id))
            if incremental { retried = found }
            try write(ctx) { tx in
                for id in retries where !found.contains(id) && !held.contains(id) {
                    try tx.resolveQuarantine(system: system.name, entity: mapper.entity.name, externalID: id, hubID: nil,
                                             direction: .pull, at: ctx.now(), resolution: .gone)
                }
                if tombstones {
                    let links = try tx.links(entity: mapper.entity.name, system: system.name,
                                             externalIDs: held.filter { !found.contains($0) }.sorted())
                    heldAgain = links.values.filter { $0.state == .linked }.sorted { $0.hubID < $1.hubID }
                }
                guard incremental else { return }
                var merger = PageMerger(engine: self, tx: tx, mapper: mapper, ctx: ctx)
                try merger.apply(records)
                counts = counts + merger.counts
            }
        }
        var tombstoned: [Link] = []
        var malformed: Set<String> = []
        // Records read that are linked once their page is merged: when a full read saw every
        // linked record, none can have been deleted and no ID comparison is needed.
        var linkedSeen = 0
        // Base hashes are read as a range of the hub's index until a page's IDs prove too spread.
        var baseHashRanges = true
        // Whether the next page is first compared without the write lock: after a page that had
        // nothing to write (or at the start), not after one with changes, so that a load of new
        // or changed records does not look its base hashes up twice per page.
        var tryQuiet = true
        while true {
            try options.checkStop()
            let position = cursor
            let page: SpokePage
            do {
                // Schema drift (SyncEngine+Drift.swift): nil when the schema this read found pauses this
                // system × entity; nothing of it is merged.
                guard let read = try await readPage(spoke, after: position, options, &watch, ctx) else { return nil }
                page = read
            } catch let error as SpokeError where error.kind == .missingObject && position == startCursor {
                // Nothing to read from an object never synced; a failing system for one the hub
                // has records of (moved, renamed or deleted) — never "every record was deleted".
                try refuseMissingObject(error, system.name, mapper, cursor: startCursor)
                ctx.report.add(system.name, mapper.entity.name, pull: counts)
                return nil
            }
            try faultPoint(.readAfterPageFetched)
            // A page of a full read with nothing to write (every record unchanged): compared in a
            // read transaction, without the hub's write lock, so that workers reading parts of
            // one table compare them side by side. A record found changed meanwhile is read
            // again by the next full read; anything else goes through the write below.
            if !incremental, tryQuiet, let quiet = try quietPage(page, mapper, ranges: &baseHashRanges, ctx) {
                counts = counts + quiet
                linkedSeen += quiet.unchanged
                try faultPoint(.readAfterPageCommit)
                options.progress?(SyncProgress(system: system.name, entity: mapper.entity.name, direction: .pull, counts: counts))
                if let next = page.next { cursor = next }
                if page.isLast { break }
                continue
            }
            let now = ctx.now()
            try write(ctx) { tx in
                var merger = PageMerger(engine: self, tx: tx, mapper: mapper, ctx: ctx)
                merger.counted = retried
                merger.baseHashRanges = baseHashRanges
                try merger.apply(page.records)
                baseHashRanges = merger.baseHashRanges
                for invalid in page.invalid { malformed.insert(try merger.quarantine(invalid)) }
                try faultPoint(.mergeMidTransaction)
                tombstoned += try merger.linkedRecords(page.deleted)
                counts = counts + merger.counts
                linkedSeen += merger.linkedSeen
                tryQuiet = merger.counts.read == merger.counts.unchanged && page.deleted.isEmpty && page.invalid.isEmpty
                if incremental, let next = page.next {
                    try tx.setCursor(next, system: system.name, entity: mapper.entity.name, at: now)
                }
            }
            try faultPoint(.readAfterPageCommit)
            options.progress?(SyncProgress(system: system.name, entity: mapper.entity.name, direction: .pull, counts: counts))
            if let next = page.next { cursor = next }
            if page.isLast { break }
        }
        if partition != nil {
            try finishSchemaWatch(watch, ctx)
            ctx.report.add(system.name, mapper.entity.name, pull: counts)
            return PendingDeletes(system: system, mapper: mapper, missing: [], tombstones: false, startCursor: nil,
                                  linkedSeen: linkedSeen, malformed: malformed)
        }
        // Malformed rows reported before and not any more were fixed or removed.
        try write(ctx) { tx in
            try tx.resolveQuarantine(system: system.name, entity: mapper.entity.name, reason: .malformed, except: malformed,
                                     at: ctx.now())
        }
        let missing = tombstones
            ? tombstoned + heldAgain : try await missingLinks(spoke, mapper, fullRead: !incremental, linkedSeen: linkedSeen, ctx)
        try finishSchemaWatch(watch, ctx)  // Schema drift: the fingerprint of what this pull read.
        ctx.report.add(system.name, mapper.entity.name, pull: counts)
        return PendingDeletes(system: system, mapper: mapper, missing: missing, tombstones: tombstones, startCursor: startCursor)
    }

    /// The counts of `page` when it has nothing to write: no deletes, no malformed rows, no open
    /// pull quarantine of the object (a record read cleanly would close its entry), and every
    /// record unchanged since it was last synced. Nil otherwise: the page is merged in a write.
    func quietPage(_ page: SpokePage, _ mapper: EntityMapper, ranges: inout Bool, _ ctx: RunContext) throws -> RunCounts? {
        guard page.deleted.isEmpty, page.invalid.isEmpty, !page.records.isEmpty else { return nil }
        var seen: Set<ExternalID> = []
        seen.reserveCapacity(page.records.count)
        let records = page.records.filter { seen.insert($0.id).inserted }
        let useRanges = ranges
        let (unchanged, rangesAfter) = try store.read { tx -> (Bool, Bool) in
            var merger = PageMerger(engine: self, tx: tx, mapper: mapper, ctx: ctx)
            guard !merger.quarantineOpen else { return (false, useRanges) }
            merger.baseHashRanges = useRanges
            let unchanged = try merger.unchangedRecords(records).allSatisfy { $0 }
            return (unchanged, merger.baseHashRanges)
        }
        ranges = rangesAfter
        guard unchanged else { return nil }
        var counts = RunCounts()
        counts.read = records.count
        counts.unchanged = records.count
        return counts
    }

    /// Applies the delete policy to the records a pull found gone; held-back tombstones rewind
    /// the cursor so the next run reads them again.
    func applyPendingDeletes(_ pending: PendingDeletes, _ options: SyncOptions, _ ctx: RunContext) throws {
        let (system, mapper) = (pending.system, pending.mapper)
        let trips = ctx.report.guardTrips.count
        let counts = try applyDeletes(pending.missing, system, mapper, options, ctx)
        if pending.tombstones && ctx.report.guardTrips.count > trips {
            // The held-back tombstones must be read again next run: rewind the cursor.
            try write(ctx) { tx in
                if let startCursor = pending.startCursor {
                    try tx.setCursor(startCursor, system: system.name, entity: mapper.entity.name, at: ctx.now())
                } else {
                    try tx.clearCursor(system: system.name, entity: mapper.entity.name)
                }
            }
        }
        ctx.report.add(system.name, mapper.entity.name, pull: counts)
    }

    /// The system's linked records that are gone. Compared by ID only when counts say some can
    /// be: a full read that saw every linked record, or a system whose record count equals its
    /// live links (every record is linked, none is missing), needs no comparison.
    func missingLinks(_ spoke: any Spoke, _ mapper: EntityMapper, fullRead: Bool, linkedSeen: Int,
                      _ ctx: RunContext) async throws -> [Link] {
        let live = try store.read { try $0.liveLinkCount(entity: mapper.entity.name, system: mapper.system) }
        if fullRead && linkedSeen >= live { return [] }
        if !fullRead, let count = try await settings.withRetries(spoke, { try await spoke.count(mapper.binding) }), count == live {
            return []
        }
        try await scanIDs(spoke, mapper.binding, ctx)
        return try write(ctx) { tx in
            defer { try? tx.endIDScan() }
            return try tx.linksMissingFromScan(entity: mapper.entity.name, system: mapper.system, limit: 10_000_000)
        }
    }

    /// Collects every ID the system presents into the hub connection's scan table.
    func scanIDs(_ spoke: any Spoke, _ binding: ObjectBinding, _ ctx: RunContext) async throws {
        try write(ctx) { try $0.beginIDScan() }
        var cursor: Cursor?
        while true {
            let position = cursor
            let page = try await settings.withRetries(spoke) { try await spoke.scanIDs(binding, after: position, limit: 5000) }
            try write(ctx) { try $0.addScannedIDs(page.ids.filter { !$0.holdsNUL }) }
            if let next = page.next { cursor = next }
            if page.isLast { break }
        }
    }

    /// Throws when a missing object is one the hub knows records of: linked records, a read
    /// position or pushed changes. An object never synced is simply empty.
    func refuseMissingObject(_ error: SpokeError, _ system: SystemName, _ mapper: EntityMapper, cursor: Cursor?) throws {
        let entity = mapper.entity.name
        let (live, mark) = try store.read { tx in
            (try tx.liveLinkCount(entity: entity, system: system), try tx.pushMark(system: system, entity: entity))
        }
        guard live > 0 || cursor != nil || mark > 0 else { return }
        let what = live > 0 ? "the hub links \(live) \(entity) record\(live == 1 ? "" : "s") to it" : "it was synced before"
        throw SpokeError(.missingObject, system: system, object: mapper.binding.object,
                         message: "\(error.message), but \(what); nothing was deleted anywhere and nothing was written to it. "
                             + "Put it back (or fix the connection) and run again; to stop syncing it, remove it from the topology")
    }

    func missingSpoke(_ system: SystemName) -> SpokeError {
        runtime.systems[system]?.spokeError ?? SpokeError(.configuration, system: system, message: "no adapter was built for this system")
    }
}

/// Merges one page of a system's records into the hub, inside the page's transaction.
struct PageMerger {
    let engine: SyncEngine
    let tx: HubTransaction
    let mapper: EntityMapper
    let ctx: RunContext
    var counts = RunCounts()
    /// The record being applied, for the quarantine's source and excerpt.
    var current: SpokeRecord?
    /// The hash of the record being applied (over every field the system pulls).
    var currentHash: String?
    /// Records of the page that have a live link once merged (for delete detection).
    var linkedSeen = 0
    /// Records already counted in this pull (retried before the read): applied again, counted once.
    var counted: Set<ExternalID> = []
    /// True while base hashes are read as one range of the hub's index (see
    /// ``HubTransaction/linkedBaseHashesInRange(entity:system:externalIDs:)``); false once a
    /// page's IDs were too spread for it.
    var baseHashRanges = false
    /// Links of referenced records found in this page (see ``referenceTarget(_:_:)``).
    var referenceLinks: [String: Link] = [:]

    var system: SystemName { mapper.system }
    var entity: EntityDefinition { mapper.entity }

    /// False when the object has no open pull quarantine entries, so nothing needs closing.
    var quarantineOpen = true

    init(engine: SyncEngine, tx: HubTransaction, mapper: EntityMapper, ctx: RunContext) {
        self.engine = engine
        self.tx = tx
        self.mapper = mapper
        self.ctx = ctx
        self.quarantineOpen = (try? tx.hasOpenQuarantine(system: mapper.system, entity: mapper.entity.name, direction: .pull))
            ?? true
    }

    mutating func apply(_ records: [SpokeRecord]) throws {
        // A page listing a record twice keeps the first.
        var seen: Set<ExternalID> = []
        seen.reserveCapacity(records.count)
        let records = records.filter { seen.insert($0.id).inserted }
        let unchanged = try unchangedRecords(records)
        let changed = zip(records, unchanged).compactMap { $1 ? nil : $0.id }
        let links = changed.isEmpty ? [:] : try tx.links(entity: entity.name, system: system, externalIDs: changed)
        for (record, unchanged) in zip(records, unchanged) {
            let before = counts
            counts.read += 1
            if unchanged {
                linkedSeen += 1
                counts.unchanged += 1
                // Read cleanly: whatever kept it in the quarantine is over.
                try resolveQuarantine(record.id)
            } else {
                if links[record.id]?.state == .linked { linkedSeen += 1 }
                do {
                    try apply(record, link: links[record.id])
                } catch let problem as RecordProblem {
                    try quarantine(record.id, hubID: links[record.id]?.hubID, reason: problem.reason, message: problem.message)
                }
            }
            if counted.contains(record.id) { counts = before }
        }
    }

    /// Which records of a page have a content hash equal to their live link's base hash (true
    /// at the record's index), found from the links' hashes alone (no link's base decoded): the
    /// whole page, in a run over a table without a usable cursor where nothing changed. A
    /// record with composites is compared by its reading without a base, where that reading is
    /// one no base could change (``EntityMapper/inboundWithoutBase(_:)``); any other is not
    /// unchanged here, and is merged against its base. None when the mapping reads references
    /// (their reading depends on other links).
    mutating func unchangedRecords(_ records: [SpokeRecord]) throws -> [Bool] {
        let none = [Bool](repeating: false, count: records.count)
        guard !mapper.refFields.keys.contains(where: { mapper.inboundFields.contains($0) }) else { return none }
        let ids = records.map(\.id)
        var inRange: [ExternalID: String]?
        if baseHashRanges {
            inRange = try tx.linkedBaseHashesInRange(entity: entity.name, system: system, externalIDs: ids)
            baseHashRanges = inRange != nil
        }
        let hashes = try inRange ?? tx.linkedBaseHashes(entity: entity.name, system: system, externalIDs: ids)
        guard !hashes.isEmpty else { return none }
        if mapper.hasComposites {
            return records.map { record in
                guard let base = hashes[record.id], let values = mapper.inboundWithoutBase(record) else { return false }
                return ContentHash.of(values, keys: mapper.inboundKeys) == base
            }
        }
        var buffer = mapper.inboundKeys.buffer()
        return records.map { record in
            guard let base = hashes[record.id] else { return false }
            return mapper.inboundHash(of: record, equals: base, buffer: &buffer)
        }
    }

    mutating func apply(_ record: SpokeRecord, link: Link?) throws {
        current = record
        defer { current = nil }
        let mapped: CanonicalRecord
        // Composite values are read relative to what the hub last knew the record held, or else
        // to the hub's values now (a record that took the hub's value while quarantined).
        var reading = mapper.inbound(record, base: link?.state == .linked ? link?.baseData : nil)
        if case .failure(let error) = reading, error.code == "ambiguous_composite", let link, link.state == .linked,
            let hub = try tx.entity(link.hubID)
        {
            reading = mapper.inbound(record, base: hub.data)
        }
        switch reading {
        case .failure(let error):
            try quarantine(record.id, hubID: link?.hubID, reason: QuarantineReason(error.code), message: error.description)
            return
        case .success(let m):
            mapped = m
        }
        // References arrive as the system's IDs; the hub holds hub IDs.
        var theirs = mapped
        var fields = mapper.inboundFields
        var unresolved: [(field: String, target: EntityName, id: ExternalID)] = []
        for (field, target) in mapper.refFields.sorted(by: { $0.key < $1.key }) where fields.contains(field) {
            guard let raw = theirs[field], let text = raw.stringValue else { continue }
            if link?.state == .linked, RepointedReference.externalID(in: link?.baseData[field]) == ExternalID(text) {
                // Still the target's old record, whose ID the system may have given to another
                // since: not an edit. The push writes the new reference.
                theirs[field] = nil
                fields.removeAll { $0 == field }
                continue
            }
            if let targetLink = try referenceTarget(target, ExternalID(text)) {
                theirs[field] = .string(targetLink.hubID.rawValue)
            } else {
                unresolved.append((field, target, ExternalID(text)))
                theirs[field] = nil
                fields.removeAll { $0 == field }
            }
        }
        // A record whose link is closed (deleted here or in the hub) is no longer synced.
        if let link, link.state == .deleted {
            counts.skipped += 1
            return
        }
        let hash = ContentHash.of(theirs, keys: mapper.inboundKeys)
        currentHash = unresolved.isEmpty ? hash : nil
        defer { currentHash = nil }
        if let link, link.state == .linked, unresolved.isEmpty, link.baseHash == hash {
            counts.unchanged += 1
            // Read cleanly: whatever kept it in the quarantine (a reference since patched) is over.
            try resolveQuarantine(record.id)
            return
        }
        let theirsAt = changeTime(of: record)
        if let link, link.state == .linked {
            guard let current = try tx.entity(link.hubID), !current.isDeleted else {
                counts.skipped += 1
                return
            }
            if !accepts(theirs, over: current.data) {
                counts.skipped += 1
                return
            }
            let updated = try mergeLinked(link, current, theirs: theirs, fields: fields, theirsAt: theirsAt)
            if updated { counts.updated += 1 } else { counts.unchanged += 1 }
            try defer_(unresolved, record: record.id, hubID: link.hubID)
            return
        }
        if !accepts(theirs, over: [:]) {
            counts.skipped += 1
            return
        }
        // Not linked yet: link to an existing entity by the match rules, or create one.
        switch try findMatch(theirs) {
        case .ambiguous(let rule, let candidates):
            try quarantine(record.id, hubID: nil, reason: .ambiguousMatch,
                           message: "\(MatchKey.ruleName(entity.match[rule])) matches \(candidates.count) hub entities ("
                               + candidates.map(\.rawValue).joined(separator: ", ") + "); link it by hand or make the data unique")
        case .alreadyLinked(let rule, let hubID, let otherID) where try replacesHeldDelete(otherID, of: hubID):
            // The record it was linked to is gone (its delete held for a person): this one takes its place.
            guard let current = try tx.entity(hubID) else { return }
            try linkExisting(record.id, current, rule: rule, theirs: theirs, fields: fields, theirsAt: theirsAt)
            counts.linked += 1
            linkedSeen += 1
            try defer_(unresolved, record: record.id, hubID: hubID)
        case .alreadyLinked(let rule, let hubID, let otherID):
            try quarantine(record.id, hubID: hubID, reason: .duplicateMatch,
                           message: "\(MatchKey.ruleName(entity.match[rule])) matches hub entity \(hubID), which is already "
                               + "linked to \(system) record \(otherID); two records of one system cannot share an entity")
        case .match(let rule, let hubID):
            guard let current = try tx.entity(hubID) else { return }
            if mapper.hasComposites {
                // Composite values are read relative to the entity they are linked to.
                switch mapper.inbound(record, base: current.data) {
                case .failure(let error):
                    try quarantine(record.id, hubID: hubID, reason: QuarantineReason(error.code), message: error.description)
                    return
                case .success(let relative):
                    for m in mapper.mapping.fields where m.isComposite {
                        for name in m.canonical { theirs[name.rawValue] = relative[name.rawValue] }
                    }
                }
            }
            try linkExisting(record.id, current, rule: rule, theirs: theirs, fields: fields, theirsAt: theirsAt)
            counts.linked += 1
            linkedSeen += 1
            try defer_(unresolved, record: record.id, hubID: hubID)
        case .none:
            if let missing = entity.fields.first(where: { $0.required && (theirs[$0.name.rawValue] ?? .null).isNull }) {
                try quarantine(record.id, hubID: nil, reason: .missingRequired,
                               message: "required field '\(missing.name)' has no value, so no hub entity can be created from it")
                return
            }
            let hubID = try createEntity(record.id, theirs: theirs, fields: fields, theirsAt: theirsAt)
            counts.created += 1
            linkedSeen += 1
            try defer_(unresolved, record: record.id, hubID: hubID)
        }
    }

    /// The live link of a referenced record. Found links are kept for the page (records often
    /// share a target, such as a support rep); a target not linked yet is asked again, since a
    /// record earlier in the page may create it.
    mutating func referenceTarget(_ target: EntityName, _ id: ExternalID) throws -> Link? {
        let key = "\(target)\u{0}\(id)"
        if let known = referenceLinks[key] { return known }
        guard let link = try tx.link(entity: target, system: system, externalID: id), link.state == .linked else { return nil }
        referenceLinks[key] = link
        return link
    }

    /// True when the system's filter accepts the record (judged on its values over the hub's).
    func accepts(_ theirs: CanonicalRecord, over hub: CanonicalRecord) -> Bool {
        guard let filter = mapper.mapping.filter else { return true }
        return filter.matches(hub.merging(theirs) { _, new in new })
    }

    /// Remembers references whose target is not linked yet: patched after every system was
    /// pulled; meanwhile the record waits in the quarantine, so a stop in between loses nothing.
    func defer_(_ refs: [(field: String, target: EntityName, id: ExternalID)], record: ExternalID, hubID: HubID) throws {
        for r in refs {
            let ref = RunContext.PendingPullRef(system: system, entity: entity.name, hubID: hubID, field: r.field,
                                                target: r.target, targetExternalID: r.id, observedAt: ctx.observationTime())
            ctx.pendingPullRefs.append(ref)
            try tx.quarantine(engine.unresolvedPullReference(ref, record: record, ctx))
        }
    }

    /// When the system changed the record: its cursor field when that holds a date-time,
    /// otherwise the moment hubctl first saw the change (marked as observed).
    func changeTime(of record: SpokeRecord) -> ChangeTime {
        if let field = mapper.mapping.cursorField, let text = record.fields.value(atPath: field)?.stringValue,
            let instant = DateTimes.parseISO(text)
        {
            return ChangeTime(at: Timestamp.string(Date(timeIntervalSince1970: Double(instant.seconds) + Double(instant.millis) / 1000)),
                              observed: false)
        }
        return ChangeTime(at: ctx.observationTime(), observed: true)
    }

    // MARK: - Matching

    enum MatchResult {
        case none
        case match(rule: Int, HubID)
        case ambiguous(rule: Int, [HubID])
        case alreadyLinked(rule: Int, HubID, ExternalID)
    }

    func findMatch(_ theirs: CanonicalRecord) throws -> MatchResult {
        for (rule, key) in MatchKey.keys(theirs, rules: entity.match) {
            let candidates = try tx.matchCandidates(entity.name, rule: rule, key: key)
            if candidates.count > 1 { return .ambiguous(rule: rule, candidates) }
            guard let hubID = candidates.first else { continue }
            if let other = try tx.link(entity: entity.name, system: system, hubID: hubID), other.state != .deleted,
                let otherID = other.externalID
            {
                return .alreadyLinked(rule: rule, hubID, otherID)
            }
            return .match(rule: rule, hubID)
        }
        return .none
    }

    // MARK: - Writing the hub

    func createEntity(_ id: ExternalID, theirs: CanonicalRecord, fields: [String], theirsAt: ChangeTime) throws -> HubID {
        let hubID = HubID(engine.hubIDs.next())
        let now = ctx.now()
        var data: [String: Value] = [:]
        var origins: [String: FieldOrigin] = [:]
        for f in fields {
            guard let v = theirs[f], !v.isNull else { continue }
            data[f] = v
            origins[f] = FieldOrigin(system: system, run: ctx.runID, changedAt: theirsAt.at, observed: theirsAt.observed)
        }
        let record = EntityRecord(hubID: hubID, entity: entity.name, data: data, version: 1, seq: 0,
                                  fieldOrigins: origins, createdAt: now, updatedAt: now)
        try tx.insertEntity(record, sourceSystem: system, run: ctx.runID)
        try tx.setMatchKeys(hubID, entity: entity.name, data: data, rules: entity.match, isNew: true)
        try saveLink(Link(entity: entity.name, system: system, externalID: id, hubID: hubID, state: .linked, baseHash: nil,
                          baseData: [:], baseVersion: 1, linkedBy: "created", linkedAt: now, lastSeenRun: ctx.runID),
                     base: theirs, fields: fields, version: 1)
        try resolveQuarantine(id)
        return hubID
    }

    func linkExisting(_ id: ExternalID, _ current: EntityRecord, rule: Int, theirs: CanonicalRecord, fields: [String],
                      theirsAt: ChangeTime) throws {
        let now = ctx.now()
        let outcome = engine.merger(for: entity).merge(system: system, run: ctx.runID, base: nil, ours: current,
                                                       theirs: theirs, fields: fields, theirsAt: theirsAt.at,
                                                       observed: theirsAt.observed)
        let version = try store(outcome, over: current)
        try saveLink(Link(entity: entity.name, system: system, externalID: id, hubID: current.hubID, state: .linked,
                          baseHash: nil, baseData: [:], baseVersion: version,
                          linkedBy: MatchKey.ruleName(entity.match[rule]), linkedAt: now, lastSeenRun: ctx.runID),
                     base: theirs, fields: fields, version: version)
        try resolveQuarantine(id)
    }

    /// Merges a changed record into its linked entity; true when the hub entity changed.
    func mergeLinked(_ link: Link, _ current: EntityRecord, theirs: CanonicalRecord, fields: [String],
                     theirsAt: ChangeTime) throws -> Bool {
        let outcome = engine.merger(for: entity).merge(system: system, run: ctx.runID, base: link.baseData, ours: current,
                                                       theirs: theirs, fields: fields, theirsAt: theirsAt.at,
                                                       observed: theirsAt.observed)
        let version = try store(outcome, over: current)
        var updated = link
        updated.lastSeenRun = ctx.runID
        try saveLink(updated, base: theirs, fields: fields, version: version)
        if let id = link.externalID { try resolveQuarantine(id) }
        return version != current.version
    }

    /// Stores a merge outcome (conflicts, and a new version when the values changed); returns
    /// the entity's version afterwards.
    func store(_ outcome: FieldMerge.Outcome, over current: EntityRecord) throws -> Int64 {
        // Checked before anything is written, so a refused change leaves no trace.
        if outcome.data != current.data,
            let missing = entity.fields.first(where: { $0.required && (outcome.data[$0.name.rawValue] ?? .null).isNull })
        {
            throw RecordProblem(reason: .missingRequired,
                                message: "the change would leave required field '\(missing.name)' empty; it was not applied")
        }
        try engine.record(outcome.conflicts, entity: entity.name, hubID: current.hubID, tx: tx, ctx: ctx)
        guard outcome.data != current.data else { return current.version }
        var next = current
        next.data = outcome.data
        next.version += 1
        next.updatedAt = ctx.now()
        for (f, origin) in outcome.changed { next.fieldOrigins[f] = origin }
        try tx.updateEntity(next, sourceSystem: system, run: ctx.runID)
        try tx.setMatchKeys(next.hubID, entity: entity.name, data: next.data, rules: entity.match)
        return next.version
    }

    /// Saves a link whose base now holds `base` for `fields` (other fields keep their base).
    func saveLink(_ link: Link, base: CanonicalRecord, fields: [String], version: Int64) throws {
        var l = link
        for f in fields {
            if let v = base[f], !v.isNull { l.baseData[f] = v } else { l.baseData[f] = nil }
        }
        l.baseVersion = version
        // The base now holds the record's pulled fields: its hash is the record's, computed already.
        if let currentHash, fields.count == mapper.inboundFields.count {
            l.baseHash = currentHash
        } else {
            l.baseHash = ContentHash.of(l.baseData, keys: mapper.inboundKeys)
        }
        try tx.saveLink(l)
    }

    mutating func quarantine(_ id: ExternalID, hubID: HubID?, reason: QuarantineReason, message: String) throws {
        counts.failed += 1
        var entry = QuarantineEntry(run: ctx.runID, system: system, entity: entity.name, externalID: id, hubID: hubID,
                                    direction: .pull, reason: reason, message: engine.topology.secrets.redact(message),
                                    createdAt: ctx.now(), source: "\(mapper.mapping.object) id \(id)",
                                    excerpt: current.map { QuarantineEntry.excerpt(of: $0.fields) })
        entry.id = try tx.quarantine(entry)
        quarantineOpen = true
        try faultPoint(.quarantineMidWrite)
        ctx.noteQuarantined(entry)
    }

    /// Quarantines a record the adapter could not read; returns the entry's message.
    mutating func quarantine(_ invalid: InvalidRecord) throws -> String {
        counts.read += 1
        counts.failed += 1
        let message = "\(invalid.pointer): \(invalid.message)"
        var entry = QuarantineEntry(run: ctx.runID, system: system, entity: entity.name, externalID: invalid.id, hubID: nil,
                                    direction: .pull, reason: .malformed, message: engine.topology.secrets.redact(message),
                                    createdAt: ctx.now(), source: "\(mapper.mapping.object) \(invalid.pointer)", excerpt: nil)
        entry.id = try tx.quarantine(entry)
        ctx.noteQuarantined(entry)
        return entry.message
    }

    func resolveQuarantine(_ id: ExternalID) throws {
        guard quarantineOpen else { return }
        try tx.resolveQuarantine(system: system, entity: entity.name, externalID: id, hubID: nil, direction: .pull,
                                 at: ctx.now())
    }
}

/// When a record changed: the system's own change time, or when hubctl observed the change.
struct ChangeTime {
    var at: String
    var observed: Bool
}

/// A record that cannot be applied, with a reason code for the quarantine.
struct RecordProblem: Error {
    var reason: QuarantineReason
    var message: String
}

extension SyncEngine {
    func merger(for entity: EntityDefinition) -> FieldMerge {
        FieldMerge(entity: entity, systemOrder: topology.systems.map(\.name))
    }

    /// Stores the conflicts of a merge and adds them to the run's report.
    func record(_ conflicts: [FieldMerge.Conflict], entity: EntityName, hubID: HubID, tx: HubTransaction,
                ctx: RunContext) throws {
        for c in conflicts {
            // A field already parked for a person keeps one open conflict, with the latest values.
            if c.open, let parked = try tx.openConflict(hubID, field: c.field), let id = parked.id {
                try tx.updateOpenConflict(id, candidates: parked.candidates.merging(c.candidates) { $1 })
                continue
            }
            let record = ConflictRecord(run: ctx.runID, entity: entity, hubID: hubID, field: c.field, candidates: c.candidates,
                                        winner: c.winner, rule: c.rule, status: c.open ? .open : .resolved,
                                        createdAt: ctx.now())
            try tx.recordConflict(record)
            ctx.report.conflicts.append(record)
        }
    }
}
