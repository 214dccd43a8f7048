import HubCore

extension TopologyDecoder {
    /// Warns where `newest` settles conflicts between systems that have no change times (no
    /// `cursor`): hubctl only knows when it saw their changes, not which was made last, so such
    /// conflicts are settled by the priority list (then the order of `systems`).
    func warnAboutNewestWithoutChangeTimes(_ entities: [EntityDefinition], _ systems: [SystemDefinition]) {
        for entity in entities {
            for field in entity.fields {
                let rule = entity.conflicts.fields[field.name]
                guard rule?.owner == nil, (rule?.resolve ?? entity.conflicts.resolve) == .newest,
                    (rule?.priority ?? entity.conflicts.priority).isEmpty
                else { continue }
                let pulling = systems.filter { system in
                    system.direction.pulls && (system.mapping(for: entity.name)?.fields.contains { m in
                        m.direction.pulls && m.canonical.contains(field.name)
                    } ?? false)
                }
                guard pulling.count >= 2 else { continue }
                let timeless = pulling.filter { $0.mapping(for: entity.name)?.cursorField == nil }.map(\.name.rawValue)
                guard timeless.count >= 2 else { continue }
                let path = "entities.\(entity.name).conflicts"
                reporter.warn(reporter.positions[path] == nil ? "entities.\(entity.name)" : path,
                              "'newest' settles conflicts of \(entity.name) between \(Suggest.list(timeless)), which have no "
                                  + "change times (no cursor): hubctl only knows when it saw their changes, so those conflicts "
                                  + "are settled by the priority list, then the order of 'systems'; give them a date-time "
                                  + "'cursor', or set 'priority' to choose")
                break
            }
        }
    }
}
