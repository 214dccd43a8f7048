import HubAudit
import HubCore
import HubStore

/// Renders an entity's links: one row per system.
struct LinksRenderer {
    let links: EntityLinks

    func render() -> String {
        let e = links.entity
        var lines = ["\(e.entity) \(e.hubID)  version \(e.version), created \(e.createdAt), updated \(e.updatedAt)"
                     + (e.deletedAt.map { ", deleted \($0)" } ?? "")]
        if let survivor = links.mergedInto { lines.append("merged into \(survivor): its links are there (`hubctl links \(e.entity) \(survivor)`)") }
        if !links.absorbed.isEmpty {
            lines.append("absorbed by merges: " + links.absorbed.map(\.rawValue).joined(separator: ", ")
                         + " (`hubctl unmerge \(e.entity) HUB_ID` undoes one)")
        }
        lines.append("")
        var table = TextTable(["SYSTEM", "ID", "STATE", "LINKED BY", "LINKED AT", "RUN", "LAST SEEN"])
        table.textColumns = [1]
        for s in links.systems {
            guard let l = s.link else {
                let why = s.belongs == true ? "missing" : (s.belongs == false ? "not linked (filtered out)" : "not linked")
                table.add([s.system.rawValue, "-", why, "-", "-", "-", "-"])
                continue
            }
            let made = s.stewardship.map { "stewardship #\($0.id ?? 0)" } ?? s.run?.rawValue ?? "-"
            table.add([s.system.rawValue, l.externalID?.rawValue ?? "-", l.state.rawValue, l.linkedBy, l.linkedAt, made,
                       l.lastSeenRun?.rawValue ?? "-"])
        }
        lines.append(table.render())
        if !links.stewardship.isEmpty {
            lines.append("")
            lines.append("Changed by hand:")
            for entry in links.stewardship { lines.append("  " + StewardshipRenderer.line(entry)) }
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ links: EntityLinks) -> Value {
        let e = links.entity
        return .object([
            "entity": .string(e.entity.rawValue), "hub_id": .string(e.hubID.rawValue), "version": .int(e.version),
            "deleted_at": e.deletedAt.json, "merged_into": links.mergedInto.json,
            "absorbed": .array(links.absorbed.map { .string($0.rawValue) }),
            "links": .array(links.systems.map { s in
                var o: [String: Value] = ["system": .string(s.system.rawValue),
                                          "belongs": s.belongs.map(Value.bool) ?? .null]
                if let l = s.link {
                    o["external_id"] = l.externalID.json
                    o["state"] = .string(l.state.rawValue)
                    o["linked_by"] = .string(l.linkedBy)
                    o["linked_at"] = .string(l.linkedAt)
                    o["run_id"] = s.run.json
                    o["stewardship_id"] = s.stewardship?.id.map { .int($0) } ?? .null
                    o["last_seen_run"] = l.lastSeenRun.json
                    o["base_version"] = l.baseVersion.map { .int($0) } ?? .null
                } else {
                    o["state"] = .null
                }
                return .object(o)
            }),
            "stewardship": .array(links.stewardship.map(StewardshipRenderer.json)),
        ])
    }
}
