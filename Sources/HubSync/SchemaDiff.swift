import HubCore
import HubMapping
import HubStore
import HubTopology

/// How a system's live schema differs from what the topology maps and from the last
/// fingerprint a run took (`hubctl discover SYSTEM --diff`).
public struct SchemaDiff: Sendable {
    /// One mapped object.
    public struct Object: Sendable {
        public var entity: EntityName
        public var object: String
        /// The fingerprint compared with (nil before the first run that read the object).
        public var fingerprint: SchemaFingerprint?
        /// The object as the system lists it now (nil when it is missing).
        public var live: DiscoveredObject?
        /// True when the live fields come from a sample of records (APIs, JSON files).
        public var sampled: Bool
        /// True when the system does not list the object at all.
        public var missing: Bool
        /// What differs, each with what it means for a sync (`pauses`).
        public var changes: [SchemaDriftRecord]
    }

    public var system: SystemName
    public var objects: [Object]

    /// True when nothing differs.
    public var isEmpty: Bool { objects.allSatisfy { $0.changes.isEmpty && !$0.missing } }
}

extension SyncEngine {
    /// Compares a system's live schema (its `discover` answer) with the topology's mapping and
    /// with the last fingerprint in the hub: mapped fields gone (with a likely new name), types
    /// the mapping cannot convert, and fields not mapped yet that are new since the fingerprint
    /// (every unmapped field, before the first run). Reads only; writes nothing anywhere.
    public func schemaDiff(_ system: SystemName) async throws -> SchemaDiff {
        guard let definition = topology.system(system), let spoke = spokes[system] else { throw missingSpoke(system) }
        let mapped = definition.entities.compactMap { mapper(system, $0.entity) }
        let schema = try await spoke.discover(mapped.map(\.binding))
        let ctx = RunContext(runID: RunID("discover"), report: SyncReport(runID: RunID("discover"), dryRun: true, startedAt: ""),
                             clock: clock)
        var out = SchemaDiff(system: system, objects: [])
        for mapper in mapped {
            let (previous, open) = try store.read { tx in
                (try tx.schemaFingerprint(system: system, entity: mapper.entity.name),
                 try tx.openSchemaDrift(system: system, entity: mapper.entity.name))
            }
            var diff = SchemaDiff.Object(entity: mapper.entity.name, object: mapper.binding.object, fingerprint: previous,
                                         live: nil, sampled: false, missing: false, changes: [])
            guard let live = schema.object(named: mapper.binding.object) else {
                diff.missing = true
                out.objects.append(diff)
                continue
            }
            diff.live = live
            diff.sampled = live.fromSample
            let watch = SchemaWatch(
                system: definition, mapper: mapper,
                comparison: SchemaComparison(mapper: mapper, previous: previous, adapter: definition.adapter),
                mapping: SchemaComparison.mappingSignature(mapper), readsFromStart: false)
            diff.changes = try await changes(live, watch, open: open, spoke, ctx)
            out.objects.append(diff)
        }
        return out
    }

    /// Every difference between a live object and the mapping and fingerprint.
    func changes(_ live: DiscoveredObject, _ watch: SchemaWatch, open: [SchemaDriftRecord], _ spoke: any Spoke,
                 _ ctx: RunContext) async throws -> [SchemaDriftRecord] {
        let c = watch.comparison
        let unmapped = live.fields.filter { !c.isNeeded($0.name) }
        let new = c.hasBaseline ? addedFields(live.fields, watch, open: open) : unmapped
        var removed: [String] = [], neverThere: [String] = [], unseen: [String] = []
        for field in c.missing(in: live) {
            if live.fromSample {
                if c.previousField(field) != nil { unseen.append(field) }
            } else if try wasThere(field, c) {
                removed.append(field)
            } else {
                neverThere.append(field)
            }
        }
        let typeChanges = c.typeChanges(in: live)
        var out = try await pausingChanges(removed, typeChanges.filter { $0.refusal != nil },
                                           candidates: live.fromSample ? [] : new, watch, spoke, ctx)
        let renamedTo = Set(out.compactMap(\.newField))
        for field in neverThere {
            out.append(drift(watch, ctx, .removed, field, pauses: false, message:
                "mapped field '\(field)' is not in \(live.name) and never was since hubctl has synced it: check the mapping"))
        }
        for field in unseen {
            out.append(drift(watch, ctx, .removed, field, oldType: c.previousField(field)?.nativeType, pauses: false, message:
                "mapped field '\(field)' was seen before but no sampled record has it (APIs leave empty fields out; a sync "
                    + "pauses only when two records that had values lose it at once)"))
        }
        var settled = watch
        settled.typeChanges = typeChanges.filter { $0.refusal == nil }
        out += settledChanges(added: new.filter { !renamedTo.contains($0.name) }, settled, ctx)
        return out
    }
}
