import HubCore
import HubStore

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
    /// A targeted cycle (`hubctl run`): read only these systems, and of each only these
    /// entities, but push to every system the run covers. Nil: read every system.
    public var pullScope: [SystemName: Set<EntityName>]?
    /// Asked before every page read or written: true stops the run there, with every page
    /// before it committed (the run is recorded as `stopped`).
    public var stopRequested: @Sendable () -> Bool
    /// Told after every page read and every batch written, with the counts so far of that
    /// system × entity and direction (for a progress line; nil: nobody listens).
    public var progress: (@Sendable (SyncProgress) -> Void)?

    public init(dryRun: Bool = false, only: Set<SystemName>? = nil, entities: Set<EntityName>? = nil, pageSize: Int = 1000,
                allowMassDelete: Bool = false, pullScope: [SystemName: Set<EntityName>]? = nil,
                stopRequested: @escaping @Sendable () -> Bool = { false }, progress: (@Sendable (SyncProgress) -> Void)? = nil) {
        self.progress = progress
        self.pullScope = pullScope
        self.stopRequested = stopRequested
        self.dryRun = dryRun
        self.only = only
        self.entities = entities
        self.pageSize = pageSize
        self.allowMassDelete = allowMassDelete
    }
}

extension SyncOptions {
    /// True when this run reads `entity` from `system`.
    public func pulls(_ system: SystemName, _ entity: EntityName) -> Bool {
        guard let pullScope else { return true }
        return pullScope[system]?.contains(entity) ?? false
    }

    /// Throws ``RunStopped`` when a stop was asked for.
    func checkStop() throws {
        if stopRequested() { throw RunStopped() }
    }
}

/// The run stopped between two pages because its process was asked to stop (SIGTERM).
public struct RunStopped: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "the run stopped between two pages, as asked; the next run goes on from there" }
}

/// How far one system × entity's read or write has come in a run (``SyncOptions/progress``).
public struct SyncProgress: Sendable {
    public enum Direction: String, Sendable {
        case pull, push
    }

    public var system: SystemName
    public var entity: EntityName
    public var direction: Direction
    /// The counts of this system × entity and direction so far in the run.
    public var counts: RunCounts
}
