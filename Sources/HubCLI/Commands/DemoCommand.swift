import ArgumentParser
import Foundation
import HubSync
import HubTopology

/// `hubctl demo`: a ready three-system example, synced.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Create a ready three-system demo (two SQLite databases and a CSV file) and sync it.",
        discussion: """
            Running it again keeps the demo's data and syncs once more (a run with nothing to do). \
            Use --reset to start over.
            """)

    @Argument(help: ArgumentHelp("Where to create the demo.", valueName: "dir")) var directory = "hubctl-demo"
    @Flag(help: "Delete the demo in DIR first and create it anew.") var reset = false

    func run() async throws {
        let console = Console()
        let fm = FileManager.default
        let dir = URL(fileURLWithPath: directory).standardizedFileURL.path
        let topologyPath = dir + "/topology.json"
        let exists = fm.fileExists(atPath: topologyPath)
        let environment = ProcessInfo.processInfo.environment
        if reset && exists, let variable = [TopologyLoader.hubVariable, TopologyLoader.hubSchemaVariable]
            .first(where: { !(environment[$0] ?? "").trimmingCharacters(in: .whitespaces).isEmpty })
        {
            // Starting the systems over but not their hub would leave the hub linking records that are gone.
            console.error("--reset deletes the demo's own SQLite hub, but \(variable) chooses another hub, which it would keep")
            console.hint("unset \(TopologyLoader.hubVariable) and \(TopologyLoader.hubSchemaVariable), "
                         + "or name a new schema in \(TopologyLoader.hubSchemaVariable) and give the demo a new folder")
            throw ExitCode(.usage)
        }
        if reset && exists {
            for name in ["crm.db", "app.db", "sheet", "topology.json", "demo.hub.sqlite", "demo.hub.sqlite-wal",
                         "demo.hub.sqlite-shm"] {
                try? fm.removeItem(atPath: dir + "/" + name)
            }
        }
        if !exists || reset {
            try DemoFiles.create(in: dir)
            console.out("Created a demo in \(directory)/ with three systems of different schemas:")
            console.out("  crm    SQLite \(directory)/crm.db            tables reps, contacts (country codes, modified_at)")
            console.out("  app    SQLite \(directory)/app.db            tables staff, users (one full_name column)")
            console.out("  sheet  CSV    \(directory)/sheet/customers.csv  a spreadsheet export")
            console.out("Ann is in crm and app, Bob in crm and sheet (his email in capitals in crm), Maria in both staff lists.")
        } else {
            console.out("The demo in \(directory)/ exists already; syncing it again (use --reset to start over).")
        }
        console.out("")
        console.out("$ hubctl sync-all -t \(directory)/topology.json")
        let topology: Topology
        do {
            topology = try TopologyLoader.load(path: topologyPath)
        } catch let error as TopologyError {
            console.error(error.description)
            throw ExitCode(.config)
        }
        let started = Date()
        let report = try await SyncRunner.run(topology, SyncOptions())
        console.out(SyncReportRenderer(report: report, seconds: Date().timeIntervalSince(started)).render())
        console.out("")
        console.out("""
            Every customer is now in every system, each in its own schema, linked through the hub \
            (\(topology.hubOverrides.isEmpty ? "\(directory)/demo.hub.sqlite" : topology.hubDescription)). Try:

              sqlite3 \(directory)/app.db "SELECT id, email, full_name, country, plan FROM users"
              sqlite3 \(directory)/crm.db "UPDATE contacts SET given_name = 'Anna' WHERE contact_id = 1"
              hubctl sync-all -t \(directory)/topology.json     # Anna reaches app and sheet in one run
              hubctl sync-all -t \(directory)/topology.json     # nothing changed: nothing is written
              hubctl history -t \(directory)/topology.json

            Edit \(directory)/sheet/customers.csv in any editor and sync again; or run
            `hubctl sync-all --dry-run` to see the plan before anything is written.
            (From a source checkout, `swift run hubctl …` runs the same commands.)
            """)
        if report.exitStatus != .ok { throw ExitCode(report.exitStatus) }
    }
}
