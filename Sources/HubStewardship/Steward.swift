import Foundation
import HubAudit
import HubCore
import HubMapping
import HubStore
import HubTopology

/// Manual stewardship of links and entities: link, unlink, relink, merge, unmerge and re-push,
/// each in one hub transaction, each recorded in the `stewardship` log with who, when and why,
/// each with a dry run that changes nothing (docs/audit.md).
///
/// Every change that a system should see gives the entity a new version with the next `seq`, so
/// the next `sync-all` pushes it; link bases are set to what the system holds, so that exactly
/// the fields that differ are written.
///
/// For example:
/// ```swift
/// let steward = Steward(topology: topology, store: store, spokes: spokes)
/// let outcome = try steward.merge("customer", survivor: .hub(a), absorbed: .system("crm", "42"),
///                                 as: .init(by: "ana", reason: "same person"))
/// ```
public struct Steward: Sendable {
    /// Every system's spoke and mappers, built in one place.
    public let runtime: TopologyRuntime
    public let store: HubStore
    let clock: WallClock
    /// When a silent holder's run lock counts as stale (as for `sync-all`).
    let lockTimeout: TimeInterval

    public var topology: Topology { runtime.topology }
    /// The systems' spokes: link, relink and re-push read the record they act on.
    public var spokes: [SystemName: any Spoke] { runtime.spokes }

    /// - Parameter lockTimeout: seconds after which a silent run's lock on the hub is taken over.
    public init(runtime: TopologyRuntime, store: HubStore, clock: WallClock = .system, lockTimeout: TimeInterval = 600) {
        self.runtime = runtime
        self.store = store
        self.clock = clock
        self.lockTimeout = lockTimeout
    }

    /// A steward over these spokes (tests); records map as each spoke's adapter declares.
    public init(topology: Topology, store: HubStore, spokes: [SystemName: any Spoke] = [:], clock: WallClock = .system,
                lockTimeout: TimeInterval = 600) {
        self.init(runtime: TopologyRuntime(topology, spokes: spokes), store: store, clock: clock, lockTimeout: lockTimeout)
    }

    /// Who makes a change, and why; kept in the stewardship log.
    public struct Attribution: Sendable, Hashable {
        public var by: String
        public var reason: String?
        public init(by: String, reason: String?) {
            self.by = by
            self.reason = reason
        }
    }

    /// The systems the hub's version of a person's change is attributed to in `field_meta` and
    /// the history.
    static let manual = SystemName("manual")

    // MARK: - Transactions

    /// Runs `body` in one transaction with a new stewardship entry, holding the hub's run lock
    /// (so no `sync-all` runs meanwhile); rolls everything back for a dry run or when `body` finds
    /// nothing to do.
    /// - Throws: `HubLocked` when a run holds the hub.
    func perform(_ entry: StewardshipEntry, dryRun: Bool,
                 _ body: (HubTransaction, inout StewardshipEntry, inout [String]) throws -> Void) throws -> StewardshipOutcome {
        let lease = try store.acquireRunLock(RunID("stewardship"), now: clock.now(), staleAfter: lockTimeout)
        let outcome = Result { try transaction(entry, dryRun: dryRun, body) }
        try store.releaseRunLock(lease)
        return try outcome.get()
    }

    func transaction(_ entry: StewardshipEntry, dryRun: Bool,
                     _ body: (HubTransaction, inout StewardshipEntry, inout [String]) throws -> Void) throws -> StewardshipOutcome {
        do {
            return try store.write { tx in
                var entry = entry
                entry.id = try tx.recordStewardship(entry)
                var changes: [String] = []
                try body(tx, &entry, &changes)
                try tx.updateStewardship(entry)
                let outcome = StewardshipOutcome(entry: entry, dryRun: dryRun, changes: changes, nothingToDo: false)
                if dryRun { throw Rollback(outcome: outcome) }
                return outcome
            }
        } catch let rollback as Rollback {
            var outcome = rollback.outcome
            outcome.entry.id = nil
            return outcome
        }
    }

    /// Ends a transaction without keeping anything.
    struct Rollback: Error {
        var outcome: StewardshipOutcome
    }

    /// Throws out of `perform` when the change is already in place.
    func nothingToDo(_ entry: StewardshipEntry, _ why: String, dryRun: Bool) -> Rollback {
        Rollback(outcome: StewardshipOutcome(entry: entry, dryRun: dryRun, changes: [why], nothingToDo: true))
    }

    func now() -> String { Timestamp.string(clock.now()) }

    func newEntry(_ action: StewardshipEntry.Action, _ entity: EntityName, system: SystemName? = nil,
                  externalID: ExternalID? = nil, as who: Attribution) -> StewardshipEntry {
        StewardshipEntry(action: action, entity: entity, hubID: HubID(""), system: system, externalID: externalID, by: who.by,
                         reason: who.reason, at: now())
    }

    // MARK: - Shared steps

    /// A live entity named by `reference`; a merged tombstone names its survivor in the error.
    func live(_ entity: EntityName, _ reference: EntityReference, _ tx: HubTransaction) throws -> EntityRecord {
        let record = try reference.resolve(entity, topology: topology, tx)
        guard !record.isDeleted else {
            if let survivor = try tx.mergedInto(record.hubID) {
                throw StewardshipError(.refused, "\(entity) \(record.hubID) was merged into \(survivor)",
                                       hint: "act on \(survivor), or `hubctl unmerge \(entity) \(record.hubID)` first")
            }
            throw StewardshipError(.refused, "\(entity) \(record.hubID) is deleted", hint: "link records to a live entity")
        }
        return record
    }

    /// Stores a new version of an entity (the next `seq`, so every system's push sees it),
    /// attributed to the stewardship entry; refreshes its identity keys while it is live.
    @discardableResult
    func writeVersion(_ record: EntityRecord, data: [String: Value], origins: [String: FieldOrigin], _ entry: StewardshipEntry,
                      _ tx: HubTransaction, deleted: Bool? = nil) throws -> EntityRecord {
        var next = record
        next.data = data
        next.fieldOrigins = origins
        next.version += 1
        next.updatedAt = entry.at
        if let deleted { next.deletedAt = deleted ? entry.at : nil }
        next = try tx.updateEntity(next, sourceSystem: Self.manual, run: entry.runID)
        if !next.isDeleted, let definition = topology.entity(record.entity) {
            try tx.setMatchKeys(next.hubID, entity: next.entity, data: data, rules: definition.match)
        }
        return next
    }

    /// The mapper of an entity in a system the topology maps it in.
    func mapper(_ system: SystemName, _ entity: EntityName) throws -> EntityMapper {
        _ = try topology.requireSystem(system, mapping: entity)
        return runtime.mapper(system, entity)!
    }

    /// Reads one record from its system (nil when the system does not have it).
    func fetch(_ mapper: EntityMapper, _ id: ExternalID) async throws -> SpokeRecord? {
        guard let spoke = spokes[mapper.system] else {
            throw StewardshipError(.unreadable, "no adapter was built for \(mapper.system)",
                                   hint: "`hubctl check \(mapper.system)` says why it cannot be opened")
        }
        do {
            return try await spoke.fetch(mapper.binding, ids: [id]).first
        } catch let error as SpokeError {
            throw StewardshipError(.unreadable, "\(mapper.system) could not be read: \(topology.secrets.redact(error.message))",
                                   hint: "this command reads the record to know what it holds; try again once "
                                       + "\(mapper.system) is reachable")
        }
    }

    /// The record `id` of a system, which must exist.
    func require(_ mapper: EntityMapper, _ id: ExternalID) async throws -> SpokeRecord {
        guard let record = try await fetch(mapper, id) else {
            throw StewardshipError(.notFound, "\(mapper.system) has no \(mapper.entity.name) with \(mapper.binding.idField) \(id)",
                                   hint: "check the ID in \(mapper.system)")
        }
        return record
    }

    /// The record's canonical reading, or a refusal naming the field that does not map.
    /// - Parameter base: the values the record is linked (or about to be linked) to, for composites.
    func reading(_ mapper: EntityMapper, _ record: SpokeRecord, _ tx: HubTransaction,
                 base: CanonicalRecord? = nil) throws -> CanonicalReading {
        guard let reading = try mapper.reading(record, tx, base: base) else {
            let why: String
            if case .failure(let error) = mapper.inbound(record, base: base) { why = error.description } else { why = "it cannot be mapped" }
            throw StewardshipError(.refused, "\(mapper.system) \(record.id) cannot be read into the hub: \(why)",
                                   hint: "fix the record in \(mapper.system) first")
        }
        return reading
    }

    /// The link base for a record as read: its values for the fields it was read for.
    func base(_ reading: CanonicalReading, over old: [String: Value] = [:], _ mapper: EntityMapper) -> (data: [String: Value], hash: String) {
        var base = old
        for f in mapper.readableFields { base[f] = nil }
        for f in reading.fields { if let v = reading.values[f], !v.isNull { base[f] = v } }
        return (base, ContentHash.of(base, fields: mapper.inboundFields))
    }

    /// Links a record to a live entity: gaps in the hub are filled from the record (a pulled
    /// system's values only), the link's base is what the record holds, and the entity gets a new
    /// version, so the next sync-all writes the hub's values where the record differs.
    func attach(_ record: SpokeRecord, to target: EntityRecord, _ mapper: EntityMapper, _ entry: inout StewardshipEntry,
                _ changes: inout [String], _ tx: HubTransaction) throws {
        let system = mapper.system
        let reading = try reading(mapper, record, tx, base: target.data)
        var data = target.data
        var origins = target.fieldOrigins
        var filled: [String] = []
        for f in reading.fields where mapper.inboundFields.contains(f) {
            guard (data[f] ?? .null).isNull, let v = reading.values[f], !v.isNull else { continue }
            data[f] = v
            origins[f] = FieldOrigin(system: system, run: entry.runID, changedAt: entry.at)
            filled.append(f)
        }
        let next = try writeVersion(target, data: data, origins: origins, entry, tx)
        let (base, hash) = base(reading, mapper)
        try tx.saveLink(Link(entity: target.entity, system: system, externalID: record.id, hubID: target.hubID, state: .linked,
                             baseHash: hash, baseData: base, baseVersion: next.version, linkedBy: "manual",
                             linkedAt: entry.at, lastSeenRun: nil))
        try tx.resolveQuarantine(system: system, entity: target.entity, externalID: record.id, hubID: nil, direction: .pull,
                                 at: entry.at)
        changes.append("linked \(system) \(record.id) to \(target.entity) \(target.hubID)")
        if !filled.isEmpty {
            changes.append("filled \(filled.sorted().joined(separator: ", ")) from \(system) \(record.id) (the hub had no value)")
        }
        changes.append("new version \(next.version): the next sync-all writes the hub's values to \(system) \(record.id) "
                       + "where they differ")
        entry.detail["filled"] = .array(filled.sorted().map(Value.string))
        entry.detail["version"] = .int(next.version)
    }
}

/// What a stewardship command did, or would do.
public struct StewardshipOutcome: Sendable {
    /// The log entry (its `id` is nil for a dry run or when there was nothing to do).
    public var entry: StewardshipEntry
    public var dryRun: Bool
    /// What was (or would be) changed, one line each, for people.
    public var changes: [String]
    /// True when the change was already in place: nothing was written.
    public var nothingToDo: Bool
}
