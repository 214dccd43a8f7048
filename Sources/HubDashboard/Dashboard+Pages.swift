import Foundation
import HubAudit
import HubCore
import HubStore
import HubTopology

/// The issues page: what needs a person.
public struct Issues: Sendable {
    public var quarantine: [QuarantineEntry]
    public var conflicts: [ConflictRecord]
}

/// One row of the runs timeline.
public struct RunSummary: Sendable, Hashable {
    public var run: RunRecord
    /// Seconds from start to finish (nil while unfinished).
    public var duration: Double?
    public var pulled: RunCounts
    public var pushed: RunCounts
    public var quarantined: Int
}

/// One entity as the entity page shows it: its values and their lineage, its ID in every
/// system, and its versions.
public struct EntityPage: Sendable {
    public var lineage: EntityLineage
    public var links: EntityLinks
    public var versions: [EntityVersion]
}

/// What a search found: a single match opens the entity page.
public struct SearchResult: Sendable {
    public var query: String
    public var matches: [EntityRecord]
}

extension Dashboard {
    /// Open quarantine entries and open conflicts, newest first.
    public func issues(limit: Int = 500) throws -> Issues {
        try store.read { tx in
            let quarantine = try tx.openQuarantine(limit: limit).map { e in
                var e = e
                e.message = redact(e.message)
                e.excerpt = e.excerpt.map(redact)
                return e
            }
            return Issues(quarantine: quarantine, conflicts: try tx.conflicts(openOnly: true, limit: limit))
        }
    }

    /// The newest runs with their duration and totals.
    public func runs(limit: Int = 50) throws -> [RunSummary] {
        try store.read { tx in try tx.runs(limit: limit) }.map { run in
            let report = run.report?.objectValue
            let totals = report?["totals"]?.objectValue
            return RunSummary(
                run: run, duration: run.finishedAt.flatMap { Self.seconds(from: run.startedAt, to: $0) },
                pulled: Self.counts(totals?["pull"]), pushed: Self.counts(totals?["push"]),
                quarantined: report?["quarantined"]?.arrayValue?.count ?? 0)
        }
    }

    /// One run in detail (`hubctl runs show`); a unique prefix of its ID is enough.
    public func run(_ id: String) throws -> RunDetails { try RunInspector(store: store).run(id) }

    /// Entities whose hub ID, ID in any system (`ID` or `SYSTEM:ID`) or email is `query`.
    public func search(_ query: String, limit: Int = 20) throws -> SearchResult {
        let q = query.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !q.isEmpty else { return SearchResult(query: q, matches: []) }
        return try store.read { tx in
            var found: [EntityRecord] = []
            func add(_ r: EntityRecord?) { if let r, !found.contains(where: { $0.hubID == r.hubID }) { found.append(r) } }
            add(try tx.entity(HubID(q)))
            var systemAndID: (SystemName, String)?
            if let colon = q.firstIndex(of: ":"), topology.system(SystemName(String(q[..<colon]))) != nil {
                systemAndID = (SystemName(String(q[..<colon])), String(q[q.index(after: colon)...]))
            }
            for system in topology.systems {
                for mapping in system.entities {
                    var ids = [ExternalID(q)]
                    if let (s, id) = systemAndID, s == system.name { ids.append(ExternalID(id)) }
                    for id in ids {
                        if let link = try tx.link(entity: mapping.entity, system: system.name, externalID: id) {
                            add(try tx.entity(link.hubID))
                        }
                    }
                }
            }
            for entity in topology.entities {
                // A single-field match rule (email, say) is an index lookup of the normalised value.
                var indexed: Set<FieldName> = []
                for (i, rule) in entity.match.enumerated() where rule.count == 1 {
                    guard let field = entity.field(rule[0]) else { continue }
                    indexed.insert(field.name)
                    let key = JSONWriter.string(.array([field.normalize.apply(.string(q))]))
                    for id in try tx.matchCandidates(entity.name, rule: i, key: key, limit: limit) { add(try tx.entity(id)) }
                }
                // Other email fields are compared one entity at a time.
                guard q.contains("@") else { continue }
                for field in entity.fields where field.name.rawValue.lowercased().contains("email") && !indexed.contains(field.name) {
                    for r in try tx.entities(entity.name, field: field.name.rawValue, equalsIgnoringCase: q, limit: limit) { add(r) }
                }
            }
            return SearchResult(query: q, matches: Array(found.prefix(limit)))
        }
    }

    /// The entity page of `hubID`.
    public func entity(_ entity: EntityName, _ hubID: HubID) throws -> EntityPage {
        let lineage = try LineageExplainer(topology: topology, store: store).explain(entity, .hub(hubID))
        let links = try LinkInspector(topology: topology, store: store).links(entity, .hub(hubID))
        let versions = try store.read { try $0.versions(hubID) }
        return EntityPage(lineage: lineage, links: links, versions: versions)
    }

    static func counts(_ value: Value?) -> RunCounts {
        let o = value?.objectValue ?? [:]
        func n(_ k: String) -> Int { Int(o[k]?.intValue ?? 0) }
        var c = RunCounts()
        c.read = n("read"); c.created = n("created"); c.updated = n("updated"); c.deleted = n("deleted")
        c.linked = n("linked"); c.unchanged = n("unchanged"); c.skipped = n("skipped"); c.failed = n("failed")
        return c
    }

    /// Seconds between two hub timestamps (RFC 3339, UTC).
    static func seconds(from start: String, to end: String) -> Double? {
        guard let a = date(start), let b = date(end) else { return nil }
        return b.timeIntervalSince(a)
    }

    static func date(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}
