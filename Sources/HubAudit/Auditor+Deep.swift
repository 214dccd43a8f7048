import HubCore
import HubMapping
import HubStore
import HubTopology

/// Deep checks: every system is read through its spoke and compared with the links.
extension Auditor {
    func checkSystems(_ state: inout AuditState) async throws {
        var failed: Set<SystemName> = []
        for (system, mapper) in state.pairs where !failed.contains(system.name) {
            guard let spoke = spokes[system.name] else {
                failed.insert(system.name)
                state.add(.unreadableSystem, system: system.name, count: 1,
                          message: "no adapter was built for \(system.name), so it was not read",
                          hint: "`hubctl check \(system.name)` says why it cannot be opened", samples: [])
                continue
            }
            do {
                var scan = SystemScan(system: system, mapper: mapper)
                try await scan.read(spoke, self, &state)
                try scan.findDangling(self, &state)
                scan.report(&state)
            } catch let error as SpokeError {
                failed.insert(system.name)
                state.add(.unreadableSystem, system: system.name, count: 1,
                          message: "\(system.name) could not be read: \(topology.secrets.redact(error.message))",
                          hint: "check that \(system.name) is reachable (`hubctl sync-all --dry-run --only \(system.name)` "
                            + "shows the same error), then audit again", samples: [])
            }
        }
    }
}

/// One system × entity read from start to end and compared with the hub.
struct SystemScan {
    let system: SystemDefinition
    let mapper: EntityMapper
    var entity: EntityName { mapper.entity.name }

    var seen: Set<ExternalID> = []
    var records = 0
    var orphans: [Finding.Sample] = []
    var orphanCount = 0
    var orphanOutcomes: [String: Int] = [:]
    var drifting: [Finding.Sample] = []
    var driftCount = 0
    var driftFields: [String: Int] = [:]
    var unmappable: [Finding.Sample] = []
    var unmappableCount = 0
    var dangling: [Finding.Sample] = []
    var danglingCount = 0

    init(system: SystemDefinition, mapper: EntityMapper) {
        self.system = system
        self.mapper = mapper
    }

    /// Reads every record of the object, page by page, classifying each one.
    mutating func read(_ spoke: any Spoke, _ auditor: Auditor, _ state: inout AuditState) async throws {
        let quarantined = try auditor.store.read { tx in
            Set(try tx.openQuarantine(system: system.name, entity: entity, direction: .pull).compactMap(\.externalID))
        }
        var cursor: Cursor?
        while true {
            let page = try await spoke.read(mapper.binding, after: cursor, limit: state.options.pageSize)
            let fresh = page.records.filter { seen.insert($0.id).inserted }
            records += fresh.count
            try auditor.store.read { tx in
                let links = try tx.links(entity: entity, system: system.name, externalIDs: fresh.map(\.id))
                let hubIDs = fresh.compactMap { links[$0.id].flatMap { $0.state == .linked ? $0.hubID : nil } }
                let entities = try tx.entities(hubIDs)
                let held = try tx.openConflictFields(hubIDs)
                for record in fresh {
                    guard let link = links[record.id] else {
                        try classifyUnlinked(record, quarantined: quarantined, auditor, tx, &state)
                        continue
                    }
                    guard link.state == .linked, let current = entities[link.hubID], !current.isDeleted else { continue }
                    try compare(record, current, held: held[link.hubID] ?? [], quarantined: quarantined, tx, &state)
                }
            }
            if let next = page.next { cursor = next }
            if page.isLast { break }
        }
    }

    /// A record no link knows: filtered out, quarantined, or an orphan (and what a match would do).
    mutating func classifyUnlinked(_ record: SpokeRecord, quarantined: Set<ExternalID>, _ auditor: Auditor,
                                   _ tx: HubTransaction, _ state: inout AuditState) throws {
        if quarantined.contains(record.id) { return }
        guard let reading = try mapper.reading(record, tx) else {
            noteUnmappable(record.id, &state)
            return
        }
        // Records the system's filter rejects are never taken into the hub: not orphans.
        if system.direction.pulls, let filter = mapper.mapping.filter, !filter.matches(reading.values) { return }
        orphanCount += 1
        let outcome: String
        var detail: String
        var candidate: HubID?
        switch try matchOutcome(reading.values, tx) {
        case .none:
            outcome = "no match"
            detail = "no match: a sync reading it would create a new \(entity)"
        case .match(let rule, let hubID):
            outcome = "would link"
            detail = "\(rule) matches hub \(hubID)"
            candidate = hubID
            state.plan(Repair(action: .link, entity: entity, system: system.name, hubID: hubID, externalID: record.id,
                              because: .orphanRecord))
        case .taken(let rule, let hubID, let other):
            outcome = "duplicate"
            detail = "\(rule) matches hub \(hubID), already linked to \(system.name) \(other)"
            candidate = hubID
        case .ambiguous(let rule, let hubIDs):
            outcome = "ambiguous"
            detail = "\(rule) matches \(hubIDs.count) hub entities"
        }
        if !system.direction.pulls { detail += " (hubctl does not read \(system.name), so no sync links it)" }
        orphanOutcomes[outcome, default: 0] += 1
        if state.wants(orphans.count) { orphans.append(.init(hubID: candidate, externalID: record.id, detail: detail)) }
    }

    enum MatchOutcome {
        case none
        case match(String, HubID)
        case taken(String, HubID, ExternalID)
        case ambiguous(String, [HubID])
    }

    /// What the entity's match rules would do with these values, as the engine tries them.
    func matchOutcome(_ values: CanonicalRecord, _ tx: HubTransaction) throws -> MatchOutcome {
        for (rule, key) in MatchKey.keys(values, rules: mapper.entity.match) {
            let name = MatchKey.ruleName(mapper.entity.match[rule])
            let candidates = try tx.matchCandidates(entity, rule: rule, key: key)
            if candidates.count > 1 { return .ambiguous(name, candidates) }
            guard let hubID = candidates.first else { continue }
            if let other = try tx.link(entity: entity, system: system.name, hubID: hubID), other.state != .deleted,
                let otherID = other.externalID
            {
                return .taken(name, hubID, otherID)
            }
            return .match(name, hubID)
        }
        return .none
    }

    /// Compares a linked record with what the hub says the system should hold, on the fields
    /// the system is written.
    mutating func compare(_ record: SpokeRecord, _ current: EntityRecord, held: Set<String>, quarantined: Set<ExternalID>,
                          _ tx: HubTransaction, _ state: inout AuditState) throws {
        guard system.direction.pushes else { return }
        // An entity that no longer passes the filter is not synced any more.
        if let filter = mapper.mapping.filter, !filter.matches(current.data) { return }
        let (expected, omitted) = try mapper.expected(current.data, tx)
        // Composites are read relative to what the system should hold, as the engine reads them.
        guard case .success(let actual) = mapper.inbound(record, base: expected) else {
            if !quarantined.contains(record.id) { noteUnmappable(record.id, &state) }
            return
        }
        let readable = Set(mapper.readableFields)
        let fields = mapper.outboundFields.filter { readable.contains($0) && !omitted.contains($0) && !held.contains($0) }
        let differing = Set(fields.filter { !expected.sameValue(actual, for: $0) }).sorted()
        guard !differing.isEmpty else { return }
        driftCount += 1
        for f in differing { driftFields[f, default: 0] += 1 }
        if state.wants(drifting.count) {
            drifting.append(.init(hubID: current.hubID, externalID: record.id, detail: differing.joined(separator: ", ")))
        }
        state.plan(Repair(action: .repush, entity: entity, system: system.name, hubID: current.hubID, externalID: record.id,
                          because: .fieldDrift))
    }

    mutating func noteUnmappable(_ id: ExternalID, _ state: inout AuditState) {
        unmappableCount += 1
        if state.wants(unmappable.count) { unmappable.append(.init(externalID: id)) }
    }

    /// Live links whose record the read did not see.
    mutating func findDangling(_ auditor: Auditor, _ state: inout AuditState) throws {
        var after: ExternalID?
        let pageSize = state.options.pageSize
        while true {
            let (links, gone) = try auditor.store.read { [seen] tx -> ([Link], [Link]) in
                let links = try tx.liveLinks(entity: entity, system: system.name, after: after, limit: pageSize)
                let unseen = links.filter { !seen.contains($0.externalID!) }
                let entities = try tx.entities(unseen.map(\.hubID))
                // Links to deleted or missing hub entities are reported by the integrity checks.
                return (links, unseen.filter { entities[$0.hubID].map { !$0.isDeleted } ?? false })
            }
            for link in gone {
                danglingCount += 1
                if state.wants(dangling.count) { dangling.append(.init(hubID: link.hubID, externalID: link.externalID)) }
                state.plan(Repair(action: .repush, entity: entity, system: system.name, hubID: link.hubID,
                                  externalID: link.externalID, because: .danglingLink))
            }
            guard let last = links.last, links.count == pageSize else { break }
            after = last.externalID
        }
    }

    /// Turns what the scan counted into findings and the summary's deep columns.
    func report(_ state: inout AuditState) {
        let name = system.name
        state.updateSummary(name, entity) { s in
            s.records = records
            s.extra = orphanCount
            s.dangling = danglingCount
            s.drifting = system.direction.pushes ? driftCount : nil
        }
        state.add(.danglingLink, system: name, entity: entity, count: danglingCount,
                  message: "\(counted(danglingCount, "linked \(entity) record")) gone from \(name)",
                  hint: "`hubctl sync-all` applies \(name)'s delete policy to them; if they were lost, "
                    + "`hubctl audit --deep --fix-plan plan.json` and `hubctl repair plan.json` re-create them",
                  samples: dangling)
        let outcomes = orphanOutcomes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        state.add(.orphanRecord, system: name, entity: entity, count: orphanCount,
                  message: "\(counted(orphanCount, "\(entity) record")) in \(name) that no link knows (\(outcomes))",
                  hint: "link them (`hubctl link \(entity) HUB_ID --system \(name) --id ID`, or repair a fix plan for those "
                    + "a match rule would link), or delete them in \(name)",
                  samples: orphans)
        let fields = driftFields.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        state.add(.fieldDrift, system: name, entity: entity, count: driftCount,
                  message: "\(counted(driftCount, "\(entity) record")) in \(name) \(driftCount == 1 ? "differs" : "differ") from the "
                    + "hub (records per field: \(fields))",
                  hint: "edits in \(name) that sync-all did not see (its change tracking missed them): "
                    + "`hubctl audit --deep --fix-plan plan.json` then `hubctl repair plan.json` sends the hub's values again",
                  samples: drifting)
        state.add(.unmappableRecord, system: name, entity: entity, count: unmappableCount,
                  message: "\(counted(unmappableCount, "\(entity) record")) in \(name) cannot be mapped to the hub",
                  hint: "`hubctl sync-all` quarantines them with the reason; fix the values in \(name)", samples: unmappable)
    }
}
