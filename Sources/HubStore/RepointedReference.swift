import HubCore

/// A reference a link's base holds while the hub waits to re-point it: the system's record still
/// names the target's old record (deleted there and re-created, or replaced by another), by the
/// ID `external_id`. Kept in place of the hub ID the base would hold, so that
/// - the push sees a difference and writes the target's new ID, and
/// - a pull that reads the old ID again does not take it for an edit, even when the system has
///   reused that ID for a new record meanwhile.
/// The next push or pull of the field replaces it with the hub ID, as any base value.
public enum RepointedReference {
    public static let key = "repointed_from"

    public static func marker(_ id: ExternalID) -> Value { .object([key: .string(id.rawValue)]) }

    /// The old ID a base value marks, if it is such a marker.
    public static func externalID(in value: Value?) -> ExternalID? {
        guard case .object(let fields)? = value, fields.count == 1, let id = fields[key]?.stringValue else { return nil }
        return ExternalID(id)
    }
}
