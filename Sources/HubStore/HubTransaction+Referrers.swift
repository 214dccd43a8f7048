import GRDB
import HubCore

extension HubTransaction {
    /// For each of `targets`, the entities of `entity` whose `field` refers to it: one scan of
    /// that entity's rows for the whole batch (deletes are rare; an index per reference field
    /// would cost every write).
    /// - Parameters:
    ///   - liveOnly: leave deleted entities out.
    ///   - linkedIn: only entities with a live link in this system (what a delete there must wait for).
    public func referrers(of targets: [HubID], entity: EntityName, field: FieldName, liveOnly: Bool,
                          linkedIn system: SystemName? = nil) throws -> [HubID: [HubID]] {
        guard !targets.isEmpty else { return [:] }
        let path = dialect.jsonFieldArgument(field.rawValue)
        let list = JSONWriter.string(.array(targets.map { .string($0.rawValue) }))
        let linked = system == nil ? "" : """
             AND EXISTS (SELECT 1 FROM xref x WHERE x.hub_id = e.hub_id AND x.entity = e.entity AND x.system = ?
                         AND x.state = 'linked')
            """
        var arguments: HubArguments = [path, entity.rawValue, liveOnly]
        if let system { arguments += [system.rawValue] }
        arguments += [path, list]
        var out: [HubID: [HubID]] = [:]
        for row in try rows(
            """
            SELECT e.hub_id, \(dialect.jsonText("e.data")) AS target FROM entity e
            WHERE e.entity = ? AND (? = 0 OR e.deleted_at IS NULL)\(linked)
              AND \(dialect.jsonText("e.data")) \(dialect.inJSONArray)
            ORDER BY e.seq
            """, arguments)
        {
            out[HubID(row["target"]), default: []].append(HubID(row["hub_id"]))
        }
        return out
    }
}
