import HubAudit
import HubCore
import HubStore
import HubTopology

/// Dismissing quarantine entries that no longer apply.
extension Steward {
    /// Closes open quarantine entries by hand, each recorded in the stewardship log with who and
    /// why. A record that still fails is quarantined again (as a new entry) by the next run.
    /// - Throws: ``StewardshipError`` `notFound` naming the first ID that is not an open entry;
    ///   nothing is closed then.
    public func dismissQuarantine(_ ids: [Int64], as who: Attribution, dryRun: Bool = false) throws -> [QuarantineEntry] {
        let lease = try store.acquireRunLock(RunID("stewardship"), now: clock.now(), staleAfter: lockTimeout)
        defer { try? store.releaseRunLock(lease) }
        let at = now()
        do {
            return try store.write { tx in
                let open = try tx.quarantineEntries(ids)
                if let missing = ids.first(where: { id in !open.contains { $0.id == id } }) {
                    throw StewardshipError(.notFound, "no open quarantine entry \(missing)",
                                           hint: "`hubctl quarantine list` shows the open ones")
                }
                for entry in open {
                    var log = StewardshipEntry(action: .dismiss, entity: entry.entity, hubID: entry.hubID ?? HubID(""),
                                               system: entry.system, externalID: entry.externalID, by: who.by,
                                               reason: who.reason, at: at)
                    log.detail = ["quarantine_id": .int(entry.id ?? 0), "reason_code": .string(entry.reason.rawValue),
                                  "direction": .string(entry.direction.rawValue), "source": entry.source.map(Value.string) ?? .null]
                    _ = try tx.recordStewardship(log)
                }
                let closed = try tx.dismissQuarantine(ids, by: who.by, reason: who.reason ?? "", at: at)
                if dryRun { throw DismissRollback(entries: closed) }
                return closed
            }
        } catch let rollback as DismissRollback {
            return rollback.entries
        }
    }

    struct DismissRollback: Error {
        var entries: [QuarantineEntry]
    }
}
