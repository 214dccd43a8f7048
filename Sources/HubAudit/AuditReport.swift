import HubCore
import HubTopology

/// What `hubctl audit` found: a summary per system and entity, the outcome of every check,
/// the findings, and (when asked for) the repairs they call for.
public struct AuditReport: Sendable {
    /// True when the systems were read (`--deep`).
    public var deep: Bool
    public var startedAt: String
    public var finishedAt: String
    /// Seconds the audit took.
    public var seconds: Double
    /// One row per system × entity, in topology order.
    public var summary: [LinkSummary]
    /// Every check, in the order they ran.
    public var checks: [CheckOutcome]
    public var findings: [Finding]
    /// The repairs the findings call for (only with ``AuditOptions/planRepairs``).
    public var repairs: [Repair]

    /// True when no check found anything.
    public var isClean: Bool { findings.isEmpty }

    /// The counts of one system × entity, in the spirit of SymmetricDS's dbcompare.
    public struct LinkSummary: Sendable, Hashable {
        public var system: SystemName
        public var entity: EntityName
        public var direction: Direction
        /// Live hub entities of this kind.
        public var hubEntities: Int
        /// Live hub entities that belong in the system (nil when the system is not pushed to).
        public var belonging: Int?
        /// Live links to live hub entities.
        public var linked: Int
        /// Belonging entities without a link (nil when the system is not pushed to).
        public var missing: Int?
        /// Live entities whose link here is closed (unlinked, deleted here, or held back by policy).
        public var closed: Int
        /// Records the system holds (deep only).
        public var records: Int?
        /// Records no link knows (deep only).
        public var extra: Int?
        /// Live links whose record is gone (deep only).
        public var dangling: Int?
        /// Linked records whose values differ from the hub's (deep only).
        public var drifting: Int?

        /// Belonging entities that are linked, as a share of those belonging (nil when none belong
        /// or the system is not pushed to).
        public var coverage: Double? {
            guard let belonging, let missing, belonging > 0 else { return nil }
            return Double(belonging - missing) / Double(belonging)
        }
    }

    /// How one check went.
    public struct CheckOutcome: Sendable, Hashable {
        public enum Status: String, Sendable, Hashable {
            case passed, failed, skipped
        }

        public var check: AuditCheck
        public var status: Status
        /// How many findings it made (a finding per system × entity it broke in).
        public var findings: Int
        /// Why it was skipped.
        public var note: String?
    }
}
