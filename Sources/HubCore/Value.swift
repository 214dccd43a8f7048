/// A JSON-shaped value: what records hold, in the hub and in every spoke.
///
/// Integers and floating-point numbers are kept apart so that a system's `42` round-trips as
/// `42`, not `42.0`. Objects are unordered; their canonical encoding sorts keys (see
/// ``JSONWriter``), which is what content hashes are computed over.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([Value])
    case object([String: Value])

    /// True for `.null`.
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The string payload, if this is a string.
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }

    /// The integer payload, if this is an integer.
    public var intValue: Int64? { if case .int(let i) = self { return i } else { return nil } }

    /// The boolean payload, if this is a boolean.
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }

    /// A number as a `Double`, for integers and doubles.
    public var numberValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// The object payload, if this is an object.
    public var objectValue: [String: Value]? { if case .object(let o) = self { return o } else { return nil } }

    /// The array payload, if this is an array.
    public var arrayValue: [Value]? { if case .array(let a) = self { return a } else { return nil } }

    /// A short name of the value's JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// The value as compact canonical JSON (sorted keys).
    public var json: String { JSONWriter.string(self) }

    /// Text for a human: strings bare, everything else as JSON.
    public var displayText: String {
        if case .string(let s) = self { return s }
        return json
    }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: Value...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension Value {
    /// Reads a dotted path (`"properties.email"`). A literal key containing dots wins over the
    /// nested reading, so flat systems whose column names contain dots still work.
    public func value(atPath path: String) -> Value? {
        guard case .object(let object) = self else { return nil }
        if let direct = object[path] { return direct }
        guard path.utf8.contains(UInt8(ascii: ".")) else { return nil }
        var current: Value = self
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard case .object(let o) = current, let next = o[String(part)] else { return nil }
            current = next
        }
        return current
    }
}

extension Dictionary where Key == String, Value == HubCore.Value {
    /// Reads a dotted path, preferring a literal key (see ``Value/value(atPath:)``).
    public func value(atPath path: String) -> HubCore.Value? {
        if let direct = self[path] { return direct }
        // (`utf8.contains`: `String.contains(".")` would go through Foundation's substring search.)
        guard path.utf8.contains(UInt8(ascii: ".")) else { return nil }
        var object = self
        var parts = path.split(separator: ".", omittingEmptySubsequences: false)[...]
        while let part = parts.popFirst() {
            guard let next = object[String(part)] else { return nil }
            if parts.isEmpty { return next }
            guard case .object(let inner) = next else { return nil }
            object = inner
        }
        return nil
    }

    /// Writes a dotted path, creating nested objects as needed. With `nested: false` the path is
    /// used as a literal key (flat systems such as tables and CSV files).
    public mutating func setValue(_ value: HubCore.Value, atPath path: String, nested: Bool = true) {
        guard nested, path.utf8.contains(UInt8(ascii: ".")) else { self[path] = value; return }
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        func set(_ object: inout [String: HubCore.Value], _ index: Int) {
            let key = parts[index]
            if index == parts.count - 1 { object[key] = value; return }
            var child = object[key]?.objectValue ?? [:]
            set(&child, index + 1)
            object[key] = .object(child)
        }
        set(&self, 0)
    }
}

extension Dictionary where Key == String, Value == HubCore.Value {
    /// This object with `patch` applied: nested objects are merged key by key, everything else
    /// in `patch` replaces what was there. This is how a partial update of a JSON record works.
    public func deepMerging(_ patch: [String: HubCore.Value]) -> [String: HubCore.Value] {
        var out = self
        for (key, value) in patch {
            if case .object(let patchObject) = value, case .object(let existing)? = out[key] {
                out[key] = .object(existing.deepMerging(patchObject))
            } else {
                out[key] = value
            }
        }
        return out
    }
}
