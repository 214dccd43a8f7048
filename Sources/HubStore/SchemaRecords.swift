import HubCore

/// What one system × entity's object looked like when a run last read it without drift: its
/// fields with their types, and the mapping in force then (so a field mapped since is noticed).
public struct SchemaFingerprint: Sendable, Hashable {
    public var system: SystemName
    public var entity: EntityName
    /// The table, file, collection or endpoint.
    public var object: String
    /// The fields, as `discover` describes them.
    public var fields: [DiscoveredField]
    /// True when the fields were seen in records (APIs, JSON files) rather than listed by the
    /// system: the union of every field seen so far.
    public var sampled: Bool
    /// Canonical field → a signature of its mapping (system field, conversion, direction).
    public var mapping: [String: String]
    /// The run that took it, and when.
    public var run: RunID
    public var takenAt: String

    public init(system: SystemName, entity: EntityName, object: String, fields: [DiscoveredField], sampled: Bool,
                mapping: [String: String], run: RunID, takenAt: String) {
        self.system = system
        self.entity = entity
        self.object = object
        self.fields = fields
        self.sampled = sampled
        self.mapping = mapping
        self.run = run
        self.takenAt = takenAt
    }

    /// A short hash of the fields and the mapping: equal hashes, nothing to store.
    public var hash: String {
        SHA256.hexString(SHA256.hash(Array(JSONWriter.string(json).utf8)), length: 16)
    }

    /// The field called `name` (exact spelling).
    public func field(_ name: String) -> DiscoveredField? { fields.first { $0.name == name } }

    /// The fields and mapping as JSON (what the hub stores).
    var json: Value {
        .object(["fields": .array(fields.map(\.json)), "sampled": .bool(sampled),
                 "mapping": .object(mapping.mapValues(Value.string))])
    }
}

extension DiscoveredField {
    /// The field as JSON: `{"name", "type", "kind", "key", "nullable"}`.
    public var json: Value {
        var o: [String: Value] = ["name": .string(name), "type": .string(nativeType), "kind": .string(kind.rawValue),
                                  "key": .bool(isKey)]
        if let nullable { o["nullable"] = .bool(nullable) }
        return .object(o)
    }

    /// A field from its JSON form; nil when it has no name.
    public init?(json: Value) {
        guard let name = json.value(atPath: "name")?.stringValue else { return nil }
        let kind = json.value(atPath: "kind")?.stringValue.flatMap(ValueKind.init(rawValue:)) ?? .any
        self.init(name: name, nativeType: json.value(atPath: "type")?.stringValue ?? kind.rawValue, kind: kind,
                  isKey: json.value(atPath: "key")?.boolValue ?? false, nullable: json.value(atPath: "nullable")?.boolValue)
    }
}

/// One schema change a run noticed in a system's object. Open while it still holds; a run that
/// no longer sees it (the field came back, or the mapping was changed to match) closes it.
public struct SchemaDriftRecord: Sendable, Hashable {
    /// What changed.
    public enum Change: String, Sendable, Hashable, CaseIterable {
        /// A field the object did not have before, which the mapping does not map (yet).
        case added
        /// A mapped field the object no longer has.
        case removed
        /// A mapped field the object no longer has, and a new field that is likely the same one
        /// under another name (a similar name and type, or the same values on linked records).
        case renamed
        /// A mapped field whose type changed.
        case typeChanged = "type_changed"
    }

    public var id: Int64?
    /// The run that first noticed it, and the latest run that saw it.
    public var run: RunID
    public var lastRun: RunID
    public var system: SystemName
    public var entity: EntityName
    public var object: String
    public var change: Change
    /// The field concerned (for a rename: its old name).
    public var field: String
    /// For a rename: the field that likely replaced it.
    public var newField: String?
    /// Types before and after (`added`: the new field's type).
    public var oldType: String?
    public var newType: String?
    /// What changed and what to do, without any record's values.
    public var message: String
    /// True when it pauses the system × entity (nothing read from it or written to it) until
    /// the mapping or the schema is fixed.
    public var pauses: Bool
    public var detectedAt: String
    public var resolvedAt: String?
    public var resolvedRun: RunID?

    public init(id: Int64? = nil, run: RunID, lastRun: RunID? = nil, system: SystemName, entity: EntityName, object: String,
                change: Change, field: String, newField: String? = nil, oldType: String? = nil, newType: String? = nil,
                message: String, pauses: Bool, detectedAt: String, resolvedAt: String? = nil, resolvedRun: RunID? = nil) {
        self.id = id
        self.run = run
        self.lastRun = lastRun ?? run
        self.system = system
        self.entity = entity
        self.object = object
        self.change = change
        self.field = field
        self.newField = newField
        self.oldType = oldType
        self.newType = newType
        self.message = message
        self.pauses = pauses
        self.detectedAt = detectedAt
        self.resolvedAt = resolvedAt
        self.resolvedRun = resolvedRun
    }

    /// What identifies the change among the open ones of its system × entity.
    public var key: String { "\(change.rawValue)\u{0}\(field)" }

    /// The change as JSON (in run reports, `history`, `runs show` and `status`).
    public var json: Value {
        var o: [String: Value] = [
            "system": .string(system.rawValue), "entity": .string(entity.rawValue), "object": .string(object),
            "change": .string(change.rawValue), "field": .string(field), "pauses": .bool(pauses),
            "message": .string(message), "run_id": .string(run.rawValue), "last_run_id": .string(lastRun.rawValue),
            "detected_at": .string(detectedAt),
        ]
        if let newField { o["new_field"] = .string(newField) }
        if let oldType { o["old_type"] = .string(oldType) }
        if let newType { o["new_type"] = .string(newType) }
        if let resolvedAt { o["resolved_at"] = .string(resolvedAt) }
        return .object(o)
    }

    /// A change from its JSON form (as a run report stores it); nil when it is not one.
    public init?(json: Value) {
        guard let system = json.value(atPath: "system")?.stringValue, let entity = json.value(atPath: "entity")?.stringValue,
              let change = json.value(atPath: "change")?.stringValue.flatMap(Change.init(rawValue:)),
              let field = json.value(atPath: "field")?.stringValue else { return nil }
        self.init(run: RunID(json.value(atPath: "run_id")?.stringValue ?? ""),
                  lastRun: json.value(atPath: "last_run_id")?.stringValue.map(RunID.init), system: SystemName(system),
                  entity: EntityName(entity), object: json.value(atPath: "object")?.stringValue ?? "", change: change,
                  field: field, newField: json.value(atPath: "new_field")?.stringValue,
                  oldType: json.value(atPath: "old_type")?.stringValue, newType: json.value(atPath: "new_type")?.stringValue,
                  message: json.value(atPath: "message")?.stringValue ?? "", pauses: json.value(atPath: "pauses")?.boolValue ?? false,
                  detectedAt: json.value(atPath: "detected_at")?.stringValue ?? "",
                  resolvedAt: json.value(atPath: "resolved_at")?.stringValue)
    }
}
