import Foundation
import HubCore
import HubMapping
import HubStore
import HubTopology

/// Checks the hub's ID cross-reference and, with `deep`, the systems themselves: named
/// invariant checks whose findings carry counts and sample IDs (docs/audit.md).
///
/// Read-only: it never writes to the hub or to a system. Repairs are only planned (see
/// ``AuditOptions/planRepairs``) and applied by `hubctl repair`.
///
/// For example:
/// ```swift
/// let auditor = Auditor(topology: topology, store: store, spokes: spokes)
/// let report = try await auditor.audit(AuditOptions(deep: true))
/// print(report.isClean ? "clean" : "\(report.findings.count) findings")
/// ```
public struct Auditor: Sendable {
    /// Every system's spoke and mappers, built in one place.
    public let runtime: TopologyRuntime
    public let store: HubStore
    let clock: WallClock

    public var topology: Topology { runtime.topology }
    /// The systems' spokes, needed for deep checks only.
    public var spokes: [SystemName: any Spoke] { runtime.spokes }

    public init(runtime: TopologyRuntime, store: HubStore, clock: WallClock = .system) {
        self.runtime = runtime
        self.store = store
        self.clock = clock
    }

    /// An auditor over these spokes (tests); records map as each spoke's adapter declares.
    public init(topology: Topology, store: HubStore, spokes: [SystemName: any Spoke] = [:], clock: WallClock = .system) {
        self.init(runtime: TopologyRuntime(topology, spokes: spokes), store: store, clock: clock)
    }

    /// Runs every check the options ask for.
    /// - Throws: only when the hub itself cannot be read; a system that cannot be read is a finding.
    public func audit(_ options: AuditOptions = AuditOptions()) async throws -> AuditReport {
        let started = clock.now()
        var state = AuditState(options: options, pairs: runtime.pairs.filter {
            options.covers($0.system.name) && options.covers($0.mapper.entity.name)
        })
        try checkIntegrity(&state)
        try checkCoverage(&state)
        if options.deep {
            try await checkSystems(&state)
        } else {
            for check in AuditCheck.allCases where check.needsSystems { state.skip(check, "needs --deep (reads the systems)") }
        }
        try checkOperations(&state)
        state.settleRepairs()
        let finished = clock.now()
        return state.report(deep: options.deep, startedAt: Timestamp.string(started), finishedAt: Timestamp.string(finished),
                            seconds: finished.timeIntervalSince(started))
    }
}

/// What an audit has found so far.
struct AuditState {
    let options: AuditOptions
    /// The system × entity pairs in scope, in topology order.
    let pairs: [(system: SystemDefinition, mapper: EntityMapper)]
    var findings: [Finding] = []
    var repairs: [Repair] = []
    var summaries: [AuditReport.LinkSummary] = []
    var skipped: [AuditCheck: String] = [:]

    init(options: AuditOptions, pairs: [(system: SystemDefinition, mapper: EntityMapper)]) {
        self.options = options
        self.pairs = pairs
        summaries = pairs.map {
            AuditReport.LinkSummary(system: $0.system.name, entity: $0.mapper.entity.name, direction: $0.system.direction,
                                    hubEntities: 0, belonging: nil, linked: 0, missing: nil, closed: 0)
        }
    }

    /// Adds a finding when `count` is above zero; keeps the first samples.
    mutating func add(_ check: AuditCheck, system: SystemName? = nil, entity: EntityName? = nil, count: Int, message: String,
                      hint: String, samples: [Finding.Sample]) {
        guard count > 0 else { return }
        findings.append(Finding(check: check, system: system, entity: entity, count: count, message: message, hint: hint,
                                samples: Array(samples.prefix(options.sampleLimit))))
    }

    /// Plans a repair (only when the options ask for a plan).
    mutating func plan(_ repair: Repair) {
        if options.planRepairs { repairs.append(repair) }
    }

    /// True while more samples (or repairs) are worth collecting.
    func wants(_ collected: Int) -> Bool { options.planRepairs || collected < options.sampleLimit }

    mutating func skip(_ check: AuditCheck, _ why: String) { skipped[check] = why }

    /// Keeps one repair per purpose: an orphan a match rule links to an entity missing from its
    /// system makes re-pushing (creating) that entity there unneeded, and only the first orphan
    /// matching an entity can be linked to it.
    mutating func settleRepairs() {
        var linked: Set<String> = []
        repairs = repairs.filter { r in
            guard r.action == .link else { return true }
            return linked.insert("\(r.entity)\u{0}\(r.system)\u{0}\(r.hubID)").inserted
        }
        repairs.removeAll { r in
            r.action == .repush && r.because == .missingLink && linked.contains("\(r.entity)\u{0}\(r.system)\u{0}\(r.hubID)")
        }
    }

    mutating func updateSummary(_ system: SystemName, _ entity: EntityName, _ change: (inout AuditReport.LinkSummary) -> Void) {
        if let i = summaries.firstIndex(where: { $0.system == system && $0.entity == entity }) { change(&summaries[i]) }
    }

    func report(deep: Bool, startedAt: String, finishedAt: String, seconds: Double) -> AuditReport {
        let outcomes = AuditCheck.allCases.map { check -> AuditReport.CheckOutcome in
            if let why = skipped[check] { return .init(check: check, status: .skipped, findings: 0, note: why) }
            let n = findings.filter { $0.check == check }.count
            return .init(check: check, status: n == 0 ? .passed : .failed, findings: n, note: nil)
        }
        return AuditReport(deep: deep, startedAt: startedAt, finishedAt: finishedAt, seconds: seconds, summary: summaries,
                           checks: outcomes, findings: findings, repairs: repairs)
    }
}

extension Collection {
    /// "1 record" / "3 records".
    func counted(_ singular: String, _ plural: String? = nil) -> String {
        "\(count) \(count == 1 ? singular : (plural ?? singular + "s"))"
    }
}

/// "1 record" / "3 records".
func counted(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
    "\(n) \(n == 1 ? singular : (plural ?? singular + "s"))"
}
