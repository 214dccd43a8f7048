/// Which way data flows between the hub and a system in one step of a run.
public enum SyncDirection: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// From the system into the hub.
    case pull
    /// From the hub to the system.
    case push

    public var description: String { rawValue }
}
