import ArgumentParser
import Foundation
import HubCore
import HubStore
import HubSync
import HubTopology

/// `hubctl conflicts`: fields changed in two places, and how they were settled.
struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "List conflicts (a field changed in two places) and resolve the ones parked for a person.",
        subcommands: [List.self, Resolve.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List conflicts, newest first, with every competing value.")

        @OptionGroup var options: TopologyOptions
        @Flag(help: "Only conflicts parked for a person.") var open = false
        @Flag(help: "Print one JSON document instead of a table.") var json = false
        @Option(help: "How many conflicts to show.") var limit = 100

        func run() throws {
            let (console, _, store) = try openHub(options)
            let conflicts = try store.read { try $0.conflicts(openOnly: open, limit: limit) }
            if json {
                console.out(JSONDocument.make("conflicts list", .object(["conflicts": .array(conflicts.map(\.json))])))
                return
            }
            guard !conflicts.isEmpty else {
                console.out(open ? "No open conflicts." : "No conflicts.")
                return
            }
            var table = TextTable(["ID", "ENTITY", "HUB ID", "FIELD", "STATUS", "RULE", "WINNER", "VALUES"])
            for c in conflicts {
                let values = c.candidates.keys.sorted().map { "\($0)=\(c.candidates[$0]!.displayText)" }.joined(separator: "  ")
                table.add(["\(c.id ?? 0)", c.entity.rawValue, c.hubID.rawValue, c.field, c.status.rawValue, c.rule.rawValue, c.winner ?? "-", values])
            }
            console.out(table.render())
            let openCount = conflicts.filter { $0.status == .open }.count
            if openCount > 0 {
                console.out("")
                console.out("\(openCount) open: resolve with `hubctl conflicts resolve ID --take SYSTEM|hub` or `--value V`; "
                            + "the next sync-all propagates the choice.")
            }
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resolve",
            abstract: "Choose the value of a conflicting field; the next sync-all sends it to every system.")

        @OptionGroup var options: TopologyOptions
        @Argument(help: "The conflict's ID (from `hubctl conflicts list`).") var id: Int64
        @Option(help: ArgumentHelp("Take the value this side held: a system's name, or hub.", valueName: "side"))
        var take: String?
        @Option(help: ArgumentHelp("Set this value instead.", valueName: "value")) var value: String?
        @Option(help: "Who decided (default: $USER).") var by: String?

        func validate() throws {
            if (take == nil) == (value == nil) { throw ValidationError("give exactly one of --take SIDE or --value V") }
        }

        func run() throws {
            let (console, topology, store) = try openHub(options)
            let choice: ConflictResolver.Choice = take.map { .take($0) } ?? .value(value!)
            let person = by ?? ProcessInfo.processInfo.environment["USER"] ?? "cli"
            do {
                let c = try ConflictResolver(topology: topology, store: store).resolve(id, choice, by: person)
                console.out("Conflict \(id) resolved: \(c.entity) \(c.hubID) \(c.field) takes \(c.winner ?? "?"). "
                            + "Run `hubctl sync-all` to send it to every system.")
            } catch let failure as ConflictResolver.Failure {
                console.error(failure.message)
                throw ExitCode(.failure)
            }
        }
    }
}

/// Loads the topology and opens its existing hub, or explains what to do first.
func openHub(_ options: TopologyOptions) throws -> (Console, Topology, HubStore) {
    var console = Console()
    let topology = try options.load(console: console)
    console.redactor = topology.secrets
    guard topology.hubExists else {
        console.error("no hub at \(topology.hubDescription) yet")
        console.hint("run `hubctl sync-all -t \(options.path)` first")
        throw ExitCode(.failure)
    }
    do {
        return (console, topology, try topology.openHub())
    } catch {
        throw topology.reportOpenFailure(error, console)
    }
}

extension ConflictRecord {
    /// The conflict as JSON, with every competing value.
    var json: Value {
        .object([
            "id": .int(id ?? 0), "run_id": .string(run.rawValue), "entity": .string(entity.rawValue),
            "hub_id": .string(hubID.rawValue), "field": .string(field), "status": .string(status.rawValue), "rule": .string(rule.rawValue),
            "winner": winner.map(Value.string) ?? .null, "candidates": .object(candidates),
            "created_at": .string(createdAt), "resolved_at": resolvedAt.map(Value.string) ?? .null,
            "resolved_by": resolvedBy.map(Value.string) ?? .null,
        ])
    }
}
