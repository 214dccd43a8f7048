import HubCore

/// What a `sync-all` run should cover and how.
public struct SyncOptions: Sendable {
    /// Read and plan, but write nothing to any system or to the hub.
    public var dryRun: Bool
    /// Only these systems (all when nil).
    public var only: Set<SystemName>?
    /// Only these entities (all when nil).
    public var entities: Set<EntityName>?
    /// Records per page read from a system and per batch written to one.
    public var pageSize: Int
    /// Apply deletes even when they exceed a system's mass-delete guard.
    public var allowMassDelete: Bool

    public init(dryRun: Bool = false, only: Set<SystemName>? = nil, entities: Set<EntityName>? = nil, pageSize: Int = 1000,
                allowMassDelete: Bool = false) {
        self.dryRun = dryRun
        self.only = only
        self.entities = entities
        self.pageSize = pageSize
        self.allowMassDelete = allowMassDelete
    }
}
