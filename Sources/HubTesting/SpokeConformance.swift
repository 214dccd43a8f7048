import HubCore

/// The contract every spoke adapter must keep, as one runnable suite.
///
/// Give it a way to make a fresh, empty object in the system under test; it creates, reads,
/// updates and deletes records through the spoke and checks the requirements of ``Spoke``:
/// pages neither drop nor duplicate, reads restart from a cursor, writes are idempotent, deletes
/// round-trip, and hubctl's own writes read back with the written values.
///
/// For example, in an adapter's tests:
/// ```swift
/// @Test func csvSpokePassesTheConformanceSuite() async throws {
///     try await SpokeConformance { try makeEmptyCSVSubject() }.run()
/// }
/// ```
/// A failure throws ``ConformanceFailure`` naming the requirement and what was seen.
public struct SpokeConformance: Sendable {
    /// A spoke bound to an empty object, plus how to edit that object behind the spoke's back.
    public struct Subject: Sendable {
        public var spoke: any Spoke
        public var binding: ObjectBinding
        /// Edits a record outside hubctl (as a user of the system would), or nil when the
        /// system can only be changed through the spoke.
        public var externalEdit: (@Sendable (ExternalID, [String: Value]) async throws -> Void)?
        /// A binding like `binding` to an object that does not exist (a file or table never made),
        /// when the system can have one: reads of it must throw `.missingObject`, never return
        /// an empty page (an object moved away is not "every record deleted").
        public var missingObject: ObjectBinding?

        public init(spoke: any Spoke, binding: ObjectBinding, missingObject: ObjectBinding? = nil,
                    externalEdit: (@Sendable (ExternalID, [String: Value]) async throws -> Void)? = nil) {
            self.spoke = spoke
            self.binding = binding
            self.externalEdit = externalEdit
            self.missingObject = missingObject
        }
    }

    /// What the suite did, for the test log.
    public struct Report: Sendable {
        public var checks: [String] = []
    }

    let makeSubject: @Sendable () async throws -> Subject
    /// How many records the suite creates.
    public var recordCount = 23

    /// - Parameter makeSubject: returns a spoke over a new, empty object. The binding's
    ///   `fields` must include `name` and `score` (text and integer values are written to them).
    public init(makeSubject: @escaping @Sendable () async throws -> Subject) {
        self.makeSubject = makeSubject
    }

    /// Runs every check on fresh subjects.
    @discardableResult
    public func run() async throws -> Report {
        var report = Report()
        for (name, check) in checks {
            let subject = try await makeSubject()
            do {
                try await check(subject)
            } catch let failure as ConformanceFailure {
                throw failure
            } catch {
                throw ConformanceFailure(requirement: name, detail: "unexpected error: \(error)")
            }
            report.checks.append(name)
        }
        return report
    }

    var checks: [(String, @Sendable (Subject) async throws -> Void)] {
        let n = recordCount
        return [
            ("creates read back with the written values", { try await Self.createsReadBack($0, count: n) }),
            ("pages neither drop nor duplicate records", { try await Self.pagesAreExact($0, count: n) }),
            ("a read restarts after any page's cursor", { try await Self.readsRestartFromCursor($0, count: n) }),
            ("ID scans list every record once", { try await Self.idScansAreExact($0, count: n) }),
            ("the parts of a read hold every record once", { try await Self.partsAreExact($0, count: n) }),
            ("updates are idempotent and read back", { try await Self.updatesAreIdempotent($0, count: n) }),
            ("deletes round-trip and are idempotent", { try await Self.deletesRoundTrip($0, count: n) }),
            ("an update of a missing record reports notFound", { try await Self.missingUpdateIsNotFound($0) }),
            ("incremental reads return changes since the cursor", { try await Self.incrementalReads($0, count: n) }),
            ("a missing object is reported, never read as empty", { try await Self.missingObjectIsReported($0) }),
        ]
    }

    // MARK: - Helpers

    static func sample(_ i: Int) -> [String: Value] {
        ["name": .string("Record \(i) — Ünïcødé, \"quoted\", comma"), "score": .int(Int64(i * 10))]
    }

    static func seed(_ s: Subject, count: Int) async throws -> [ExternalID: [String: Value]] {
        let writes = (0..<count).map { SpokeWrite.create(key: "hub-\(1000 + $0)", fields: sample($0)) }
        let results = try await s.spoke.write(s.binding, writes)
        try expect(results.count == count, "seed", "write returned \(results.count) results for \(count) creates")
        var out: [ExternalID: [String: Value]] = [:]
        for (i, r) in results.enumerated() {
            guard case .created(let id) = r else {
                throw ConformanceFailure(requirement: "seed", detail: "create \(i) returned \(r)")
            }
            try expect(out[id] == nil, "seed", "two creates returned the same ID \(id)")
            out[id] = sample(i)
        }
        return out
    }

    static func readAll(_ s: Subject, limit: Int, from cursor: Cursor? = nil) async throws -> (records: [SpokeRecord], last: Cursor?) {
        var records: [SpokeRecord] = []
        var cursor = cursor
        var pages = 0
        while true {
            let page = try await s.spoke.read(s.binding, after: cursor, limit: limit)
            try expect(page.records.count <= limit, "pages respect the limit", "a page held \(page.records.count) records with limit \(limit)")
            records += page.records
            if page.next != nil { cursor = page.next }
            pages += 1
            if page.isLast { break }
            try expect(pages < 10_000, "reads end", "more than 10,000 pages")
        }
        return (records, cursor)
    }

    /// Values equal as the system may store them: `5` and `"5"` are the same.
    static func same(_ a: Value?, _ b: Value?) -> Bool {
        let x = a ?? .null, y = b ?? .null
        if x == y { return true }
        if let p = x.numberValue, let q = y.numberValue { return p == q }
        if x.isNull || y.isNull { return false }
        return x.displayText == y.displayText
    }

    static func expect(_ condition: Bool, _ requirement: String, _ detail: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(requirement: requirement, detail: detail()) }
    }

    static func expectFields(_ record: SpokeRecord, _ expected: [String: Value], _ requirement: String) throws {
        for (k, v) in expected {
            try expect(same(record.fields.value(atPath: k), v), requirement,
                       "record \(record.id) field '\(k)' reads back as \(record.fields.value(atPath: k)?.json ?? "nothing"), wrote \(v.json)")
        }
    }

    // MARK: - Checks

    static func createsReadBack(_ s: Subject, count: Int) async throws {
        let seeded = try await seed(s, count: count)
        let (records, _) = try await readAll(s, limit: 1000)
        let byID = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        try expect(byID.count == seeded.count, "creates read back", "created \(seeded.count), read \(byID.count)")
        for (id, fields) in seeded {
            guard let r = byID[id] else { throw ConformanceFailure(requirement: "creates read back", detail: "created \(id) is missing") }
            try expectFields(r, fields, "creates read back with the written values")
        }
        let fetched = try await s.spoke.fetch(s.binding, ids: Array(seeded.keys.prefix(5)) + [ExternalID("no-such-id-424242")])
        try expect(fetched.count == min(5, seeded.count), "fetch returns existing records only", "fetched \(fetched.count)")
    }

    static func pagesAreExact(_ s: Subject, count: Int) async throws {
        let seeded = try await seed(s, count: count)
        for limit in [1, 3, 7, 1000] {
            let (records, _) = try await readAll(s, limit: limit)
            let ids = records.map(\.id)
            try expect(Set(ids).count == ids.count, "pages do not duplicate", "limit \(limit): \(ids.count - Set(ids).count) duplicates")
            try expect(Set(ids) == Set(seeded.keys), "pages do not drop", "limit \(limit): read \(Set(ids).count) of \(seeded.count)")
        }
    }

    static func readsRestartFromCursor(_ s: Subject, count: Int) async throws {
        let seeded = try await seed(s, count: count)
        let first = try await s.spoke.read(s.binding, after: nil, limit: 5)
        try expect(!first.isLast, "restart", "a page of 5 out of \(count) claims to be the last")
        let rest = try await readAll(s, limit: 4, from: first.next)
        let ids = first.records.map(\.id) + rest.records.map(\.id)
        try expect(Set(ids).count == ids.count, "a restarted read does not repeat records", "\(ids.count - Set(ids).count) repeated")
        try expect(Set(ids) == Set(seeded.keys), "a restarted read does not skip records", "read \(Set(ids).count) of \(seeded.count)")
    }

    /// Where the adapter reads in parts: the parts of any split, each read page by page, hold
    /// every record exactly once, the same records as a whole read, and no part holds them all.
    static func partsAreExact(_ s: Subject, count: Int) async throws {
        guard s.spoke.readsPartitions(s.binding) else { return }
        let seeded = try await seed(s, count: count)
        for parts in [2, 3, 7] {
            var seen: [ExternalID] = []
            var sizes: [Int] = []
            for partition in IDPartition.all(parts) {
                var cursor: Cursor?
                var pages = 0
                var size = 0
                while true {
                    let page = try await s.spoke.read(s.binding, partition: partition, after: cursor, limit: 2)
                    try expect(page.records.count <= 2, "parts' pages respect the limit", "\(partition): \(page.records.count) records")
                    seen += page.records.map(\.id)
                    size += page.records.count
                    if page.next != nil { cursor = page.next }
                    pages += 1
                    if page.isLast { break }
                    try expect(pages < 10_000, "reads of a part end", "\(partition): more than 10,000 pages")
                }
                sizes.append(size)
            }
            try expect(Set(seen).count == seen.count, "no record is in two parts", "\(parts) parts: \(seen.count - Set(seen).count) repeated")
            try expect(Set(seen) == Set(seeded.keys), "every record is in a part", "\(parts) parts: read \(Set(seen).count) of \(seeded.count)")
            try expect(sizes.allSatisfy { $0 < count }, "the parts split the records", "\(parts) parts of \(count): \(sizes)")
        }
    }

    static func idScansAreExact(_ s: Subject, count: Int) async throws {
        let seeded = try await seed(s, count: count)
        var ids: [ExternalID] = []
        var cursor: Cursor?
        while true {
            let page = try await s.spoke.scanIDs(s.binding, after: cursor, limit: 4)
            ids += page.ids
            cursor = page.next ?? cursor
            if page.isLast { break }
        }
        try expect(Set(ids).count == ids.count, "ID scans do not duplicate", "\(ids.count - Set(ids).count) duplicates")
        try expect(Set(ids) == Set(seeded.keys), "ID scans list every record", "listed \(Set(ids).count) of \(seeded.count)")
    }

    static func updatesAreIdempotent(_ s: Subject, count: Int) async throws {
        let seeded = try await seed(s, count: count)
        let targets = Array(seeded.keys.sorted().prefix(4))
        let batch = targets.enumerated().map { SpokeWrite.update(id: $1, fields: ["name": .string("Updated \($0)"), "score": .int(7)]) }
        let first = try await s.spoke.write(s.binding, batch)
        try expect(first.allSatisfy { $0 == .updated }, "updates succeed", "results \(first)")
        let second = try await s.spoke.write(s.binding, batch)
        try expect(second.allSatisfy { $0 == .updated }, "a repeated update succeeds", "results \(second)")
        let fetched = try await s.spoke.fetch(s.binding, ids: targets)
        try expect(fetched.count == targets.count, "updated records exist", "fetched \(fetched.count)")
        for r in fetched {
            let i = targets.firstIndex(of: r.id)!
            try expectFields(r, ["name": .string("Updated \(i)"), "score": .int(7)], "our own writes read back unchanged")
        }
        let (records, _) = try await readAll(s, limit: 1000)
        try expect(records.count == seeded.count, "updates create nothing", "\(records.count) records after updating \(seeded.count)")
        // Untouched records keep their values.
        for r in records where !targets.contains(r.id) { try expectFields(r, seeded[r.id]!, "updates touch only their record") }
    }

    static func deletesRoundTrip(_ s: Subject, count: Int) async throws {
        let seeded = try await seed(s, count: count)
        let victims = Array(seeded.keys.sorted().suffix(3))
        let first = try await s.spoke.write(s.binding, victims.map { .delete(id: $0) })
        try expect(first.allSatisfy { $0 == .deleted }, "deletes succeed", "results \(first)")
        let again = try await s.spoke.write(s.binding, victims.map { .delete(id: $0) })
        try expect(again.allSatisfy { $0 == .deleted || $0 == .notFound }, "a repeated delete succeeds", "results \(again)")
        let fetched = try await s.spoke.fetch(s.binding, ids: victims)
        try expect(fetched.isEmpty, "deleted records are gone", "\(fetched.count) still fetched")
        let (records, _) = try await readAll(s, limit: 1000)
        try expect(Set(records.map(\.id)) == Set(seeded.keys).subtracting(victims), "deletes remove exactly their records",
                   "read \(records.count) records")
    }

    static func missingUpdateIsNotFound(_ s: Subject) async throws {
        _ = try await seed(s, count: 2)
        let results = try await s.spoke.write(s.binding, [.update(id: ExternalID("no-such-id-424242"), fields: ["name": "x"])])
        try expect(results == [.notFound], "an update of a missing record reports notFound", "results \(results)")
        let (records, _) = try await readAll(s, limit: 1000)
        try expect(records.count == 2, "an update of a missing record creates nothing", "\(records.count) records")
    }

    static func missingObjectIsReported(_ s: Subject) async throws {
        guard let missing = s.missingObject else { return }
        let requirement = "a missing object is reported, never read as empty"
        for call in ["read", "scanIDs", "fetch"] {
            do {
                switch call {
                case "read": _ = try await s.spoke.read(missing, after: nil, limit: 10)
                case "scanIDs": _ = try await s.spoke.scanIDs(missing, after: nil, limit: 10)
                default: _ = try await s.spoke.fetch(missing, ids: [ExternalID("no-such-id-424242")])
                }
                throw ConformanceFailure(requirement: requirement, detail: "\(call) of '\(missing.object)' returned instead of throwing")
            } catch let error as SpokeError {
                try expect(error.kind == .missingObject, requirement, "\(call) threw \(error.kind), not missingObject: \(error)")
            }
        }
        let update = [SpokeWrite.update(id: ExternalID("no-such-id-424242"), fields: ["name": "x"])]
        do {
            let results = try await s.spoke.write(missing, update)
            throw ConformanceFailure(requirement: requirement, detail: "an update of '\(missing.object)' returned \(results)")
        } catch let error as SpokeError {
            try expect(error.kind == .missingObject, requirement, "an update threw \(error.kind), not missingObject: \(error)")
        }
    }

    /// Reads, edits two records, reads from the last cursor: the changes come, unchanged records
    /// do not. With a zero lookback (adapters reading by keyset read the records of a lookback
    /// window again); the subject's own lookback must see the changes too.
    static func incrementalReads(_ subject: Subject, count: Int) async throws {
        guard subject.spoke.readsIncrementally(subject.binding) else { return }
        var s = subject
        s.binding.cursorLookback = 0
        let seeded = try await seed(s, count: count)
        let (all, last) = try await readAll(s, limit: 10)
        try expect(all.count == seeded.count, "incremental first read is complete", "read \(all.count) of \(seeded.count)")
        let targets = Array(seeded.keys.sorted().prefix(2))
        // Cursor fields with a coarse clock may need the next tick to move.
        try await Task.sleep(nanoseconds: 1_100_000_000)
        for id in targets {
            if let edit = s.externalEdit {
                try await edit(id, ["name": .string("Changed outside")])
            } else {
                _ = try await s.spoke.write(s.binding, [.update(id: id, fields: ["name": .string("Changed outside")])])
            }
        }
        let (changed, _) = try await readAll(s, limit: 10, from: last)
        let ids = Set(changed.map(\.id))
        try expect(ids.isSuperset(of: targets), "incremental reads see changes", "changed \(targets), read \(ids.sorted())")
        let withLookback = Set(try await readAll(subject, limit: 10, from: last).records.map(\.id))
        try expect(withLookback.isSuperset(of: targets), "incremental reads see changes inside the lookback window",
                   "changed \(targets), read \(withLookback.sorted())")
        try expect(changed.count < seeded.count, "incremental reads skip unchanged records",
                   "read \(changed.count) of \(seeded.count) after changing \(targets.count)")
        for r in changed where targets.contains(r.id) {
            try expectFields(r, ["name": .string("Changed outside")], "incremental reads return current values")
        }
    }
}

/// A spoke broke one of its requirements.
public struct ConformanceFailure: Error, Sendable, CustomStringConvertible {
    public var requirement: String
    public var detail: String
    public var description: String { "\(requirement): \(detail)" }
}
