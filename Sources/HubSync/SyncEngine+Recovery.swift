import HubCore
import HubMapping
import HubStore
import HubTopology

extension SyncEngine {
    /// Settles creates an earlier run sent without recording the answer (it was killed, or the
    /// system failed mid-batch): each is looked up in its system by key. Found → linked, with the
    /// base the create would have left. Not there → forgotten, and the entity goes out again.
    /// The system cannot tell → the pending link stays (so nothing re-creates it) and the record
    /// is quarantined as `indeterminate_create` for a person.
    ///
    /// A system whose lookup fails is skipped for this run, like any failing system. With
    /// `only` (and `entity`), just that system's intents (of that entity): a worker's push unit
    /// settles its own.
    func recoverIntents(_ options: SyncOptions, _ ctx: RunContext, only: SystemName? = nil, entity: EntityName? = nil) async throws {
        let intents = try store.read { try $0.openIntents() }
            .filter { (only == nil || $0.system == only) && (entity == nil || $0.entity == entity) }
        guard !intents.isEmpty else { return }
        var groups: [String: [WriteIntent]] = [:]
        for intent in intents { groups["\(intent.system)/\(intent.entity)", default: []].append(intent) }
        for key in groups.keys.sorted() {
            let group = groups[key]!
            let system = group[0].system
            guard ctx.report.systemErrors[system] == nil, let mapper = self.mapper(system, group[0].entity),
                let spoke = spokes[system]
            else { continue }
            let found: [String: ExternalID]?
            do {
                found = try await settings.withRetries(spoke) {
                    try await spoke.lookupCreated(mapper.binding, keys: group.map(\.key))
                }
            } catch {
                try fail(system, error, ctx)
                continue
            }
            try faultPoint(.recoveryAfterLookup)
            let now = ctx.now()
            try write(ctx) { tx in
                for intent in group {
                    if let id = found?[intent.key] {
                        try tx.saveLink(createdLink(intent, id: id, mapper, at: now, ctx))
                        ctx.report.recoveredCreates += 1
                    } else if found != nil {
                        // Never applied: the entity goes out again with the next push.
                        try tx.touchEntity(intent.hubID)
                    } else {
                        // Cannot tell: a pending link keeps every push from creating it again.
                        try tx.saveLink(Link(entity: intent.entity, system: system, externalID: nil, hubID: intent.hubID,
                                             state: .pendingCreate, baseHash: nil, baseData: [:], baseVersion: nil,
                                             linkedBy: "pushed", linkedAt: now, lastSeenRun: ctx.runID))
                        var entry = QuarantineEntry(
                            run: ctx.runID, system: system, entity: intent.entity, externalID: nil, hubID: intent.hubID,
                            direction: .push, reason: .indeterminateCreate,
                            message: "a create of this record was sent to '\(system)' by run \(intent.run), which stopped "
                                + "before it heard the answer, and '\(system)' offers no way to look it up; check whether "
                                + "the record exists there, then `hubctl link` it, or `hubctl unlink --forget` to let the next sync create it",
                            createdAt: now)
                        entry.id = try tx.quarantine(entry)
                        ctx.noteQuarantined(entry)
                    }
                    try tx.closeIntent(system: system, entity: intent.entity, hubID: intent.hubID)
                }
            }
        }
    }
}
