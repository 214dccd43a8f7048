import HubCore
import HubStore
import HubTopology

/// Three-way, field-level merge of one system's record into a hub entity.
///
/// For each field the system pulls: `base` is what the hub last knew the system held, `ours`
/// the hub's value now, `theirs` the system's value now. A field changed on one side only is
/// taken from that side; changed on both sides to different values is a conflict, settled by
/// the entity's policy and recorded. On a first link (`base` unknown) a null never overwrites a
/// value, and two different values are a conflict.
struct FieldMerge {
    struct Outcome {
        /// The hub's new values.
        var data: [String: Value]
        /// Fields whose hub value changed, and where the new value came from.
        var changed: [String: FieldOrigin]
        var conflicts: [Conflict]
    }

    struct Conflict {
        var field: String
        var candidates: [String: Value]
        var winner: String?
        var rule: ConflictRule
        var open: Bool
    }

    /// One side's claim on a field: its value and when it changed.
    struct Claim {
        var system: SystemName
        var value: Value
        var changedAt: String
        /// True when `changedAt` is when hubctl saw the change, not the system's own change time.
        var observed: Bool
    }

    let entity: EntityDefinition
    let systemOrder: [SystemName]

    /// Merges `theirs` from `system` into `ours`.
    /// - Parameters:
    ///   - base: the link's base, or nil on a first link.
    ///   - fields: the fields the system pulls (others are left alone).
    ///   - theirsAt: when the system's record changed (its own change time or when it was seen).
    func merge(system: SystemName, run: RunID, base: [String: Value]?, ours: EntityRecord, theirs: [String: Value],
               fields: [String], theirsAt: String, observed: Bool = false) -> Outcome {
        var data = ours.data
        var changed: [String: FieldOrigin] = [:]
        var conflicts: [Conflict] = []
        for f in fields {
            let t = theirs[f] ?? .null
            let o = ours.data[f] ?? .null
            if t == o { continue }
            let takeTheirs: Bool
            if let base {
                let b = base[f] ?? .null
                if t == b { continue }  // the system did not change it
                if o == b {
                    takeTheirs = true  // only the system changed it
                } else {
                    let c = resolve(field: f, ours: ours, oursValue: o, theirs: Claim(system: system, value: t, changedAt: theirsAt, observed: observed))
                    conflicts.append(c)
                    takeTheirs = c.winner == system.rawValue
                }
            } else {
                // First link: fill gaps, never erase; two different values are a conflict.
                if t.isNull { continue }
                if o.isNull {
                    takeTheirs = true
                } else {
                    let c = resolve(field: f, ours: ours, oursValue: o, theirs: Claim(system: system, value: t, changedAt: theirsAt, observed: observed))
                    conflicts.append(c)
                    takeTheirs = c.winner == system.rawValue
                }
            }
            if takeTheirs {
                if t.isNull { data[f] = nil } else { data[f] = t }
                changed[f] = FieldOrigin(system: system, run: run, changedAt: theirsAt, observed: observed)
            }
        }
        return Outcome(data: data, changed: changed, conflicts: conflicts)
    }

    /// Settles a field changed on both sides. The hub's side is the system its value came from.
    func resolve(field: String, ours: EntityRecord, oursValue: Value, theirs: Claim) -> Conflict {
        let origin = ours.fieldOrigins[field]
        let hubSide = Claim(system: origin?.system ?? SystemName("hub"), value: oursValue,
                            changedAt: origin?.changedAt ?? ours.updatedAt, observed: origin?.observed ?? true)
        var candidates: [String: Value] = ["hub": oursValue]
        candidates[theirs.system.rawValue] = theirs.value
        if let origin, origin.system != theirs.system { candidates[origin.system.rawValue] = oursValue }
        let rule = entity.conflicts.fields[FieldName(field)]
        let policy = entity.conflicts
        if let owner = rule?.owner {
            let winner = theirs.system == owner ? theirs.system.rawValue : "hub"
            return Conflict(field: field, candidates: candidates, winner: winner, rule: .owner(owner), open: false)
        }
        let resolution = rule?.resolve ?? policy.resolve
        let priority = rule?.priority ?? policy.priority
        switch resolution {
        case .manual:
            return Conflict(field: field, candidates: candidates, winner: nil, rule: .manual, open: true)
        case .priority:
            let theirsWins = rank(theirs.system, priority) < rank(hubSide.system, priority)
                || (rank(theirs.system, priority) == rank(hubSide.system, priority) && newer(theirs, than: hubSide, priority))
            return Conflict(field: field, candidates: candidates, winner: theirsWins ? theirs.system.rawValue : "hub",
                            rule: .priority, open: false)
        case .newest:
            if let known = knownNewer(theirs, than: hubSide) {
                return Conflict(field: field, candidates: candidates, winner: known ? theirs.system.rawValue : "hub",
                                rule: .newest, open: false)
            }
            // No change time says which was made last: the priority list decides, and says so.
            let theirsWins = fallbackOrder(theirs.system, before: hubSide.system, priority)
            return Conflict(field: field, candidates: candidates, winner: theirsWins ? theirs.system.rawValue : "hub",
                            rule: .newestByPriority, open: false)
        }
    }

    /// Whether `a` was certainly changed after `b`, or nil when their times cannot tell: a time
    /// hubctl observed is only an upper bound of when the change was made, so two observed
    /// times, or an observed time later than a real one, decide nothing.
    func knownNewer(_ a: Claim, than b: Claim) -> Bool? {
        switch (a.observed, b.observed) {
        case (false, false): return a.changedAt == b.changedAt ? nil : a.changedAt > b.changedAt
        case (true, true): return nil
        case (false, true): return a.changedAt > b.changedAt ? true : nil
        case (true, false): return b.changedAt > a.changedAt ? false : nil
        }
    }

    /// The tie-break when times cannot decide: the priority list, then the topology's system
    /// order, then the name — the same winner on every run.
    func fallbackOrder(_ a: SystemName, before b: SystemName, _ priority: [SystemName]) -> Bool {
        let (ra, rb) = (rank(a, priority), rank(b, priority))
        if ra != rb { return ra < rb }
        let (oa, ob) = (systemOrder.firstIndex(of: a) ?? .max, systemOrder.firstIndex(of: b) ?? .max)
        if oa != ob { return oa < ob }
        return a.rawValue < b.rawValue
    }

    /// True when `a` changed later than `b`; ties go to the priority list, then the system order
    /// of the topology, then the system name: every run computes the same winner.
    func newer(_ a: Claim, than b: Claim, _ priority: [SystemName]) -> Bool {
        if a.changedAt != b.changedAt { return a.changedAt > b.changedAt }
        return fallbackOrder(a.system, before: b.system, priority)
    }

    func rank(_ system: SystemName, _ priority: [SystemName]) -> Int {
        priority.firstIndex(of: system) ?? priority.count
    }
}
