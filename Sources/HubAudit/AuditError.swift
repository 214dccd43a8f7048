/// Why an audit, a lookup or a plan could not be done, with what to do next.
///
/// Messages name systems, entities and IDs, never record values.
public struct AuditError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable {
        /// The entity, link or run asked for does not exist.
        case notFound = "not_found"
        /// An argument names something the topology does not have, or is malformed.
        case invalidArgument = "invalid_argument"
        /// A fix plan file cannot be read.
        case invalidPlan = "invalid_plan"
    }

    public var code: Code
    /// What happened.
    public var message: String
    /// What to do next.
    public var hint: String?

    public init(_ code: Code, _ message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String { hint.map { "\(message); \($0)" } ?? message }
}
