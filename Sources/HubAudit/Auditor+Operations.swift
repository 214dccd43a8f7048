import Foundation
import HubCore
import HubMapping
import HubStore
import HubTopology

/// Operational checks: work parked for a person, records held back, writes left half done,
/// reads and pushes that fell behind.
extension Auditor {
    func checkOperations(_ state: inout AuditState) throws {
        let options = state.options
        let (conflicts, quarantine, intents, pending, cursors) = try store.read { tx in
            (try tx.conflicts(openOnly: true, limit: 1_000_000), try tx.openQuarantine(limit: 1_000_000),
             try tx.unfinishedIntents(sample: options.sampleLimit), try tx.pendingCreateLinks(), try tx.cursors())
        }

        let open = conflicts.filter { options.covers($0.entity) }.sorted { ($0.id ?? 0) < ($1.id ?? 0) }
        for entity in topology.entities.map(\.name) {
            let mine = open.filter { $0.entity == entity }
            state.add(.openConflict, entity: entity, count: mine.count,
                      message: "\(mine.counted("\(entity) conflict")) parked for a person; their fields are held back "
                        + "from every system",
                      hint: "`hubctl conflicts list --open` shows the values; `hubctl conflicts resolve ID --take SIDE` settles one",
                      samples: mine.map { .init(hubID: $0.hubID, detail: "conflict \($0.id ?? 0): \($0.field)") })
        }

        let held = quarantine.filter { options.covers($0.system) && options.covers($0.entity) }
        for ((entity, system), entries) in grouped(held, by: { ($0.entity, $0.system) }) {
            let byReason: [String: [QuarantineEntry]] = Dictionary(grouping: entries, by: { $0.reason.rawValue })
            let reasons = byReason.sorted { $0.key < $1.key }.map { "\($0.value.count) \($0.key)" }.joined(separator: ", ")
            state.add(.quarantinedRecord, system: system, entity: entity, count: entries.count,
                      message: "\(entries.counted("\(entity) record")) of \(system) in quarantine (\(reasons))",
                      hint: "fix them at the source; every sync-all retries them and closes the entry when they sync",
                      samples: entries.map { .init(hubID: $0.hubID, externalID: $0.externalID, detail: "\($0.reason) (\($0.direction))") })
        }

        checkIntents(intents, pending.filter { options.covers($0.system) && options.covers($0.entity) }, &state)
        try checkCursors(cursors, &state)
        try checkPushBacklog(&state)
    }

    func checkIntents(_ intents: UnfinishedIntents, _ pending: [Link], _ state: inout AuditState) {
        state.add(.unfinishedIntent, count: intents.count,
                  message: "\(counted(intents.count, "create")) recorded before sending and never closed",
                  hint: "the next `hubctl sync-all` looks them up in their systems before anything else",
                  samples: intents.samples.map { i in
                      .init(hubID: i.hubID, detail: "\(i.entity) to \(i.system), run \(i.run) at \(i.createdAt)")
                  })
        for ((entity, system), links) in grouped(pending) {
            state.add(.unfinishedIntent, system: system, entity: entity, count: links.count,
                      message: "\(links.counted("\(entity) create")) to \(system) parked: sent, outcome unknown (pending_create links)",
                      hint: "check whether the records exist in \(system), then `hubctl link` them, or `hubctl unlink --forget` "
                        + "to let the next sync create them",
                      samples: links.map { .init(hubID: $0.hubID, externalID: $0.externalID) })
        }
    }

    /// Cursors of mapped objects that have not moved for longer than the limit.
    func checkCursors(_ cursors: [CursorState], _ state: inout AuditState) throws {
        let now = clock.now().timeIntervalSince1970
        let limit = state.options.staleCursorAfter
        for cursor in cursors {
            guard state.pairs.contains(where: {
                $0.system.name == cursor.system && $0.mapper.entity.name == cursor.entity && $0.mapper.mapping.cursorField != nil
            }), let moved = DateTimes.parseISO(cursor.updatedAt) else { continue }
            let age = now - (Double(moved.seconds) + Double(moved.millis) / 1000)
            guard age > limit else { continue }
            state.add(.staleCursor, system: cursor.system, entity: cursor.entity, count: 1,
                      message: "the \(cursor.system) \(cursor.entity) cursor has not moved since \(cursor.updatedAt) "
                        + "(\(duration(age)), limit \(duration(limit)))",
                      hint: "if records changed in \(cursor.system) since, its cursor field is not kept up to date; if "
                        + "nothing changed, raise --stale-after", samples: [])
        }
    }

    /// Hub changes above a system's push mark that the push will act on (they pass the
    /// system's filter, are deletions, or are linked there): not sent yet.
    func checkPushBacklog(_ state: inout AuditState) throws {
        for (system, mapper) in state.pairs where system.direction.pushes {
            let entity = mapper.entity.name
            let filter = mapper.mapping.filter
            var count = 0
            var samples: [Finding.Sample] = []
            var seq = try store.read { try $0.pushMark(system: system.name, entity: entity) }
            while true {
                let page = try store.read { try $0.entitiesChanged(entity, after: seq, limit: state.options.pageSize) }
                let linked = filter == nil ? [:]
                    : try store.read { try $0.links(entity: entity, system: system.name, hubIDs: page.map(\.hubID)) }
                for record in page {
                    guard filter == nil || record.isDeleted || filter!.matches(record.data) || linked[record.hubID] != nil
                    else { continue }
                    count += 1
                    if samples.count < state.options.sampleLimit { samples.append(.init(hubID: record.hubID)) }
                }
                guard let last = page.last, page.count == state.options.pageSize else { break }
                seq = last.seq
            }
            state.add(.pushBacklog, system: system.name, entity: entity, count: count,
                      message: "\(counted(count, "\(entity) change")) not pushed to \(system.name) yet",
                      hint: "run `hubctl sync-all`", samples: samples)
        }
    }

    func grouped<T>(_ items: [T], by key: (T) -> (EntityName, SystemName)) -> [((EntityName, SystemName), [T])] {
        var keys: [(EntityName, SystemName)] = []
        var groups: [String: [T]] = [:]
        for item in items {
            let k = key(item)
            let text = "\(k.0)\u{0}\(k.1)"
            if groups[text] == nil { keys.append(k) }
            groups[text, default: []].append(item)
        }
        return keys.map { ($0, groups["\($0.0)\u{0}\($0.1)"]!) }
    }
}

/// `3 d`, `5 h`, `12 min`.
func duration(_ seconds: TimeInterval) -> String {
    if seconds >= 86_400 { return "\(Int(seconds / 86_400)) d" }
    if seconds >= 3_600 { return "\(Int(seconds / 3_600)) h" }
    return "\(Int(seconds / 60)) min"
}
