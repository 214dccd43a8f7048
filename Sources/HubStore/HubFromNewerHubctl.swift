import Foundation
import GRDB

/// A hub upgraded by a newer hubctl: its schema has steps this hubctl does not know. Opening it
/// is refused before anything is read from or written to its tables, since this hubctl would
/// misread what the newer steps changed, or write rows the newer schema does not expect.
public struct HubFromNewerHubctl: Error, Sendable, CustomStringConvertible {
    /// Where the hub is (never with a password).
    public var location: String
    /// The identifiers of the steps this hubctl does not know, in the order they were applied.
    public var unknownSteps: [String]

    public init(location: String, unknownSteps: [String]) {
        self.location = location
        self.unknownSteps = unknownSteps
    }

    /// Why, without the hub's location: `this hub was upgraded by a newer hubctl (step "…")`.
    public var reason: String {
        let steps = unknownSteps.map { "\"\($0)\"" }.joined(separator: ", ")
        return "this hub was upgraded by a newer hubctl (\(unknownSteps.count == 1 ? "step" : "steps") \(steps)), "
            + "which this hubctl does not know; nothing was read or written"
    }

    public var description: String {
        "the hub at \(location) cannot be opened: \(reason); run that hubctl version or a newer one"
    }

    /// Why a process that had the hub open stops (see ``HubStore/refuseIfUpgraded()``), without the
    /// hub's location: `was upgraded by a newer hubctl (step "…") while this hubctl had it open, …`.
    public var whileOpen: String {
        let steps = unknownSteps.map { "\"\($0)\"" }.joined(separator: ", ")
        return "was upgraded by a newer hubctl (\(unknownSteps.count == 1 ? "step" : "steps") \(steps)) while this hubctl had it "
            + "open, and this hubctl does not know \(unknownSteps.count == 1 ? "that step" : "those steps")"
    }
}

extension HubStore {
    /// Throws ``HubFromNewerHubctl`` when a newer hubctl has upgraded the hub since this process
    /// opened it (one query): a long-running process, such as a worker, checks this now and
    /// then, since the check at open only covers what was there then.
    public func refuseIfUpgraded() throws {
        let applied = try read { tx in
            try tx.rows(isSQLite ? "SELECT identifier FROM grdb_migrations ORDER BY rowid"
                                 : "SELECT identifier FROM hub_migration ORDER BY applied_at, identifier")
                .map { $0["identifier"] as String }
        }
        try Self.refuseNewer(applied, location: location)
    }

    /// The identifiers of every schema step this hubctl knows.
    public static var knownMigrations: [String] { migrations.map(\.identifier) }

    /// Throws ``HubFromNewerHubctl`` when `applied` (in the order the steps were applied) holds a
    /// step this hubctl does not know.
    static func refuseNewer(_ applied: [String], location: String) throws {
        let known = Set(knownMigrations)
        let unknown = applied.filter { !known.contains($0) }
        if !unknown.isEmpty { throw HubFromNewerHubctl(location: location, unknownSteps: unknown) }
    }

    /// The steps GRDB has recorded in a SQLite hub, in the order they were applied (none in a
    /// new file); reads only.
    static func appliedSteps(_ db: Database) throws -> [String] {
        guard try db.tableExists("grdb_migrations") else { return [] }
        return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
    }
}
