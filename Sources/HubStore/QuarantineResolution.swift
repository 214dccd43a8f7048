/// How a quarantine entry was closed (the `resolution` column).
public enum QuarantineResolution: String, Sendable, Hashable, CaseIterable, Codable {
    /// The record synced.
    case synced
    /// The record is gone from its system.
    case gone
    /// The held delete was applied.
    case deleted
    /// The held record was replaced by one re-added with the same identity.
    case replaced
    /// The record was re-created in its system (`hubctl repush`).
    case restored
    /// A person closed it (`hubctl quarantine dismiss`).
    case dismissed
}
