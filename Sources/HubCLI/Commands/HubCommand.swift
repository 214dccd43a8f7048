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
            audits both hubs. The webhook delivery IDs a SQLite hub keeps beside it (<hub>-webhooks) are \
            copied too. Afterwards point the topology's "hub" (or HUBCTL_HUB, if it chose the hub) at the \
            target. A SQLite --to must be in an existing folder. See docs/scale-out.md.

            Exit codes: 0 copied and every table matches; 1 refused, failed or a mismatch; 64 the target is \
            the hub itself; 75 a run holds either hub; 78 invalid topology or --to, or its folder is missing.
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
        var target: Topology
        do {
            target = try TopologyLoader.retargetingHub(topology, to: to, schema: schema, source: "--to",
                                                       baseDirectory: FileManager.default.currentDirectoryPath)
        } catch let error as TopologyError {
            console.error(error.description)
            throw ExitCode(.config)
        }
        target.hubOverrides = ["--to"]
        console.redactor = target.secrets
        // The source's lock first: a hub another run holds is refused before the target is
        // opened, so a refused migration leaves no new, empty hub behind.
        let lease = try lockSource(source, console)
        defer { try? source.releaseRunLock(lease) }
        let targetStore: HubStore
        do {
            targetStore = try target.openHub()
        } catch {
            throw target.reportOpenFailure(error, console)
        }
        let report = try copy(from: source, to: targetStore, lease: lease, console)
        // Outside the hub's tables: the delivery IDs a SQLite hub keeps in a file beside it.
        let deliveries: WebhookDeliveryCopy?
        do {
            deliveries = report.matches ? try source.copyWebhookDeliveries(to: targetStore) : nil
        } catch {
            console.error("the hub was copied, but not its webhook delivery IDs: \(error)")
            console.hint("run again with --replace: the delivery IDs are copied after the hub")
            throw ExitCode(.failure)
        }
        // Both hubs audited from the hub alone: the copy must find what the original finds.
        let sourceAudit = try await audit(topology, source)
        let targetAudit = try await audit(target, targetStore)
        let sameFindings = Self.findingKeys(sourceAudit) == Self.findingKeys(targetAudit)
        let ok = report.matches && sameFindings
        let switchTo = Self.hubJSON(target, given: to)
        let environment = Self.environment(from: topology, to: target, given: to)
        if json {
            console.out(JSONDocument.make("hub migrate", .object([
                "source": .string(topology.hubLocation), "source_from": topology.hubJSON.objectValue?["from"] ?? .null,
                "target": .string(target.hubLocation), "ok": .bool(ok),
                "seconds": .double(report.seconds), "tables": .array(report.tables.map(Self.json)),
                "webhook_deliveries": deliveries.map(Self.json) ?? .null,
                "audit": .object(["source_findings": .int(Int64(sourceAudit.findings.count)),
                                  "target_findings": .int(Int64(targetAudit.findings.count)), "same": .bool(sameFindings),
                                  "target": AuditReportRenderer.json(targetAudit)]),
                "switch_hub_to": .string(switchTo),
                "set_environment": environment.map { .object($0.mapValues { $0.map(Value.string) ?? .null }) } ?? .null,
            ])))
        } else {
            console.out(Self.render(report, from: topology.hubDescription, to: target.hubLocation))
            if let deliveries { console.out(Self.render(deliveries, source: topology.hubLocation)) }
            console.out("")
            let findings = targetAudit.isClean ? "clean" : counted(targetAudit.findings.count, "finding")
            console.out("Audit (hub only) of the target: \(findings), "
                         + (sameFindings ? "the same as the source's." : "the source's: \(counted(sourceAudit.findings.count, "finding")).")
                         + (targetAudit.isClean ? "" : " See `hubctl audit` once the topology points at it."))
            console.out(Self.advice(ok: ok, topology: topology, switchTo: switchTo, environment: environment))
        }
        if !ok { throw ExitCode(.failure) }
    }

    /// The last line: what to point at the copy, the topology's hub or the variables that chose
    /// the hub copied (which would otherwise keep choosing it).
    static func advice(ok: Bool, topology: Topology, switchTo: String, environment: [String: String?]?) -> String {
        let chosenBy = topology.hubOverrides.joined(separator: " and ")
        guard ok else {
            return "The copy does not match the hub (see above); keep "
                + (topology.hubOverrides.isEmpty ? "the topology's hub" : chosenBy) + " as it is."
        }
        guard let environment else { return "Copied and verified. Now set the topology's hub to \(switchTo) and run `hubctl audit`." }
        let settings = environment.sorted { $0.key < $1.key }.map { name, value in
            value.map { "set \(name)=\(shellQuoted($0))" } ?? "unset \(name)"
        }
        return "Copied and verified. The hub copied was chosen by \(chosenBy), not by the topology: now "
            + settings.joined(separator: " and ") + " (or unset \(chosenBy) and set the topology's hub to \(switchTo)), "
            + "and run `hubctl audit`."
    }

    /// The variables to change so that they choose the copy (a value, or nil to unset it), when
    /// the environment chose the hub copied; nil when the topology did.
    static func environment(from topology: Topology, to target: Topology, given: String) -> [String: String?]? {
        guard !topology.hubOverrides.isEmpty else { return nil }
        let schemaSet = topology.hubOverrides.contains(TopologyLoader.hubSchemaVariable)
        var out: [String: String?] = [TopologyLoader.hubVariable: target.hubURL == nil ? target.hubPath : given]
        if let schema = target.hubSchema {
            out[TopologyLoader.hubSchemaVariable] = schema
        } else if schemaSet {
            out[TopologyLoader.hubSchemaVariable] = .some(nil)
        }
        return out
    }

    /// `text` in single quotes for a POSIX shell (so `${NAME}` is left to hubctl).
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Runs the copy, turning its refusals into exit codes with hints.
    /// When a silent run's lock counts as stale: `HUBCTL_LOCK_TIMEOUT`, or the copy's default.
    private var staleLockAfter: TimeInterval {
        if let text = ProcessInfo.processInfo.environment["HUBCTL_LOCK_TIMEOUT"], let seconds = Double(text), seconds > 0 {
            return seconds
        }
        return HubCopyOptions().staleLockAfter
    }

    /// Takes the source hub's run lock for the migration (exit 75 when a live run holds it).
    private func lockSource(_ source: HubStore, _ console: Console) throws -> RunLease {
        do {
            return try source.acquireRunLock(RunID("hub-copy-" + UUID().uuidString.lowercased()), now: Date(), staleAfter: staleLockAfter)
        } catch let locked as HubLocked {
            throw refuseLocked(locked, console)
        }
    }

    private func refuseLocked(_ locked: HubLocked, _ console: Console) -> ExitCode {
        console.error(locked.description)
        console.hint("stop `hubctl run` and wait for `sync-all` to finish before migrating the hub")
        return ExitCode(.locked)
    }

    private func copy(from source: HubStore, to target: HubStore, lease: RunLease, _ console: Console) throws -> HubCopyReport {
        var copyOptions = HubCopyOptions(replace: replace, batchRows: batchRows)
        copyOptions.staleLockAfter = staleLockAfter
        copyOptions.heldSourceLock = lease
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
            throw refuseLocked(locked, console)
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

    /// What happened to the webhook delivery IDs, in one line.
    static func render(_ copy: WebhookDeliveryCopy, source: String) -> String {
        guard let from = copy.from else {
            return "Webhook delivery IDs: none to copy (no \(source)-webhooks file beside the hub)."
        }
        guard let to = copy.to else { return "Webhook delivery IDs: none to copy (\(from) keeps none)." }
        return "Webhook delivery IDs: \(counted(copy.count, "ID")) copied from \(from) to \(to) (\(copy.added) new there), "
            + "so a delivery accepted before the move is still refused as a replay."
    }

    static func json(_ copy: WebhookDeliveryCopy) -> Value {
        .object(["from": copy.from.json, "to": copy.to.json, "count": .int(Int64(copy.count)), "added": .int(Int64(copy.added))])
    }

    static func json(_ t: HubCopyReport.Table) -> Value {
        .object([
            "table": .string(t.name), "source_rows": .int(Int64(t.sourceRows)), "target_rows": .int(Int64(t.targetRows)),
            "source_checksum": .string(t.sourceChecksum), "target_checksum": .string(t.targetChecksum),
            "matches": .bool(t.matches), "note": t.note.json,
        ])
    }
}
