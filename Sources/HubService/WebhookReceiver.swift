import Foundation
import HubCore
import HubStore
import HubTopology
import Logging

/// What the listener answers to a webhook delivery.
public struct WebhookAnswer: Sendable, Equatable {
    /// The HTTP status.
    public var status: Int
    public var outcome: WebhookOutcome
    /// Seconds for a `Retry-After` header (with 503).
    public var retryAfter: Int?

    public init(status: Int, outcome: WebhookOutcome, retryAfter: Int? = nil) {
        self.status = status
        self.outcome = outcome
        self.retryAfter = retryAfter
    }
}

/// Takes `POST /hooks/{system}` deliveries: verifies them, refuses replays (delivery IDs are
/// kept in the hub, recorded by group commit), counts every outcome, and wakes the system
/// through the debouncer.
///
/// Memory stays bounded whatever the burst: at most `maxInFlight` deliveries are taken at once
/// (beyond that the answer is 503 with `Retry-After`, before the body is read), and the
/// debouncer keeps one pending wake per system.
public struct WebhookReceiver: Sendable {
    let topology: Topology
    let metrics: RunMetrics
    let debouncer: WakeDebouncer
    let ledger: WebhookLedger
    let clock: WallClock
    let logger: Logger
    let inFlight = Locked(0)
    /// How many deliveries are handled at once at most.
    public let maxInFlight: Int
    /// Bodies larger than this are refused.
    public static let maxBody = 1 << 20
    /// What a sender is told to wait before trying again after a 503.
    public static let retryAfter = 1

    /// - Parameters:
    ///   - ledger: records delivery IDs; by default one writing to the delivery store beside `store`.
    ///   - maxInFlight: deliveries handled at once; more are answered 503 at once.
    public init(topology: Topology, store: HubStore, metrics: RunMetrics, debouncer: WakeDebouncer, clock: WallClock = .system,
                logger: Logger, ledger: WebhookLedger? = nil, maxInFlight: Int = 256) throws {
        self.topology = topology
        self.metrics = metrics
        self.debouncer = debouncer
        self.clock = clock
        self.logger = logger
        self.maxInFlight = maxInFlight
        self.ledger = try ledger ?? WebhookLedger(store: store.webhookDeliveries(), keepFor: Self.keepFor(topology), clock: clock,
                                                  metrics: metrics)
    }

    /// How long delivery IDs are kept: twice the widest signature window of the topology, at
    /// least an hour (an older replay is refused as stale anyway).
    public static func keepFor(_ topology: Topology) -> TimeInterval {
        let widest = topology.systems.compactMap { $0.webhook?.tolerance }.max() ?? 300
        return min(max(2 * widest, 3600), 366 * 86400)
    }

    /// Handles one delivery whose body is already read.
    public func receive(system name: String, header: (String) -> String?, body: [UInt8]) async -> WebhookAnswer {
        await receive(system: name, header: header, readBody: { body })
    }

    /// Handles one delivery: takes a slot (or answers 503), reads the body with `readBody`
    /// (which throws `WebhookOutcome.tooLarge` when it is too large), verifies, records the ID and wakes the system.
    public func receive(system name: String, header: (String) -> String?,
                        readBody: () async throws -> [UInt8]) async -> WebhookAnswer {
        let known = topology.system(SystemName(name))?.webhook != nil
        let admitted = inFlight.withLock { n in
            guard n < maxInFlight else { return false }
            n += 1
            return true
        }
        let outcome: WebhookOutcome
        if admitted {
            defer { inFlight.withLock { $0 -= 1 } }
            do {
                let body = try await readBody()
                outcome = await classify(system: name, header: header, body: body)
            } catch let refused as WebhookOutcome {
                outcome = refused
            } catch {
                outcome = .incomplete
            }
        } else {
            outcome = .overloaded
        }
        // Unknown names are counted under one label, so a scan cannot grow the metrics.
        let label = known ? name : ""
        metrics.webhook(system: label, outcome: outcome.rawValue)
        let level: Logger.Level = switch outcome {
        case .accepted, .replayed: .info
        case .unrecorded: .error
        default: .warning
        }
        logger.log(level: level, "webhook \(outcome.rawValue)",
                   metadata: ["event": "webhook.\(outcome.rawValue)", "system": .string(label)])
        switch outcome {
        case .accepted, .replayed: return WebhookAnswer(status: 200, outcome: outcome)
        case .badSignature, .stale: return WebhookAnswer(status: 401, outcome: outcome)
        case .malformed, .incomplete: return WebhookAnswer(status: 400, outcome: outcome)
        case .unknownSystem: return WebhookAnswer(status: 404, outcome: outcome)
        case .tooLarge: return WebhookAnswer(status: 413, outcome: outcome)
        case .overloaded, .unrecorded: return WebhookAnswer(status: 503, outcome: outcome, retryAfter: Self.retryAfter)
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
            do {
                guard try await ledger.record(WebhookDeliveryID(system: system, id: id)) else { return .replayed }
            } catch {
                // Not answered 2xx, so the sender tries again and its ID is recorded then; the
                // wake is only a hint, so waking now costs one read at most.
                logger.error("cannot record the delivery ID in the hub: \(error)", metadata: ["event": "webhook.record_failed"])
                await debouncer.trigger(system, at: now, debounce: settings.debounce)
                return .unrecorded
            }
            await debouncer.trigger(system, at: now, debounce: settings.debounce)
            return .accepted
        }
    }
}
