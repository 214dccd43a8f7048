import Foundation
import HubCore

/// What one `hubctl run --worker` claims at a time: the pull or the push of one entity in one
/// system (or one part of a pull, for a table read in parts), or a system's finishing step (the
/// deletes that wait for the system's other entities).
public struct WorkUnit: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Phase: String, Sendable, Hashable, CaseIterable {
        /// Reads one entity of a system into the hub.
        case pull
        /// Applies the deletes a system's pull units found, children first (one per system).
        case pullDeletes = "pull-deletes"
        /// Writes one entity of the hub to a system.
        case push
        /// Sends a system's deletes that waited for the records referring to them (one per system).
        case pushDeletes = "push-deletes"

        /// True for the units of the first half of a round (everything a push waits for).
        public var reads: Bool { self == .pull || self == .pullDeletes }
    }

    public var phase: Phase
    public var system: SystemName
    /// The entity of a pull or push unit; nil for a system's finishing step.
    public var entity: EntityName?
    /// The part of the entity's records a pull unit reads, for a table read in parts
    /// (`"partitions"` in its mapping); nil: all of them.
    public var partition: IDPartition?

    public init(_ phase: Phase, _ system: SystemName, _ entity: EntityName? = nil, partition: IDPartition? = nil) {
        self.phase = phase
        self.system = system
        self.entity = entity
        self.partition = partition
    }

    /// The `work_unit` row's key: `pull:crm/customer`, `pull:crm/customer/2of4` (a part of a
    /// pull), `pull-deletes:crm`. Names are written with `%`, `:` and `/` percent-encoded, so any
    /// system or entity name has exactly one key.
    public var description: String {
        "\(phase.rawValue):\(Self.escape(system.rawValue))" + (entity.map { "/\(Self.escape($0.rawValue))" } ?? "")
            + (partition.map { "/\($0)" } ?? "")
    }

    /// Parses a key written by ``description``; nil for anything else, such as the `pull:crm`
    /// units of an earlier hubctl (a whole system's pull).
    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":"), let phase = Phase(rawValue: String(text[..<colon])) else { return nil }
        let parts = text[text.index(after: colon)...].split(separator: "/", omittingEmptySubsequences: false)
        guard let system = parts.first.flatMap({ Self.unescape(String($0)) }), !system.isEmpty else { return nil }
        let entity = parts.count >= 2 ? Self.unescape(String(parts[1])) : nil
        switch (phase, parts.count) {
        case (.pull, 2), (.push, 2):
            guard let entity, !entity.isEmpty else { return nil }
            self.init(phase, SystemName(system), EntityName(entity))
        case (.pull, 3):
            guard let entity, !entity.isEmpty, let partition = IDPartition(String(parts[2])), partition.count > 1 else { return nil }
            self.init(phase, SystemName(system), EntityName(entity), partition: partition)
        case (.pullDeletes, 1), (.pushDeletes, 1):
            self.init(phase, SystemName(system))
        default:
            return nil
        }
    }

    public static func < (a: WorkUnit, b: WorkUnit) -> Bool { a.description < b.description }

    static func escape(_ name: String) -> String {
        var out = ""
        for c in name {
            switch c {
            case "%": out += "%25"
            case ":": out += "%3A"
            case "/": out += "%2F"
            default: out.append(c)
            }
        }
        return out
    }

    static func unescape(_ text: String) -> String? {
        guard text.contains("%") else { return text }
        return text.removingPercentEncoding
    }
}

/// The units of a topology and the order a round must do them in: a unit is claimable only once
/// every unit in its `after` is done for the round (built by the service from the topology).
public struct WorkPlan: Sendable, Hashable {
    /// Every unit, in the order claims prefer them (among those ready).
    public var units: [WorkUnit]
    /// The units each unit waits for within a round.
    public var after: [WorkUnit: Set<WorkUnit>]

    public init(units: [WorkUnit], after: [WorkUnit: Set<WorkUnit>] = [:]) {
        self.units = units
        self.after = after
    }

    /// The units not in `done` whose predecessors all are, in plan order (claimable, leases aside).
    public func ready(done: Set<WorkUnit>) -> [WorkUnit] {
        units.filter { !done.contains($0) && (after[$0] ?? []).isSubset(of: done) }
    }
}
