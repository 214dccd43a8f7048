import Foundation
import HubCore
import HubStore
import HubSync

/// One line of progress on stderr, redrawn in place: the system × entity being read or written,
/// its records so far and the rate. Only on a terminal: piped or redirected, nothing is written.
/// `NO_COLOR` turns the bold system name off.
final class ProgressLine: Sendable {
    private struct State {
        var key = ""
        var keyStartedAt: Date
        var lastEventAt: Date
        var lastDrawAt = Date.distantPast
        var drawn = false
    }

    private let state: Locked<State>
    private let bold: Bool

    private init(now: Date, bold: Bool) {
        state = Locked(State(keyStartedAt: now, lastEventAt: now))
        self.bold = bold
    }

    /// A progress line when stderr is a terminal, else nil.
    static func onTerminal() -> ProgressLine? {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        let environment = ProcessInfo.processInfo.environment
        if environment["TERM"] == "dumb" { return nil }
        return ProgressLine(now: Date(), bold: environment["NO_COLOR"].map(\.isEmpty) ?? true)
    }

    /// `update` as the engine's progress callback.
    var callback: @Sendable (SyncProgress) -> Void { { [self] progress in self.update(progress) } }

    /// Redraws the line for `progress` (at most ten times a second).
    func update(_ progress: SyncProgress) {
        let now = Date()
        let text: String? = state.withLock { s in
            let key = "\(progress.system.rawValue) \(progress.entity.rawValue) \(progress.direction.rawValue)"
            if key != s.key {
                s.key = key
                s.keyStartedAt = s.lastEventAt
            }
            s.lastEventAt = now
            guard now.timeIntervalSince(s.lastDrawAt) >= 0.1 else { return nil }
            s.lastDrawAt = now
            s.drawn = true
            return Self.describe(progress, seconds: now.timeIntervalSince(s.keyStartedAt), bold: bold)
        }
        if let text { FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8)) }
    }

    /// Clears the line (before the report is printed).
    func finish() {
        let drawn = state.withLock { s in
            defer { s.drawn = false }
            return s.drawn
        }
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    /// `crm customer pull  4,210 read  380 changed  1,234/s`, `app customer push  380 written  12 unchanged  950/s`.
    static func describe(_ p: SyncProgress, seconds: Double, bold: Bool) -> String {
        let c = p.counts
        let written = c.created + c.updated + c.deleted
        let done = p.direction == .pull ? c.read : written + c.unchanged + c.skipped + c.failed
        let name = bold ? "\u{1B}[1m\(p.system.rawValue)\u{1B}[0m" : p.system.rawValue
        var parts = ["\(name) \(p.entity.rawValue) \(p.direction.rawValue)"]
        if p.direction == .pull {
            parts.append("\(grouped(c.read)) read")
            parts.append("\(grouped(written + c.linked)) changed")
        } else {
            parts.append("\(grouped(written)) written")
            if c.unchanged > 0 { parts.append("\(grouped(c.unchanged)) unchanged") }
        }
        if c.failed > 0 { parts.append("\(grouped(c.failed)) failed") }
        if seconds > 0.05 { parts.append("\(grouped(Int(Double(done) / seconds)))/s") }
        return parts.joined(separator: "  ")
    }

    static func grouped(_ n: Int) -> String {
        let digits = String(n)
        var out = ""
        for (i, ch) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return String(out.reversed())
    }
}
