import HubCore

/// Whether a conflict still waits for a person.
public enum ConflictStatus: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// Parked for a person (`resolve: manual`); the field is held back until `conflicts resolve`.
    case open
    /// Decided, by a rule or by a person.
    case resolved

    public var description: String { rawValue }
}

/// The rule that decided a conflict, stored as text: `newest`, `priority`, `manual`, `owner:crm`,
/// and `newest→priority: no change times` when `newest` had no change times to compare.
public enum ConflictRule: Sendable, Hashable, CustomStringConvertible {
    /// The later change, by the systems' own change times.
    case newest
    /// `newest` without change times on both sides, decided by the priority list.
    case newestByPriority
    /// The first system in the priority list.
    case priority
    /// The field's owner system.
    case owner(SystemName)
    /// Parked for a person.
    case manual
    /// A rule this version does not know (read from a newer hub).
    case other(String)

    public init(rawValue: String) {
        switch rawValue {
        case "newest": self = .newest
        case Self.newestByPriority.rawValue: self = .newestByPriority
        case "priority": self = .priority
        case "manual": self = .manual
        case let text where text.hasPrefix("owner:"): self = .owner(SystemName(String(text.dropFirst(6))))
        default: self = .other(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .newest: return "newest"
        case .newestByPriority: return "newest→priority: no change times"
        case .priority: return "priority"
        case .owner(let system): return "owner:\(system)"
        case .manual: return "manual"
        case .other(let text): return text
        }
    }

    public var description: String { rawValue }
}

/// A run's state in the hub.
public enum RunStatus: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// Started and not finished (or killed; the next run recovers it).
    case running
    /// Everything synced.
    case ok
    /// The run completed, but records were quarantined, conflicts parked, a guard held deletes
    /// back, or a system failed or was paused while the rest synced.
    case partial
    /// Nothing could be synced.
    case failed
    /// Stopped between pages by a signal (`hubctl run` on SIGTERM); what it committed stands and
    /// the next run resumes from its cursors.
    case stopped

    public var description: String { rawValue }
}
