import Foundation
import HubCore
import HubStore

/// The mutable state of one run: its report, the references waiting for their target, and a
/// strictly increasing observation clock. Lives for one `syncAll` call, on one task.
final class RunContext {
    let runID: RunID
    var report: SyncReport
    /// What every hub write of this run checks first: the run lock it holds, or the work unit a
    /// worker holds (none for dry runs, which work on a scratch copy).
    var fence: HubFence?
    private var lastObservation: Int64 = 0
    let clock: WallClock

    /// A pulled reference whose target was not linked yet when its record was merged.
    struct PendingPullRef {
        var system: SystemName
        var entity: EntityName
        var hubID: HubID
        var field: String
        var target: EntityName
        var targetExternalID: ExternalID
        var observedAt: String
    }

    /// A pushed record written without a reference whose target was not in the system yet.
    struct PendingPushRef: Hashable {
        var system: SystemName
        var entity: EntityName
        var hubID: HubID
        var field: String
    }

    /// Adds a quarantine entry to the report once: a record quarantined again in the same run
    /// (retried, then read again) replaces its earlier line.
    func noteQuarantined(_ entry: QuarantineEntry) {
        if let id = entry.id, let i = report.quarantined.firstIndex(where: { $0.id == id }) {
            report.quarantined[i] = entry
        } else {
            report.quarantined.append(entry)
        }
    }

    var pendingPullRefs: [PendingPullRef] = []
    var pendingPushRefs: [PendingPushRef] = []

    init(runID: RunID, report: SyncReport, clock: WallClock) {
        self.runID = runID
        self.report = report
        self.clock = clock
    }

    private var lastNow: (ms: Int64, text: String) = (.min, "")

    /// Now, as a hub timestamp (formatted once per millisecond: it is asked for per record).
    func now() -> String {
        let ms = Int64((clock.now().timeIntervalSince1970 * 1000).rounded(.down))
        if ms != lastNow.ms { lastNow = (ms, Timestamp.string(Date(timeIntervalSince1970: Double(ms) / 1000))) }
        return lastNow.text
    }

    /// An observation time later than every earlier one in this run, so that "newest" follows
    /// the order in which changes were seen when a system has no change time of its own.
    func observationTime() -> String {
        var ms = Int64((clock.now().timeIntervalSince1970 * 1000).rounded(.down))
        if ms <= lastObservation { ms = lastObservation + 1 }
        lastObservation = ms
        return Timestamp.string(Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
