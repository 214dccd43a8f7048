import ArgumentParser
import Foundation
import HubAdapters
import HubAudit
import HubCore
import HubStore
import HubTopology

/// `hubctl audit`: checks every cross-system ID link, and with --deep the systems themselves.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the ID links between the hub and every system; with --deep, read the systems too.",
        discussion: """
            Checks: duplicate and broken links, references to missing entities, coverage (entities that \
            belong in a system but are not linked there), open conflicts, quarantine, unfinished writes, \
            stale cursors, unpushed changes; with --deep also dangling links, records no link knows, and \
            fields whose values drifted from the hub's. See docs/audit.md.

            Exit codes: 0 clean; 1 findings (or the audit could not run); 64 usage error; 78 invalid topology.
            """)

    @OptionGroup var options: TopologyOptions
    @Flag(help: "Read every system through its adapter: dangling links, orphans, field drift.") var deep = false
    @Flag(help: "Print one JSON document instead of tables.") var json = false
    @Option(name: .customLong("system"), help: ArgumentHelp("Only this system (repeatable).", valueName: "system"))
    var systems: [String] = []
    @Option(name: .customLong("entity"), help: ArgumentHelp("Only this entity (repeatable).", valueName: "name"))
    var entities: [String] = []
    @Option(help: ArgumentHelp("Write the repairs the findings call for to this JSON file (apply with `hubctl repair`).",
                               valueName: "file"))
    var fixPlan: String?
    @Option(help: ArgumentHelp("Report read cursors that have not moved for this long (30m, 12h, 7d).", valueName: "age"))
    var staleAfter = "7d"
    @Option(help: ArgumentHelp("Sample IDs shown per finding.", valueName: "n")) var samples = 5

    func validate() throws {
        if Self.seconds(staleAfter) == nil { throw ValidationError("--stale-after takes a number and a unit: 30m, 12h or 7d") }
        if samples < 0 { throw ValidationError("--samples must be 0 or more") }
    }

    /// `30m`, `12h`, `7d` in seconds.
    static func seconds(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let n = Double(text.dropLast()), n >= 0 else { return nil }
        switch unit {
        case "m": return n * 60
        case "h": return n * 3600
        case "d": return n * 86_400
        default: return nil
        }
    }

    func run() async throws {
        let (console, topology, store) = try openHub(options)
        try requireKnown(systems: systems, flag: "--system", entities: entities, in: topology, console)
        let runtime = SpokeFactory.runtime(topology)
        if deep {
            for system in topology.systems where systems.isEmpty || systems.contains(system.name.rawValue) {
                // Reported as the system's unreadable_system finding; the others are still read.
                if let error = runtime.systems[system.name]?.spokeError {
                    console.note("\(system.name): its adapter cannot be built: \(error)")
                }
            }
        }
        let auditOptions = AuditOptions(
            deep: deep, systems: systems.isEmpty ? nil : Set(systems.map(SystemName.init)),
            entities: entities.isEmpty ? nil : Set(entities.map(EntityName.init)), sampleLimit: samples,
            staleCursorAfter: Self.seconds(staleAfter)!, planRepairs: fixPlan != nil)
        let report = try await Auditor(runtime: runtime, store: store).audit(auditOptions)
        if json {
            console.out(JSONDocument.make("audit", AuditReportRenderer.json(report), generatedAt: report.finishedAt))
        } else {
            console.out(AuditReportRenderer(report: report, topology: topology).render())
        }
        if let fixPlan {
            let plan = FixPlan(topology: topology.name, generatedAt: report.finishedAt, repairs: report.repairs)
            try (JSONWriter.pretty(plan.json) + "\n").write(toFile: fixPlan, atomically: true, encoding: .utf8)
            console.note(report.repairs.isEmpty ? "Wrote an empty fix plan to \(fixPlan): nothing to repair."
                         : "Wrote \(counted(report.repairs.count, "repair")) to \(fixPlan); review it, then "
                             + "`hubctl repair \(fixPlan) --dry-run` and `hubctl repair \(fixPlan)`.")
        }
        if !report.isClean { throw ExitCode(.failure) }
    }
}

/// "1 repair" / "3 repairs".
func counted(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
    "\(n) \(n == 1 ? singular : (plural ?? singular + "s"))"
}
