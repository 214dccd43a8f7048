import HubCore

/// The operations the issues page offers, the same as the CLI's: the command line wires them to
/// `ConflictResolver`, the engine's quarantine retry and `Steward.dismissQuarantine`, so the
/// dashboard runs exactly what `hubctl conflicts resolve`, `quarantine retry` and `quarantine
/// dismiss` run, recorded with the signed-in person's name.
public protocol DashboardActions: Sendable {
    /// Settles an open conflict; returns what happened, for the person.
    func resolveConflict(_ id: Int64, _ choice: ConflictChoice, by person: String) async throws -> String
    /// Re-reads quarantined records from their systems and retries them now.
    func retryQuarantine(_ ids: [Int64]) async throws -> String
    /// Closes quarantine entries that no longer apply, with why.
    func dismissQuarantine(_ ids: [Int64], reason: String, by person: String) async throws -> String
}

/// What a person chose for a conflict.
public enum ConflictChoice: Sendable, Hashable {
    /// The value a side held: a system's name, or `hub`.
    case take(String)
    /// A value typed in.
    case value(String)
}

/// An action that could not be done, with what to do next (shown to the person, redacted).
public struct DashboardActionError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
