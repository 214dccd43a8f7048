import ArgumentParser
import Foundation
import HubAdapters
import HubCore
import HubMapping
import HubTopology

/// `hubctl discover SYSTEM`: the objects and fields a system has, to help write mappings.
struct DiscoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discover",
        abstract: "List the objects and fields a system has (tables and columns, files and columns, sampled API records).",
        discussion: """
            With --diff: compares the live schema with the topology's mapping and with the last fingerprint a sync took, \
            and prints the topology change (a JSON merge patch) that maps renamed and new fields. \
            Writes nothing. Exit codes: 0 listed, 1 the system could not be read, 78 invalid topology.
            """)

    @OptionGroup var options: TopologyOptions
    @Flag(help: "Print one JSON document instead of text.") var json = false
    @Flag(help: "Compare with the mapping and the last fingerprint; print the mapping change.") var diff = false
    @Argument(help: ArgumentHelp("The system to list.", valueName: "system")) var system: String

    func run() async throws {
        var console = Console()
        let topology = try options.load(console: console)
        console.redactor = topology.secrets
        guard let definition = topology.system(SystemName(system)) else {
            console.error("unknown system '\(system)'; the topology has: " + topology.systems.map(\.name.rawValue).joined(separator: ", "))
            throw ExitCode(.usage)
        }
        if diff { return try await SchemaDiffOutput.run(definition, topology, options: options, json: json, console: console) }
        let runtime = SpokeFactory.runtime(topology).systems[definition.name]
        let bindings = definition.entities.compactMap { runtime?.mappers[$0.entity]?.binding }
        let schema: SpokeSchema
        do {
            guard let spoke = runtime?.spoke else {
                throw runtime?.spokeError ?? SpokeError(.configuration, system: definition.name, message: "no adapter was built")
            }
            schema = try await spoke.discover(bindings)
        } catch {
            console.error(SystemCheck.message(error))
            console.hint("`hubctl check \(system)` says whether the system is reachable and the credentials work")
            throw ExitCode(.failure)
        }
        if json {
            console.out(JSONDocument.make("discover", .object([
                "system": .string(system),
                "adapter": .string(definition.adapter.rawValue),
                "objects": .array(schema.objects.map { o in
                    .object(["name": .string(o.name), "sampled": .bool(o.fromSample), "fields": .array(o.fields.map { f in
                        var field: [String: Value] = ["name": .string(f.name), "type": .string(f.nativeType),
                                                      "kind": .string(f.kind.rawValue), "key": .bool(f.isKey)]
                        if let n = f.nullable { field["nullable"] = .bool(n) }
                        return .object(field)
                    })])
                }),
            ])))
            return
        }
        if schema.objects.isEmpty { console.out("\(system) (\(definition.adapter.rawValue)) has no objects.") }
        for object in schema.objects {
            console.out("\(object.name)" + (object.fromSample ? "  (fields seen in a sample of its records)" : ""))
            var table = TextTable(["FIELD", "TYPE", "KIND", "NOTE"])
            for f in object.fields {
                table.add([f.name, f.nativeType, f.kind.rawValue, f.isKey ? "key" : (f.nullable == false ? "not null" : "")])
            }
            console.out(table.render().split(separator: "\n")
                .map { "  " + $0 }.joined(separator: "\n"))
        }
    }
}
