import ArgumentParser
import Foundation
import HubAdapters
import HubCore
import HubSchedule
import HubStore
import HubSync
import HubTopology

/// `hubctl sync-all`: one full cycle over every system.
struct SyncAllCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-all",
        abstract: "Pull from every system, merge into the hub, push to every system.",
        discussion: """
            Exit codes: 0 ok; 3 partial (quarantined records, parked conflicts, an unreachable system \
            while the rest synced, or a schema change that paused a system × entity); 1 failed, or a hub \
            that a newer hubctl upgraded refused; 78 invalid topology, or a HUBCTL_HUB file in a missing folder.
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
        let progress = ProgressLine.onTerminal()
        let syncOptions = SyncOptions(dryRun: dryRun, only: only.isEmpty ? nil : Set(only.map(SystemName.init)),
                                      entities: entities.isEmpty ? nil : Set(entities.map(EntityName.init)),
                                      allowMassDelete: allowMassDelete, progress: progress?.callback)
        defer { progress?.finish() }
        let started = Date()
        let report: SyncReport
        do {
            report = try await SyncRunner.run(topology, syncOptions)
            progress?.finish()
        } catch {
            progress?.finish()
            throw SyncRunner.exit(for: error, topology: topology, console: console)
        }
        if json {
            console.out(JSONDocument.make("sync-all", report.json, generatedAt: report.finishedAt))
        } else {
            console.out(SyncReportRenderer(report: report, seconds: Date().timeIntervalSince(started)).render())
        }
        if report.exitStatus != .ok { throw ExitCode(report.exitStatus) }
    }
}

/// Builds the engine for a topology and runs one cycle.
enum SyncRunner {
    static func run(_ topology: Topology, _ options: SyncOptions) async throws -> SyncReport {
        // A dry run must not even create the hub: without one it plans against an empty hub (and
        // is refused where the run would be: a hub in a folder it must not create).
        let store: HubStore
        do {
            if options.dryRun && !topology.hubExists {
                try topology.checkHubFolder()
                store = try HubStore.inMemory()
            } else {
                store = try topology.openHub()
            }
        } catch {
            throw HubUnavailable(error: error)
        }
        let report = try await engine(topology, store: store).syncAll(options)
        if !options.dryRun && !report.stopped { try recordSchedule(report, options, topology, store) }
        return report
    }

    /// Records what the cycle read in the hub's schedule state, as `hubctl run` does, so that
    /// `hubctl status` and the dashboard show a hub synced by `sync-all` (by hand or by cron).
    static func recordSchedule(_ report: SyncReport, _ options: SyncOptions, _ topology: Topology, _ store: HubStore) throws {
        let planner = SchedulePlanner(topology: topology)
        let states = planner.afterCycle(try store.scheduleStates(), systems: options.only, entities: options.entities,
                                        errors: report.systemErrors, at: Date())
        try store.saveScheduleStates(states)
    }

    /// The engine for a topology, with settings from the environment (`HUBCTL_LOCK_TIMEOUT`
    /// seconds: when a silent run's lock counts as stale; default 600).
    static func engine(_ topology: Topology, store: HubStore) throws -> SyncEngine {
        var settings = EngineSettings()
        if let text = ProcessInfo.processInfo.environment["HUBCTL_LOCK_TIMEOUT"], let seconds = Double(text), seconds > 0 {
            settings.lockTimeout = seconds
        }
        return SyncEngine(runtime: SpokeFactory.runtime(topology), store: store, settings: settings)
    }

    /// The hub could not be opened (unreachable, a login refused, a file not writable): nothing ran.
    struct HubUnavailable: Error {
        var error: any Error
    }

    /// The exit for a run that could not complete: 75 when another run holds the hub, 78 when
    /// the hub's folder must not be created, else 1.
    static func exit(for error: any Error, topology: Topology, console: Console) -> ExitCode {
        switch error {
        case let unavailable as HubUnavailable:
            return topology.reportOpenFailure(unavailable.error, console)
        case let locked as HubLocked:
            console.error(locked.description)
            console.hint(locked.holder.worker != nil
                         ? "workers (`hubctl run --worker`) are syncing this hub; stop them (SIGTERM) to run this command, "
                             + "or let them sync: `hubctl status` lists them"
                         : "a lock whose process is gone is taken over automatically; one silent for "
                             + "HUBCTL_LOCK_TIMEOUT seconds (default 600) is too")
            return ExitCode(.locked)
        case let fenced as FencedOut:
            console.error(fenced.description)
            return ExitCode(.locked)
        default:
            console.error("the run failed: \(error)")
            console.hint(topology.hubURL == nil
                         ? "check that the hub file \(topology.hubPath) is writable and not used by another program"
                         : "check that the PostgreSQL hub \(topology.hubDescription) is reachable and that \(topology.hubURLSource)'s "
                             + "user and password are right, then run again")
            return ExitCode(.failure)
        }
    }
}
