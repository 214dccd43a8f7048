import Foundation
import HubCore
import HubStore
import HubTopology
import Logging

/// Takes `POST /hooks/{system}` deliveries: verifies them, refuses replays (delivery IDs are
/// kept in the hub), counts every outcome, and wakes the system through the debouncer.
public struct WebhookReceiver: Sendable {
    let topology: Topology
    let store: HubStore
    let metrics: RunMetrics
    let debouncer: WakeDebouncer
    let clock: WallClock
    let logger: Logger
    /// Bodies larger than this are refused.
    public static let maxBody = 1 << 20

    public init(topology: Topology, store: HubStore, metrics: RunMetrics, debouncer: WakeDebouncer, clock: WallClock = .system,
                logger: Logger) {
        self.topology = topology
        self.store = store
        self.metrics = metrics
        self.debouncer = debouncer
        self.clock = clock
        self.logger = logger
    }

    /// Handles one delivery; the HTTP status to answer and what became of it.
    public func receive(system name: String, header: (String) -> String?, body: [UInt8]) async -> (status: Int, outcome: WebhookOutcome) {
        let outcome = await classify(system: name, header: header, body: body)
        // Unknown names are counted under one label, so a scan cannot grow the metrics.
        let label = outcome == .unknownSystem ? "" : name
        metrics.webhook(system: label, outcome: outcome.rawValue)
        let level: Logger.Level = outcome == .accepted || outcome == .replayed ? .info : .warning
        logger.log(level: level, "webhook \(outcome.rawValue)",
                   metadata: ["event": "webhook.\(outcome.rawValue)", "system": .string(label)])
        switch outcome {
        case .accepted, .replayed: return (200, outcome)
        case .badSignature, .stale: return (401, outcome)
        case .malformed: return (400, outcome)
        case .unknownSystem: return (404, outcome)
        case .tooLarge: return (413, outcome)
        }
    }

    func classify(system name: String, header: (String) -> String?, body: [UInt8]) async -> WebhookOutcome {
        let system = SystemName(name)
        guard let settings = topology.system(system)?.webhook else { return .unknownSystem }
        if body.count > Self.maxBody { return .tooLarge }
        let now = clock.now()
        switch WebhookVerifier(settings).verify(header: header, body: body, now: now) {
        case .failure(let outcome):
            return outcome
        case .success(let id):
            // Kept twice the signature window: an older replay is refused as stale anyway.
            let keep = max(2 * settings.tolerance, 3600)
            let isNew: Bool
            do {
                isNew = try store.recordWebhookDelivery(system: system, id: id, at: now, keepFor: keep)
            } catch {
                // A wake is only a hint: waking on a delivery that might be a replay costs one read.
                logger.error("cannot record the delivery ID in the hub: \(error)", metadata: ["event": "webhook.record_failed"])
                isNew = true
            }
            guard isNew else { return .replayed }
            await debouncer.trigger(system, at: now, debounce: settings.debounce)
            return .accepted
        }
    }
}
