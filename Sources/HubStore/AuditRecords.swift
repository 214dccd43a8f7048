import HubCore

/// A manual change to links or entities, kept in the hub's history with who, when and why.
public struct StewardshipEntry: Sendable, Hashable {
    /// What a person did.
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case link, unlink, relink, merge, unmerge, repush, undelete
        /// A quarantine entry closed by hand (`hubctl quarantine dismiss`).
        case dismiss
    }

    /// The entry's number (nil until stored).
    public var id: Int64?
    public var action: Action
    public var entity: EntityName
    /// The entity acted on: the one linked, the survivor of a merge, the entity restored by an unmerge.
    public var hubID: HubID
    /// The other entity: where a relink moved the ID from, the entity a merge absorbed.
    public var otherHubID: HubID?
    public var system: SystemName?
    public var externalID: ExternalID?
    /// What was changed, in enough detail to explain it (and, for a merge, to undo it).
    public var detail: [String: Value]
    /// Who did it.
    public var by: String
    /// Why.
    public var reason: String?
    public var at: String
    /// The entry that undid this one (an unmerge undoes a merge).
    public var undoneBy: Int64?

    public init(id: Int64? = nil, action: Action, entity: EntityName, hubID: HubID, otherHubID: HubID? = nil,
                system: SystemName? = nil, externalID: ExternalID? = nil, detail: [String: Value] = [:], by: String,
                reason: String?, at: String, undoneBy: Int64? = nil) {
        self.id = id
        self.action = action
        self.entity = entity
        self.hubID = hubID
        self.otherHubID = otherHubID
        self.system = system
        self.externalID = externalID
        self.detail = detail
        self.by = by
        self.reason = reason
        self.at = at
        self.undoneBy = undoneBy
    }

    /// The run ID the entity versions written by this entry carry (`stewardship:12`).
    public var runID: RunID { RunID("stewardship:\(id ?? 0)") }

    /// The entry number in a run ID written by a stewardship action, or nil for a sync run's ID.
    public static func entryNumber(in run: RunID) -> Int64? {
        guard run.rawValue.hasPrefix("stewardship:") else { return nil }
        return Int64(run.rawValue.dropFirst("stewardship:".count))
    }
}

/// One version of an entity from its history.
public struct EntityVersion: Sendable, Hashable {
    public var hubID: HubID
    public var version: Int64
    /// The values of this version (empty for a deletion).
    public var data: [String: Value]
    /// The system whose change made this version (`manual` for a person's).
    public var sourceSystem: SystemName?
    public var run: RunID?
    public var at: String
}

/// Where the last incremental read of a system's object stopped, and when it last moved.
public struct CursorState: Sendable, Hashable {
    public var system: SystemName
    public var entity: EntityName
    public var value: String
    public var updatedAt: String
}

/// What a run did for one system, entity and direction.
public struct RunCountRow: Sendable, Hashable {
    public var system: SystemName
    public var entity: EntityName
    /// `pull` or `push`.
    public var direction: String
    public var counts: RunCounts
}

/// A quarantine entry with when it was closed (nil while open).
public struct QuarantineRecord: Sendable, Hashable {
    public var entry: QuarantineEntry
    public var resolvedAt: String?
}

/// A live hub entity and its link in one system, if any: one row of a coverage scan.
public struct CoverageRow: Sendable, Hashable {
    public var hubID: HubID
    public var seq: Int64
    /// The entity's values, when asked for.
    public var data: [String: Value]?
    /// The link's state in the system, nil when there is none.
    public var linkState: LinkState?
    public var externalID: ExternalID?
}

/// A reference inside a canonical record whose target is missing or deleted.
public struct BrokenReference: Sendable, Hashable {
    /// The entity holding the reference.
    public var hubID: HubID
    /// The hub ID it refers to.
    public var target: HubID
    /// True when the target exists but is deleted; false when there is no such entity (of that kind).
    public var targetDeleted: Bool
}

/// Write intents that were recorded but never closed (crash-safe creates, see docs/reliability.md).
public struct UnfinishedIntents: Sendable, Hashable {
    public var count: Int
    /// The oldest open intents.
    public var samples: [WriteIntentSample]
}

/// One open write intent, as the audit shows it.
public struct WriteIntentSample: Sendable, Hashable {
    public var hubID: HubID
    public var system: SystemName
    public var entity: EntityName
    public var run: RunID
    public var createdAt: String
}
