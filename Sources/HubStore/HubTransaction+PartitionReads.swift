import Foundation
import HubCore

/// What one part of a table read in parts (`"partitions"`) saw in a round: recorded by the part's
/// pull unit, read by the system's `pull-deletes` unit once every part is done.
public struct PartitionRead: Sendable, Hashable {
    public var system: SystemName
    public var entity: EntityName
    public var partition: IDPartition
    /// The worker round the part was read in.
    public var round: Int64
    /// Records the part read that were linked once merged.
    public var linkedSeen: Int
    /// The quarantine keys of the part's records that could not be read (malformed rows).
    public var malformed: Set<String>

    public init(system: SystemName, entity: EntityName, partition: IDPartition, round: Int64, linkedSeen: Int,
                malformed: Set<String>) {
        self.system = system
        self.entity = entity
        self.partition = partition
        self.round = round
        self.linkedSeen = linkedSeen
        self.malformed = malformed
    }
}

extension HubTransaction {
    /// Records what a part's read saw, replacing what an earlier read of the same part (an earlier
    /// round, or a holder that was killed) recorded, and forgetting parts of another split (the
    /// topology's `partitions` changed).
    public func recordPartitionRead(_ read: PartitionRead) throws {
        try execute("DELETE FROM partition_read WHERE system = ? AND entity = ? AND parts <> ?",
                    [read.system.rawValue, read.entity.rawValue, read.partition.count])
        let malformed = String(decoding: try JSONEncoder().encode(read.malformed.sorted()), as: UTF8.self)
        try execute(
            """
            INSERT INTO partition_read (system, entity, part, parts, round, linked_seen, malformed) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (system, entity, part) DO UPDATE SET parts = excluded.parts, round = excluded.round,
                linked_seen = excluded.linked_seen, malformed = excluded.malformed
            """,
            [read.system.rawValue, read.entity.rawValue, read.partition.number, read.partition.count, read.round,
             read.linkedSeen, malformed])
    }

    /// The parts of `entity` in `system` read in `round` when split `parts` ways, by part number.
    public func partitionReads(system: SystemName, entity: EntityName, parts: Int, round: Int64) throws -> [PartitionRead] {
        try rows(
            """
            SELECT part, linked_seen, malformed FROM partition_read
            WHERE system = ? AND entity = ? AND parts = ? AND round = ? ORDER BY part
            """, [system.rawValue, entity.rawValue, parts, round]
        ).map { row in
            let malformed = try JSONDecoder().decode([String].self, from: Data((row["malformed"] as String).utf8))
            return PartitionRead(system: system, entity: entity, partition: IDPartition(Int(row["part"] as Int64), of: parts),
                                 round: round, linkedSeen: Int(row["linked_seen"] as Int64), malformed: Set(malformed))
        }
    }
}
