import ArgumentParser
import Foundation
import HubAdapters
import HubAudit
import HubCore
import HubStewardship
import HubTopology

/// `hubctl repair FILE`: applies a fix plan written by `hubctl audit --fix-plan`.
struct RepairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Apply a fix plan written by `hubctl audit --fix-plan` (relink, unlink, re-push).",
        discussion: """
            Each repair is one stewardship change, recorded in the hub's history. Re-pushes take effect at the \
            next `hubctl sync-all`. A repair that no longer fits the hub is refused and the others go on.

            Exit codes: 0 every repair applied (or already in place); 1 some were refused; 64 usage error; 75 a sync-all holds the hub.
            """)

    @OptionGroup var options: TopologyOptions
    @Argument(help: ArgumentHelp("The fix plan (JSON).", valueName: "file")) var file: String
    @Flag(help: "Show what each repair would change; write nothing.") var dryRun = false
    @Option(help: ArgumentHelp("Why (default: the plan's file and each repair's check).", valueName: "text"))
    var reason: String?
    @Option(help: ArgumentHelp("Who (default: $USER).", valueName: "name")) var by: String?
    @Flag(help: "Print one JSON document instead of text.") var json = false

    func run() async throws {
        let (console, topology, store) = try openHub(options)
        let plan: FixPlan
        do {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw AuditError(.invalidPlan, "cannot read \(file)", hint: "write one with `hubctl audit --fix-plan \(file)`")
            }
            plan = try FixPlan.parse(text)
        } catch {
            try reportFailure(error, console)
        }
        let runtime = SpokeFactory.runtime(topology)
        for name in Set(plan.repairs.map(\.system)).sorted(by: { $0.rawValue < $1.rawValue }) {
            // The repairs that read this system are refused; the others are still applied.
            if let error = runtime.systems[name]?.spokeError { console.note("\(name): its adapter cannot be built: \(error)") }
        }
        let who = Steward.Attribution(by: by ?? ProcessInfo.processInfo.environment["USER"] ?? "cli", reason: reason)
        let results: [Repairer.Result]
        do {
            results = try await Repairer(steward: Steward(runtime: runtime, store: store))
                .apply(plan, source: (file as NSString).lastPathComponent, as: who, dryRun: dryRun)
        } catch {
            try reportFailure(error, console)
        }
        let failed = results.filter { $0.status == .failed }.count
        if json {
            console.out(JSONDocument.make("repair", .object([
                "dry_run": .bool(dryRun), "failed": .int(Int64(failed)),
                "results": .array(results.map { r in
                    .object(["repair": .string(r.repair.summary), "action": .string(r.repair.action.rawValue), "status": .string(r.status.rawValue),
                             "stewardship_id": r.entry.map { .int($0) } ?? .null,
                             "changes": .array(r.lines.map(Value.string))])
                }),
            ]), generatedAt: Timestamp.string(Date())))
        } else {
            console.out(dryRun ? "repair \(file) (dry run: nothing was written)" : "repair \(file)")
            for r in results {
                let mark = r.status == .failed ? "✗" : (r.status == .unchanged ? "=" : "✓")
                console.out("\(mark) \(r.repair.summary)" + (r.entry.map { "  [stewardship #\($0)]" } ?? ""))
                for line in r.lines { console.out("    \(line)") }
            }
            let applied = results.filter { $0.status == .applied }.count
            console.out("")
            console.out("\(applied) \(dryRun ? "would be applied" : "applied"), "
                        + "\(results.filter { $0.status == .unchanged }.count) already in place, \(failed) refused."
                        + (applied > 0 && !dryRun ? " Run `hubctl sync-all` to send the changes to the systems." : ""))
        }
        if failed > 0 { throw ExitCode(.failure) }
    }
}
