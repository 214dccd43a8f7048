import HubCore

/// How canonical fields map to one system field.
///
/// Most mappings are one canonical field to one system field. A composite mapping joins several
/// canonical fields into one system field (`first_name` + `last_name` ⇄ `full_name`).
public struct FieldMapping: Sendable, Hashable {
    /// The canonical fields, in order. One, except for composites.
    public var canonical: [FieldName]
    /// The system field or dotted path (`properties.email`).
    public var systemField: String
    /// Canonical value (as text) → system value; inverted on the way in.
    public var values: [String: Value]
    public var direction: Direction
    /// The canonical value used when the system has none, and written when the hub has none.
    public var defaultValue: Value?
    /// How the system stores the value, when it differs from the canonical type.
    public var systemType: SystemValueType?
    /// How the system writes dates and times.
    public var format: DateFormat?
    /// Applied to the system's value on the way in.
    public var normalize: [Normalizer]
    /// For composites: what joins the parts.
    public var separator: String
    /// For composites: where extra separators go when splitting.
    public var split: SplitSide

    public init(canonical: [FieldName], systemField: String, values: [String: Value] = [:], direction: Direction = .both,
                defaultValue: Value? = nil, systemType: SystemValueType? = nil, format: DateFormat? = nil,
                normalize: [Normalizer] = [], separator: String = " ", split: SplitSide = .left) {
        self.canonical = canonical
        self.systemField = systemField
        self.values = values
        self.direction = direction
        self.defaultValue = defaultValue
        self.systemType = systemType
        self.format = format
        self.normalize = normalize
        self.separator = separator
        self.split = split
    }

    /// A plain rename.
    public static func rename(_ canonical: FieldName, _ systemField: String) -> FieldMapping {
        FieldMapping(canonical: [canonical], systemField: systemField)
    }

    /// True for a mapping of several canonical fields to one system field.
    public var isComposite: Bool { canonical.count > 1 }
}

/// The storage type of a system field, for conversions.
public enum SystemValueType: String, Sendable, Hashable, CaseIterable {
    case string, integer, number, boolean, json
}

/// When splitting a composite value with more separators than parts, which side keeps them.
public enum SplitSide: String, Sendable, Hashable, CaseIterable {
    /// Split at the first separators; the last part keeps the rest ("Mary Ann Smith" → "Mary" + "Ann Smith").
    case left
    /// Split at the last separators; the first part keeps the rest ("Mary Ann" + "Smith").
    case right
}

/// How a system writes dates and date-times.
public enum DateFormat: Sendable, Hashable {
    /// RFC 3339 / ISO 8601 (`2026-11-27`, `2026-11-27T05:15:16Z`). The default.
    case iso8601
    /// Seconds since 1970-01-01 UTC, as a number.
    case unixSeconds
    /// Milliseconds since 1970-01-01 UTC, as a number.
    case unixMilliseconds
    /// A pattern of `YYYY`, `MM`, `DD`, `HH`, `mm`, `ss`, `SSS` and literal characters
    /// (`DD/MM/YYYY`, `YYYY-MM-DD HH:mm:ss`), in UTC.
    case pattern(String)
}
