/// A failure talking to a system, with the context a person needs to act on it.
///
/// Record values are never part of the message: synced records are often personal data.
public struct SpokeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is, which decides whether a retry can help.
    public enum Kind: String, Sendable, Hashable {
        /// The system could not be reached or answered with a server error.
        case unavailable
        /// The object or a field does not exist, or the configuration does not fit the system.
        case configuration
        /// The system rejected one record.
        case rejected
        /// The data read from the system cannot be understood.
        case malformed
        /// The mapped object itself (file, folder, table, collection) does not exist. The engine
        /// decides what that means: nothing to read for an object never synced, but a failing
        /// system — never a mass delete — for one whose records the hub has linked.
        case missingObject = "missing_object"
    }

    public var kind: Kind
    public var system: SystemName
    public var object: String?
    public var externalID: ExternalID?
    public var message: String

    public init(_ kind: Kind, system: SystemName, object: String? = nil, externalID: ExternalID? = nil,
                message: String) {
        self.kind = kind
        self.system = system
        self.object = object
        self.externalID = externalID
        self.message = message
    }

    public var description: String {
        var where_ = "system '\(system)'"
        if let object { where_ += " (\(object)" + (externalID.map { " id \($0)" } ?? "") + ")" }
        return "\(where_): \(message)"
    }
}
