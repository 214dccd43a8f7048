import HubCore

/// Wraps a spoke for `--dry-run`: reads go to the real system, writes are answered as if
/// they succeeded and never sent.
struct DryRunSpoke: Spoke {
    let base: any Spoke
    var system: SystemName { base.system }
    var capabilities: SpokeCapabilities { base.capabilities }
    var traits: AdapterTraits { base.traits }

    func check(_ objects: [ObjectBinding]) async throws -> [SpokeCheckResult] { try await base.check(objects) }

    func discover(_ objects: [ObjectBinding]) async throws -> SpokeSchema { try await base.discover(objects) }

    func read(_ object: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> SpokePage {
        try await base.read(object, after: cursor, limit: limit)
    }

    func readsIncrementally(_ object: ObjectBinding) -> Bool { base.readsIncrementally(object) }

    func readsPartitions(_ object: ObjectBinding) -> Bool { base.readsPartitions(object) }

    func read(_ object: ObjectBinding, partition: IDPartition, after cursor: Cursor?, limit: Int) async throws -> SpokePage {
        try await base.read(object, partition: partition, after: cursor, limit: limit)
    }

    func scanIDs(_ object: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> IDPage {
        try await base.scanIDs(object, after: cursor, limit: limit)
    }

    func fetch(_ object: ObjectBinding, ids: [ExternalID]) async throws -> [SpokeRecord] {
        try await base.fetch(object, ids: ids)
    }

    func write(_ object: ObjectBinding, _ writes: [SpokeWrite]) async throws -> [SpokeWriteResult] {
        writes.map { w in
            switch w {
            case .create(let key, _): return .created(ExternalID("(new:\(key))"))
            case .update: return .updated
            case .delete: return .deleted
            }
        }
    }
}
