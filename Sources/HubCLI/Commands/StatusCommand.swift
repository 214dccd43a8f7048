import ArgumentParser
import Foundation
import HubCore
import HubSchedule
import HubService
import HubStore
import HubTopology

/// `hubctl status`: whether every system and entity is on time under `hubctl run`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each system and entity's state under `hubctl run`: on time, delayed, failing, paused.",
        discussion: """
            Reads the hub only. A system × entity is delayed when its read is overdue by more than its \
            interval (at least a minute), failing when its last read failed, paused by a schema change, \
            or not_run before `hubctl run` has read it. On a PostgreSQL hub, also the workers \
            (`hubctl run --worker`) and the units they hold.

            Exit codes: 0 every system × entity on time; 1 otherwise; 78 invalid topology.
            """)

    @OptionGroup var options: TopologyOptions
    @OptionGroup var scheduleOptions: ScheduleOptions
    @Flag(help: "Print one JSON document instead of a table.") var json = false

    func run() async throws {
        var console = Console()
        let topology = try options.load(console: console)
        console.redactor = topology.secrets
        let schedule = try scheduleOptions.schedule()
        let report: StatusReport
        var board: WorkBoardRenderer?
        do {
            let store = topology.hubExists ? try topology.openHubReadOnly() : try HubStore.inMemory()
            report = try StatusReport.compute(planner: SchedulePlanner(topology: topology, defaultSchedule: schedule),
                                              store: store, now: Date())
            // Workers share only a PostgreSQL hub (`hubctl run --worker`).
            if topology.hubURL != nil { board = WorkBoardRenderer(board: try store.workBoard(), now: report.generatedAt) }
        } catch {
            throw topology.reportOpenFailure(error, console, hint: topology.hubURL == nil
                ? "a hub from an older hubctl is brought up to date by any run (`hubctl run --once`)" : nil)
        }
        if json {
            var result = report.json
            if case .object(var fields) = result {
                fields["hub"] = topology.hubJSON
                if let board { fields["workers"] = board.json }
                result = .object(fields)
            }
            console.out(JSONDocument.make("status", result, generatedAt: Timestamp.string(report.generatedAt)))
        } else {
            console.out("Hub: \(topology.hubDescription)\n")
            console.out(StatusRenderer(report: report).render() + (board?.render() ?? ""))
        }
        if !report.healthy { throw ExitCode(1) }
    }
}
