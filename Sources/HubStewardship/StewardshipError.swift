/// Why a stewardship change was refused, with what to do instead.
///
/// Messages name systems, entities and IDs, never record values.
public struct StewardshipError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The record, link or merge does not exist.
        case notFound = "not_found"
        /// The change would break an invariant (two links in one system, a link to a deleted entity…).
        case refused
        /// The system could not be read.
        case unreadable
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
