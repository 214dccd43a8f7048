import ArgumentParser
import Foundation
import HubAudit
import HubCore
import HubStewardship
import HubStore
import HubTopology

/// Names one hub entity from either side: a hub ID or `SYSTEM:ID` as an argument, or
/// `--system S --id X`.
struct EntityLocator: ParsableArguments {
    @Argument(help: ArgumentHelp("The entity's hub ID, or its ID in a system as SYSTEM:ID (crm:42).", valueName: "ref"))
    var reference: String?
    @Option(help: ArgumentHelp("With --id: the system whose ID names the entity.", valueName: "system")) var system: String?
    @Option(help: ArgumentHelp("With --system: the entity's ID in that system.", valueName: "id")) var id: String?

    func validate() throws {
        if (system == nil) != (id == nil) { throw ValidationError("give --system and --id together") }
        if reference != nil && system != nil { throw ValidationError("name the entity once: REF, or --system S --id X") }
        if reference == nil && system == nil { throw ValidationError("name the entity: a hub ID, SYSTEM:ID, or --system S --id X") }
    }

    func resolve(_ topology: Topology) -> EntityReference {
        if let system, let id { return .system(SystemName(system), ExternalID(id)) }
        return EntityReference(parsing: reference!, topology: topology)
    }
}

/// What every stewardship command takes: who, why, and whether to write anything.
struct StewardshipOptions: ParsableArguments {
    @Flag(help: "Show what would change; write nothing.") var dryRun = false
    @Option(help: ArgumentHelp("Why (kept in the hub's history; required unless --dry-run).", valueName: "text"))
    var reason: String?
    @Option(help: ArgumentHelp("Who (default: $USER).", valueName: "name")) var by: String?
    @Flag(help: "Print one JSON document instead of text.") var json = false

    func validate() throws {
        if !dryRun && (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("give --reason: why you are changing links by hand (it is kept in the hub's history)")
        }
    }

    var attribution: Steward.Attribution {
        Steward.Attribution(by: by ?? ProcessInfo.processInfo.environment["USER"] ?? "cli", reason: reason)
    }
}

/// Prints an audit or stewardship failure with what to do next, and exits 1 (75 when a run holds
/// the hub). Other errors pass.
func reportFailure(_ error: any Error, _ console: Console) throws -> Never {
    switch error {
    case let e as AuditError:
        console.error(e.message)
        if let hint = e.hint { console.hint(hint) }
    case let e as StewardshipError:
        console.error(e.message)
        if let hint = e.hint { console.hint(hint) }
    case let locked as HubLocked:
        console.error(locked.description)
        console.hint("changes by hand wait for the running sync; a lock whose process is gone is taken over automatically")
        throw ExitCode(.locked)
    default:
        throw error
    }
    throw ExitCode(.failure)
}
