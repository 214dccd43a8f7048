import ArgumentParser
import Foundation
import HubCore
import HubTopology

/// `hubctl validate`: checks a topology without connecting anywhere.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the topology without connecting anywhere; print every problem with its JSON path.",
        discussion: "Exit codes: 0 valid, 78 invalid.")

    @OptionGroup var options: TopologyOptions
    @Flag(help: "Print one JSON document instead of text.") var json = false

    func run() throws {
        let console = Console()
        do {
            let topology = try TopologyLoader.load(path: options.path)
            if json {
                console.out(document(valid: true, diagnostics: [], warnings: topology.warnings, hub: topology.hubJSON))
            } else {
                let entities = topology.entities.map(\.name.rawValue).joined(separator: ", ")
                let systems = topology.systems.map { "\($0.name) (\($0.adapter.rawValue), \($0.direction.rawValue))" }
                    .joined(separator: ", ")
                console.out("\(options.path) is valid: \(topology.entities.count) entities (\(entities)); "
                            + "\(topology.systems.count) systems: \(systems).")
                console.out("Hub: \(topology.hubDescription)")
                for w in topology.warnings {
                    console.out("warning: " + (w.position.map { "\($0) " } ?? "") + w.description)
                }
            }
        } catch let error as TopologyError {
            if json {
                console.out(document(valid: false, diagnostics: error.diagnostics, warnings: error.warnings))
            } else {
                console.note(error.description)
            }
            throw ExitCode(.config)
        }
    }

    func document(valid: Bool, diagnostics: [Diagnostic], warnings: [Diagnostic], hub: Value? = nil) -> String {
        func encode(_ d: Diagnostic, _ severity: String) -> Value {
            var o: [String: Value] = [
                "severity": .string(severity), "path": .string(d.path), "pointer": .string(d.pointer), "message": .string(d.message),
            ]
            if let p = d.position { o["line"] = .int(Int64(p.line)); o["column"] = .int(Int64(p.column)) }
            return .object(o)
        }
        var result: [String: Value] = [
            "file": .string(options.path),
            "valid": .bool(valid),
            "error_count": .int(Int64(diagnostics.count)),
            "warning_count": .int(Int64(warnings.count)),
        ]
        if let hub { result["hub"] = hub }
        return JSONDocument.make("validate", .object(result),
                                 diagnostics: diagnostics.map { encode($0, "error") } + warnings.map { encode($0, "warning") })
    }
}
