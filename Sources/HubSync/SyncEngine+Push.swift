import HubCore
import HubMapping
import HubStore
import HubTopology

extension SyncEngine {
    /// A write prepared for one hub entity, with what the system will hold once it is applied.
    struct PreparedWrite {
        /// Why the write is made; decides how its result is recorded.
        enum Kind { case create, update, delete, softDelete, unmatch }
        var kind: Kind
        var hubID: HubID
        var version: Int64
        var write: SpokeWrite
        /// The canonical fields written.
        var fields: Set<String>
        /// The system's values after the write, as they will read back (the new link base).
        var projected: CanonicalRecord
        var link: Link?
        /// References left out because their target is not in the system yet.
        var omitted: Set<String> = []
    }

    /// Sends the hub entities changed since the system's push mark to the system, in batches,
    /// recording each write's link and base, then moving the mark — in one hub transaction
    /// per batch, after the system answered.
    func push(_ system: SystemDefinition, _ mapper: EntityMapper, _ options: SyncOptions, _ ctx: RunContext) async throws {
        guard let spoke = spokes[system.name] else { throw missingSpoke(system.name) }
        // Schema drift (SyncEngine+Drift.swift): a paused system × entity is not written.
        guard try preparePush(system, mapper, ctx) else { return }
        let entity = mapper.entity.name
        var counts = RunCounts()
        // Records that failed to push earlier are retried first, whatever the mark says.
        let retries = try store.read { tx in
            try tx.openQuarantine(system: system.name, entity: entity, direction: .push).compactMap(\.hubID)
        }
        if !retries.isEmpty {
            let records = try store.read { tx in try tx.entities(retries) }.values.sorted { $0.seq < $1.seq }
            for chunk in stride(from: 0, to: records.count, by: options.pageSize) {
                let batch = Array(records[chunk..<min(chunk + options.pageSize, records.count)])
                counts = counts + (try await pushBatch(batch, spoke, mapper, advanceMarkTo: nil, ctx))
            }
        }
        let handled = Set(retries)
        var mark = try store.read { try $0.pushMark(system: system.name, entity: entity) }
        // A system that can stage creates (a file) gets all of them in one write at the end.
        let staging = ctx.report.dryRun ? nil : try await spoke.stageCreates(mapper.binding)
        do {
            while true {
                try options.checkStop()
                let batch = try store.read { try $0.entitiesChanged(entity, after: mark, limit: options.pageSize, origins: false) }
                guard let last = batch.last else { break }
                let todo = batch.filter { !handled.contains($0.hubID) }
                counts = counts + (try await pushBatch(todo, spoke, mapper, advanceMarkTo: last.seq, ctx, staging: staging))
                options.progress?(SyncProgress(system: system.name, entity: entity, direction: .push, counts: counts))
                mark = last.seq
                if batch.count < options.pageSize { break }
            }
            if let staging { try await commitStaged(staging, mapper, ctx) }
        } catch {
            // The staged creates' intents stay open: the next run looks them up and, not finding
            // them, sends them again.
            await staging?.discard()
            throw error
        }
        ctx.report.add(system.name, entity, push: counts)
    }

    /// Applies the staged creates in one write, then links them: each open intent this run
    /// recorded for the system and entity becomes a link with the base the create left (the
    /// staged records' IDs are their keys), page by page.
    func commitStaged(_ staging: any StagedCreates, _ mapper: EntityMapper, _ ctx: RunContext) async throws {
        try await staging.commit()
        let pageSize = 1000
        var after: Int64 = 0
        while true {
            let intents = try store.read { tx in
                try tx.openIntents(run: ctx.runID, system: mapper.system, entity: mapper.entity.name, after: after, limit: pageSize)
            }
            guard let last = intents.last else { return }
            let now = ctx.now()
            try write(ctx) { tx in
                for intent in intents { try tx.saveLink(createdLink(intent, id: ExternalID(intent.key), mapper, at: now, ctx)) }
                try tx.closeIntents(system: mapper.system, entity: mapper.entity.name, hubIDs: intents.map(\.hubID))
            }
            after = last.id ?? after
            if intents.count < pageSize { return }
        }
    }

    /// The link a create recorded by `intent` leaves once the system holds it as `id`.
    func createdLink(_ intent: WriteIntent, id: ExternalID, _ mapper: EntityMapper, at now: String, _ ctx: RunContext) -> Link {
        var link = Link(entity: intent.entity, system: intent.system, externalID: id, hubID: intent.hubID, state: .linked,
                        baseHash: nil, baseData: intent.baseData, baseVersion: intent.version, linkedBy: "pushed",
                        linkedAt: now, lastSeenRun: ctx.runID)
        link.baseHash = ContentHash.of(link.baseData, keys: mapper.inboundKeys)
        return link
    }

    /// Prepares, sends and records one batch of entities.
    func pushBatch(_ batch: [EntityRecord], _ spoke: any Spoke, _ mapper: EntityMapper, advanceMarkTo seq: Int64?,
                   _ ctx: RunContext, staging: (any StagedCreates)? = nil) async throws -> RunCounts {
        let system = mapper.system
        var counts = RunCounts()
        var prepared: [PreparedWrite] = []
        var unlinks: [Link] = []
        // Deletes of entities that records still linked here refer to wait until those are
        // deleted (children first, as foreign keys demand).
        var waiting: [(hubID: HubID, link: Link)] = []
        try store.read { tx in
            let links = try tx.links(entity: mapper.entity.name, system: system, hubIDs: batch.map(\.hubID))
            let referred = try linkedReferrers(of: batch, mapper, tx)
            let anyOpenConflict = try !tx.conflicts(openOnly: true, limit: 1).isEmpty
            let targets = try referenceTargets(of: batch, mapper, tx)
            for record in batch {
                let existing = links[record.hubID]
                // A closed link: the record was deleted in the system, or by hubctl.
                if existing?.state == .deleted { continue }
                // A create whose answer was never recorded and cannot be looked up: parked for a
                // person; sending it again could duplicate the record.
                if existing?.state == .pendingCreate {
                    counts.skipped += 1
                    continue
                }
                let link = existing.flatMap { $0.state == .linked && $0.externalID != nil ? $0 : nil }
                if record.isDeleted {
                    guard let link, let id = link.externalID else { continue }
                    switch mapper.mapping.deletes.push {
                    case .delete where referred.contains(record.hubID):
                        waiting.append((record.hubID, link))
                    case .delete:
                        prepared.append(PreparedWrite(kind: .delete, hubID: record.hubID, version: record.version,
                                                      write: .delete(id: id), fields: [], projected: [:], link: link))
                    case .ignore:
                        unlinks.append(link)
                        counts.skipped += 1
                    case .set(let values):
                        var data: CanonicalRecord = [:]
                        for (f, v) in values { data[f.rawValue] = v }
                        let fields = Set(values.keys.map(\.rawValue))
                        prepared.append(PreparedWrite(kind: .softDelete, hubID: record.hubID, version: record.version,
                                                      write: .update(id: id, fields: mapper.outbound(data, only: fields)),
                                                      fields: fields, projected: mapper.project(record.data.merging(data) { $1 }),
                                                      link: link))
                    }
                    continue
                }
                if let filter = mapper.mapping.filter, !filter.matches(record.data) {
                    if let link, let id = link.externalID, mapper.mapping.onUnmatch == .delete {
                        prepared.append(PreparedWrite(kind: .unmatch, hubID: record.hubID, version: record.version,
                                                      write: .delete(id: id), fields: [], projected: [:], link: link))
                    } else {
                        counts.skipped += 1
                    }
                    continue
                }
                let held = anyOpenConflict ? try tx.openConflictFields(record.hubID) : []
                if let p = try prepare(record, link: link, held: held, targets: targets, mapper, ctx) {
                    prepared.append(p)
                } else {
                    counts.unchanged += 1
                }
            }
        }
        var results: [SpokeWriteResult] = []
        if let staging, !prepared.isEmpty {
            // Plain creates are staged; anything else first applies what is staged, so the
            // system holds it before this batch's writes.
            if unlinks.isEmpty, waiting.isEmpty, prepared.allSatisfy({ $0.kind == .create && $0.omitted.isEmpty }),
                try await staging.stage(prepared.map(\.write))
            {
                try faultPoint(.pushAfterResponse)
                // The intents go in before anything is applied (at the commit), with the push mark
                // in the same transaction; they are closed when the records are linked after it.
                try recordIntents(prepared, mapper, ctx, advancingMarkTo: seq)
                try faultPoint(.pushAfterCommit)
                counts.created += prepared.count
                return counts
            }
            try await commitStaged(staging, mapper, ctx)
        }
        if !prepared.isEmpty {
            try recordIntents(prepared.filter { $0.kind == .create }, mapper, ctx)
            results = try await spoke.write(mapper.binding, prepared.map(\.write))
            try faultPoint(.pushAfterResponse)
            guard results.count == prepared.count else {
                throw SpokeError(.malformed, system: system, object: mapper.binding.object,
                                 message: "the adapter answered \(results.count) results for \(prepared.count) writes")
            }
        }
        let now = ctx.now()
        var notSent = 0
        try write(ctx) { tx in
            let creates = prepared.filter { $0.kind == .create }.map(\.hubID)
            if !creates.isEmpty { try tx.closeIntents(system: system, entity: mapper.entity.name, hubIDs: creates) }
            let quarantineOpen = try tx.hasOpenQuarantine(system: system, entity: mapper.entity.name, direction: .push)
            for var link in unlinks {
                link.state = .deleted
                try tx.saveLink(link)
            }
            for (hubID, link) in waiting {
                // Durable, so a stop before the children are deleted loses nothing; not a problem
                // to report unless it is still waiting at the end of the run.
                try tx.quarantine(QuarantineEntry(
                    run: ctx.runID, system: system, entity: mapper.entity.name, externalID: link.externalID, hubID: hubID,
                    direction: .push, reason: QuarantineReason.waitsForReferences,
                    message: "its delete waits until the records referring to it are deleted in '\(system)'",
                    createdAt: now, source: "\(mapper.mapping.object) id \(link.externalID?.rawValue ?? "-")"))
            }
            for (p, result) in zip(prepared, results) {
                if p.kind == .delete || p.kind == .unmatch || p.kind == .softDelete, let link = p.link {
                    switch result {
                    case .deleted, .notFound, .updated:
                        if quarantineOpen {
                            try tx.resolveQuarantine(system: system, entity: mapper.entity.name, externalID: nil, hubID: p.hubID,
                                                     direction: .push, at: now)
                        }
                        if p.kind == .unmatch {
                            // Gone from the system because it no longer passes the filter; it comes
                            // back if it matches again.
                            try tx.deleteLink(entity: mapper.entity.name, system: system, hubID: p.hubID)
                        } else {
                            var dead = link
                            dead.state = .deleted
                            if p.kind == .softDelete {
                                try saveBase(dead, p, mapper, tx)
                            } else {
                                // Deleted there: the ID is free for the system to give a new record.
                                dead.externalID = nil
                                try tx.saveLink(dead)
                            }
                        }
                        counts.deleted += 1
                    case .failed(let message):
                        counts.failed += 1
                        try quarantinePush(p, mapper, reason: .rejected, message: message, tx, ctx)
                    case .notSent, .indeterminate:
                        notSent += 1
                    case .created:
                        counts.failed += 1
                    }
                    continue
                }

                // References left out of this write wait in the quarantine until patched, so they
                // survive a stop before the patch.
                for field in p.omitted.sorted() where result != .notFound && !result.isFailure {
                    let externalID: ExternalID? = if case .created(let id) = result { id } else { p.link?.externalID }
                    try tx.quarantine(unresolvedPushReference(mapper, hubID: p.hubID, field: field, externalID: externalID, ctx))
                }
                switch result {
                case .created(let id):
                    let link = Link(entity: mapper.entity.name, system: system, externalID: id, hubID: p.hubID, state: .linked,
                                    baseHash: nil, baseData: [:], baseVersion: p.version, linkedBy: "pushed", linkedAt: now,
                                    lastSeenRun: ctx.runID)
                    try saveBase(link, p, mapper, tx)
                    counts.created += 1
                    if p.omitted.isEmpty && quarantineOpen {
                        try tx.resolveQuarantine(system: system, entity: mapper.entity.name, externalID: nil, hubID: p.hubID,
                                                 direction: .push, at: now)
                    }
                case .updated:
                    if let link = p.link { try saveBase(link, p, mapper, tx) }
                    counts.updated += 1
                    if p.omitted.isEmpty && quarantineOpen {
                        try tx.resolveQuarantine(system: system, entity: mapper.entity.name, externalID: nil, hubID: p.hubID,
                                                 direction: .push, at: now)
                    }
                case .deleted:
                    counts.deleted += 1
                case .notFound:
                    // Deleted in the system since it was read: its pull delete policy applies.
                    if let link = p.link {
                        var merger = PageMerger(engine: self, tx: tx, mapper: mapper, ctx: ctx)
                        try merger.applyDelete(link)
                        counts = counts + merger.counts
                    }
                case .failed(let message):
                    counts.failed += 1
                    try quarantinePush(p, mapper, reason: .rejected, message: message, tx, ctx)
                case .notSent:
                    notSent += 1
                case .indeterminate(let message):
                    if p.kind == .create {
                        // Parked: a pending link keeps every push from creating it again.
                        counts.failed += 1
                        try tx.saveLink(Link(entity: mapper.entity.name, system: system, externalID: nil, hubID: p.hubID,
                                             state: .pendingCreate, baseHash: nil, baseData: [:], baseVersion: nil,
                                             linkedBy: "pushed", linkedAt: now, lastSeenRun: ctx.runID))
                        try quarantinePush(p, mapper, reason: .indeterminateCreate, message: message, tx, ctx)
                    } else {
                        notSent += 1  // updates are safe to send again
                    }
                }
            }
            // Writes not sent keep the push mark where it was: the next run sends them again.
            if let seq, notSent == 0 { try tx.setPushMark(seq, system: system, entity: mapper.entity.name, at: now) }
        }
        if notSent > 0 {
            throw SpokeError(.unavailable, system: system, object: mapper.binding.object,
                             message: "\(notSent) of \(prepared.count) writes were not sent; they wait for the next run")
        }
        if !prepared.isEmpty { try faultPoint(.pushAfterCommit) }
        if ctx.report.dryRun {
            for p in prepared { ctx.report.plan.append(plannedWrite(p, mapper)) }
        }
        return counts
    }


    /// The deleted entities of `batch` that entities with a live link in the system still refer
    /// to (when the system is pushed deletes).
    func linkedReferrers(of batch: [EntityRecord], _ mapper: EntityMapper, _ tx: HubTransaction) throws -> Set<HubID> {
        guard case .delete = mapper.mapping.deletes.push else { return [] }
        let tombstones = batch.filter(\.isDeleted).map(\.hubID)
        guard !tombstones.isEmpty else { return [] }
        var out: Set<HubID> = []
        for (e, field) in referringFields(to: mapper.entity.name) where self.mapper(mapper.system, e) != nil {
            for (target, ids) in try tx.referrers(of: tombstones, entity: e, field: field, liveOnly: false, linkedIn: mapper.system)
                where ids.contains(where: { $0 != target })
            {
                out.insert(target)
            }
        }
        return out
    }

    /// Sends the deletes that waited for the records referring to them, children first; those
    /// still waiting (a child's delete was refused) are reported. With `only`, that entity's.
    func pushWaitingDeletes(_ system: SystemDefinition, _ ctx: RunContext, only: EntityName? = nil) async throws {
        guard let spoke = spokes[system.name] else { return }
        let waiting = try store.read { tx in
            try topology.referenceOrder.reversed().filter { only == nil || $0 == only }.map { entity in
                (entity, try tx.openQuarantine(system: system.name, entity: entity, direction: .push)
                    .filter { $0.reason == QuarantineReason.waitsForReferences }.compactMap(\.hubID))
            }
        }
        for (entity, ids) in waiting where !ids.isEmpty {
            guard let mapper = self.mapper(system.name, entity) else { continue }
            let records = try store.read { try $0.entities(ids) }.values.sorted { $0.seq < $1.seq }
            let counts = try await pushBatch(records, spoke, mapper, advanceMarkTo: nil, ctx)
            ctx.report.add(system.name, entity, push: counts)
        }
        for entry in try store.read({ try $0.openQuarantine(system: system.name, entity: only, direction: .push) })
            where entry.reason == QuarantineReason.waitsForReferences
        {
            ctx.noteQuarantined(entry)
        }
    }

    /// Works out what to send for one entity; nil when the system already holds its values.
    /// The system's links of every entity the batch's references point at: one query per
    /// referenced entity and batch, not one per record.
    func referenceTargets(of batch: [EntityRecord], _ mapper: EntityMapper, _ tx: HubTransaction) throws -> [EntityName: [HubID: Link]] {
        var wanted: [EntityName: Set<HubID>] = [:]
        for (field, target) in mapper.refFields where mapper.outboundFields.contains(field) {
            for record in batch { if let ref = record.data[field]?.stringValue { wanted[target, default: []].insert(HubID(ref)) } }
        }
        var out: [EntityName: [HubID: Link]] = [:]
        for (target, ids) in wanted { out[target] = try tx.links(entity: target, system: mapper.system, hubIDs: Array(ids)) }
        return out
    }

    func prepare(_ record: EntityRecord, link: Link?, held: Set<String>, targets: [EntityName: [HubID: Link]],
                 _ mapper: EntityMapper, _ ctx: RunContext) throws -> PreparedWrite? {
        let system = mapper.system
        // References go out as the system's own IDs; a target not in the system yet is left
        // out now and patched once it exists.
        var translated = record.data
        var omitted: Set<String> = []
        for (field, target) in mapper.refFields where mapper.outboundFields.contains(field) {
            guard let hubRef = record.data[field]?.stringValue else { continue }
            if let targetLink = targets[target]?[HubID(hubRef)], targetLink.state == .linked,
                let id = targetLink.externalID
            {
                translated[field] = .string(id.rawValue)
            } else {
                translated[field] = nil
                omitted.insert(field)
            }
        }
        let projected = mapper.project(record.data)
        // Fields with a conflict parked for a person are held back until it is resolved.
        var writable = Set(mapper.outboundFields).subtracting(omitted).subtracting(held)
        for f in omitted {
            ctx.pendingPushRefs.append(.init(system: system, entity: mapper.entity.name, hubID: record.hubID, field: f))
        }
        if let link, let id = link.externalID, link.state == .linked {
            writable = writable.filter { !link.baseData.sameValue(projected, for: $0) }
            guard !writable.isEmpty else { return nil }
            return PreparedWrite(kind: .update, hubID: record.hubID, version: record.version,
                                 write: .update(id: id, fields: mapper.outbound(translated, only: writable)),
                                 fields: writable, projected: projected, link: link, omitted: omitted)
        }
        return PreparedWrite(kind: .create, hubID: record.hubID, version: record.version,
                             write: .create(key: record.hubID.rawValue, fields: mapper.outbound(translated, only: writable)),
                             fields: writable, projected: projected, link: nil, omitted: omitted)
    }

    /// Before creates are sent: one intent per create (with its key and the base it will have),
    /// committed together (with the push mark moved to `seq`, for staged creates). A later run
    /// that finds them open looks the records up instead of creating them again.
    func recordIntents(_ creates: [PreparedWrite], _ mapper: EntityMapper, _ ctx: RunContext,
                       advancingMarkTo seq: Int64? = nil) throws {
        guard !creates.isEmpty else { return }
        let now = ctx.now()
        try write(ctx) { tx in
            try tx.addIntents(creates.map { p in
                WriteIntent(run: ctx.runID, generation: ctx.fence?.generation ?? 0, system: mapper.system,
                            entity: mapper.entity.name, hubID: p.hubID, key: p.hubID.rawValue, baseData: base(of: p),
                            version: p.version, createdAt: now)
            })
            if let seq { try tx.setPushMark(seq, system: mapper.system, entity: mapper.entity.name, at: now) }
        }
        try faultPoint(.createAfterIntentCommit)
    }

    /// The base a write leaves: the written fields at their projected values.
    func base(of p: PreparedWrite, over base: [String: Value] = [:]) -> [String: Value] {
        var out = base
        for f in p.fields {
            if let v = p.projected[f], !v.isNull { out[f] = v } else { out[f] = nil }
        }
        return out
    }

    func unresolvedPushReference(_ mapper: EntityMapper, hubID: HubID, field: String, externalID: ExternalID?,
                                 _ ctx: RunContext) -> QuarantineEntry {
        let target = mapper.refFields[field].map { "\($0)" } ?? "record"
        return QuarantineEntry(
            run: ctx.runID, system: mapper.system, entity: mapper.entity.name, externalID: externalID, hubID: hubID,
            direction: .push, reason: .unresolvedRef,
            message: "field '\(field)' refers to a \(target) that is not in '\(mapper.system)' (not pushed yet, filtered out "
                + "or quarantined); the reference was not written", createdAt: ctx.now())
    }

    /// Records what the system holds after a write: the written fields take their projected values.
    func saveBase(_ link: Link, _ p: PreparedWrite, _ mapper: EntityMapper, _ tx: HubTransaction) throws {
        var l = link
        l.baseData = base(of: p, over: link.baseData)
        l.baseVersion = p.version
        l.baseHash = ContentHash.of(l.baseData, keys: mapper.inboundKeys)
        try tx.saveLink(l)
    }

    func quarantinePush(_ p: PreparedWrite, _ mapper: EntityMapper, reason: QuarantineReason, message: String, _ tx: HubTransaction,
                        _ ctx: RunContext) throws {
        var fields: [String: Value] = [:]
        switch p.write {
        case .create(_, let f), .update(_, let f): fields = f
        case .delete: break
        }
        let target = p.link?.externalID.map { "id \($0)" } ?? "new record for hub \(p.hubID)"
        var entry = QuarantineEntry(run: ctx.runID, system: mapper.system, entity: mapper.entity.name,
                                    externalID: p.link?.externalID, hubID: p.hubID, direction: .push, reason: reason,
                                    message: topology.secrets.redact(message), createdAt: ctx.now(),
                                    source: "\(mapper.mapping.object) \(target)", excerpt: QuarantineEntry.excerpt(of: fields))
        entry.id = try tx.quarantine(entry)
        ctx.noteQuarantined(entry)
    }

    func plannedWrite(_ p: PreparedWrite, _ mapper: EntityMapper) -> SyncReport.PlannedWrite {
        let operation: String
        switch p.kind {
        case .create: operation = "create"
        case .update: operation = "update"
        case .delete: operation = "delete"
        case .softDelete: operation = "soft-delete"
        case .unmatch: operation = "delete (no longer matches the filter)"
        }
        var id: ExternalID?
        var fields: [String] = []
        switch p.write {
        case .create(_, let f): fields = Array(f.keys)
        case .update(let target, let f): id = target; fields = Array(f.keys)
        case .delete(let target): id = target
        }
        return .init(system: mapper.system, entity: mapper.entity.name, operation: operation, externalID: id, hubID: p.hubID,
                     fields: fields)
    }
}
