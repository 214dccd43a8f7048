import HubCore

/// A decoded, validated topology: which entities exist, which systems hold them and how.
///
/// Built only by ``TopologyLoader``, so a `Topology` value is always valid: every system maps
/// known entities and fields, every `ref` names a declared entity, every `${ENV}` resolved.
public struct Topology: Sendable {
    /// The topology's name (`customer-360`).
    public var name: String
    /// The folder relative paths are resolved against (the topology file's folder).
    public var baseDirectory: String
    /// Absolute path of the hub database (a SQLite file), unless ``hubURL`` is set.
    public var hubPath: String
    /// The PostgreSQL hub's `postgres://` URL, `${ENV}` substituted (its password is among
    /// ``secrets``), when the topology's `hub` names one; nil for the SQLite hub at ``hubPath``.
    public var hubURL: String?
    /// The PostgreSQL schema holding the hub (`hub.schema`; nil: `public`).
    public var hubSchema: String?
    /// The environment variables that chose the hub instead of the topology's `hub`
    /// (`HUBCTL_HUB`, `HUBCTL_HUB_SCHEMA`); empty when the topology file did.
    public var hubOverrides: [String] = []
    /// Entities in declaration order.
    public var entities: [EntityDefinition]
    /// Systems in declaration order.
    public var systems: [SystemDefinition]
    /// Every secret value substituted from the environment, to scrub from any output.
    public var secrets: SecretRedactor
    /// Problems worth showing that do not stop the topology from loading (a priority list naming
    /// a system that is not declared yet, say). `hubctl validate` prints them.
    public var warnings: [Diagnostic]

    public init(name: String, baseDirectory: String, hubPath: String, entities: [EntityDefinition],
                systems: [SystemDefinition], secrets: SecretRedactor = SecretRedactor(), warnings: [Diagnostic] = []) {
        self.name = name
        self.baseDirectory = baseDirectory
        self.hubPath = hubPath
        self.entities = entities
        self.systems = systems
        self.secrets = secrets
        self.warnings = warnings
    }

    /// An absolute path for a path written in the topology (a `connection` path, say): relative
    /// paths are resolved against the topology file's folder; absolute paths are kept.
    public func resolvedPath(_ path: String) -> String {
        TopologyDecoder.resolve(path, against: baseDirectory)
    }

    /// The entity with this name.
    public func entity(_ name: EntityName) -> EntityDefinition? { entities.first { $0.name == name } }

    /// The system with this name.
    public func system(_ name: SystemName) -> SystemDefinition? { systems.first { $0.name == name } }

    /// Entities ordered so that referenced entities come before the entities referring to them.
    /// References that form a cycle (employee.manager → employee) keep declaration order.
    public var referenceOrder: [EntityName] {
        var ordered: [EntityName] = []
        var visiting: Set<EntityName> = []
        func visit(_ e: EntityDefinition) {
            if ordered.contains(e.name) || visiting.contains(e.name) { return }
            visiting.insert(e.name)
            for field in e.fields { if let target = field.refEntity, let t = entity(target) { visit(t) } }
            visiting.remove(e.name)
            ordered.append(e.name)
        }
        for e in entities { visit(e) }
        return ordered
    }
}

/// A canonical entity: its fields, identity rules and conflict policy.
public struct EntityDefinition: Sendable, Hashable {
    public var name: EntityName
    /// Fields in declaration order.
    public var fields: [FieldDefinition]
    /// Identity rules: lists of fields, tried in order, compared after normalisation.
    public var match: [[FieldName]]
    public var conflicts: ConflictPolicy
    /// What happens when a system deletes an entity that live entities still refer to.
    public var onReferencedDelete: ReferencedDeletePolicy

    public init(name: EntityName, fields: [FieldDefinition], match: [[FieldName]] = [],
                conflicts: ConflictPolicy = ConflictPolicy(), onReferencedDelete: ReferencedDeletePolicy = .hold) {
        self.name = name
        self.fields = fields
        self.match = match
        self.conflicts = conflicts
        self.onReferencedDelete = onReferencedDelete
    }

    /// The field with this name.
    public func field(_ name: FieldName) -> FieldDefinition? { fields.first { $0.name == name } }
}

/// What happens when a system deletes a record whose hub entity live entities still refer to
/// (a customer who has orders): a delete never leaves systems split.
public enum ReferencedDeletePolicy: String, Sendable, Hashable, CaseIterable {
    /// Nothing is deleted anywhere; the delete is parked for a person (a quarantine entry that
    /// names the referring records) and applied by a later run once nothing refers to it.
    case hold
    /// The entity is deleted with every live entity that refers to it, everywhere.
    case cascade
    /// Nothing is deleted; the record is re-created in the system that deleted it.
    case restore
}

/// The canonical types a field can have.
public enum FieldType: String, Sendable, Hashable, CaseIterable {
    case string, integer, number, boolean, date, datetime, json, ref
}

/// A canonical field.
public struct FieldDefinition: Sendable, Hashable {
    public var name: FieldName
    public var type: FieldType
    public var required: Bool
    /// Applied in order to every value of this field before it is stored, compared or matched.
    public var normalize: [Normalizer]
    /// For `ref` fields: the entity referred to.
    public var refEntity: EntityName?

    public init(name: FieldName, type: FieldType, required: Bool = false, normalize: [Normalizer] = [],
                refEntity: EntityName? = nil) {
        self.name = name
        self.type = type
        self.required = required
        self.normalize = normalize
        self.refEntity = refEntity
    }
}

/// A value normalisation.
public enum Normalizer: String, Sendable, Hashable, CaseIterable {
    /// Lower-case letters.
    case lowercase
    /// Upper-case letters.
    case uppercase
    /// Remove leading and trailing white space.
    case trim
    /// Replace every run of white space by one space, and trim.
    case collapseSpaces = "collapse_spaces"
    /// Keep digits only, and a leading `+` (phone numbers).
    case digits
    /// Turn an empty (or white-space only) string into null.
    case emptyToNull = "empty_to_null"
}

/// How a field changed in two places is settled.
public enum Resolution: String, Sendable, Hashable, CaseIterable {
    /// The latest change wins; ties go to the priority list, then the system name.
    case newest
    /// The first system in the priority list wins.
    case priority
    /// Keep the hub's value and park the conflict for a person.
    case manual
}

/// An entity's conflict policy.
public struct ConflictPolicy: Sendable, Hashable {
    public var resolve: Resolution
    public var priority: [SystemName]
    /// Per-field overrides.
    public var fields: [FieldName: FieldConflictRule]

    public init(resolve: Resolution = .newest, priority: [SystemName] = [], fields: [FieldName: FieldConflictRule] = [:]) {
        self.resolve = resolve
        self.priority = priority
        self.fields = fields
    }
}

/// A per-field conflict rule: an owner system, or a resolution of its own.
public struct FieldConflictRule: Sendable, Hashable {
    public var owner: SystemName?
    public var resolve: Resolution?
    public var priority: [SystemName]?

    public init(owner: SystemName? = nil, resolve: Resolution? = nil, priority: [SystemName]? = nil) {
        self.owner = owner
        self.resolve = resolve
        self.priority = priority
    }
}
