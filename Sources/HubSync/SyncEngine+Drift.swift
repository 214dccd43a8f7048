import Foundation
import HubCore
import HubMapping
import HubStore
import HubTopology

/// One pull's view of its object's schema (docs/systems.md, "Schema drift").
///
/// The schema comes with the pages (a database's catalog, a CSV header, the fields of the
/// records read), or, for adapters whose pages carry none (exec connectors), from one `discover`
/// per pull. A mapped field that disappeared, or a type the mapping can no longer convert,
/// pauses the system × entity before anything of it is merged.
struct SchemaWatch {
    let system: SystemDefinition
    let mapper: EntityMapper
    let comparison: SchemaComparison
    /// The mapping's signature now (stored with the fingerprint).
    let mapping: [String: String]
    /// True when a field was newly mapped (or remapped) for reading on a system read
    /// incrementally: this run reads the object from the start, so records that did not change
    /// since the cursor give their values too.
    let readsFromStart: Bool
    /// The fields found: the system's own list, or the union of the fields of the records read.
    var observed: DiscoveredObject?
    /// True when `observed` comes from records (APIs, JSON files).
    var sampled = false
    /// True once the system's own list of fields was compared with the mapping (once per pull).
    var compared = false
    /// True once `discover` was asked, for an adapter whose pages carry no schema.
    var asked = false
    /// True once the first page was asked for.
    var started = false
    /// Type changes the mapping still converts, reported when the pull completes.
    var typeChanges: [SchemaComparison.TypeChange] = []
    /// The part of the records a worker's unit reads (a table read in parts); nil: all.
    var partition: IDPartition?
}

extension SyncEngine {
    /// Starts watching one pull's schema; nil when it pauses the system × entity already.
    ///
    /// Records quarantined earlier are fetched and merged before the first page is read, so when
    /// there are any, the schema is asked for (`discover`) and checked before them.
    func watchSchema(_ spoke: any Spoke, _ system: SystemDefinition, _ mapper: EntityMapper,
                     _ ctx: RunContext) async throws -> SchemaWatch? {
        let entity = mapper.entity.name
        let (previous, retrying) = try store.read { tx in
            (try tx.schemaFingerprint(system: system.name, entity: entity),
             try tx.hasOpenQuarantine(system: system.name, entity: entity, direction: .pull))
        }
        let mapping = SchemaComparison.mappingSignature(mapper)
        let incremental = spoke.readsIncrementally(mapper.binding)
        let remapped = previous.map { SchemaComparison.remapped(mapper.inboundFields, now: mapping, before: $0.mapping) } ?? []
        var watch = SchemaWatch(
            system: system, mapper: mapper,
            comparison: SchemaComparison(mapper: mapper, previous: previous, adapter: system.adapter),
            mapping: mapping, readsFromStart: incremental && !remapped.isEmpty && !(previous?.mapping.isEmpty ?? true))
        if retrying, let object = await discovered(spoke, mapper) {
            watch.asked = true
            let admitted = try await admit(object, records: nil, &watch, spoke, ctx)
            if !admitted { return nil }
        }
        return watch
    }

    /// Reads one page of a watched pull; nil when the schema the read found pauses the system ×
    /// entity (then nothing of the page is merged and no cursor moves).
    func readPage(_ spoke: any Spoke, after position: Cursor?, _ options: SyncOptions, _ watch: inout SchemaWatch,
                  _ ctx: RunContext) async throws -> SpokePage? {
        let binding = watch.mapper.binding
        let from = watch.readsFromStart && !watch.started ? nil : position
        watch.started = true
        var page: SpokePage
        do {
            let partition = watch.partition
            page = try await settings.withRetries(spoke) {
                if let partition { try await spoke.read(binding, partition: partition, after: from, limit: options.pageSize) }
                else { try await spoke.read(binding, after: from, limit: options.pageSize) }
            }.quarantiningIDsHoldingNUL()
        } catch let error as SpokeError where error.kind == .configuration && !watch.compared {
            // A database refuses to select a column it no longer has: drift, or a mistake in the mapping?
            guard let object = await discovered(spoke, watch.mapper), !object.fromSample else { throw error }
            watch.asked = true
            let admitted = try await admit(object, records: nil, &watch, spoke, ctx)
            if admitted { throw error }
            return nil
        }
        if page.schema == nil, !watch.asked {
            watch.asked = true
            page.schema = await discovered(spoke, watch.mapper)
        }
        guard let schema = page.schema else { return page }
        let admitted = try await admit(schema, records: page.records, &watch, spoke, ctx)
        return admitted ? page : nil
    }

    /// The object as the spoke's `discover` lists it; nil when the adapter cannot tell.
    func discovered(_ spoke: any Spoke, _ mapper: EntityMapper) async -> DiscoveredObject? {
        guard let schema = try? await spoke.discover([mapper.binding]) else { return nil }
        return schema.object(named: mapper.binding.object)
    }

    /// Compares a schema the pull found with the mapping and the fingerprint; false when it
    /// pauses the system × entity (recorded in the hub and the report).
    func admit(_ object: DiscoveredObject, records: [SpokeRecord]?, _ watch: inout SchemaWatch, _ spoke: any Spoke,
               _ ctx: RunContext) async throws -> Bool {
        let c = watch.comparison
        if object.fromSample {
            let seen = SchemaComparison.union(watch.observed?.fields ?? [], object.fields)
            watch.observed = DiscoveredObject(name: object.name, fields: seen, fromSample: true)
            watch.sampled = true
            var removed: [String] = []
            if let records {
                removed = try lost(c.missing(in: object), in: records, watch)
            }
            let refused = c.typeChanges(in: object).filter { $0.refusal != nil }
            guard !removed.isEmpty || !refused.isEmpty else { return true }
            let candidates = object.fields.filter { !c.isNeeded($0.name) && c.previousField($0.name) == nil }
            let changes = try await pausingChanges(removed, refused, candidates: candidates, watch, spoke, ctx)
            try record(changes, watch, complete: false, ctx)
            return false
        }
        guard !watch.compared else { return true }
        watch.compared = true
        watch.observed = object
        var removed: [String] = []
        for field in c.missing(in: object) where try wasThere(field, c) { removed.append(field) }
        let changes = c.typeChanges(in: object)
        watch.typeChanges = changes.filter { $0.refusal == nil }
        let refused = changes.filter { $0.refusal != nil }
        guard !removed.isEmpty || !refused.isEmpty else { return true }
        let candidates = object.fields.filter { !c.isNeeded($0.name) && (!c.hasBaseline || c.previousField($0.name) == nil) }
        var all = try await pausingChanges(removed, refused, candidates: candidates, watch, spoke, ctx)
        let renamedTo = Set(all.compactMap(\.newField))
        let added = addedFields(object.fields, watch, open: try openDrift(watch))
        all += settledChanges(added: added.filter { !renamedTo.contains($0.name) }, watch, ctx)
        try record(all, watch, complete: true, ctx)
        return false
    }

    /// The mapped fields absent from every record of a page that are gone. APIs and
    /// JSON files leave empty fields out, so absence alone says nothing — not even from a full
    /// page, where a sparse field is often absent from every record: a field is gone when at
    /// least two records of the page had a value for it when last synced (their link bases)
    /// and all of them lost it at once.
    func lost(_ absent: [String], in records: [SpokeRecord], _ watch: SchemaWatch) throws -> [String] {
        guard !absent.isEmpty, records.count >= 2 else { return [] }
        let m = watch.mapper
        let links = try store.read { try $0.links(entity: m.entity.name, system: m.system, externalIDs: records.map(\.id)) }
        return absent.filter { field in
            let canonical = watch.comparison.canonical(of: field)
            let hadValues = links.values.filter { l in l.state == .linked && canonical.contains { !(l.baseData[$0] ?? .null).isNull } }
            return hadValues.count >= 2
        }
    }

    /// True when a needed field the object lacks was there before: the fingerprint had it, or
    /// (a mapped field) the links remember values for it (read from it, or written to it since
    /// the fingerprint was taken). Else it never existed: a mistake in the mapping, or a CSV
    /// column the next push adds.
    func wasThere(_ field: String, _ c: SchemaComparison) throws -> Bool {
        if c.previousField(field) != nil { return true }
        let m = c.mapper
        // The ID and cursor fields hold no canonical values: only the fingerprint can tell (a
        // connector's `discover` may well leave them out).
        if field == m.binding.idField || field == m.binding.cursorField { return false }
        return try store.read { try $0.linkBasesHoldValues(entity: m.entity.name, system: m.system, fields: c.canonical(of: field)) }
    }

    // MARK: - Changes

    /// The changes that pause: mapped fields gone (with a likely new name where one is found)
    /// and types the mapping cannot convert.
    func pausingChanges(_ removed: [String], _ refused: [SchemaComparison.TypeChange], candidates: [DiscoveredField],
                        _ watch: SchemaWatch, _ spoke: any Spoke, _ ctx: RunContext) async throws -> [SchemaDriftRecord] {
        let where_ = "\(watch.system.name) × \(watch.mapper.entity.name)"
        let fix = "`hubctl discover \(watch.system.name) --diff`"
        var out: [SchemaDriftRecord] = []
        for field in removed {
            let old = watch.comparison.previousField(field)
            if let rename = await likelyRename(of: field, among: candidates, watch, spoke) {
                out.append(drift(watch, ctx, .renamed, field, newField: rename.field, oldType: old?.nativeType,
                                 newType: rename.type, pauses: true, message:
                    "mapped field '\(field)' is gone from \(watch.mapper.binding.object); '\(rename.field)' is likely its new "
                        + "name (\(rename.evidence)). \(where_) is paused (nothing read or written) until the mapping "
                        + "follows: \(fix)"))
            } else {
                out.append(drift(watch, ctx, .removed, field, oldType: old?.nativeType, pauses: true, message:
                    "mapped field '\(field)' is gone from \(watch.mapper.binding.object). \(where_) is paused (nothing read "
                        + "or written) until the field is back or the mapping no longer uses it: \(fix)"))
            }
        }
        for t in refused {
            out.append(drift(watch, ctx, .typeChanged, t.field, oldType: t.old.nativeType, newType: t.new.nativeType, pauses: true,
                             message: "mapped field '\(t.field)' changed type from \(t.old.nativeType) to \(t.new.nativeType): "
                                + "\(t.refusal ?? "the mapping cannot convert it"). \(where_) is paused (nothing read or "
                                + "written) until the mapping or the field's type is fixed"))
        }
        return out
    }

    /// The open changes of the watched system × entity.
    func openDrift(_ watch: SchemaWatch) throws -> [SchemaDriftRecord] {
        try store.read { try $0.openSchemaDrift(system: watch.system.name, entity: watch.mapper.entity.name) }
    }

    /// Fields of `fields` not mapped that are new since the fingerprint, or were reported
    /// earlier (`open`) and are still not mapped.
    func addedFields(_ fields: [DiscoveredField], _ watch: SchemaWatch, open: [SchemaDriftRecord]) -> [DiscoveredField] {
        watch.comparison.added(in: fields, stillOpen: Set(open.filter { $0.change == .added }.map(\.field)))
    }

    /// The changes that do not pause: new fields not mapped yet, and types the mapping still converts.
    func settledChanges(added: [DiscoveredField], _ watch: SchemaWatch, _ ctx: RunContext) -> [SchemaDriftRecord] {
        var out = added.map { f in
            drift(watch, ctx, .added, f.name, newType: f.nativeType, pauses: false, message:
                "new field '\(f.name)' (\(f.nativeType)) in \(watch.mapper.binding.object) is not mapped; "
                    + "`hubctl discover \(watch.system.name) --diff` prints the mapping that would sync it")
        }
        out += watch.typeChanges.map { t in
            drift(watch, ctx, .typeChanged, t.field, oldType: t.old.nativeType, newType: t.new.nativeType, pauses: false,
                  message: "mapped field '\(t.field)' changed type from \(t.old.nativeType) to \(t.new.nativeType); "
                      + "the mapping still converts it")
        }
        return out
    }

    func drift(_ watch: SchemaWatch, _ ctx: RunContext, _ change: SchemaDriftRecord.Change, _ field: String,
               newField: String? = nil, oldType: String? = nil, newType: String? = nil, pauses: Bool,
               message: String) -> SchemaDriftRecord {
        SchemaDriftRecord(run: ctx.runID, system: watch.system.name, entity: watch.mapper.entity.name,
                          object: watch.mapper.binding.object, change: change, field: field, newField: newField,
                          oldType: oldType, newType: newType, message: topology.secrets.redact(message), pauses: pauses,
                          detectedAt: ctx.now())
    }

    /// Stores the changes (one open entry per change) and reports the new ones and every pausing
    /// one. With `complete`, these are all the object's changes: open ones not among them are closed.
    func record(_ changes: [SchemaDriftRecord], _ watch: SchemaWatch, complete: Bool, _ ctx: RunContext) throws {
        let system = watch.system.name, entity = watch.mapper.entity.name
        let reported = try write(ctx) { tx in
            var reported: [SchemaDriftRecord] = []
            for d in changes {
                let (stored, isNew) = try tx.recordSchemaDrift(d)
                if isNew || d.pauses { reported.append(stored) }
            }
            if complete {
                try tx.resolveSchemaDrift(system: system, entity: entity, except: Set(changes.map(\.key)), run: ctx.runID,
                                          at: ctx.now())
            }
            return reported
        }
        ctx.report.schemaDrift += reported
    }

    /// At the end of a pull that was not paused: reports new fields and settled type changes,
    /// closes what no longer holds, and stores the fingerprint (unchanged ones are not
    /// rewritten). A field newly mapped for writing is then sent to every record: the push
    /// mark goes back to the start, in the same transaction.
    func finishSchemaWatch(_ watch: SchemaWatch, _ ctx: RunContext) throws {
        let c = watch.comparison
        let previousFields = c.previous?.fields ?? []
        let fields: [DiscoveredField]
        if let observed = watch.observed {
            fields = watch.sampled ? SchemaComparison.union(previousFields, observed.fields) : observed.fields
            let open = try openDrift(watch)
            let changes = settledChanges(added: addedFields(fields, watch, open: open), watch, ctx)
            // A quiet run writes nothing: no change now, none open before.
            if !changes.isEmpty || !open.isEmpty { try record(changes, watch, complete: true, ctx) }
        } else {
            fields = previousFields  // the adapter cannot tell: the mapping is remembered all the same
        }
        try saveFingerprint(watch.system, watch.mapper, fields: fields, sampled: watch.sampled || (c.previous?.sampled ?? false),
                            mapping: watch.mapping, previous: c.previous, ctx)
    }

    /// Stores a fingerprint; when the system pushes and a field was newly mapped for writing
    /// since the last one, moves the push mark back to the start so every record gets it.
    func saveFingerprint(_ system: SystemDefinition, _ mapper: EntityMapper, fields: [DiscoveredField], sampled: Bool,
                         mapping: [String: String], previous: SchemaFingerprint?, _ ctx: RunContext) throws {
        let fingerprint = SchemaFingerprint(system: system.name, entity: mapper.entity.name, object: mapper.binding.object,
                                            fields: fields, sampled: sampled, mapping: mapping, run: ctx.runID,
                                            takenAt: ctx.now())
        guard fingerprint.hash != previous?.hash || previous?.object != fingerprint.object else { return }
        let remapped = previous.map { !$0.mapping.isEmpty && !SchemaComparison.remapped(mapper.outboundFields, now: mapping,
                                                                                        before: $0.mapping).isEmpty } ?? false
        try write(ctx) { tx in
            try tx.saveSchemaFingerprint(fingerprint)
            if remapped && system.direction.pushes { try tx.resetPushMark(system: system.name, entity: mapper.entity.name) }
        }
    }

    /// Before a push: false for a paused system × entity (nothing is written to it). A system
    /// the run did not pull from keeps its mapping's fingerprint here.
    func preparePush(_ system: SystemDefinition, _ mapper: EntityMapper, _ ctx: RunContext) throws -> Bool {
        if ctx.report.isPaused(system.name, mapper.entity.name) { return false }
        guard !system.direction.pulls else { return true }
        let previous = try store.read { try $0.schemaFingerprint(system: system.name, entity: mapper.entity.name) }
        try saveFingerprint(system, mapper, fields: previous?.fields ?? [], sampled: previous?.sampled ?? false,
                            mapping: SchemaComparison.mappingSignature(mapper), previous: previous, ctx)
        return true
    }

    // MARK: - Renames

    /// The field that most likely replaced `field`: one holding the same values on linked
    /// records, else one with a similar name and the same kind of values.
    func likelyRename(of field: String, among candidates: [DiscoveredField], _ watch: SchemaWatch,
                      _ spoke: any Spoke) async -> (field: String, type: String, evidence: String)? {
        guard !candidates.isEmpty else { return nil }
        if let byValues = await renameByValues(of: field, among: candidates, watch, spoke) { return byValues }
        let oldKind = watch.comparison.previousField(field)?.kind ?? .any
        let scored = candidates.compactMap { c -> (DiscoveredField, Int)? in
            guard oldKind == .any || c.kind == .any || c.kind == oldKind, let score = Self.nameDistance(field, c.name) else { return nil }
            return (c, score)
        }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return (best.0.name, best.0.nativeType, "similar name, same type")
    }

    /// A candidate that holds, on at least 4 in 5 of up to 20 linked records, the values the
    /// links remember for `field` (read through the same mapping).
    func renameByValues(of field: String, among candidates: [DiscoveredField], _ watch: SchemaWatch,
                        _ spoke: any Spoke) async -> (field: String, type: String, evidence: String)? {
        let mapper = watch.mapper
        let mappings = mapper.mapping.fields.filter { $0.systemField == field }
        let canonical = watch.comparison.canonical(of: field)
        guard field != mapper.binding.idField, !canonical.isEmpty else { return nil }
        let links = ((try? store.read { try $0.liveLinks(entity: mapper.entity.name, system: mapper.system, after: nil, limit: 500) }) ?? [])
            .filter { l in canonical.contains { !(l.baseData[$0] ?? .null).isNull } }.prefix(20)
        guard !links.isEmpty else { return nil }
        var probe = mapper.binding
        probe.cursorField = nil
        probe.fields = candidates.map(\.name)
        guard let records = try? await spoke.fetch(probe, ids: links.compactMap(\.externalID)) else { return nil }
        let byID = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var best: (field: DiscoveredField, same: Int, compared: Int)?
        for candidate in candidates {
            var trial = mapper.mapping
            trial.fields = mappings.map { m in
                var m = m
                m.systemField = candidate.name
                return m
            }
            guard let entity = topology.entity(mapper.entity.name) else { continue }
            let trialMapper = EntityMapper(system: watch.system, mapping: trial, entity: entity, nestedPaths: mapper.nestedPaths,
                                           emptyTextReadsAsNull: mapper.emptyTextReadsAsNull)
            var compared = 0, same = 0
            for link in links {
                guard let id = link.externalID, let record = byID[id], case .success(let values) = trialMapper.inbound(record) else {
                    continue
                }
                compared += 1
                if canonical.allSatisfy({ sameCanonical(values[$0], link.baseData[$0], field: $0, mapper) }) { same += 1 }
            }
            if compared > 0, same * 5 >= compared * 4, same > (best?.same ?? 0) { best = (candidate, same, compared) }
        }
        guard let best else { return nil }
        return (best.field.name, best.field.nativeType,
                "same values on \(best.same) of \(best.compared) linked records")
    }

    /// True when a value read from the system equals what a link remembers; a reference is
    /// compared by the hub entity it points at.
    func sameCanonical(_ read: Value?, _ remembered: Value?, field: String, _ mapper: EntityMapper) -> Bool {
        var read = read ?? .null
        if let target = mapper.refFields[field], let text = read.stringValue {
            read = (try? store.read { try $0.link(entity: target, system: mapper.system, externalID: ExternalID(text)) })?
                .map { Value.string($0.hubID.rawValue) } ?? read
        }
        return read == (remembered ?? .null)
    }

    /// How alike two field names are (0: the same but for case and punctuation), or nil when
    /// they are not alike: one inside the other (`phone`, `phone_number`), or a few edits apart.
    static func nameDistance(_ a: String, _ b: String) -> Int? {
        func plain(_ s: String) -> String { String(s.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }) }
        let x = plain(a), y = plain(b)
        guard !x.isEmpty, !y.isEmpty else { return nil }
        if x == y { return 0 }
        if min(x.count, y.count) >= 3, x.contains(y) || y.contains(x) { return 1 }
        let d = Suggest.distance(x, y)
        return d <= max(1, min(3, (max(x.count, y.count) + 1) / 3)) ? d + 1 : nil
    }
}

extension AdapterKind {
    /// True when the system looks field names up ignoring case (SQL databases).
    var foldsFieldCase: Bool {
        switch self {
        case .sqlite, .postgres: return true
        case .csv, .jsonl, .rest, .exec: return false
        }
    }

    /// Field names the system answers to that its catalog does not list: SQLite's hidden rowid.
    var implicitFields: Set<String> { self == .sqlite ? ["rowid", "_rowid_", "oid"] : [] }
}
