import HubCore
import HubMapping
import HubStore
import HubTopology

/// A system record read in canonical terms, with its references translated to hub IDs.
public struct CanonicalReading: Sendable, Hashable {
    /// The record's canonical values; references hold hub IDs.
    public var values: CanonicalRecord
    /// The canonical fields read (references whose target is not linked are left out).
    public var fields: [String]
    /// Reference fields whose system ID has no live link in the hub.
    public var unresolved: [String]
}

extension EntityMapper {
    /// Canonical fields whose mapping reads them from the system (whatever the system's
    /// direction): what a record can tell about the field.
    public var readableFields: [String] {
        var out: [String] = []
        for m in mapping.fields where m.direction.pulls {
            for c in m.canonical where !out.contains(c.rawValue) { out.append(c.rawValue) }
        }
        return out
    }

    /// Maps a system record to canonical values and translates its references (system IDs) to
    /// hub IDs through the xref, as the engine does when it pulls. Nil when the record cannot
    /// be mapped.
    public func reading(_ record: SpokeRecord, _ tx: HubTransaction) throws -> CanonicalReading? {
        guard case .success(var values) = inbound(record) else { return nil }
        var fields = readableFields
        var unresolved: [String] = []
        for (field, target) in refFields.sorted(by: { $0.key < $1.key }) where fields.contains(field) {
            guard let text = values[field]?.stringValue else { continue }
            if let link = try tx.link(entity: target, system: system, externalID: ExternalID(text)), link.state == .linked {
                values[field] = .string(link.hubID.rawValue)
            } else {
                values[field] = nil
                fields.removeAll { $0 == field }
                unresolved.append(field)
            }
        }
        return CanonicalReading(values: values, fields: fields, unresolved: unresolved)
    }

    /// What the system should hold for a hub entity, in the terms of its inbound mapping: the
    /// hub's values with references translated to the system's IDs, written and read back
    /// (``project(_:)``). Reference fields whose target has no live link in the system are
    /// returned in `omitted` (the engine leaves them out of writes).
    public func expected(_ hubData: CanonicalRecord, _ tx: HubTransaction) throws -> (values: CanonicalRecord, omitted: Set<String>) {
        var translated = hubData
        var omitted: Set<String> = []
        for (field, target) in refFields where outboundFields.contains(field) {
            guard let hubRef = hubData[field]?.stringValue else { continue }
            if let link = try tx.link(entity: target, system: system, hubID: HubID(hubRef)), link.state == .linked,
                let id = link.externalID
            {
                translated[field] = .string(id.rawValue)
            } else {
                translated[field] = nil
                omitted.insert(field)
            }
        }
        return (project(translated), omitted)
    }
}
