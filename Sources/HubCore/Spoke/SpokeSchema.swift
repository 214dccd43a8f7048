/// What a system holds, as `hubctl discover` shows it and `hubctl check` compares mappings with.
public struct SpokeSchema: Sendable, Hashable {
    /// Tables, files, collections or endpoints, in the order the system lists them.
    public var objects: [DiscoveredObject]

    public init(objects: [DiscoveredObject]) { self.objects = objects }

    /// The object called `name`, compared exactly first, then ignoring ASCII case.
    public func object(named name: String) -> DiscoveredObject? {
        objects.first { $0.name == name } ?? objects.first { $0.name.lowercased() == name.lowercased() }
    }
}

/// One object of a system and its fields.
public struct DiscoveredObject: Sendable, Hashable {
    public var name: String
    public var fields: [DiscoveredField]
    /// How the fields were found: the system's own schema, or a sample of its records (REST
    /// APIs, JSON files), which may miss fields that no sampled record has.
    public var fromSample: Bool

    public init(name: String, fields: [DiscoveredField], fromSample: Bool = false) {
        self.name = name
        self.fields = fields
        self.fromSample = fromSample
    }

    /// The field at `path` (a name, or a dotted path into nested JSON that a sample revealed).
    public func field(named path: String) -> DiscoveredField? {
        fields.first { $0.name == path } ?? fields.first { $0.name.lowercased() == path.lowercased() }
    }
}

/// One field of an object.
public struct DiscoveredField: Sendable, Hashable {
    /// The name, or a dotted path for nested JSON.
    public var name: String
    /// The system's own type name (`timestamp with time zone`, `INTEGER`), or the JSON type seen.
    public var nativeType: String
    /// What kind of values the field holds.
    public var kind: ValueKind
    /// True when the field is (part of) the object's key.
    public var isKey: Bool
    /// False when the system forbids empty values; nil when it does not say.
    public var nullable: Bool?

    public init(name: String, nativeType: String, kind: ValueKind, isKey: Bool = false, nullable: Bool? = nil) {
        self.name = name
        self.nativeType = nativeType
        self.kind = kind
        self.isKey = isKey
        self.nullable = nullable
    }
}

/// The kind of values a system field holds, independent of the system's type names.
public enum ValueKind: String, Sendable, Hashable, CaseIterable {
    case text, integer, number, boolean, date, datetime, json, binary
    /// Anything: a field whose values the system does not type (a CSV cell, a JSON value seen as null).
    case any
}

extension Spoke {
    /// Lists the objects and fields the system has. Adapters that cannot list them throw a
    /// configuration error saying so.
    public func discover(_ objects: [ObjectBinding]) async throws -> SpokeSchema {
        throw SpokeError(.configuration, system: system, message: "this adapter cannot list the system's objects")
    }
}

extension DiscoveredObject {
    /// The fields a sample of JSON records shows, as dotted paths into nested objects, each
    /// with the kind of the values seen (`any` when they disagree or were all null).
    public static func inferred(name: String, from records: [[String: Value]], keys: Set<String> = []) -> DiscoveredObject {
        var inference = SchemaInference()
        for record in records { inference.add(record) }
        return inference.object(name: name, keys: keys)
    }
}
