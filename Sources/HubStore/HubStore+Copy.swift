import Foundation
import GRDB
import HubCore

/// How ``HubStore/copy(to:options:)`` copies a hub.
public struct HubCopyOptions: Sendable {
    /// Empty a target that already holds a hub's data first (otherwise such a target is refused).
    public var replace = false
    /// Rows read and written per statement (fewer for a table with many columns, to stay within
    /// both databases' limits on statement arguments).
    public var batchRows = 1000
    /// When a silent run's lock counts as stale (as ``HubStore/acquireRunLock(_:now:staleAfter:)``).
    public var staleLockAfter: TimeInterval = 600
    /// Hold the source's run lock during the copy (off for a scratch copy that a dry run reads:
    /// the one read transaction is a consistent state anyway, and nothing is written back).
    public var lockSource = true
    /// The source's run lock, when the caller took it before opening the target (so that a busy
    /// source is refused before a new target is created); released by the caller.
    public var heldSourceLock: RunLease?
    /// The clock for the run lock's timestamps.
    public var now: @Sendable () -> Date = { Date() }

    public init(replace: Bool = false, batchRows: Int = 1000) {
        self.replace = replace
        self.batchRows = batchRows
    }
}

/// What a copy found, table by table: rows and a checksum of their values on each side.
public struct HubCopyReport: Sendable {
    public struct Table: Sendable, Hashable {
        public var name: String
        public var sourceRows: Int
        public var targetRows: Int
        /// A checksum of every row's values in primary-key order, computed the same way on
        /// both sides from the values read back (not from SQL text).
        public var sourceChecksum: String
        public var targetChecksum: String
        /// How the table was treated when not copied as it is (the run lock, derived counts).
        public var note: String?

        public var matches: Bool { sourceRows == targetRows && sourceChecksum == targetChecksum }
    }

    /// Every table of the hub, in the order they were copied.
    public var tables: [Table]
    /// Wall-clock seconds for the copy and the verification.
    public var seconds: Double

    /// True when every table's rows and checksum agree.
    public var matches: Bool { tables.allSatisfy(\.matches) }
}

/// A copy refused before anything was written.
public struct HubCopyRefused: Error, Sendable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        /// The target is the source hub itself.
        case sameHub = "same_hub"
        /// The target already holds a hub's data (and `replace` was not asked for).
        case targetHasData = "target_has_data"
        /// The two hubs' schemas differ (different hubctl versions, or a table edited by hand).
        case schemaDiffers = "schema_differs"
    }

    public var reason: Reason
    public var message: String
    public var description: String { message }
}

extension HubStore {
    /// Tables that record which schema steps a hub has had: each database keeps its own, and
    /// they are compared instead of copied.
    static let migrationBookkeeping: Set<String> = ["grdb_migrations", "hub_migration"]
    /// The run lock's row: its generation carries over (never backwards), its holder does not.
    static let runLockTable = "run_lock"
    static let runLockHolderColumns: Set<String> = ["generation", "run_id", "pid", "host", "acquired_at", "heartbeat_at"]
    /// Tables kept by triggers on the target as rows are copied: emptied after the other tables,
    /// then copied as they are, so the target holds exactly the source's counts.
    static let triggerKeptTables: Set<String> = ["link_count"]
    /// Tables every new hub is created holding one row of (the round the workers are in): the
    /// target's row is replaced by the source's, and does not count as data the target holds.
    static let seededTables: Set<String> = ["work_round"]

    /// Copies this hub, every table of its schema, into `target` (another SQLite file or a
    /// PostgreSQL hub), then reads both back and compares them table by table.
    ///
    /// This hub's run lock is held throughout, so no run or change by hand writes during the
    /// copy, and the source is read in one read transaction (one consistent state). The target
    /// is written in one transaction: it holds the whole copy or nothing. Rows go page by page,
    /// `batchRows` at a time, in primary-key order, so a large hub is never held in memory.
    /// Primary keys are kept, and each table's next `id` is set past the source's.
    ///
    /// - Throws: ``HubLocked`` when a live run holds either hub; ``HubCopyRefused`` when the
    ///   target is this hub, already holds data (without `replace`), or has another schema.
    public func copy(to target: HubStore, options: HubCopyOptions = HubCopyOptions()) throws -> HubCopyReport {
        let started = DispatchTime.now()
        let run = options.heldSourceLock?.run ?? RunID("hub-copy-" + UUID().uuidString.lowercased())
        let taken = options.lockSource && options.heldSourceLock == nil
            ? try acquireRunLock(run, now: options.now(), staleAfter: options.staleLockAfter) : nil
        defer { if let taken { try? releaseRunLock(taken) } }
        let sourceLease = options.heldSourceLock ?? taken
        // The same hub under another name (a symlink, another host name) shows the lock just taken.
        let targetHolder = try target.read { try $0.value(String.self, "SELECT run_id FROM run_lock WHERE id = 1") }
        if sourceLease != nil, targetHolder == run.rawValue {
            throw HubCopyRefused(reason: .sameHub, message: "the target \(target.location) is the source hub itself")
        }
        let targetLease = try target.acquireRunLock(run, now: options.now(), staleAfter: options.staleLockAfter)
        defer { try? target.releaseRunLock(targetLease) }

        var copied: [HubCopyReport.Table] = []
        let shapes = try read { source in
            try target.write { destination in
                let shapes = try Self.checkSchemas(source, destination)
                try Self.prepare(destination, shapes, replace: options.replace, target: target.location)
                for shape in shapes {
                    do {
                        copied.append(try Self.copyTable(shape, from: source, to: destination, batchRows: options.batchRows,
                                                         lease: targetLease))
                    } catch {
                        throw HubStoreError("copying table \(shape.name) to \(target.location) failed, so nothing was written "
                                            + "there (its transaction rolled back): \(error)")
                    }
                }
                for shape in shapes where shape.hasIDKey {
                    try destination.raiseNextID(of: shape.name, past: try source.highestID(of: shape.name))
                }
                return shapes
            }
        }
        let checked = try target.read { destination in
            try shapes.map { try Self.checksum($0, in: destination, batchRows: options.batchRows) }
        }
        for index in copied.indices {
            copied[index].targetRows = checked[index].rows
            copied[index].targetChecksum = checked[index].checksum
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        return HubCopyReport(tables: copied, seconds: seconds)
    }

    // MARK: - Steps

    /// The tables to copy, in order (trigger-kept tables last), after checking that both hubs
    /// have the same schema steps and the same tables, columns and keys.
    static func checkSchemas(_ source: HubTransaction, _ target: HubTransaction) throws -> [HubTableShape] {
        let (sourceSteps, targetSteps) = (try source.appliedMigrations(), try target.appliedMigrations())
        if sourceSteps != targetSteps {
            let missing = sourceSteps.subtracting(targetSteps).sorted(), extra = targetSteps.subtracting(sourceSteps).sorted()
            throw HubCopyRefused(reason: .schemaDiffers, message: "the two hubs have different schema steps"
                + (missing.isEmpty ? "" : "; only the source has: \(missing.joined(separator: ", ")) (use a newer hubctl)")
                + (extra.isEmpty ? "" : "; only the target has: \(extra.joined(separator: ", ")) (migrate the source with this hubctl first)"))
        }
        let sourceTables = try source.catalogTables().filter { !migrationBookkeeping.contains($0.name) }
        let targetTables = Dictionary(uniqueKeysWithValues: try target.catalogTables()
            .filter { !migrationBookkeeping.contains($0.name) }.map { ($0.name, $0) })
        let uncovered = Set(targetTables.keys).subtracting(sourceTables.map(\.name))
        if !uncovered.isEmpty {
            throw HubCopyRefused(reason: .schemaDiffers,
                                 message: "the target has tables the source lacks: \(uncovered.sorted().joined(separator: ", "))")
        }
        for shape in sourceTables {
            guard let other = targetTables[shape.name] else {
                throw HubCopyRefused(reason: .schemaDiffers, message: "the source's table \(shape.name) is not in the target's schema")
            }
            if Set(shape.columns) != Set(other.columns) || shape.primaryKey != other.primaryKey {
                throw HubCopyRefused(reason: .schemaDiffers, message: "table \(shape.name) differs: source columns "
                    + "\(shape.columns) key \(shape.primaryKey), target columns \(other.columns) key \(other.primaryKey)")
            }
            if shape.primaryKey.isEmpty {
                throw HubCopyRefused(reason: .schemaDiffers,
                                     message: "table \(shape.name) has no primary key, so it cannot be copied page by page")
            }
        }
        return sourceTables.filter { !triggerKeptTables.contains($0.name) } + sourceTables.filter { triggerKeptTables.contains($0.name) }
    }

    /// Refuses a target holding data unless `replace`, in which case every table is emptied.
    static func prepare(_ target: HubTransaction, _ shapes: [HubTableShape], replace: Bool, target location: String) throws {
        let data = shapes.filter { $0.name != runLockTable }
        let holding = try data.filter { !seededTables.contains($0.name) }.filter {
            try target.value(Int64.self, "SELECT 1 FROM \(HubTableShape.quote($0.name)) LIMIT 1") != nil
        }
        guard !holding.isEmpty else { return }
        guard replace else {
            throw HubCopyRefused(reason: .targetHasData, message: "the target \(location) already holds a hub's data (in "
                + holding.map(\.name).joined(separator: ", ") + ")")
        }
        for shape in data { try target.execute("DELETE FROM \(HubTableShape.quote(shape.name))") }
    }

    /// Copies one table page by page; returns its rows and checksum on the source side.
    static func copyTable(_ shape: HubTableShape, from source: HubTransaction, to target: HubTransaction, batchRows: Int,
                          lease: RunLease) throws -> HubCopyReport.Table {
        let quoted = HubTableShape.quote(shape.name)
        var note: String?
        if triggerKeptTables.contains(shape.name) {
            try target.execute("DELETE FROM \(quoted)")
            note = "kept by triggers; copied as it is"
        }
        if seededTables.contains(shape.name) { try target.execute("DELETE FROM \(quoted)") }
        if shape.name == runLockTable {
            try target.execute("DELETE FROM \(quoted)")
            note = "the lock's holder is not copied; its generation never goes back"
        }
        var checksum = HubChecksum()
        var rows = 0
        let columns = shape.columns.map(HubTableShape.quote).joined(separator: ", ")
        let row = "(" + HubTransaction.placeholders(shape.columns.count) + ")"
        try forEachPage(shape, in: source, batchRows: batchRows) { page in
            var arguments = HubArguments()
            arguments.values.reserveCapacity(page.count * shape.columns.count)
            for values in page {
                checksum.add(shape.name == runLockTable ? lockFree(shape, values) : values)
                arguments.values += values
            }
            rows += page.count
            try target.execute("INSERT INTO \(quoted) (\(columns)) VALUES "
                               + Array(repeating: row, count: page.count).joined(separator: ", "), arguments)
        }
        if shape.name == runLockTable {
            // Free, at a generation past both the source's and the target's own (which this
            // copy holds), so a run fenced out of either can never write to the copy.
            let copiedGeneration = try target.value(Int64.self, "SELECT generation FROM run_lock WHERE id = 1") ?? 0
            try target.execute(
                "UPDATE run_lock SET generation = ?, run_id = NULL, pid = NULL, host = NULL, heartbeat_at = NULL WHERE id = 1",
                [max(copiedGeneration, lease.generation)])
        }
        return HubCopyReport.Table(name: shape.name, sourceRows: rows, targetRows: 0, sourceChecksum: checksum.hex,
                                   targetChecksum: "", note: note)
    }

    /// One table's rows and checksum, read page by page.
    static func checksum(_ shape: HubTableShape, in tx: HubTransaction, batchRows: Int) throws -> (rows: Int, checksum: String) {
        var checksum = HubChecksum()
        var rows = 0
        try forEachPage(shape, in: tx, batchRows: batchRows) { page in
            rows += page.count
            for values in page { checksum.add(shape.name == runLockTable ? lockFree(shape, values) : values) }
        }
        return (rows, checksum.hex)
    }

    /// The run lock's row without its holder and generation (which a copy does not carry over as they are).
    static func lockFree(_ shape: HubTableShape, _ values: [DatabaseValue]) -> [DatabaseValue] {
        zip(shape.columns, values).map { runLockHolderColumns.contains($0.0) ? .null : $0.1 }
    }

    /// Calls `body` with each page of `shape`'s rows (values in `shape.columns` order), in
    /// primary-key order, reading the next page after the last key of the one before.
    static func forEachPage(_ shape: HubTableShape, in tx: HubTransaction, batchRows: Int,
                            _ body: ([[DatabaseValue]]) throws -> Void) throws {
        let limit = max(1, min(batchRows, 16_000 / max(1, shape.columns.count)))
        let columns = shape.columns.map(HubTableShape.quote).joined(separator: ", ")
        let key = shape.primaryKey.map(HubTableShape.quote).joined(separator: ", ")
        let keyIndexes = shape.primaryKey.map { shape.columns.firstIndex(of: $0)! }
        let first = "SELECT \(columns) FROM \(HubTableShape.quote(shape.name)) ORDER BY \(key) LIMIT \(limit)"
        let next = "SELECT \(columns) FROM \(HubTableShape.quote(shape.name)) WHERE (\(key)) > ("
            + HubTransaction.placeholders(keyIndexes.count) + ") ORDER BY \(key) LIMIT \(limit)"
        var after: [DatabaseValue]?
        while true {
            let rows = try after.map { try tx.rows(next, HubArguments(values: $0)) } ?? tx.rows(first)
            let page = rows.map { row in shape.columns.map { row[$0] as DatabaseValue } }
            if page.isEmpty { return }
            try body(page)
            if page.count < limit { return }
            after = keyIndexes.map { page[page.count - 1][$0] }
        }
    }
}

extension HubArguments {
    init(values: [DatabaseValue]) {
        self.init()
        self.values = values
    }
}

/// A 64-bit FNV-1a checksum of a sequence of rows, over each value's kind and bytes (so the
/// integer 1 and the text "1" differ, and a row's boundaries count).
struct HubChecksum {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    private mutating func byte(_ b: UInt8) {
        state ^= UInt64(b)
        state &*= 0x0000_0100_0000_01b3
    }

    private mutating func integer(_ v: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { byte(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    mutating func add(_ row: [DatabaseValue]) {
        integer(UInt64(row.count))
        for value in row {
            switch value.storage {
            case .null: byte(0)
            case .int64(let v): byte(1); integer(UInt64(bitPattern: v))
            case .double(let v): byte(2); integer(v.bitPattern)
            case .string(let s):
                byte(3); integer(UInt64(s.utf8.count))
                for b in s.utf8 { byte(b) }
            case .blob(let d):
                byte(4); integer(UInt64(d.count))
                for b in d { byte(b) }
            }
        }
    }

    var hex: String {
        let digits = String(state, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
