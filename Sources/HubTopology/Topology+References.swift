import HubCore

extension Topology {
    /// The entities mapped in `system` whose hub records refer to `entity` (itself aside), mapped
    /// field or not: its children there, whose deletes go before its own (the hub's references
    /// decide whether a delete is held).
    public func referrers(of entity: EntityName, in system: SystemName) -> [EntityName] {
        guard let definition = self.system(system) else { return [] }
        return referenceOrder.filter { other in
            other != entity && definition.mapping(for: other) != nil
                && (self.entity(other)?.fields.contains { $0.refEntity == entity } ?? false)
        }
    }

    /// The entities mapped in `system` that `entity` refers to through a field `system` maps, and
    /// that ``referenceOrder`` puts before it: its parents there, read and written before it, so
    /// that its references find their targets linked. (Of two entities that refer to each other,
    /// only the later one has the earlier as a parent.)
    public func parents(of entity: EntityName, in system: SystemName) -> [EntityName] {
        guard let definition = self.system(system), let mapping = definition.mapping(for: entity),
            let fields = self.entity(entity)?.fields
        else { return [] }
        let order = referenceOrder
        guard let position = order.firstIndex(of: entity) else { return [] }
        let mapped = Set(mapping.fields.flatMap(\.canonical))
        let targets = Set(fields.filter { mapped.contains($0.name) }.compactMap(\.refEntity))
        return order[..<position].filter { targets.contains($0) && definition.mapping(for: $0) != nil }
    }
}
