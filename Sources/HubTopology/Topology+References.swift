import HubCore

extension Topology {
    /// The entities mapped in `system` that refer to `entity` through a `ref` field (itself
    /// aside): its children there, whose deletes go before its own.
    public func referrers(of entity: EntityName, in system: SystemName) -> [EntityName] {
        guard let definition = self.system(system) else { return [] }
        return referenceOrder.filter { other in
            other != entity && definition.mapping(for: other) != nil
                && (self.entity(other)?.fields.contains { $0.refEntity == entity } ?? false)
        }
    }

    /// The entities mapped in `system` that `entity` refers to and that ``referenceOrder`` puts
    /// before it: its parents there, read and written before it. (Of two entities that refer to
    /// each other, only the later one has the earlier as a parent.)
    public func parents(of entity: EntityName, in system: SystemName) -> [EntityName] {
        guard let definition = self.system(system), let fields = self.entity(entity)?.fields else { return [] }
        let order = referenceOrder
        guard let position = order.firstIndex(of: entity) else { return [] }
        let targets = Set(fields.compactMap(\.refEntity))
        return order[..<position].filter { targets.contains($0) && definition.mapping(for: $0) != nil }
    }
}
