import HubCore
import HubMapping
import HubStore
import HubTopology

/// Coverage: hub entities that belong in a system (its direction pushes, its filter matches)
/// but have no link there.
extension Auditor {
    func checkCoverage(_ state: inout AuditState) throws {
        for (system, mapper) in state.pairs {
            let entity = mapper.entity.name
            let pushes = system.direction.pushes
            let filter = mapper.mapping.filter
            let quarantined = try store.read { tx in
                Dictionary(try tx.openQuarantine(system: system.name, entity: entity, direction: .push).compactMap { q in
                    q.hubID.map { ($0, q.reason) }
                }, uniquingKeysWith: { a, _ in a })
            }
            var hubEntities = 0, linked = 0, closed = 0, belonging = 0, missing = 0
            var samples: [Finding.Sample] = []
            var seq: Int64 = 0
            while true {
                let page = try store.read {
                    try $0.coveragePage(entity: entity, system: system.name, afterSeq: seq, limit: state.options.pageSize,
                                        withData: filter != nil)
                }
                for row in page {
                    hubEntities += 1
                    switch row.linkState {
                    case .linked?: linked += 1
                    case .deleted?: closed += 1
                    default: break
                    }
                    guard pushes, row.linkState != .deleted else { continue }
                    if let filter, !filter.matches(row.data ?? [:]) { continue }
                    belonging += 1
                    guard row.linkState != .linked else { continue }
                    missing += 1
                    if state.wants(samples.count) {
                        let why = row.linkState == .pendingCreate ? "create pending"
                            : quarantined[row.hubID].map { "quarantined (push): \($0)" }
                        samples.append(.init(hubID: row.hubID, detail: why))
                    }
                    state.plan(Repair(action: .repush, entity: entity, system: system.name, hubID: row.hubID,
                                      because: .missingLink))
                }
                guard let last = page.last, page.count == state.options.pageSize else { break }
                seq = last.seq
            }
            state.updateSummary(system.name, entity) { s in
                s.hubEntities = hubEntities
                s.linked = linked
                s.closed = closed
                if pushes {
                    s.belonging = belonging
                    s.missing = missing
                }
            }
            let share = belonging > 0 ? Double(belonging - missing) / Double(belonging) * 100 : 100
            state.add(.missingLink, system: system.name, entity: entity, count: missing,
                      message: "\(missing) of \(counted(belonging, "\(entity) entity", "\(entity) entities")) that belong in "
                        + "\(system.name) have no link there (coverage \(AuditReport.percentText(share)))",
                      hint: "`hubctl audit --fix-plan plan.json` plans re-pushes; `hubctl repair plan.json` makes the next "
                        + "sync-all create them",
                      samples: samples)
        }
    }
}

extension AuditReport {
    /// A percentage for people, to a tenth: `97.5 %`, `100 %`.
    public static func percentText(_ value: Double) -> String {
        let tenths = (value * 10).rounded() / 10
        return tenths == tenths.rounded() ? "\(Int(tenths)) %" : "\(tenths) %"
    }
}
