import ArgumentParser
import Foundation
import HubAdapters
import HubCore
import HubMapping
import HubStore
import HubTopology

/// `hubctl check [SYSTEM…]`: connects to each system and checks what the topology maps.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Connect to each system: reachable, authenticated, every mapped object and field there with a fitting type.",
        discussion: "Writes nothing. Exit codes: 0 every check passed (warnings allowed), 1 a problem was found, 78 invalid topology.")

    @OptionGroup var options: TopologyOptions
    @Flag(help: "Print one JSON document instead of text.") var json = false
    @Argument(help: ArgumentHelp("Only these systems (default: all).", valueName: "system")) var systems: [String] = []

    func run() async throws {
        var console = Console()
        let topology = try options.load(console: console)
        console.redactor = topology.secrets
        for name in systems where topology.system(SystemName(name)) == nil {
            console.error("unknown system '\(name)'; the topology has: " + topology.systems.map(\.name.rawValue).joined(separator: ", "))
            throw ExitCode(.usage)
        }
        let chosen = topology.systems.filter { systems.isEmpty || systems.contains($0.name.rawValue) }
        // The hub, if there is one, says which objects have been synced (read only: check writes
        // nothing). One that cannot be read is left out, but one a newer hubctl upgraded is refused.
        var hub: HubStore?
        if topology.hubExists {
            do {
                hub = try topology.openHubReadOnly()
            } catch let newer as HubFromNewerHubctl {
                throw topology.reportOpenFailure(newer, console)
            } catch {
                hub = nil
            }
        }
        var reports: [SystemCheck] = []
        for system in chosen { reports.append(await SystemCheck.run(system, topology, hub: hub)) }
        if json {
            console.out(JSONDocument.make("check", .object([
                "ok": .bool(reports.allSatisfy(\.ok)), "systems": .array(reports.map(\.json)),
            ])))
        } else {
            for report in reports { console.out(report.text) }
            let failed = reports.filter { !$0.ok }.map(\.name)
            console.out(failed.isEmpty ? (reports.count == 1 ? "The system passed." : "All \(reports.count) systems passed.")
                        : "\(failed.count) of \(reports.count) systems have problems: \(failed.joined(separator: ", ")).")
        }
        if !reports.allSatisfy(\.ok) { throw ExitCode(.failure) }
    }
}

/// The outcome of checking one system.
struct SystemCheck {
    struct ObjectCheck {
        var entity: String
        var object: String
        var problems: [String] = []
        var warnings: [String] = []
    }

    var name: String
    var adapter: String
    /// Why the system could not be checked at all (unreachable, wrong password), if so.
    var error: String?
    var objects: [ObjectCheck] = []

    var ok: Bool { error == nil && objects.allSatisfy { $0.problems.isEmpty } }

    /// Checks one system. A mapped object that does not exist yet (a file the first push
    /// creates) is a warning, unless `hub` has records linked to it: then it is a problem, since
    /// a sync stops on that system rather than read the records as deleted.
    static func run(_ system: SystemDefinition, _ topology: Topology, hub: HubStore? = nil) async -> SystemCheck {
        var report = SystemCheck(name: system.name.rawValue, adapter: system.adapter.rawValue)
        let runtime = SpokeFactory.runtime(topology).systems[system.name]
        let mappers = system.entities.compactMap { runtime?.mappers[$0.entity] }
        guard let spoke = runtime?.spoke else {
            report.error = runtime?.spokeError.map { message($0) } ?? "no adapter was built for this system"
            return report
        }
        let results: [SpokeCheckResult]
        do {
            results = try await spoke.check(mappers.map(\.binding))
        } catch {
            report.error = message(error)
            return report
        }
        let schema = try? await spoke.discover(mappers.map(\.binding))
        for (mapper, result) in zip(mappers, results) {
            var check = ObjectCheck(entity: mapper.entity.name.rawValue, object: mapper.binding.object,
                                    problems: result.problems, warnings: result.warnings)
            if let missing = result.missingObject, !system.direction.pushes {
                check.warnings = ["\(missing); this system only pulls, so no sync creates it"]
            }
            if let missing = result.missingObject, let linked = linkedRecords(mapper.entity.name, system.name, hub), linked > 0 {
                let entity = mapper.entity.name.rawValue
                check.warnings = []
                check.problems.append(missing
                    + ", but the hub has \(linked) \(entity) record\(linked == 1 ? "" : "s") linked to it; restore it before the "
                    + "next sync (which stops on this system rather than delete \(linked == 1 ? "it" : "them") everywhere)")
            }
            if result.problems.isEmpty, let found = schema?.object(named: mapper.binding.object) {
                for field in mapper.mapping.fields where !field.isComposite {
                    guard let definition = mapper.field(field.canonical[0].rawValue),
                          let discovered = found.field(named: field.systemField) else { continue }
                    switch FieldCompatibility.verdict(definition.type, mapping: field, kind: discovered.kind) {
                    case .compatible: break
                    case .risky(let why):
                        check.warnings.append("'\(field.systemField)' (\(discovered.nativeType)) for \(definition.type.rawValue) field '\(definition.name)': \(why)")
                    case .incompatible(let why):
                        let line = "'\(field.systemField)' (\(discovered.nativeType)) cannot hold \(definition.type.rawValue) field '\(definition.name)': \(why)"
                        if found.fromSample { check.warnings.append(line) } else { check.problems.append(line) }
                    }
                }
            }
            report.objects.append(check)
        }
        return report
    }

    /// How many records of `entity` the hub has linked in `system`; nil without a hub (or one
    /// that cannot be read).
    static func linkedRecords(_ entity: EntityName, _ system: SystemName, _ hub: HubStore?) -> Int? {
        try? hub?.read { try $0.liveLinkCount(entity: entity, system: system) }
    }

    static func message(_ error: any Error) -> String {
        if let e = error as? SpokeError { return e.message }
        return "\(error)"
    }

    var text: String {
        var lines: [String] = []
        if let error {
            lines.append("✗ \(name) (\(adapter)): \(error)")
            return lines.joined(separator: "\n")
        }
        lines.append((ok ? "✓ " : "✗ ") + "\(name) (\(adapter)): reachable" + (ok ? ", every mapped object and field found" : ""))
        for o in objects {
            let mark = o.problems.isEmpty ? "✓" : "✗"
            lines.append("  \(mark) \(o.entity) → \(o.object)")
            for p in o.problems { lines.append("      problem: \(p)") }
            for w in o.warnings { lines.append("      warning: \(w)") }
        }
        return lines.joined(separator: "\n")
    }

    var json: Value {
        var o: [String: Value] = ["name": .string(name), "adapter": .string(adapter), "ok": .bool(ok)]
        if let error { o["error"] = .string(error) }
        o["objects"] = .array(objects.map { c in
            .object(["entity": .string(c.entity), "object": .string(c.object),
                     "problems": .array(c.problems.map(Value.string)), "warnings": .array(c.warnings.map(Value.string))])
        })
        return .object(o)
    }
}
