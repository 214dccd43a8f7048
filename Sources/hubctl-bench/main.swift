import Foundation
import GRDB
import HubCore

// hubctl-bench: initial sync, a sync with nothing changed, and a sync after 1 % of the entities
// changed, on three SQLite systems of N customers, against the raw SQLite limit (the same writes
// with prepared statements, no sync logic) and the floor program (Floor.swift: the irreducible
// work, independent of hubctl's schema). Build in release:
//
//     swift run -c release hubctl-bench --size 100k [--json] [--out results.json]

struct Options {
    var size = 10_000
    var json = false
    var out: String?
    var dir: String?
    var hubctl: String?
    var keep = false
    /// Only write the systems and the topology into `dir` (for profiling a sync by hand).
    var generateOnly = false
    /// The cursors' lookback window (`"1s"`, say) instead of hubctl's default of 5 minutes, and
    /// a pause of one window and a second before each run after the initial sync, so that each
    /// run is past the window of the runs before it: the steady state of runs minutes apart.
    var lookback: String?

    static func parse(_ args: [String]) throws -> Options {
        var o = Options()
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw BenchError("\(args[i - 1]) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--size": o.size = try parseSize(try value())
            case "--json": o.json = true
            case "--out": o.out = try value()
            case "--dir": o.dir = try value()
            case "--hubctl": o.hubctl = try value()
            case "--keep": o.keep = true
            case "--generate-only": o.generateOnly = true
            case "--lookback":
                let text = try value()
                guard Options.seconds(text) != nil else { throw BenchError("--lookback takes seconds such as 1s or 500ms") }
                o.lookback = text
            case "-h", "--help":
                print("usage: hubctl-bench [--size 10k|100k|1m|N] [--lookback 1s] [--json] [--out FILE] [--dir DIR] [--hubctl PATH] [--keep] [--generate-only]")
                exit(0)
            default: throw BenchError("unknown argument \(args[i]); see --help")
            }
            i += 1
        }
        return o
    }

    /// Seconds of a duration written as hubctl's topology takes it, in `ms` or `s`.
    static func seconds(_ text: String) -> Double? {
        if text.hasSuffix("ms"), let n = Double(text.dropLast(2)), n >= 0 { return n / 1000 }
        if text.hasSuffix("s"), let n = Double(text.dropLast()), n >= 0 { return n }
        return nil
    }

    static func parseSize(_ text: String) throws -> Int {
        let t = text.lowercased()
        if t.hasSuffix("k"), let n = Int(t.dropLast()) { return n * 1_000 }
        if t.hasSuffix("m"), let n = Int(t.dropLast()) { return n * 1_000_000 }
        guard let n = Int(t), n > 0 else { throw BenchError("--size takes a number such as 10k, 100k or 1m") }
        return n
    }
}

func rowCounts(_ dir: String) throws -> [Int] {
    try [("crm.db", "contacts"), ("billing.db", "accounts"), ("app.db", "users")].map { file, table in
        let db = try DatabaseQueue(path: dir + "/" + file)
        defer { try? db.close() }
        return try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM \(table)") ?? -1 }
    }
}

func main() throws {
    let options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let hubctl = options.hubctl ?? executable.deletingLastPathComponent().appendingPathComponent("hubctl").path
    guard options.generateOnly || FileManager.default.isExecutableFile(atPath: hubctl) else {
        throw BenchError("no hubctl binary at \(hubctl); build both in release: swift build -c release")
    }
    let root = options.dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("hubctl-bench-\(options.size)").path
    try? FileManager.default.removeItem(atPath: root)
    let n = options.size
    func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    log("generating \(n) customers in \(root)/sync …")
    let workload = Workload(size: n, dir: root + "/sync", lookback: options.lookback)
    try workload.create()
    if options.generateOnly {
        log("wrote \(workload.dir); sync it with: hubctl sync-all -t \(workload.dir)/topology.json")
        return
    }
    let sourceRows = try rowCounts(workload.dir).reduce(0, +)

    log("initial sync …")
    let topology = workload.dir + "/topology.json"
    let initial = try measureProcess("initial sync", hubctl, ["sync-all", "-t", topology])
    let converged = try rowCounts(workload.dir)
    // The first run after the initial sync reads back the records it created (their change
    // cursors moved); the one after it has nothing changed. With hubctl's default lookback
    // window (5 minutes) both re-read, unchanged, every row read in the window; with
    // --lookback each waits out the window first (the steady state).
    let settle = options.lookback.flatMap(Options.seconds).map { $0 + 1 }
    func pause() { if let settle { Thread.sleep(forTimeInterval: settle) } }
    log("first repeat (reads back hubctl's own creates) …")
    pause()
    let readBack = try measureProcess("repeat, reading back", hubctl, ["sync-all", "-t", topology])
    if settle != nil {
        // The first run past a read's window reads it once more (KeysetRun); then it is settled.
        log("settling run (not measured) …")
        pause()
        _ = try measureProcess("settling run", hubctl, ["sync-all", "-t", topology])
    }
    log("nothing-changed sync …")
    pause()
    let quiet = try measureProcess("sync, nothing changed", hubctl, ["sync-all", "-t", topology])
    let changed = try workload.edit(share: 0.01, seed: 42)
    log("1 % changed (\(changed) rows) sync …")
    pause()
    let onePercent = try measureProcess("sync, 1 % changed", hubctl, ["sync-all", "-t", topology])

    log("raw SQLite baseline …")
    let baselineWorkload = Workload(size: n, dir: root + "/baseline")
    try baselineWorkload.create()
    let baseline = try measureInProcess("raw SQLite baseline") { try Baseline.run(baselineWorkload) }

    log("floor program …")
    let floorWorkload = Workload(size: n, dir: root + "/floor")
    try floorWorkload.create()
    let floor = try measureInProcess("floor program") { try Floor.run(floorWorkload) }
    let floorRows = try rowCounts(floorWorkload.dir)

    let phases = [initial, readBack, quiet, onePercent, baseline, floor]
    let ratio = initial.wall / baseline.wall
    let floorRatio = initial.wall / floor.wall
    let changedRatio = onePercent.wall / initial.wall
    let machine = "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB"
    if options.json || options.out != nil {
        func phase(_ m: Measurement) -> Value {
            .object(["wall_s": .double(m.wall), "cpu_s": .double(m.cpu), "peak_rss_mb": .double(m.peakRSS),
                     "exit_code": .int(Int64(m.exitCode))])
        }
        let doc: Value = .object([
            "size": .int(Int64(n)), "machine": .string(machine), "source_rows": .int(Int64(sourceRows)),
            "rows_after_sync": .array(converged.map { .int(Int64($0)) }), "edited_rows": .int(Int64(changed)),
            "initial_sync": phase(initial), "first_repeat": phase(readBack), "nothing_changed": phase(quiet),
            "one_percent_changed": phase(onePercent),
            "baseline": phase(baseline), "initial_over_baseline": .double(ratio),
            "floor": phase(floor), "initial_over_floor": .double(floorRatio),
            "initial_over_floor_cpu": .double(initial.cpu / floor.cpu), "lookback": options.lookback.map(Value.string) ?? .null,
            "one_percent_over_initial": .double(changedRatio),
        ])
        if let out = options.out { try (JSONWriter.pretty(doc) + "\n").write(toFile: out, atomically: true, encoding: .utf8) }
        if options.json { print(JSONWriter.pretty(doc)) }
    }
    if !options.json {
        print("hubctl-bench: \(n) customers over 3 SQLite systems (\(sourceRows) source rows), \(machine), "
              + "cursor lookback \(options.lookback ?? "5m (hubctl's default: the runs after the initial sync re-read it)")")
        print("")
        print("phase                      wall s    cpu s   peak RSS MB   µs/entity")
        for m in phases {
            let line = m.name.padding(toLength: 24, withPad: " ", startingAt: 0)
                + String(format: "%9.2f %8.2f %13.1f %11.2f", m.wall, m.cpu, m.peakRSS, m.wall / Double(n) * 1e6)
                + (m.exitCode == 0 ? "" : "   (exit \(m.exitCode))")
            print(line)
        }
        print("")
        print(String(format: "initial sync / baseline: %.2f×   initial sync / floor: %.2f×   1 %% changed / initial: %.1f %%",
                     ratio, floorRatio, changedRatio * 100))
        print(String(format: "in CPU time: initial sync / baseline: %.2f×   initial sync / floor: %.2f×",
                     initial.cpu / baseline.cpu, initial.cpu / floor.cpu))
        print("rows per system after the initial sync: \(converged.map(String.init).joined(separator: ", ")) (expected \(n) each)")
    }
    if !options.keep { try? FileManager.default.removeItem(atPath: root) }
    if phases.contains(where: { $0.exitCode != 0 }) || (converged + floorRows).contains(where: { $0 != n }) { exit(1) }
}

do {
    try main()
} catch {
    FileHandle.standardError.write(Data("hubctl-bench: \(error)\n".utf8))
    exit(1)
}
