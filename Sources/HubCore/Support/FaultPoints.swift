import Foundation

/// A named boundary in the product code where a test can crash or fail the process.
///
/// Inert unless `HUBCTL_FAULTS` is set (it never is in production): `hit` then only counts.
/// The reliability battery kills `hubctl` at every point in turn and checks that a recovery run
/// loses and duplicates nothing.
public enum FaultPoint: String, CaseIterable, Sendable {
    /// The run holds the hub's lock.
    case runAfterLock
    /// A page was read from a system, before the hub transaction that merges it.
    case readAfterPageFetched
    /// A page's merge and cursor are committed.
    case readAfterPageCommit
    /// In the middle of a page's merge transaction (after some records were written).
    case mergeMidTransaction
    /// Deletes found in a system are committed.
    case deletesAfterCommit
    /// Create intents (and pending links) are committed; the system has not been asked yet.
    case createAfterIntentCommit
    /// The system answered a batch of writes; the hub has not recorded it yet.
    case pushAfterResponse
    /// A pushed batch's links, bases and push mark are committed.
    case pushAfterCommit
    /// Open intents from an earlier run were looked up in the system, before the hub records it.
    case recoveryAfterLookup
    /// A file spoke wrote its temporary file, before renaming it over the original.
    case fileAfterTempWrite
    /// A file spoke renamed its temporary file over the original.
    case fileAfterRename
    /// A SQLite spoke committed a batch in the system's database.
    case sqliteAfterCommit
    /// A quarantine entry is being written with other effects of its page.
    case quarantineMidWrite
    /// Everything is done except recording the end of the run.
    case runBeforeComplete
}

/// What a fault does when it fires.
public enum FaultAction: String, Sendable {
    /// SIGKILL the process: no cleanup, no flush, like a power cut of the process.
    case crash
    /// Throw ``InjectedFault`` from the fault point.
    case `throw`
    /// Wait half a second (to hold the run at a boundary while a test acts).
    case pause
    /// SIGSTOP the process: it stays at the boundary until a test sends SIGCONT (a worker
    /// paused past its lease).
    case stop
}

/// Thrown by a fault point configured with `throw`.
public struct InjectedFault: Error, Sendable, CustomStringConvertible {
    public var point: FaultPoint
    public var description: String { "injected fault at \(point.rawValue)" }
}

/// The process's fault points, configured from the environment:
/// `HUBCTL_FAULTS="createAfterIntentCommit@3:crash,pushAfterResponse@1:throw"` fires the 3rd
/// hit of one point and the 1st of another (actions: `crash`, `throw`, `pause`, `stop`); `HUBCTL_FAULT_LEDGER=/path` appends `point n` for
/// every hit, so a test can check every point was reached.
public final class FaultPoints: Sendable {
    /// The process-wide instance, read from the environment once.
    public static let shared = FaultPoints(environment: ProcessInfo.processInfo.environment)

    /// Fault points for the current task instead of ``shared``: an in-process test scopes its
    /// own (`FaultPoints.$scoped.withValue(FaultPoints(environment: [...])) { … }`) without
    /// touching the process's environment or other tests running beside it.
    @TaskLocal public static var scoped: FaultPoints?

    struct Spec: Sendable {
        var nth: Int
        var action: FaultAction
    }

    private let specs: [FaultPoint: Spec]
    private let ledgerPath: String?
    private let lock = NSLock()
    nonisolated(unsafe) private var counts: [FaultPoint: Int] = [:]

    /// True when any fault or the ledger is configured.
    public let isActive: Bool

    public init(environment: [String: String]) {
        var specs: [FaultPoint: Spec] = [:]
        for item in (environment["HUBCTL_FAULTS"] ?? "").split(separator: ",") {
            // point@n:action
            let parts = item.split(separator: ":")
            let target = parts.first.map(String.init) ?? ""
            let action = parts.count > 1 ? FaultAction(rawValue: String(parts[1])) ?? .crash : .crash
            let pointAndN = target.split(separator: "@")
            guard let name = pointAndN.first, let point = FaultPoint(rawValue: String(name)) else { continue }
            let nth = pointAndN.count > 1 ? Int(pointAndN[1]) ?? 1 : 1
            specs[point] = Spec(nth: nth, action: action)
        }
        self.specs = specs
        self.ledgerPath = environment["HUBCTL_FAULT_LEDGER"]
        self.isActive = !specs.isEmpty || ledgerPath != nil
    }

    /// Marks a boundary. Crashes or throws when configured to for this hit.
    public func hit(_ point: FaultPoint) throws {
        guard isActive else { return }
        lock.lock()
        let n = (counts[point] ?? 0) + 1
        counts[point] = n
        lock.unlock()
        if let ledgerPath { Self.append("\(point.rawValue) \(n)\n", to: ledgerPath) }
        guard let spec = specs[point], spec.nth == n else { return }
        switch spec.action {
        case .crash:
            kill(getpid(), SIGKILL)
            // SIGKILL cannot be caught; this line is never reached.
            fatalError("SIGKILL did not stop the process")
        case .throw:
            throw InjectedFault(point: point)
        case .pause:
            usleep(500_000)
        case .stop:
            kill(getpid(), SIGSTOP)
        }
    }

    /// Appends with one unbuffered write, so the line survives a SIGKILL right after.
    static func append(_ line: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { return }
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}

/// Marks a fault point of the process, or of the task when it scoped its own (see ``FaultPoints``).
@inline(__always)
public func faultPoint(_ point: FaultPoint) throws {
    try (FaultPoints.scoped ?? FaultPoints.shared).hit(point)
}
