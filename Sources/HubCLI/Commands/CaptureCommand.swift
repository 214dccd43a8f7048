import ArgumentParser
import Foundation
import HubAdapters
import HubCore
import HubTopology
import SpokePostgres

/// `hubctl capture install|remove SYSTEM`: PostgreSQL change capture (a change log, a trigger
/// per bound table, `pg_notify`) that wakes `hubctl run` when a row changes.
struct CaptureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Install or remove PostgreSQL change capture (change log, triggers, pg_notify) for `hubctl run`.",
        discussion: "See docs/operations.md, \"PostgreSQL change capture\".",
        subcommands: [CaptureInstallCommand.self, CaptureRemoveCommand.self])
}

/// The options both capture commands take.
struct CaptureArguments: ParsableArguments {
    @OptionGroup var options: TopologyOptions
    @Flag(help: "Print the SQL without running it.") var dryRun = false
    @Argument(help: ArgumentHelp("The postgres system.", valueName: "system")) var system: String

    /// The capture for the named system; exits 64 when it is unknown or not a postgres system.
    func capture(console: inout Console) throws -> (SystemDefinition, PostgresChangeCapture) {
        let topology = try options.load(console: console)
        console.redactor = topology.secrets
        guard let definition = topology.system(SystemName(system)) else {
            console.error("unknown system '\(system)'; the topology has: " + topology.systems.map(\.name.rawValue).joined(separator: ", "))
            throw ExitCode(.usage)
        }
        guard definition.adapter == .postgres else {
            console.error("system '\(system)' uses the \(definition.adapter.rawValue) adapter; change capture is for postgres systems")
            console.hint("for other systems, point a webhook at `hubctl run` (docs/operations.md) or rely on the schedule")
            throw ExitCode(.usage)
        }
        do {
            guard let spoke = try SpokeFactory.make(definition, in: topology) as? PostgresSpoke else { throw ExitCode(.usage) }
            return (definition, PostgresChangeCapture(spoke: spoke))
        } catch let error as SpokeError {
            console.error("\(error)")
            throw ExitCode(.config)
        }
    }

    /// Plans the statements, prints the transaction and, unless dry, runs it: exit 3 when
    /// PostgreSQL refuses (nothing changed).
    func perform(plan: (SystemDefinition, PostgresChangeCapture) async throws -> [String],
                 done: (SystemDefinition) -> String) async throws {
        var console = Console()
        let (definition, capture) = try capture(console: &console)
        do {
            let statements = try await plan(definition, capture)
            console.out("BEGIN;")
            for sql in statements { console.out(sql + ";") }
            console.out("COMMIT;")
            if dryRun {
                console.out("-- dry run: nothing was changed")
                return
            }
            try await capture.apply(statements)
        } catch {
            console.error("\(error)")
            console.hint("nothing was changed (one transaction); see docs/operations.md for the privileges needed")
            throw ExitCode(.partial)
        }
        console.out("-- " + done(definition))
    }
}

/// `hubctl capture install SYSTEM`.
struct CaptureInstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Create the change log, the trigger function and the triggers on each bound table (idempotent, one transaction).",
        discussion: "Prints the SQL it runs. Exit codes: 0 installed; 3 PostgreSQL refused it (nothing changed); 64 not a postgres system; 78 invalid topology.")

    @OptionGroup var arguments: CaptureArguments

    func run() async throws {
        try await arguments.perform(plan: { definition, capture in
            try await capture.installStatements(definition.entities.map { ($0.object, $0.idField) })
        }, done: { definition in
            let installed = "change capture installed on \(Set(definition.entities.map(\.object)).count) table(s) of \(definition.name); "
            switch definition.capture?.notify {
            case nil: return installed + "add \"capture\": {\"notify\": true} to the system to read its tables through the log "
                + "and for `hubctl run` to listen"
            case false?: return installed + "its tables are read through the log; add \"notify\": true to its \"capture\" "
                + "for `hubctl run` to listen"
            case true?: return installed + "its tables are read through the log and `hubctl run` listens"
            }
        })
    }
}

/// `hubctl capture remove SYSTEM`.
struct CaptureRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Drop the triggers, the trigger function and the change log that `capture install` created (one transaction).",
        discussion: "Prints the SQL it runs. Exit codes: 0 removed (or nothing to remove); 3 PostgreSQL refused it (nothing changed); 64 not a postgres system; 78 invalid topology.")

    @OptionGroup var arguments: CaptureArguments

    func run() async throws {
        try await arguments.perform(plan: { _, capture in try await capture.removeStatements() },
                                    done: { "change capture removed from \($0.name)" })
    }
}
