/// The named checks `hubctl audit` runs. Each one is an invariant of the hub and its links;
/// a broken one is reported as a ``Finding`` with counts and sample IDs.
public enum AuditCheck: String, Sendable, Hashable, CaseIterable {
    // Integrity of the ID cross-reference (the hub alone).
    /// One external ID linked to two hub entities.
    case duplicateExternalID = "duplicate_external_id"
    /// One hub entity with two IDs in the same system.
    case duplicateSystemLink = "duplicate_system_link"
    /// A link to a hub ID the hub has no entity for.
    case linkToMissingEntity = "link_to_missing_entity"
    /// A link filed under another entity kind than its hub entity's.
    case linkKindMismatch = "link_kind_mismatch"
    /// A live link to a deleted hub entity in a system the hub pushes to.
    case linkToDeletedEntity = "link_to_deleted_entity"
    /// A reference inside a canonical record to an entity the hub does not have.
    case danglingReference = "dangling_reference"
    /// A reference inside a canonical record to a deleted entity.
    case referenceToDeleted = "reference_to_deleted"

    // Coverage.
    /// A hub entity that belongs in a system (its direction pushes, its filter matches) but has no link there.
    case missingLink = "missing_link"

    // Deep: the systems are read.
    /// A system could not be read.
    case unreadableSystem = "unreadable_system"
    /// A live link whose record is gone from the system.
    case danglingLink = "dangling_link"
    /// A record in a system that no link knows.
    case orphanRecord = "orphan_record"
    /// A linked record whose values differ from what the hub says the system should hold.
    case fieldDrift = "field_drift"
    /// A record that cannot be mapped (and is not quarantined).
    case unmappableRecord = "unmappable_record"

    // Operations.
    /// A conflict parked for a person.
    case openConflict = "open_conflict"
    /// A record in quarantine.
    case quarantinedRecord = "quarantined_record"
    /// A write to a system that was started and never confirmed.
    case unfinishedIntent = "unfinished_intent"
    /// A read cursor that has not moved for longer than the limit.
    case staleCursor = "stale_cursor"
    /// Hub changes not pushed to a system yet.
    case pushBacklog = "push_backlog"

    /// Which group a check belongs to.
    public enum Category: String, Sendable, Hashable {
        case integrity, coverage, deep, operations
    }

    public var category: Category {
        switch self {
        case .duplicateExternalID, .duplicateSystemLink, .linkToMissingEntity, .linkKindMismatch, .linkToDeletedEntity,
             .danglingReference, .referenceToDeleted:
            return .integrity
        case .missingLink: return .coverage
        case .unreadableSystem, .danglingLink, .orphanRecord, .fieldDrift, .unmappableRecord: return .deep
        case .openConflict, .quarantinedRecord, .unfinishedIntent, .staleCursor, .pushBacklog: return .operations
        }
    }

    /// True for checks that read the systems (`--deep`).
    public var needsSystems: Bool { category == .deep }

    /// How serious a broken invariant is: errors are wrong links or values; warnings are work
    /// left undone. Both make `hubctl audit` exit 1.
    public var severity: Finding.Severity {
        switch self {
        case .duplicateExternalID, .duplicateSystemLink, .linkToMissingEntity, .linkKindMismatch, .danglingReference,
             .unreadableSystem, .danglingLink, .fieldDrift:
            return .error
        default:
            return .warning
        }
    }
}
