import HubCore
import HubMapping
import HubStore
import HubTopology

/// Settles conflicts parked for a person (`resolve: manual`), or overrides a settled one.
///
/// The chosen value becomes the hub's value in a new version with the next `seq`, so the next
/// `sync-all` pushes it to every system, including those whose value lost.
public struct ConflictResolver: Sendable {
    public let topology: Topology
    public let store: HubStore
    let clock: WallClock

    public init(topology: Topology, store: HubStore, clock: WallClock = .system) {
        self.topology = topology
        self.store = store
        self.clock = clock
    }

    /// What a person chose.
    public enum Choice: Sendable, Hashable {
        /// The value a side held: a system's name, or `hub`.
        case take(String)
        /// A value typed in (text, converted to the field's type).
        case value(String)
    }

    /// Why a resolution could not be applied.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Applies `choice` to conflict `id`; returns the conflict as resolved.
    @discardableResult
    public func resolve(_ id: Int64, _ choice: Choice, by person: String) throws -> ConflictRecord {
        let now = Timestamp.string(clock.now())
        return try store.write { tx in
            guard var conflict = try tx.conflict(id) else {
                throw Failure(message: "no conflict \(id); `hubctl conflicts list` shows them")
            }
            guard let entity = topology.entity(conflict.entity), let field = entity.field(FieldName(conflict.field)) else {
                throw Failure(message: "conflict \(id) is about \(conflict.entity).\(conflict.field), which the topology no longer has")
            }
            guard let current = try tx.entity(conflict.hubID), !current.isDeleted else {
                throw Failure(message: "\(conflict.entity) \(conflict.hubID) was deleted; there is nothing to resolve")
            }
            let value: Value
            let winner: String
            switch choice {
            case .take(let side):
                guard let v = conflict.candidates[side] else {
                    throw Failure(message: "conflict \(id) has no side '\(side)'; choose one of: "
                                  + conflict.candidates.keys.sorted().joined(separator: ", "))
                }
                value = v
                winner = side
            case .value(let text):
                let raw: Value = (try? JSONParser.parse(text)).flatMap { $0.objectValue == nil && $0.arrayValue == nil ? $0 : nil }
                    ?? .string(text)
                switch ValueConversion.toCanonical(field.type == .string ? .string(text) : raw, type: field.type, format: nil) {
                case .success(let v): value = field.normalize.apply(v)
                case .failure(let failure):
                    throw Failure(message: "the value does not fit \(conflict.entity).\(conflict.field): \(failure.message)")
                }
                winner = "value"
            }
            // A new version even when the value is the hub's: the systems holding another value
            // must get it, and the next push only looks at entities whose seq moved.
            var next = current
            if value.isNull { next.data[conflict.field] = nil } else { next.data[conflict.field] = value }
            next.version += 1
            next.updatedAt = now
            next.fieldOrigins[conflict.field] = FieldOrigin(system: SystemName("manual"), run: conflict.run, changedAt: now)
            try tx.updateEntity(next, sourceSystem: SystemName("manual"), run: conflict.run)
            try tx.resolveConflict(id, winner: winner, by: person, at: now)
            conflict.status = .resolved
            conflict.winner = winner
            conflict.resolvedBy = person
            conflict.resolvedAt = now
            return conflict
        }
    }
}
