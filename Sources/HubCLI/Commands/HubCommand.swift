import ArgumentParser
import Foundation
import HubAdapters
import HubAudit
import HubCore
import HubStore
import HubTopology

/// `hubctl hub`: work on the hub database itself.
struct HubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub",
        abstract: "Work on the hub database itself: copy it to PostgreSQL or to another SQLite file.",
        subcommands: [HubMigrateCommand.self])
}

/// `hubctl hub migrate`: copies the topology's hub into another database, verified table by table.
struct HubMigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy the topology's hub into PostgreSQL or another SQLite file, and verify the copy.",
        discussion: """
            Copies every table of the hub (entities, history, links, identity keys, cursors, push marks, \
            intents, runs, conflicts, quarantine, the stewardship log …) with its keys, in one transaction on \
            the target, while holding the hub's run lock; then compares rows and a checksum per table and \
            audits both hubs. Afterwards point the topology's "hub" at the target. See docs/scale-out.md.

            Exit codes: 0 copied and every table matches; 1 refused, failed or a mismatch; 64 the target is \
            the hub itself; 75 a run holds either hub; 78 invalid topology or --to.
            """)

    @OptionGroup var options: TopologyOptions
    @Option(help: ArgumentHelp("""
        The target: a URL like postgres://user:${PGPASSWORD}@host:5432/db (the password only from the \
        environment), or a SQLite file's path.
        """, valueName: "url-or-path"))
    var to: String
    @Option(help: ArgumentHelp("The PostgreSQL schema to hold the hub (default public).", valueName: "name"))
    var schema: String?
    @Flag(help: "Empty a target that already holds a hub's data, then copy.") var replace = false
    @Flag(help: "Print one JSON document instead of tables.") var json = false
    @Option(help: ArgumentHelp("Rows per statement.", valueName: "n")) var batchRows = 1000

    func validate() throws {
        if batchRows < 1 { throw ValidationError("--batch-rows must be 1 or more") }
    }

    func run() async throws {
        let (hubConsole, topology, source) = try openHub(options)
        var console = hubConsole
        let target: Topology
        do {
            target = try TopologyLoader.retargetingHub(topology, to: to, schema: schema, source: "--to",
                                                       baseDirectory: FileManager.default.currentDirectoryPath)
        } catch let error as TopologyError {
            console.error(error.description)
            throw ExitCode(.config)
        }
        console.redactor = target.secrets
        let targetStore: HubStore
        do {
            targetStore = try target.openHub()
        } catch {
            console.error("cannot open the target hub \(target.hubLocation): \(error)")
            throw ExitCode(.failure)
        }
        let report = try copy(from: source, to: targetStore, console)
        // Both hubs audited from the hub alone: the copy must find what the original finds.
        let sourceAudit = try await audit(topology, source)
        let targetAudit = try await audit(target, targetStore)
        let sameFindings = Self.findingKeys(sourceAudit) == Self.findingKeys(targetAudit)
        let ok = report.matches && sameFindings
        let switchTo = Self.hubJSON(target, given: to)
        if json {
            console.out(JSONDocument.make("hub migrate", .object([
                "source": .string(topology.hubLocation), "target": .string(target.hubLocation), "ok": .bool(ok),
                "seconds": .double(report.seconds), "tables": .array(report.tables.map(Self.json)),
                "audit": .object(["source_findings": .int(Int64(sourceAudit.findings.count)),
                                  "target_findings": .int(Int64(targetAudit.findings.count)), "same": .bool(sameFindings),
                                  "target": AuditReportRenderer.json(targetAudit)]),
                "switch_hub_to": .string(switchTo),
            ])))
        } else {
            console.out(Self.render(report, from: topology.hubLocation, to: target.hubLocation))
            console.out("")
            let findings = targetAudit.isClean ? "clean" : counted(targetAudit.findings.count, "finding")
            console.out("Audit (hub only) of the target: \(findings), "
                         + (sameFindings ? "the same as the source's." : "the source's: \(counted(sourceAudit.findings.count, "finding")).")
                         + (targetAudit.isClean ? "" : " See `hubctl audit` once the topology points at it."))
            console.out(ok
                ? "Copied and verified. Now set the topology's hub to \(switchTo) and run `hubctl audit`."
                : "The copy does not match the hub (see above); keep the topology's hub as it is.")
        }
        if !ok { throw ExitCode(.failure) }
    }

    /// Runs the copy, turning its refusals into exit codes with hints.
    private func copy(from source: HubStore, to target: HubStore, _ console: Console) throws -> HubCopyReport {
        var copyOptions = HubCopyOptions(replace: replace, batchRows: batchRows)
        if let text = ProcessInfo.processInfo.environment["HUBCTL_LOCK_TIMEOUT"], let seconds = Double(text), seconds > 0 {
            copyOptions.staleLockAfter = seconds
        }
        do {
            return try source.copy(to: target, options: copyOptions)
        } catch let refused as HubCopyRefused {
            console.error(refused.message)
            switch refused.reason {
            case .sameHub:
                console.hint("--to must name another database (a new SQLite file, or a PostgreSQL URL with another schema)")
                throw ExitCode(.usage)
            case .targetHasData:
                console.hint("pass --replace to empty it first, or choose another --schema or file")
            case .schemaDiffers:
                console.hint("run both hubs with the same hubctl version")
            }
            throw ExitCode(.failure)
        } catch let locked as HubLocked {
            console.error(locked.description)
            console.hint("stop `hubctl run` and wait for `sync-all` to finish before migrating the hub")
            throw ExitCode(.locked)
        } catch let error as HubStoreError {
            console.error(error.message)
            throw ExitCode(.failure)
        } catch {
            console.error("the copy failed: \(error)")
            throw ExitCode(.failure)
        }
    }

    private func audit(_ topology: Topology, _ store: HubStore) async throws -> AuditReport {
        try await Auditor(runtime: SpokeFactory.runtime(topology), store: store).audit(AuditOptions())
    }

    /// What an audit found, to compare two hubs' audits.
    static func findingKeys(_ report: AuditReport) -> [String] {
        report.findings.map { "\($0.check.rawValue) \($0.system?.rawValue ?? "") \($0.entity?.rawValue ?? "") \($0.count)" }.sorted()
    }

    /// The `hub` member to write in the topology: the URL as given (`${NAME}` and all), or the path.
    static func hubJSON(_ target: Topology, given: String) -> String {
        guard target.hubURL != nil else { return JSONWriter.string(.object(["path": .string(target.hubPath)])) }
        var hub: [String: Value] = ["url": .string(given)]
        if let schema = target.hubSchema { hub["schema"] = .string(schema) }
        return JSONWriter.string(.object(hub))
    }

    static func render(_ report: HubCopyReport, from: String, to: String) -> String {
        let rows = report.tables.reduce(0) { $0 + $1.sourceRows }
        var lines = ["hub migrate: \(from) → \(to): \(counted(report.tables.count, "table")), \(counted(rows, "row")) "
                     + String(format: "in %.2f s", report.seconds), ""]
        var table = TextTable(["TABLE", "SOURCE", "TARGET", "CHECKSUM", "MATCH"])
        for t in report.tables {
            table.add([t.name, "\(t.sourceRows)", "\(t.targetRows)",
                       t.matches ? t.sourceChecksum : "\(t.sourceChecksum) ≠ \(t.targetChecksum)", t.matches ? "yes" : "NO"])
        }
        lines.append(table.render())
        for t in report.tables { if let note = t.note { lines.append("\(t.name): \(note)") } }
        return lines.joined(separator: "\n")
    }

    static func json(_ t: HubCopyReport.Table) -> Value {
        .object([
            "table": .string(t.name), "source_rows": .int(Int64(t.sourceRows)), "target_rows": .int(Int64(t.targetRows)),
            "source_checksum": .string(t.sourceChecksum), "target_checksum": .string(t.targetChecksum),
            "matches": .bool(t.matches), "note": t.note.json,
        ])
    }
}
