import HubCore

/// The canonical record of one entity, as stored in the hub.
public struct EntityRecord: Sendable, Hashable {
    public var hubID: HubID
    public var entity: EntityName
    /// Canonical values; null fields are not stored.
    public var data: [String: Value]
    public var version: Int64
    public var seq: Int64
    /// Where each field's current value came from.
    public var fieldOrigins: [String: FieldOrigin]
    public var createdAt: String
    public var updatedAt: String
    public var deletedAt: String?

    public init(hubID: HubID, entity: EntityName, data: [String: Value], version: Int64, seq: Int64,
                fieldOrigins: [String: FieldOrigin], createdAt: String, updatedAt: String, deletedAt: String? = nil) {
        self.hubID = hubID
        self.entity = entity
        self.data = data
        self.version = version
        self.seq = seq
        self.fieldOrigins = fieldOrigins
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.deletedAt = deletedAt
    }

    public var isDeleted: Bool { deletedAt != nil }
}

/// Where a field's value came from: the system, the run, and when the change happened
/// (the system's own change time where it has one, otherwise when hubctl saw it).
public struct FieldOrigin: Sendable, Hashable {
    public var system: SystemName
    public var run: RunID
    /// When the value changed: the system's own change time, or (``observed``) when hubctl
    /// first saw the change.
    public var changedAt: String
    /// True when the system has no change time of its own: `changedAt` is when hubctl first
    /// observed the change, which says nothing about which of two changes seen in one run was
    /// made last.
    public var observed: Bool

    public init(system: SystemName, run: RunID, changedAt: String, observed: Bool = false) {
        self.system = system
        self.run = run
        self.changedAt = changedAt
        self.observed = observed
    }
}

/// The state of a cross-reference link.
public enum LinkState: String, Sendable, Hashable {
    case linked
    /// A create was sent but its outcome is unknown and cannot be looked up: parked for a
    /// person, and never sent again by a push.
    case pendingCreate = "pending_create"
    /// The record was deleted in the system.
    case deleted
}

/// One cross-reference link: an entity's ID in one system, and what the hub last knew that
/// system held.
public struct Link: Sendable, Hashable {
    public var entity: EntityName
    public var system: SystemName
    public var externalID: ExternalID?
    public var hubID: HubID
    public var state: LinkState
    /// Hash of the base's pulled fields: an incoming record with this hash is unchanged.
    public var baseHash: String?
    /// The canonical values the system holds, as far as the hub knows.
    public var baseData: [String: Value]
    /// The hub version the system was last in sync with.
    public var baseVersion: Int64?
    /// How the link was made: `created`, `match:<rule>`, `pushed`, `manual`.
    public var linkedBy: String
    public var linkedAt: String
    public var lastSeenRun: RunID?

    public init(entity: EntityName, system: SystemName, externalID: ExternalID?, hubID: HubID, state: LinkState,
                baseHash: String?, baseData: [String: Value], baseVersion: Int64?, linkedBy: String, linkedAt: String,
                lastSeenRun: RunID?) {
        self.entity = entity
        self.system = system
        self.externalID = externalID
        self.hubID = hubID
        self.state = state
        self.baseHash = baseHash
        self.baseData = baseData
        self.baseVersion = baseVersion
        self.linkedBy = linkedBy
        self.linkedAt = linkedAt
        self.lastSeenRun = lastSeenRun
    }
}

/// Per system, entity and direction: what a run did.
public struct RunCounts: Sendable, Hashable {
    public var read = 0
    public var created = 0
    public var updated = 0
    public var deleted = 0
    public var linked = 0
    public var unchanged = 0
    public var skipped = 0
    public var failed = 0

    public init() {}

    /// Writes to the system (push) or to the hub (pull).
    public var writes: Int { created + updated + deleted + linked }

    public static func + (a: RunCounts, b: RunCounts) -> RunCounts {
        var c = RunCounts()
        c.read = a.read + b.read
        c.created = a.created + b.created
        c.updated = a.updated + b.updated
        c.deleted = a.deleted + b.deleted
        c.linked = a.linked + b.linked
        c.unchanged = a.unchanged + b.unchanged
        c.skipped = a.skipped + b.skipped
        c.failed = a.failed + b.failed
        return c
    }
}

/// A stored run.
public struct RunRecord: Sendable, Hashable {
    public var id: RunID
    public var startedAt: String
    public var finishedAt: String?
    public var status: RunStatus
    public var exitCode: Int?
    public var dryRun: Bool
    /// The run's report as JSON.
    public var report: Value?
}

/// A record that could not be synced.
public struct QuarantineEntry: Sendable, Hashable {
    public var id: Int64?
    public var run: RunID
    public var system: SystemName
    public var entity: EntityName
    public var externalID: ExternalID?
    public var hubID: HubID?
    public var direction: SyncDirection
    /// Why it is here (`missing_required`, `unmappable`, `rejected`, …).
    public var reason: QuarantineReason
    /// What went wrong, without record values.
    public var message: String
    public var createdAt: String
    /// Where the record is: `contacts id 42`, `customers.csv id r1`.
    public var source: String?
    /// The record's shape with its values redacted: `{"email": "text(15)", "points": "text(4)"}`.
    public var excerpt: String?

    public init(id: Int64? = nil, run: RunID, system: SystemName, entity: EntityName, externalID: ExternalID?, hubID: HubID?,
                direction: SyncDirection, reason: QuarantineReason, message: String, createdAt: String, source: String? = nil,
                excerpt: String? = nil) {
        self.id = id
        self.run = run
        self.system = system
        self.entity = entity
        self.externalID = externalID
        self.hubID = hubID
        self.direction = direction
        self.reason = reason
        self.message = message
        self.createdAt = createdAt
        self.source = source
        self.excerpt = excerpt
    }

    /// The shape of a record with every value redacted (type and length only), at most 512 bytes.
    public static func excerpt(of fields: [String: Value]) -> String {
        func shape(_ v: Value) -> String {
            switch v {
            case .null: return "null"
            case .bool: return "boolean"
            case .int, .double: return "number"
            case .string(let s): return "text(\(s.count))"
            case .array(let a): return "array(\(a.count))"
            case .object(let o): return "object(\(o.count))"
            }
        }
        var parts: [String] = []
        var length = 2
        for key in fields.keys.sorted() {
            let part = "\(Value.string(key).json): \"\(shape(fields[key]!))\""
            if length + part.count + 2 > 505 {
                parts.append("\"…\": \"\(fields.count - parts.count) more\"")
                break
            }
            parts.append(part)
            length += part.count + 2
        }
        return "{" + parts.joined(separator: ", ") + "}"
    }
}

/// A field that changed in two places.
public struct ConflictRecord: Sendable, Hashable {
    public var id: Int64?
    public var run: RunID
    public var entity: EntityName
    public var hubID: HubID
    public var field: String
    /// Competing values: `{"hub": v, "crm": v, …}`.
    public var candidates: [String: Value]
    /// The side whose value won, or nil while open.
    public var winner: String?
    /// The rule that decided.
    public var rule: ConflictRule
    public var status: ConflictStatus
    public var createdAt: String
    /// When and by whom a parked conflict was decided.
    public var resolvedAt: String?
    public var resolvedBy: String?

    public init(id: Int64? = nil, run: RunID, entity: EntityName, hubID: HubID, field: String, candidates: [String: Value],
                winner: String?, rule: ConflictRule, status: ConflictStatus, createdAt: String) {
        self.id = id
        self.run = run
        self.entity = entity
        self.hubID = hubID
        self.field = field
        self.candidates = candidates
        self.winner = winner
        self.rule = rule
        self.status = status
        self.createdAt = createdAt
    }
}
