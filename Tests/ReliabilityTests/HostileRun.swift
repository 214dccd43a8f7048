import Foundation
import HubCore
import HubTesting
import Testing

/// One hostile case of the T9 battery: a system set up to misbehave or holding hostile data, the
/// hubctl commands run against it, and what hubctl must do.
struct HostileCase: Sendable {
    enum Family: String, CaseIterable, Sendable { case sqlite, postgres, csv, jsonl, rest, exec }
    enum Service: Sendable { case postgres, kinto }

    let family: Family
    let name: String
    var services: Set<Service> = []
    let body: @Sendable (HostileRun) async throws -> Void
}

/// What the battery counts for one case. Crashes, hangs, outside writes and leftover processes
/// are found by the runner; changed values and unclear failures by the case's own oracle.
struct HostileTally: Sendable {
    var crashes = 0, hangs = 0, changedValues = 0, outsideWrites = 0, leftoverProcesses = 0, unclearFailures = 0
    var notes: [String] = []

    var clean: Bool { crashes + hangs + changedValues + outsideWrites + leftoverProcesses + unclearFailures == 0 }

    static func + (a: HostileTally, b: HostileTally) -> HostileTally {
        HostileTally(crashes: a.crashes + b.crashes, hangs: a.hangs + b.hangs, changedValues: a.changedValues + b.changedValues,
                     outsideWrites: a.outsideWrites + b.outsideWrites, leftoverProcesses: a.leftoverProcesses + b.leftoverProcesses,
                     unclearFailures: a.unclearFailures + b.unclearFailures, notes: a.notes + b.notes)
    }
}

/// The sandbox one case runs in, and the oracles it reports to.
///
/// `root/case` is the topology's folder: the hub, the systems' files and folders, the connectors.
/// `root/outside` holds decoy files a path traversal or a symbolic link would reach; the whole
/// of `root` but `root/case` is snapshotted before and after, so any write outside the
/// configured folders is seen. Connectors get `marker` as an argument, so any process left
/// running afterwards is found by its command line.
final class HostileRun: @unchecked Sendable {
    /// The longest a hubctl command may take; longer is a hang (the process is killed).
    static let timeout: Double = 90

    let name: String
    let root: String
    let dir: String
    let outside: String
    let marker: String
    private let environment: [String: String]
    // Guarded by `lock`: variables a case exports for every later hubctl command.
    private var exported: [String: String] = [:]
    /// PostgreSQL and Kinto, when the test script started them.
    let services: HostileServices?
    /// The schema holding the case's hub in the test cluster, when the hub is in PostgreSQL;
    /// nil for a SQLite hub in the case's folder.
    let hubSchema: String?
    // Guarded by `lock`.
    private var tally = HostileTally()
    private let lock = NSLock()

    init(name: String, services: HostileServices?, postgresHub: Bool = false) throws {
        self.name = name
        self.services = services
        hubSchema = postgresHub ? "t9hub_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased() : nil
        root = FileManager.default.temporaryDirectory.appendingPathComponent("hubctl-t9-\(UUID().uuidString)").path
        dir = root + "/case"
        outside = root + "/outside"
        marker = "hubctl-t9-\(UUID().uuidString)"
        environment = services?.environment ?? [:]
        for folder in [dir, outside] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try Data("root:x:0:0:root:/root:/bin/bash\n".utf8).write(to: URL(fileURLWithPath: outside + "/passwd"))
        try Data("id,Key,Text\nd1,decoy,untouched\n".utf8).write(to: URL(fileURLWithPath: outside + "/notes.csv"))
        try Data(#"{"id":"d1","key":"decoy","text":"untouched"}"#.utf8 + [0x0A]).write(to: URL(fileURLWithPath: outside + "/notes.jsonl"))
    }

    /// Removes the sandbox, and the hub's schema when it is in PostgreSQL.
    func removeSandbox() {
        try? FileManager.default.removeItem(atPath: root)
        if let hubSchema, let pg = services?.postgres {
            _ = try? ExternalTool.runSync("psql", ["-X", "-q", "-h", pg.host, "-p", String(pg.port), "-U", pg.user, "-d", pg.database,
                                                   "-c", "DROP SCHEMA IF EXISTS \(hubSchema) CASCADE"], environment: ["PGPASSWORD": pg.password])
        }
    }

    /// The topology's `hub` member for a hub in PostgreSQL (its password from the environment),
    /// or nothing for the default SQLite hub in the case's folder.
    var hubJSON: String {
        guard let hubSchema else { return "" }
        let url = "postgres://${T9_PG_USER}:${T9_PG_PASSWORD}@${T9_PG_HOST}:${T9_PG_PORT}/${T9_PG_DB}?sslmode=disable"
        return #""hub": {"url": "\#(url)", "schema": "\#(hubSchema)"}, "#
    }

    var result: HostileTally {
        lock.lock()
        defer { lock.unlock() }
        return tally
    }

    private func count(_ update: (inout HostileTally) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        update(&tally)
    }

    /// Adds `variables` to the environment of every later hubctl command (secrets stay out of
    /// the topology, which `validate` insists on).
    func export(_ variables: [String: String]) { lock.lock(); defer { lock.unlock() }; exported.merge(variables) { $1 } }

    /// A value read back differs from what was written (or never arrived, unexplained).
    func changed(_ note: String) { count { $0.changedValues += 1; $0.notes.append("changed: \(note)") } }

    /// A failure without its documented exit code or without a message that says what failed.
    func unclear(_ note: String) { count { $0.unclearFailures += 1; $0.notes.append("unclear: \(note)") } }

    func outsideWrites(_ paths: [String]) {
        guard !paths.isEmpty else { return }
        count { $0.outsideWrites += paths.count; $0.notes.append("written outside: \(paths.joined(separator: ", "))") }
    }

    func leftovers(_ pids: [String]) {
        guard !pids.isEmpty else { return }
        count { $0.leftoverProcesses += pids.count; $0.notes.append("left running: \(pids.count) processes") }
    }

    /// Checks `condition`, counting a changed value when it does not hold.
    func expectSame(_ condition: Bool, _ note: @autoclosure () -> String) {
        if !condition { changed(note()) }
    }

    // MARK: - Running hubctl

    /// Runs hubctl in the case's folder with `-t topology.json`, bounded by ``timeout``.
    ///
    /// A signal exit or a crash report is a crash; running past the timeout is a hang. An exit
    /// code outside `exits`, or a failure whose output lacks any of `says` (the system's name, a
    /// reason), is an unclear failure.
    @discardableResult
    func hubctl(_ arguments: [String], exits: Set<Int32>, says: [String] = [], environment extra: [String: String] = [:]) async throws
        -> HubctlProcess.Result
    {
        let variables = { lock.lock(); defer { lock.unlock() }; return environment.merging(exported) { $1 } }()
        let running = try HubctlProcess.start(arguments + ["-t", "topology.json"], in: dir,
                                              environment: variables.merging(extra) { $1 })
        let deadline = Date().addingTimeInterval(Self.timeout)
        while running.process.isRunning && Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
        let hung = running.process.isRunning
        if hung { kill(running.pid, SIGKILL) }
        let result = running.wait()
        let command = "hubctl \(arguments.joined(separator: " "))"
        let output = result.stdout + result.stderr
        if hung {
            count { $0.hangs += 1; $0.notes.append("hang: \(command) ran past \(Int(Self.timeout)) s") }
        } else if result.killedBySignal || output.contains("Fatal error") || output.contains("Stack dump") {
            count { $0.crashes += 1; $0.notes.append("crash: \(command) → signal \(result.exitCode): \(output.suffix(400))") }
        } else if !exits.contains(result.exitCode) {
            unclear("\(command) exited \(result.exitCode), expected \(exits.sorted()): \(output.prefix(600))")
        } else if result.exitCode != 0 {
            let missing = says.filter { !output.contains($0) }
            if !missing.isEmpty { unclear("\(command) exited \(result.exitCode) without saying \(missing): \(output.prefix(600))") }
        }
        return result
    }

    /// `sync-all --json`'s report, or an empty object when the output was not one.
    func sync(exits: Set<Int32> = [0, 3], says: [String] = [], environment: [String: String] = [:]) async throws -> SyncOutcome {
        let run = try await hubctl(["sync-all", "--json"], exits: exits, says: says, environment: environment)
        return SyncOutcome(run: run, report: (try? run.result()) ?? .object([:]))
    }

    // MARK: - Files

    func write(_ relative: String, _ bytes: [UInt8]) throws {
        let url = URL(fileURLWithPath: dir + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    func write(_ relative: String, _ text: String) throws { try write(relative, Array(text.utf8)) }

    func bytes(_ relative: String) -> [UInt8]? {
        FileManager.default.contents(atPath: dir + "/" + relative).map { [UInt8]($0) }
    }

    // MARK: - Outside writes and leftover processes

    /// Every file and link under the sandbox but the case's folder, with its content.
    func snapshotOutside() -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            if relative == "case" || relative.hasPrefix("case/") { continue }
            let path = root + "/" + relative
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                out[relative] = Array("link→\(target)".utf8)
            } else {
                out[relative] = FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? Array("folder".utf8)
            }
        }
        return out
    }

    /// Processes carrying this case's marker, polled until none is left or 15 s passed.
    func leftoverProcesses() async throws -> [String] {
        let deadline = Date().addingTimeInterval(15)
        while true {
            let found = ProcessTable.processes(withCommandLineContaining: marker)
            if found.isEmpty || Date() > deadline { return found }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
    }

    /// Runs `hostile` in a fresh sandbox and returns its tally, the runner's checks included.
    static func run(_ hostile: HostileCase, services: HostileServices?, postgresHub: Bool = false) async -> HostileTally {
        let run: HostileRun
        do { run = try HostileRun(name: hostile.name, services: services, postgresHub: postgresHub) } catch {
            return HostileTally(unclearFailures: 1, notes: ["sandbox: \(error)"])
        }
        defer { run.removeSandbox() }
        let before = run.snapshotOutside()
        do { try await hostile.body(run) } catch { run.unclear("the case itself failed: \(error)") }
        let after = run.snapshotOutside()
        run.outsideWrites(Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted())
        let pids = (try? await run.leftoverProcesses()) ?? []
        for pid in pids.compactMap({ pid_t($0) }) where pid > 1 { kill(pid, SIGKILL) }
        run.leftovers(pids)
        return run.result
    }
}

/// A `sync-all --json` run and its report.
struct SyncOutcome {
    let run: HubctlProcess.Result
    let report: Value

    /// Records the run quarantined: (system, direction, reason, message).
    var quarantined: [(system: String, direction: String, reason: String, message: String)] {
        (report.value(atPath: "quarantined")?.arrayValue ?? []).map {
            ($0.value(atPath: "system")?.stringValue ?? "", $0.value(atPath: "direction")?.stringValue ?? "",
             $0.value(atPath: "reason")?.stringValue ?? "", $0.value(atPath: "message")?.stringValue ?? "")
        }
    }

    /// Creates, updates and deletes sent to the systems.
    var writes: Int64 {
        ["created", "updated", "deleted"].map { report.value(atPath: "totals.push.\($0)")?.intValue ?? 0 }.reduce(0, +)
    }

    /// The status of `system` in the report (`ok`, `failed`, …).
    func status(_ system: String) -> String { report.value(atPath: "systems.\(system).status")?.stringValue ?? "?" }
}
