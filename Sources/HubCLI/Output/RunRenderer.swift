import HubAudit
import HubCore
import HubStore
import HubSync

/// Renders one run: its counts per system, entity and direction, then what it quarantined and
/// the conflicts it met.
struct RunRenderer {
    let details: RunDetails

    func render() -> String {
        let r = details.run
        var lines = ["run \(r.id): \(r.status)" + (r.exitCode.map { " (exit \($0))" } ?? "") + (r.dryRun ? ", dry run" : "")]
        lines.append("started \(r.startedAt)" + (r.finishedAt.map { ", finished \($0)" } ?? ", not finished"))
        lines.append("")
        if details.counts.isEmpty {
            lines.append("No counts recorded (the run did not finish).")
        } else {
            var table = TextTable.runCounts()
            for row in details.counts { table.add(row.system, row.entity, row.direction, row.counts) }
            lines.append(table.render())
        }
        for (system, error) in details.systemErrors.sorted(by: { $0.key < $1.key }) {
            lines.append("")
            lines.append("system '\(system)' failed and was skipped: \(error)")
        }
        for trip in details.guardTrips {
            lines.append("")
            lines.append(trip)
        }
        if !details.schemaDrift.isEmpty {
            lines.append("")
            lines += SchemaDriftRenderer.lines(details.schemaDrift)
        }
        if !details.quarantine.isEmpty {
            lines.append("")
            lines.append("Quarantined by this run (\(details.quarantine.count)):")
            var table = TextTable(["SYSTEM", "ENTITY", "ID", "HUB ID", "DIR", "REASON", "STATUS", "MESSAGE"])
            table.textColumns = [2]
            for q in details.quarantine {
                let e = q.entry
                table.add([e.system.rawValue, e.entity.rawValue, e.externalID?.rawValue ?? "-", e.hubID?.rawValue ?? "-",
                           e.direction.rawValue, e.reason.rawValue, q.resolvedAt.map { "closed \($0)" } ?? "open", e.message])
            }
            lines.append(table.render())
        }
        if !details.conflicts.isEmpty {
            lines.append("")
            lines.append("Conflicts recorded by this run (\(details.conflicts.count)):")
            var table = TextTable(["ID", "ENTITY", "HUB ID", "FIELD", "STATUS", "RULE", "WINNER", "SIDES"])
            for c in details.conflicts {
                table.add(["\(c.id ?? 0)", c.entity.rawValue, c.hubID.rawValue, c.field, c.status.rawValue, c.rule.rawValue, c.winner ?? "-",
                           c.candidates.keys.sorted().joined(separator: ", ")])
            }
            lines.append(table.render())
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ d: RunDetails) -> Value {
        let r = d.run
        return .object([
            "run_id": .string(r.id.rawValue), "status": .string(r.status.rawValue), "exit_code": r.exitCode.map { .int(Int64($0)) } ?? .null,
            "dry_run": .bool(r.dryRun), "started_at": .string(r.startedAt), "finished_at": r.finishedAt.json,
            "counts": .array(d.counts.map { c in
                .object(["system": .string(c.system.rawValue), "entity": .string(c.entity.rawValue),
                         "direction": .string(c.direction), "counts": c.counts.json])
            }),
            "system_errors": .object(Dictionary(uniqueKeysWithValues: d.systemErrors.map { ($0.key.rawValue, Value.string($0.value)) })),
            "mass_delete_guard": .array(d.guardTrips.map(Value.string)),
            "schema_drift": .array(d.schemaDrift.map(\.json)),
            "quarantined": .array(d.quarantine.map { q in
                let e = q.entry
                return .object(["system": .string(e.system.rawValue), "entity": .string(e.entity.rawValue),
                                "external_id": e.externalID.json, "hub_id": e.hubID.json, "direction": .string(e.direction.rawValue),
                                "reason": .string(e.reason.rawValue), "message": .string(e.message), "resolved_at": q.resolvedAt.json])
            }),
            "conflicts": .array(d.conflicts.map(\.json)),
        ])
    }
}
