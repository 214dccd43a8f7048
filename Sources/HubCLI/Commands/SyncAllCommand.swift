import ArgumentParser
import Foundation
import HubAdapters
import HubCore
import HubStore
import HubSync
import HubTopology

/// `hubctl sync-all`: one full cycle over every system.
struct SyncAllCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-all",
        abstract: "Pull from every system, merge into the hub, push to every system.",
        discussion: """
            Exit codes: 0 ok; 3 partial (quarantined records, parked conflicts or an unreachable system \
            while the rest synced); 1 failed; 78 invalid topology.
            """)

    @OptionGroup var options: TopologyOptions
    @Flag(help: "Read the systems and print the plan; write nothing anywhere.") var dryRun = false
    @Flag(help: "Print one JSON document instead of a table.") var json = false
    @Option(name: .customLong("only"), help: ArgumentHelp("Only this system (repeatable).", valueName: "system"))
    var only: [String] = []
    @Option(name: .customLong("entity"), help: ArgumentHelp("Only this entity (repeatable).", valueName: "name"))
    var entities: [String] = []
    @Flag(help: "Apply deletes even when they exceed a system's mass-delete guard.") var allowMassDelete = false

    func run() async throws {
        var console = Console()
        let topology = try options.load(console: console)
        console.redactor = topology.secrets
        try requireKnown(systems: only, flag: "--only", entities: entities, in: topology, console)
        let syncOptions = SyncOptions(dryRun: dryRun, only: only.isEmpty ? nil : Set(only.map(SystemName.init)),
                                      entities: entities.isEmpty ? nil : Set(entities.map(EntityName.init)),
                                      allowMassDelete: allowMassDelete)
        let started = Date()
        let report: SyncReport
        do {
            report = try await SyncRunner.run(topology, syncOptions)
        } catch {
            console.error("the run failed: \(error)")
            console.hint("check that the hub file \(topology.hubPath) is writable and not used by another program")
            throw ExitCode(1)
        }
        if json {
            console.out(JSONWriter.pretty(report.json))
        } else {
            console.out(SyncReportRenderer(report: report, seconds: Date().timeIntervalSince(started)).render())
        }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}

/// Builds the engine for a topology and runs one cycle.
enum SyncRunner {
    static func run(_ topology: Topology, _ options: SyncOptions) async throws -> SyncReport {
        // A dry run must not even create the hub: without one it plans against an empty hub.
        let store = options.dryRun && !FileManager.default.fileExists(atPath: topology.hubPath)
            ? try HubStore.inMemory() : try HubStore(path: topology.hubPath)
        let spokes = try SpokeFactory.makeAll(topology)
        let engine = SyncEngine(topology: topology, store: store, spokes: spokes)
        return try await engine.syncAll(options)
    }
}
