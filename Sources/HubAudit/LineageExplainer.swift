import HubCore
import HubStore
import HubTopology

/// Where each canonical field's value came from, what it held before, and the conflicts it
/// went through (`hubctl explain`), from the entity's history, `field_meta` and the conflict table.
public struct LineageExplainer: Sendable {
    public let topology: Topology
    public let store: HubStore

    public init(topology: Topology, store: HubStore) {
        self.topology = topology
        self.store = store
    }

    /// The lineage of the entity `reference` names; only `field` when given.
    /// - Throws: ``AuditError`` when the entity or field is not found.
    public func explain(_ entity: EntityName, _ reference: EntityReference, field: FieldName? = nil) throws -> EntityLineage {
        let definition = try topology.requireEntity(entity)
        if let field, definition.field(field) == nil {
            throw AuditError(.invalidArgument, "\(entity) has no field '\(field)'",
                             hint: "its fields: " + definition.fields.map(\.name.rawValue).joined(separator: ", "))
        }
        return try store.read { tx in
            let record = try reference.resolve(entity, topology: topology, tx)
            let versions = try tx.versions(record.hubID)
            let conflicts = try tx.conflicts(hubID: record.hubID)
            var entries: [Int64: StewardshipEntry] = [:]
            for e in try tx.stewardship(hubID: record.hubID) { if let id = e.id { entries[id] = e } }
            // Versions written by stewardship on another entity (a merge's survivor) are named too.
            for v in versions {
                if let run = v.run, let n = StewardshipEntry.entryNumber(in: run), entries[n] == nil {
                    entries[n] = try tx.stewardship(n)
                }
            }
            let names = field.map { [$0] } ?? definition.fields.map(\.name)
            let fields = names.map { name in
                FieldLineage(field: name, value: record.data[name.rawValue], origin: record.fieldOrigins[name.rawValue],
                             changes: Self.changes(of: name.rawValue, in: versions),
                             conflicts: conflicts.filter { $0.field == name.rawValue })
            }
            let events = versions.enumerated().compactMap { i, v -> EntityLineage.Event? in
                if v.version == 1 { return .init(kind: .created, version: v) }
                guard v.data.isEmpty != (i > 0 && versions[i - 1].data.isEmpty) else { return nil }
                return .init(kind: v.data.isEmpty ? .deleted : .restored, version: v)
            }
            return EntityLineage(entity: record, mergedInto: try tx.mergedInto(record.hubID), fields: fields, events: events,
                                 versions: versions.count, stewardship: entries)
        }
    }

    /// The versions in which a field took a new value, oldest first. Deletion tombstones (empty
    /// versions) are events of the entity, not changes of its fields.
    static func changes(of field: String, in versions: [EntityVersion]) -> [FieldLineage.Change] {
        var out: [FieldLineage.Change] = []
        var previous: Value = .null
        for v in versions where !v.data.isEmpty {
            let value = v.data[field] ?? .null
            if value == previous { continue }
            out.append(.init(version: v.version, value: value, system: v.sourceSystem, run: v.run, at: v.at))
            previous = value
        }
        return out
    }
}

/// The lineage of one entity.
public struct EntityLineage: Sendable {
    public var entity: EntityRecord
    /// For a merged tombstone: the entity it was merged into.
    public var mergedInto: HubID?
    public var fields: [FieldLineage]
    /// Creation, deletions and restorations, oldest first.
    public var events: [Event]
    /// How many versions the entity has.
    public var versions: Int
    /// The stewardship entries named by the history's run IDs (`stewardship:N`).
    public var stewardship: [Int64: StewardshipEntry]

    /// Something that happened to the entity as a whole.
    public struct Event: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable { case created, deleted, restored }
        public var kind: Kind
        public var version: EntityVersion
    }
}

/// The lineage of one canonical field.
public struct FieldLineage: Sendable {
    public var field: FieldName
    /// The current value (nil when the entity has none).
    public var value: Value?
    /// Where the current value came from: system, run and change time.
    public var origin: FieldOrigin?
    /// Every value the field took, oldest first (the last is the current one).
    public var changes: [Change]
    /// The conflicts the field went through, oldest first.
    public var conflicts: [ConflictRecord]

    /// One value a field took.
    public struct Change: Sendable, Hashable {
        public var version: Int64
        /// The new value (null when it was cleared).
        public var value: Value
        public var system: SystemName?
        public var run: RunID?
        /// When the hub recorded it.
        public var at: String
    }
}
