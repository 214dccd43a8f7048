import HubCore

/// The adapters a system can use.
public enum AdapterKind: String, Sendable, Hashable, CaseIterable {
    case sqlite, csv, jsonl, postgres, rest, exec

    /// Adapters this build of hubctl can run.
    public static let available: [AdapterKind] = [.sqlite, .csv, .jsonl, .postgres, .rest, .exec]
}

/// Which way data flows between the hub and a system (or one field of it).
public enum Direction: String, Sendable, Hashable, CaseIterable {
    /// Both ways.
    case both
    /// System → hub only.
    case pull
    /// Hub → system only.
    case push

    /// True when data flows from the system to the hub.
    public var pulls: Bool { self != .push }
    /// True when data flows from the hub to the system.
    public var pushes: Bool { self != .pull }
}

/// A connected system: its adapter, connection and the entities it holds.
public struct SystemDefinition: Sendable {
    public var name: SystemName
    public var adapter: AdapterKind
    /// Adapter-specific settings, `${ENV}` already substituted. May hold secrets: never print.
    public var connection: [String: Value]
    public var direction: Direction
    /// Entity mappings in declaration order.
    public var entities: [SystemEntityMapping]
    /// How often `hubctl run` reads this system (nil: the run's default).
    public var schedule: Schedule?
    /// How this system's webhook deliveries are verified (nil: `/hooks/{system}` refuses them).
    public var webhook: WebhookSettings?
    /// A postgres system's change capture under `hubctl run` (nil: none).
    public var capture: CaptureSettings?

    public init(name: SystemName, adapter: AdapterKind, connection: [String: Value] = [:], direction: Direction = .both,
                entities: [SystemEntityMapping], schedule: Schedule? = nil, webhook: WebhookSettings? = nil,
                capture: CaptureSettings? = nil) {
        self.capture = capture
        self.name = name
        self.adapter = adapter
        self.connection = connection
        self.direction = direction
        self.entities = entities
        self.schedule = schedule
        self.webhook = webhook
    }

    /// The mapping of an entity in this system.
    public func mapping(for entity: EntityName) -> SystemEntityMapping? { entities.first { $0.entity == entity } }
}

/// How one entity is stored in one system.
public struct SystemEntityMapping: Sendable, Hashable {
    public var entity: EntityName
    /// Table, file, collection or endpoint.
    public var object: String
    /// The field holding the system's own ID.
    public var idField: String
    /// A field that increases on every change, for incremental reads.
    public var cursorField: String?
    /// Seconds after a read within which rows may still appear below its cursor position
    /// (`"cursor": {"field": …, "lookback": "2m"}`; see ``ObjectBinding/cursorLookback``).
    public var cursorLookback: Double
    /// Field mappings in declaration order.
    public var fields: [FieldMapping]
    /// Which hub entities belong in this system and which of its records are accepted.
    public var filter: Predicate?
    /// What happens to a record in this system whose hub entity stops matching `filter`.
    public var onUnmatch: OnUnmatch
    public var deletes: DeletePolicy
    /// A rest system's endpoint settings for this object (paths, pagination, envelope…), `${ENV}`
    /// substituted; nil elsewhere.
    public var endpoint: [String: Value]?
    /// A schedule of its own for this entity under `hubctl run` (nil: the system's).
    public var schedule: Schedule?
    /// How many parts `hubctl run --worker` processes read this table in, each its own unit
    /// (`"partitions": 4`; nil: one unit). `sync-all` and `hubctl run` read it whole.
    public var partitions: Int?

    public init(entity: EntityName, object: String, idField: String = "id", cursorField: String? = nil,
                cursorLookback: Double = ObjectBinding.defaultCursorLookback,
                fields: [FieldMapping], filter: Predicate? = nil, onUnmatch: OnUnmatch = .leave,
                deletes: DeletePolicy = DeletePolicy(), endpoint: [String: Value]? = nil, schedule: Schedule? = nil,
                partitions: Int? = nil) {
        self.schedule = schedule
        self.partitions = partitions
        self.entity = entity
        self.object = object
        self.idField = idField
        self.cursorField = cursorField
        self.cursorLookback = cursorLookback
        self.fields = fields
        self.filter = filter
        self.onUnmatch = onUnmatch
        self.deletes = deletes
        self.endpoint = endpoint
    }
}

/// What happens to deletes, in each direction.
public struct DeletePolicy: Sendable, Hashable {
    /// When a linked record disappears from the system.
    public enum Pull: String, Sendable, Hashable, CaseIterable {
        /// Delete the hub entity (and so from the other systems, per their push policy).
        case propagate
        /// Unlink only.
        case ignore
        /// Re-create the record from the hub.
        case restore
    }

    /// When a hub entity is deleted.
    public enum Push: Sendable, Hashable {
        case delete
        case ignore
        /// Soft delete: set these canonical fields instead of deleting.
        case set([FieldName: Value])
    }

    public var pull: Pull
    public var push: Push
    /// The mass-delete guard: a run that finds more than this share of the system's linked
    /// records gone (and at least `minCount` of them) deletes nothing unless allowed.
    public var maxShare: Double
    /// Fewer deletions than this never trip the guard.
    public var minCount: Int

    public init(pull: Pull = .propagate, push: Push = .delete, maxShare: Double = 0.2, minCount: Int = 5) {
        self.pull = pull
        self.push = push
        self.maxShare = maxShare
        self.minCount = minCount
    }
}

/// What happens to a system's record whose hub entity no longer passes the system's filter.
public enum OnUnmatch: String, Sendable, Hashable, CaseIterable {
    /// Leave it in the system, no longer synced (the default).
    case leave
    /// Delete it from the system.
    case delete
}
