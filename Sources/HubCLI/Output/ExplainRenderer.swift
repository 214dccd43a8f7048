import HubAudit
import HubCore
import HubStore

/// Renders an entity's lineage: per field, the current value and its origin, then its history.
struct ExplainRenderer {
    let lineage: EntityLineage

    /// `crm, run 0190…` or `manual, stewardship #3 merge by ana`.
    func source(_ system: SystemName?, _ run: RunID?) -> String {
        var parts = [system?.rawValue ?? "?"]
        if let run {
            if let n = StewardshipEntry.entryNumber(in: run) {
                let e = lineage.stewardship[n]
                parts.append("stewardship #\(n)" + (e.map { " \($0.action.rawValue) by \($0.by)" } ?? ""))
            } else {
                parts.append("run \(run)")
            }
        }
        return parts.joined(separator: ", ")
    }

    func render() -> String {
        let e = lineage.entity
        var lines = ["\(e.entity) \(e.hubID): \(lineage.versions) versions, current \(e.version)"
                     + (e.deletedAt.map { ", deleted \($0)" } ?? "")]
        if let survivor = lineage.mergedInto { lines.append("merged into \(survivor)") }
        for event in lineage.events {
            lines.append("  \(event.kind.rawValue) at \(event.version.at) (v\(event.version.version), "
                         + "\(source(event.version.sourceSystem, event.version.run)))")
        }
        for f in lineage.fields {
            lines.append("")
            let value = f.value.map { $0.displayText } ?? "(no value)"
            lines.append("\(f.field) = \(value)")
            if let o = f.origin {
                lines.append("  from \(source(o.system, o.run)), changed \(o.changedAt)")
            }
            if f.changes.count > 1 {
                lines.append("  history:")
                for c in f.changes.reversed() {
                    let v = c.value.isNull ? "(cleared)" : c.value.displayText
                    lines.append("    v\(c.version) \(c.at)  \(v)  (\(source(c.system, c.run)))")
                }
            }
            for c in f.conflicts {
                let values = c.candidates.keys.sorted().map { "\($0)=\(c.candidates[$0]!.displayText)" }.joined(separator: " ")
                let outcome = c.status == .open ? "open, parked for a person" : "\(c.winner ?? "?") won"
                lines.append("  conflict #\(c.id ?? 0) \(c.createdAt) (\(c.rule)): \(values); \(outcome)"
                             + (c.resolvedBy.map { ", resolved by \($0)" } ?? ""))
            }
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ lineage: EntityLineage) -> Value {
        let e = lineage.entity
        func run(_ r: RunID?) -> Value { r.json }
        return .object([
            "entity": .string(e.entity.rawValue), "hub_id": .string(e.hubID.rawValue), "version": .int(e.version),
            "versions": .int(Int64(lineage.versions)), "deleted_at": e.deletedAt.json, "merged_into": lineage.mergedInto.json,
            "events": .array(lineage.events.map { ev in
                .object(["kind": .string(ev.kind.rawValue), "version": .int(ev.version.version), "at": .string(ev.version.at),
                         "system": ev.version.sourceSystem.json, "run_id": run(ev.version.run)])
            }),
            "fields": .array(lineage.fields.map { f in
                .object([
                    "field": .string(f.field.rawValue), "value": f.value ?? .null,
                    "origin": f.origin.map { o in
                        .object(["system": .string(o.system.rawValue), "run_id": .string(o.run.rawValue),
                                 "changed_at": .string(o.changedAt)])
                    } ?? .null,
                    "history": .array(f.changes.map { c in
                        .object(["version": .int(c.version), "value": c.value, "system": c.system.json, "run_id": run(c.run),
                                 "at": .string(c.at)])
                    }),
                    "conflicts": .array(f.conflicts.map(\.json)),
                ])
            }),
            "stewardship": .array(lineage.stewardship.keys.sorted().map { StewardshipRenderer.json(lineage.stewardship[$0]!) }),
        ])
    }
}
