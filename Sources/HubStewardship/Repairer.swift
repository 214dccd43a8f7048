import HubAudit
import HubCore
import HubStore

/// Applies a fix plan written by `hubctl audit --fix-plan`: each repair through the
/// ``Steward``, in order, each in its own transaction and stewardship entry.
public struct Repairer: Sendable {
    public let steward: Steward

    public init(steward: Steward) { self.steward = steward }

    /// What happened to one repair.
    public struct Result: Sendable {
        public enum Status: String, Sendable, Hashable {
            /// Applied (or, for a dry run, would be).
            case applied
            /// Already in place: nothing was written.
            case unchanged
            /// Refused or failed; the message says why.
            case failed
        }

        public var repair: Repair
        public var status: Status
        /// What was done, or why not.
        public var lines: [String]
        /// The stewardship entry that recorded it.
        public var entry: Int64?
    }

    /// Applies every repair of `plan`; a repair that is refused does not stop the others.
    /// - Parameter source: the plan's file name, kept in each entry's reason.
    /// - Throws: `HubLocked` when a run holds the hub (the repairs not applied yet are left).
    public func apply(_ plan: FixPlan, source: String, as who: Steward.Attribution, dryRun: Bool) async throws -> [Result] {
        var results: [Result] = []
        for repair in plan.repairs {
            let reason = who.reason ?? "repair plan \(source)" + (repair.because.map { ": \($0.rawValue)" } ?? "")
            let attribution = Steward.Attribution(by: who.by, reason: reason)
            do {
                let outcome = try await apply(repair, as: attribution, dryRun: dryRun)
                results.append(Result(repair: repair, status: outcome.nothingToDo ? .unchanged : .applied,
                                      lines: outcome.changes, entry: outcome.entry.id))
            } catch let locked as HubLocked {
                throw locked
            } catch {
                results.append(Result(repair: repair, status: .failed, lines: [String(describing: error)], entry: nil))
            }
        }
        return results
    }

    func apply(_ r: Repair, as who: Steward.Attribution, dryRun: Bool) async throws -> StewardshipOutcome {
        switch r.action {
        case .unlink:
            return try steward.unlink(r.entity, system: r.system, externalID: r.externalID, entityReference: .hub(r.hubID),
                                      mode: r.mode ?? .forget, as: who, dryRun: dryRun)
        case .link:
            return try await steward.link(r.entity, .hub(r.hubID), system: r.system, externalID: r.externalID!, as: who,
                                          dryRun: dryRun)
        case .relink:
            return try await steward.relink(r.entity, system: r.system, externalID: r.externalID!, to: .hub(r.hubID),
                                            expectedFrom: r.fromHubID, as: who, dryRun: dryRun)
        case .repush:
            return try await steward.repush(r.entity, .hub(r.hubID), system: r.system, as: who, dryRun: dryRun)
        }
    }
}
