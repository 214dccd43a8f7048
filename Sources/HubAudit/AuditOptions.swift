import Foundation
import HubCore

/// What `hubctl audit` covers and how.
public struct AuditOptions: Sendable {
    /// Read every system through its spoke: dangling links, orphans and field drift.
    public var deep: Bool
    /// Only these systems (all when nil).
    public var systems: Set<SystemName>?
    /// Only these entities (all when nil).
    public var entities: Set<EntityName>?
    /// How many sample IDs a finding carries.
    public var sampleLimit: Int
    /// A read cursor that has not moved for longer than this is reported.
    public var staleCursorAfter: TimeInterval
    /// Collect every repair the findings call for (for `--fix-plan`), not only samples.
    public var planRepairs: Bool
    /// Records per page read from a system, and rows per page read from the hub.
    public var pageSize: Int

    public init(deep: Bool = false, systems: Set<SystemName>? = nil, entities: Set<EntityName>? = nil, sampleLimit: Int = 5,
                staleCursorAfter: TimeInterval = 7 * 86_400, planRepairs: Bool = false, pageSize: Int = 500) {
        self.deep = deep
        self.systems = systems
        self.entities = entities
        self.sampleLimit = sampleLimit
        self.staleCursorAfter = staleCursorAfter
        self.planRepairs = planRepairs
        self.pageSize = pageSize
    }

    /// True when the audit covers this system.
    public func covers(_ system: SystemName) -> Bool { systems?.contains(system) ?? true }
    /// True when the audit covers this entity.
    public func covers(_ entity: EntityName) -> Bool { entities?.contains(entity) ?? true }
}
