import Foundation
import HubCore

/// A running connector: a child process spoken to with one JSON object per line on its stdin,
/// answered with one JSON object per line on its stdout (docs/exec-protocol.md).
///
/// Started on first use and kept for the spoke's life; requests are sent one at a time, each
/// answered before the next is written. Its stderr is copied to hubctl's stderr line by line,
/// with the topology's secrets scrubbed. A connector that does not answer in time, answers
/// out of protocol or sends a line longer than the limit is terminated (see ``ChildProcess``).
actor ExecProcess {
    let system: SystemName
    let command: [String]
    let directory: String
    let settings: Value
    let timeout: Double
    let maxLineBytes: Int
    let secrets: SecretRedactor
    /// Seconds between SIGTERM and SIGKILL when the connector is stopped.
    let grace: Double

    private var child: ChildProcess?
    private var lines: LineQueue?
    private var nextID: Int64 = 0
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(system: SystemName, command: [String], directory: String, settings: Value, timeout: Double, maxLineBytes: Int,
         grace: Double, secrets: Set<String>) {
        self.system = system
        self.command = command
        self.directory = directory
        self.settings = settings
        self.timeout = timeout
        self.maxLineBytes = maxLineBytes
        self.grace = grace
        self.secrets = SecretRedactor(secrets)
    }

    deinit {
        if let child { Thread.detachNewThread { [grace] in child.terminate(grace: grace) } }
    }

    /// Sends one request and returns the connector's answer (its `error` already turned into a ``SpokeError``).
    func request(_ op: String, _ fields: [String: Value], object: String?) async throws -> [String: Value] {
        if busy { await withCheckedContinuation { waiting.append($0) } } else { busy = true }
        defer { if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() } }
        if child == nil { try await start() }
        return try await exchange(op, fields, object: object)
    }

    /// The connector's process ID while it runs.
    var processID: Int32? { child?.pid }

    /// Stops the connector and everything it started: its stdin closed, SIGTERM to its process
    /// group, SIGKILL after the grace period; returns once it is reaped.
    func stop() async {
        guard let child else { return }
        self.child = nil
        lines?.close()
        lines = nil
        let grace = grace
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                child.terminate(grace: grace)
                done.resume()
            }
        }
    }

    private func start() async throws {
        let program = command[0]
        let arguments = [program.contains("/") ? Self.resolve(program, in: directory) : program] + command.dropFirst()
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(arguments, directory: directory)
        } catch {
            throw SpokeError(.configuration, system: system, message:
                "cannot start the connector '\(program)': \(error.description); check connection.command")
        }
        self.child = child
        let queue = LineQueue()
        self.lines = queue
        let limit = maxLineBytes
        Thread.detachNewThread {
            queue.close(LineSplitter.read(child.stdout, limit: limit, overflow: .fail) { queue.push($0) })
            _ = close(child.stdout)
        }
        let secrets = secrets, system = system
        Thread.detachNewThread {
            _ = LineSplitter.read(child.stderr, limit: 1 << 16, overflow: .split) { line in
                FileHandle.standardError.write(Data("[\(system)] \(secrets.redact(line))\n".utf8))
            }
            _ = close(child.stderr)
        }
        let hello = try await exchange("open", ["system": .string(system.rawValue), "settings": settings,
                                                "protocol": 1], object: nil)
        if let version = hello["protocol"]?.intValue, version != 1 {
            await stop()
            throw SpokeError(.configuration, system: system, message: "the connector speaks protocol \(version); hubctl speaks 1")
        }
    }

    private func exchange(_ op: String, _ fields: [String: Value], object: String?) async throws -> [String: Value] {
        guard let child else { throw unavailable("the connector is not running", object) }
        nextID += 1
        let id = nextID
        var message = fields
        message["id"] = .int(id)
        message["op"] = .string(op)
        guard child.write(JSONWriter.bytes(.object(message)) + [0x0A]) else {
            await stop()
            throw unavailable("the connector stopped reading its input", object)
        }
        let line: String
        switch try await nextLine(op: op, object: object) {
        case .line(let text):
            line = text
        case .end:
            let status = child.poll().map { "exit status \($0)" } ?? "still running"
            await stop()
            throw unavailable("the connector closed its output (\(status)); see its messages above", object)
        case .tooLong(let limit):
            await stop()
            throw SpokeError(.malformed, system: system, object: object, message:
                "the connector's answer to \(op) is longer than \(Self.megabytes(limit)) on one line (connection.max_line_mb); "
                    + "answer with smaller pages (it may return fewer records than the limit asks) or raise max_line_mb")
        case .invalidUTF8:
            await stop()
            throw SpokeError(.malformed, system: system, object: object, message:
                "the connector answered \(op) with a line that is not UTF-8; it must print JSON encoded as UTF-8 "
                    + "(text that is not UTF-8 is never repaired into other text)")
        }
        let parsed: Value
        do { parsed = try JSONParser.parse(line) } catch {
            await stop()
            let reason = (error as? JSONSyntaxError).map { " (\($0.message), at column \($0.position.column))" } ?? ""
            throw SpokeError(.malformed, system: system, object: object,
                             message: "the connector answered \(op) with a line that is not a JSON object\(reason); "
                                 + "it must print exactly one JSON object per line on stdout")
        }
        guard case .object(let answer) = parsed else {
            await stop()
            throw SpokeError(.malformed, system: system, object: object,
                             message: "the connector answered \(op) with a line that is not a JSON object; it must print exactly one JSON object per line on stdout")
        }
        guard answer["id"]?.intValue == id else {
            await stop()
            throw SpokeError(.malformed, system: system, object: object,
                             message: "the connector answered request \(id) (\(op)) with the id \(answer["id"]?.json ?? "nothing")")
        }
        if let error = answer["error"] {
            let kind = error.value(atPath: "kind")?.stringValue.flatMap(SpokeError.Kind.init(rawValue:)) ?? .unavailable
            let text = error.value(atPath: "message")?.stringValue ?? "the connector reported an error"
            throw SpokeError(kind, system: system, object: object, message: secrets.redact(text))
        }
        return answer
    }

    /// The next stdout line; a request that takes longer than the timeout stops the connector.
    private func nextLine(op: String, object: String?) async throws -> LineEvent {
        guard let queue = lines else { return .end }
        let timeout = timeout
        let event: LineEvent? = await withTaskGroup(of: LineEvent?.self) { group in
            group.addTask { await queue.next() }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(timeout * 1_000_000_000))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            // Frees the reader when the timer won.
            if first == nil { queue.close() }
            return first
        }
        guard let event else {
            await stop()
            throw unavailable("the connector did not answer \(op) within \(Self.seconds(timeout)) s (connection.timeout); it was stopped", object)
        }
        return event
    }

    private func unavailable(_ message: String, _ object: String?) -> SpokeError {
        SpokeError(.unavailable, system: system, object: object, message: message)
    }

    static func resolve(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    static func megabytes(_ bytes: Int) -> String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20) MB" : "\(bytes) bytes"
    }
}
