import Dispatch
import Foundation
import HubCore
import HubStore

/// Records webhook delivery IDs in the hub by group commit.
///
/// A delivery waits for the commit that records its ID, then is answered. The deliveries that
/// arrive while a commit is under way wait for the next one, which records all their IDs in a
/// single transaction: a burst costs a handful of fsyncs instead of one per delivery, and the
/// batch grows by itself as commits get slower. Commits run one at a time on a thread of their
/// own, so no thread of Swift's concurrency pool (which answers HTTP and runs the cycles) is
/// ever blocked waiting for the hub.
public final class WebhookLedger: Sendable {
    /// Records a batch in one transaction; for each delivery, in order, whether it is new.
    public typealias Commit = @Sendable ([WebhookDeliveryID]) throws -> [Bool]

    private struct Waiting: Sendable {
        var delivery: WebhookDeliveryID
        var continuation: CheckedContinuation<Bool, any Error>
    }

    private struct State: Sendable {
        var waiting: [Waiting] = []
        var committing = false
    }

    private let state = Locked(State())
    private let queue = DispatchQueue(label: "hubctl.webhook-ledger")
    private let commit: Commit
    private let metrics: RunMetrics?

    /// - Parameter commit: records a batch (``WebhookDeliveryStore/record(_:at:keepFor:)`` in
    ///   `hubctl run`).
    public init(metrics: RunMetrics? = nil, commit: @escaping Commit) {
        self.metrics = metrics
        self.commit = commit
    }

    /// A ledger writing to `store`, forgetting IDs after `keepFor` seconds.
    public convenience init(store: WebhookDeliveryStore, keepFor: TimeInterval, clock: WallClock = .system,
                            metrics: RunMetrics? = nil) {
        self.init(metrics: metrics) { batch in
            try store.record(batch, at: clock.now(), keepFor: keepFor)
        }
    }

    /// How many deliveries wait for the next commit (not counting the one under way).
    public var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Records `delivery`'s ID once it is committed with the others waiting beside it; false
    /// when the hub already held it (a replay). Throws what the commit threw.
    public func record(_ delivery: WebhookDeliveryID) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { s in
                s.waiting.append(Waiting(delivery: delivery, continuation: continuation))
                if s.committing { return false }
                s.committing = true
                return true
            }
            if start { queue.async { self.drain() } }
        }
    }

    /// Commits batches until nobody waits.
    private func drain() {
        while true {
            let batch = state.withLock { s in
                let batch = s.waiting
                s.waiting = []
                if batch.isEmpty { s.committing = false }
                return batch
            }
            if batch.isEmpty { return }
            let started = ContinuousClock.now
            let outcome = Result { try commit(batch.map(\.delivery)) }
            metrics?.webhookCommit(deliveries: batch.count, seconds: (ContinuousClock.now - started).seconds)
            switch outcome {
            case .success(let fresh) where fresh.count == batch.count:
                for (w, isNew) in zip(batch, fresh) { w.continuation.resume(returning: isNew) }
            case .success:
                let error = HubStoreError("the hub answered for a different number of deliveries than were recorded")
                for w in batch { w.continuation.resume(throwing: error) }
            case .failure(let error):
                for w in batch { w.continuation.resume(throwing: error) }
            }
        }
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
