import ArgumentParser
import Foundation
import HubAdapters
import HubCore
import HubStore
import HubSync
import HubTopology

/// `hubctl discover SYSTEM --diff`: the live schema against the mapping and the last
/// fingerprint, and the topology change that maps renamed and new fields.
enum SchemaDiffOutput {
    static func run(_ system: SystemDefinition, _ topology: Topology, options: TopologyOptions, json: Bool,
                    console: Console) async throws {
        // The hub is only read; without one (never synced) the mapping alone is compared with.
        let store = topology.hubExists ? try topology.openHub()
            : try HubStore.inMemory()
        let diff: SchemaDiff
        do {
            let runtime = SpokeFactory.runtime(topology)
            if let error = runtime.systems[system.name]?.spokeError { throw error }
            diff = try await SyncEngine(runtime: runtime, store: store).schemaDiff(system.name)
        } catch {
            console.error(SystemCheck.message(error))
            console.hint("`hubctl check \(system.name)` says whether the system is reachable and the credentials work")
            throw ExitCode(.failure)
        }
        let raw = (try? String(contentsOfFile: options.path, encoding: .utf8)).flatMap { try? JSONParser.parse($0) }
        let patch = SchemaPatch.make(diff, topology: topology, raw: raw)
        if json {
            console.out(JSONDocument.make("discover", .object([
                "system": .string(system.name.rawValue),
                "adapter": .string(system.adapter.rawValue),
                "diff": .array(diff.objects.map(Self.json)),
                "patch": patch?.patch ?? .null,
                "patch_steps": .array((patch?.steps ?? []).map { .string("\($0.entity): \($0.description)") }),
            ])))
            return
        }
        var lines = ["\(system.name) (\(system.adapter.rawValue)) compared with the topology's mapping and the last fingerprint:"]
        for o in diff.objects {
            lines.append("")
            let against = o.fingerprint.map { "fingerprint of run \($0.run), \($0.takenAt)" } ?? "no fingerprint yet: mapping only"
            lines.append("\(o.entity) → \(o.object) (\(against)\(o.sampled ? "; fields seen in a sample of records" : ""))")
            if o.missing { lines.append("  the system has no object '\(o.object)'") }
            if o.changes.isEmpty && !o.missing { lines.append("  no differences") }
            for c in o.changes {
                let what = c.newField.map { "'\(c.field)' → '\($0)'" } ?? "'\(c.field)'"
                lines.append("  \(c.change.rawValue) \(what)\(c.pauses ? " (a sync pauses)" : ""): \(c.message)")
            }
        }
        lines.append("")
        if let patch {
            lines.append("Mapping change, as a JSON merge patch (RFC 7386) of \(options.path):")
            for step in patch.steps { lines.append("  - \(step.entity): \(step.description)") }
            lines.append(JSONWriter.pretty(patch.patch))
            lines.append("Review it and merge it into the topology (by hand, or `jq -s '.[0] * .[1]' topology.json patch.json`); "
                         + "the next sync-all maps the fields and fills them in every system that maps them.")
        } else {
            lines.append("No mapping change to suggest.")
        }
        console.out(lines.joined(separator: "\n"))
    }

    static func json(_ o: SchemaDiff.Object) -> Value {
        .object([
            "entity": .string(o.entity.rawValue), "object": .string(o.object), "sampled": .bool(o.sampled),
            "missing": .bool(o.missing),
            "fingerprint": o.fingerprint.map { .object(["run_id": .string($0.run.rawValue), "taken_at": .string($0.takenAt)]) }
                ?? .null,
            "changes": .array(o.changes.map { c in
                var out: [String: Value] = ["change": .string(c.change.rawValue), "field": .string(c.field),
                                            "pauses": .bool(c.pauses), "message": .string(c.message)]
                if let n = c.newField { out["new_field"] = .string(n) }
                if let t = c.oldType { out["old_type"] = .string(t) }
                if let t = c.newType { out["new_type"] = .string(t) }
                return .object(out)
            }),
        ])
    }
}
