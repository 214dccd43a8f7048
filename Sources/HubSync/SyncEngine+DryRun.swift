import Foundation
import HubCore
import HubStore

extension SyncEngine {
    /// Runs the cycle against a scratch copy of the hub, with writes to systems answered but
    /// not sent: the report is the plan, and neither the hub nor any system changes.
    func dryRun(_ options: SyncOptions) async throws -> SyncReport {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("hubctl-dry-run-\(UUID().uuidString).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: scratch + suffix) }
        }
        let copy = try store.copy(to: scratch)
        let engine = SyncEngine(runtime: runtime.mapSpokes { DryRunSpoke(base: $0) }, store: copy, clock: clock,
                                hubIDs: hubIDs, runIDs: runIDs, settings: settings)
        let runID = RunID(runIDs.next())
        let ctx = RunContext(runID: runID, report: SyncReport(runID: runID, dryRun: true, startedAt: Timestamp.string(clock.now())),
                             clock: clock)
        try await engine.cycle(options, ctx)
        ctx.report.finishedAt = ctx.now()
        return ctx.report
    }
}
