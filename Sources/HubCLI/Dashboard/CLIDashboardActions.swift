import Foundation
import HubAdapters
import HubCore
import HubDashboard
import HubStewardship
import HubStore
import HubSync
import HubTopology

/// The dashboard's actions, wired to the very operations the CLI runs: `conflicts resolve`
/// (ConflictResolver), `quarantine retry` (the engine's retry) and `quarantine dismiss`
/// (Steward, recorded in the stewardship log).
struct CLIDashboardActions: DashboardActions {
    let topology: Topology
    let store: HubStore

    func resolveConflict(_ id: Int64, _ choice: ConflictChoice, by person: String) async throws -> String {
        let mapped: ConflictResolver.Choice = switch choice {
        case .take(let side): .take(side)
        case .value(let value): .value(value)
        }
        do {
            let c = try ConflictResolver(topology: topology, store: store).resolve(id, mapped, by: person)
            return "Conflict \(id) resolved by \(person): \(c.entity) \(c.hubID) \(c.field) takes \(c.winner ?? "?"). "
                + "The next sync-all sends it to every system."
        } catch let failure as ConflictResolver.Failure {
            throw DashboardActionError(failure.message)
        } catch let locked as HubLocked {
            throw DashboardActionError("\(locked.description); try again when the run has finished")
        }
    }

    func retryQuarantine(_ ids: [Int64]) async throws -> String {
        let open = try store.read { try $0.quarantineEntries(ids) }
        let openIDs = try store.read { try $0.openQuarantine(limit: 1_000_000) }.compactMap(\.id)
        for id in ids where !openIDs.contains(id) {
            throw DashboardActionError("no open quarantine entry \(id): it was retried, dismissed or synced since")
        }
        let report: SyncReport
        do {
            report = try await SyncRunner.engine(topology, store: store).retryQuarantine(ids)
        } catch let locked as HubLocked {
            throw DashboardActionError("\(locked.description); try again when the run has finished")
        }
        let after = try store.read { try $0.openQuarantine(limit: 1_000_000) }
        let still = open.filter { t in after.contains { $0.id == t.id || QuarantineCommand.Retry.same($0, t) } }.count
        var message = "Retried \(ids.count): \(ids.count - still) synced, \(still) still quarantined."
        for (system, error) in report.systemErrors.sorted(by: { $0.key < $1.key }) { message += " System '\(system)' failed: \(error)." }
        return message
    }

    func dismissQuarantine(_ ids: [Int64], reason: String, by person: String) async throws -> String {
        do {
            let closed = try Steward(runtime: SpokeFactory.runtime(topology), store: store)
                .dismissQuarantine(ids, as: Steward.Attribution(by: person, reason: reason))
            return "Dismissed " + closed.map { "#\($0.id ?? 0) \($0.system) \($0.entity) [\($0.reason)]" }.joined(separator: ", ")
                + " by \(person)."
        } catch let e as StewardshipError {
            throw DashboardActionError(e.description)
        } catch let locked as HubLocked {
            throw DashboardActionError("\(locked.description); try again when the run has finished")
        }
    }
}
