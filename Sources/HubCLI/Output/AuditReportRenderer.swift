import HubAudit
import HubCore
import HubTopology

/// Renders an audit report: a table per system × entity, then the findings.
struct AuditReportRenderer {
    let report: AuditReport
    let topology: Topology

    func render() -> String {
        var lines: [String] = []
        let systems = Set(report.summary.map(\.system)).count
        let entities = Set(report.summary.map(\.entity)).count
        lines.append("audit of \(topology.name): \(counted(systems, "system")), \(counted(entities, "entity", "entities")), "
                     + (report.deep ? "systems read (--deep)" : "hub only (--deep also reads the systems)")
                     + String(format: " in %.2f s", report.seconds))
        lines.append("")
        var table = TextTable(["SYSTEM", "ENTITY", "DIR", "HUB", "BELONG", "LINKED", "MISSING", "EXTRA", "DANGLING", "DRIFTING",
                               "COVERAGE"])
        func n(_ v: Int?) -> String { v.map(String.init) ?? "-" }
        for s in report.summary {
            table.add([s.system.rawValue, s.entity.rawValue, s.direction.rawValue, "\(s.hubEntities)", n(s.belonging),
                       "\(s.linked)", n(s.missing), n(s.extra), n(s.dangling), n(s.drifting),
                       s.coverage.map { AuditReport.percentText($0 * 100) } ?? "-"])
        }
        lines.append(table.render())
        lines.append("")
        let counts = Dictionary(grouping: report.checks, by: \.status).mapValues(\.count)
        let tally = "\(report.checks.count) checks: \(counts[.passed] ?? 0) passed, \(counts[.failed] ?? 0) failed, "
            + "\(counts[.skipped] ?? 0) skipped"
        guard !report.isClean else {
            lines.append("Clean: no findings (\(tally)).")
            return lines.joined(separator: "\n")
        }
        lines.append("\(counted(report.findings.count, "finding")):")
        for f in report.findings {
            lines.append("")
            let place = [f.system?.rawValue, f.entity?.rawValue].compactMap { $0 }.joined(separator: " ")
            lines.append("\(f.severity == .error ? "✗" : "!") \(f.check.rawValue) \(place.isEmpty ? "" : place + ": ")\(f.message)")
            for s in f.samples { lines.append("    " + Self.sample(s, system: f.system)) }
            if f.count > f.samples.count && !f.samples.isEmpty { lines.append("    … and \(f.count - f.samples.count) more") }
            lines.append("    hint: \(f.hint)")
        }
        lines.append("")
        lines.append(tally + ".")
        return lines.joined(separator: "\n")
    }

    static func sample(_ s: Finding.Sample, system: SystemName?) -> String {
        var parts: [String] = []
        if let id = s.externalID { parts.append("\(system.map { "\($0) " } ?? "")\(id)") }
        if let hub = s.hubID { parts.append(parts.isEmpty ? "hub \(hub)" : "(hub \(hub))") }
        var text = parts.joined(separator: " ")
        if let d = s.detail { text += text.isEmpty ? d : ": \(d)" }
        return text
    }

    /// The report as the `result` of the `--json` document.
    static func json(_ report: AuditReport) -> Value {
        func n(_ v: Int?) -> Value { v.map { .int(Int64($0)) } ?? .null }
        return .object([
            "clean": .bool(report.isClean), "deep": .bool(report.deep), "started_at": .string(report.startedAt),
            "finished_at": .string(report.finishedAt), "seconds": .double(report.seconds),
            "summary": .array(report.summary.map { s in
                .object(["system": .string(s.system.rawValue), "entity": .string(s.entity.rawValue),
                         "direction": .string(s.direction.rawValue), "hub_entities": .int(Int64(s.hubEntities)),
                         "belonging": n(s.belonging), "linked": .int(Int64(s.linked)), "missing": n(s.missing),
                         "closed": .int(Int64(s.closed)), "records": n(s.records), "extra": n(s.extra),
                         "dangling": n(s.dangling), "drifting": n(s.drifting),
                         "coverage": s.coverage.map(Value.double) ?? .null])
            }),
            "checks": .array(report.checks.map { c in
                .object(["name": .string(c.check.rawValue), "category": .string(c.check.category.rawValue),
                         "status": .string(c.status.rawValue), "findings": .int(Int64(c.findings)), "note": c.note.json])
            }),
            "findings": .array(report.findings.map { f in
                .object(["check": .string(f.check.rawValue), "severity": .string(f.severity.rawValue),
                         "system": f.system.json, "entity": f.entity.json, "count": .int(Int64(f.count)),
                         "message": .string(f.message), "hint": .string(f.hint),
                         "samples": .array(f.samples.map { s in
                             .object(["hub_id": s.hubID.json, "external_id": s.externalID.json, "detail": s.detail.json])
                         })])
            }),
            "repairs_planned": .int(Int64(report.repairs.count)),
        ])
    }
}
