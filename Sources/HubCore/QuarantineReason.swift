/// Why a record is in the quarantine: a short, stable code stored in the hub and shown by
/// `quarantine list`, `audit` and the reports. Codes are open-ended (a mapping failure carries
/// its own), so this is a string wrapper with the engine's codes as constants.
public struct QuarantineReason: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    /// A required field has no value, so no hub entity can be created from the record.
    public static let missingRequired = Self("missing_required")
    /// A value does not convert to its field's type.
    public static let unmappable = Self("unmappable")
    /// A composite value cannot be split into its parts without guessing.
    public static let ambiguousComposite = Self("ambiguous_composite")
    /// A match rule finds two or more hub entities.
    public static let ambiguousMatch = Self("ambiguous_match")
    /// Two records of one system match the same entity.
    public static let duplicateMatch = Self("duplicate_match")
    /// A reference names a record hubctl does not know.
    public static let unresolvedRef = Self("unresolved_ref")
    /// The adapter could not read the row (syntax, NUL or invalid UTF-8 where not allowed, size).
    public static let malformed = Self("malformed")
    /// The system refused the write.
    public static let rejected = Self("rejected")
    /// A create whose outcome a crash hid; settled by the next read.
    public static let indeterminateCreate = Self("indeterminate_create")
    /// A system deleted a record that live entities still refer to; the delete is held.
    public static let referencedDelete = Self("referenced_delete")
    /// A hub delete waits to be pushed until the records referring to it are gone.
    public static let waitsForReferences = Self("waits_for_references")
}
