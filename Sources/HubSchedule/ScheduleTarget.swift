import HubCore

/// What a schedule covers: a whole system, or one entity of it that has a schedule of its own.
public struct ScheduleTarget: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var system: SystemName
    /// Nil: every entity of the system without a schedule of its own.
    public var entity: EntityName?

    public init(system: SystemName, entity: EntityName? = nil) {
        self.system = system
        self.entity = entity
    }

    public var description: String { entity.map { "\(system.rawValue).\($0.rawValue)" } ?? system.rawValue }

    public static func < (a: ScheduleTarget, b: ScheduleTarget) -> Bool {
        (a.system.rawValue, a.entity?.rawValue ?? "") < (b.system.rawValue, b.entity?.rawValue ?? "")
    }
}
