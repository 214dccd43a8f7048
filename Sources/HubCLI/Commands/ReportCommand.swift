import ArgumentParser
import Foundation
import HubDashboard

/// `hubctl report --html FILE`: every dashboard page in one static file.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the dashboard's pages (overview, issues, runs, entities with issues, topology) as one static HTML file.",
        discussion: """
            The file has no script, no external asset and no actions: a CI artifact or an attachment. \
            Entities with open conflicts or quarantined records get a section each.

            Exit codes: 0 written; 1 no hub yet, or the file could not be written; 78 invalid topology.
            """)

    @OptionGroup var options: TopologyOptions
    @OptionGroup var scheduleOptions: ScheduleOptions
    @Option(help: ArgumentHelp("The HTML file to write.", valueName: "file")) var html: String

    func run() throws {
        let (console, topology, store) = try openHub(options)
        let page = try DashboardPages.report(Dashboard(topology: topology, store: store, defaultSchedule: try scheduleOptions.schedule()))
        try write(page.rendered, to: html, console: console)
        console.out("Wrote \(html) (\(page.rendered.utf8.count / 1024) KiB): overview, issues, runs, entities, topology.")
    }
}
