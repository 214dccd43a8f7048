import Foundation
import HubCore
import HubTopology
import Logging

/// How `hubctl run` writes its log lines on stderr.
public enum LogFormat: String, Sendable, CaseIterable {
    /// One JSON object per line: `ts`, `level`, `event`, `message`, then the metadata
    /// (`run_id`, `system`, `entity`…).
    case json
    /// `2026-12-02T14:00:00.000Z info  cycle.finished  message  key=value…`.
    case text
}

/// A swift-log handler writing one line per entry to a file handle (stderr), every text
/// passed through the topology's secret redactor first.
public struct LineLogHandler: LogHandler, Sendable {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let format: LogFormat
    let redactor: SecretRedactor
    let label: String
    let sink: LogSink

    public init(label: String, format: LogFormat, level: Logger.Level, redactor: SecretRedactor, sink: LogSink = .standardError) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.redactor = redactor
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        let eventName = all.removeValue(forKey: "event").map { "\($0)" } ?? label
        let time = Timestamp.string(Date())
        let message = redactor.redact(event.message.description)
        let line: String
        switch format {
        case .json:
            // The fixed keys first, so a person reading the raw lines finds them at once.
            var parts = [("ts", Value.string(time)), ("level", .string(event.level.rawValue)), ("event", .string(eventName)),
                         ("message", .string(message))]
            let fixed = Set(parts.map(\.0))
            parts += all.filter { !fixed.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, Self.json($0.value, redactor)) }
            line = "{" + parts.map { JSONWriter.string(.string($0.0)) + ":" + JSONWriter.string($0.1) }.joined(separator: ",") + "}"
        case .text:
            let pairs = all.sorted { $0.key < $1.key }.map { "\($0.key)=\(redactor.redact("\($0.value)"))" }
            let level = event.level.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
            line = ([time, level, eventName, message] + pairs).joined(separator: " ")
        }
        sink.write(line + "\n")
    }

    static func json(_ value: Logger.MetadataValue, _ redactor: SecretRedactor) -> Value {
        switch value {
        case .string(let s): return .string(redactor.redact(s))
        case .stringConvertible(let c):
            if let i = c as? Int { return .int(Int64(i)) }
            if let d = c as? Double { return .double(d) }
            if let b = c as? Bool { return .bool(b) }
            return .string(redactor.redact(c.description))
        case .array(let a): return .array(a.map { json($0, redactor) })
        case .dictionary(let d): return .object(d.mapValues { json($0, redactor) })
        }
    }
}

/// Where log lines go: stderr, or (in tests) a buffer.
public final class LogSink: Sendable {
    private let lock = NSLock()
    nonisolated(unsafe) private var buffer: [String]?

    /// On a terminal, each line first clears the current one (a progress line drawn there).
    private let clearsLine: Bool

    private init(buffered: Bool) {
        buffer = buffered ? [] : nil
        clearsLine = !buffered && isatty(STDERR_FILENO) == 1
    }

    /// Lines to the process's stderr.
    public static let standardError = LogSink(buffered: false)

    /// Lines kept in memory (`lines`).
    public static func memory() -> LogSink { LogSink(buffered: true) }

    public var lines: [String] {
        lock.lock(); defer { lock.unlock() }
        return buffer ?? []
    }

    func write(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        if buffer != nil {
            buffer!.append(line)
        } else {
            FileHandle.standardError.write(Data(((clearsLine ? "\r\u{1B}[K" : "") + line).utf8))
        }
    }
}
