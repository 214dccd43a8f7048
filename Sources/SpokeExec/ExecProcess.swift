import Foundation
import HubCore

/// A running connector: a child process spoken to with one JSON object per line on its stdin,
/// answered with one JSON object per line on its stdout (docs/exec-protocol.md).
///
/// Started on first use and kept for the spoke's life; requests are sent one at a time, each
/// answered before the next is written. Its stderr is
/// copied to hubctl's stderr line by line, with the topology's secrets scrubbed.
actor ExecProcess {
    let system: SystemName
    let command: [String]
    let directory: String
    let settings: Value
    let timeout: Double
    let secrets: [String]

    private var process: Process?
    private var stdin: FileHandle?
    private var lines: LineQueue?
    private var nextID: Int64 = 0
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(system: SystemName, command: [String], directory: String, settings: Value, timeout: Double, secrets: Set<String>) {
        self.system = system
        self.command = command
        self.directory = directory
        self.settings = settings
        self.timeout = timeout
        self.secrets = secrets.filter { $0.count >= 4 }.sorted { $0.count > $1.count }
    }

    deinit {
        if let process, process.isRunning { process.terminate() }
    }

    /// Sends one request and returns the connector's answer (its `error` already turned into a ``SpokeError``).
    func request(_ op: String, _ fields: [String: Value], object: String?) async throws -> [String: Value] {
        if busy { await withCheckedContinuation { waiting.append($0) } } else { busy = true }
        defer { if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() } }
        if process == nil { try await start() }
        return try await exchange(op, fields, object: object)
    }

    /// Stops the connector.
    func stop() {
        try? stdin?.close()
        if let process, process.isRunning { process.terminate() }
        process = nil
        lines = nil
    }

    private func start() async throws {
        let process = Process()
        let program = command[0]
        process.executableURL = URL(fileURLWithPath: program.contains("/") ? Self.resolve(program, in: directory) : "/usr/bin/env")
        process.arguments = program.contains("/") ? Array(command.dropFirst()) : command
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw SpokeError(.configuration, system: system, message:
                "cannot start the connector '\(program)': \(error.localizedDescription); check connection.command")
        }
        self.process = process
        self.stdin = input.fileHandleForWriting
        let queue = LineQueue()
        let stdout = output.fileHandleForReading
        Thread.detachNewThread {
            for line in Self.blockingLines(stdout) { queue.push(line) }
            queue.close()
        }
        self.lines = queue
        let secrets = secrets, system = system
        Thread.detachNewThread {
            for line in Self.blockingLines(errors.fileHandleForReading) {
                var text = line
                for s in secrets { text = text.replacingOccurrences(of: s, with: "*****") }
                FileHandle.standardError.write(Data("[\(system)] \(text)\n".utf8))
            }
        }
        let hello = try await exchange("open", ["system": .string(system.rawValue), "settings": settings,
                                                "protocol": 1], object: nil)
        if let version = hello["protocol"]?.intValue, version != 1 {
            stop()
            throw SpokeError(.configuration, system: system, message: "the connector speaks protocol \(version); hubctl speaks 1")
        }
    }

    private func exchange(_ op: String, _ fields: [String: Value], object: String?) async throws -> [String: Value] {
        guard let stdin else { throw unavailable("the connector is not running", object) }
        nextID += 1
        let id = nextID
        var message = fields
        message["id"] = .int(id)
        message["op"] = .string(op)
        do {
            try stdin.write(contentsOf: Data((JSONWriter.string(.object(message)) + "\n").utf8))
        } catch {
            stop()
            throw unavailable("the connector stopped reading its input", object)
        }
        guard let line = try await nextLine(object: object) else {
            let status = process.map { $0.isRunning ? "still running" : "exit status \($0.terminationStatus)" } ?? "gone"
            stop()
            throw unavailable("the connector closed its output (\(status)); see its messages above", object)
        }
        guard case .object(let answer)? = try? JSONParser.parse(line) else {
            stop()
            throw SpokeError(.malformed, system: system, object: object,
                             message: "the connector answered \(op) with a line that is not a JSON object; it must print exactly one JSON object per line on stdout")
        }
        guard answer["id"]?.intValue == id else {
            stop()
            throw SpokeError(.malformed, system: system, object: object,
                             message: "the connector answered request \(id) (\(op)) with the id \(answer["id"]?.json ?? "nothing")")
        }
        if let error = answer["error"] {
            let kind = error.value(atPath: "kind")?.stringValue.flatMap(SpokeError.Kind.init(rawValue:)) ?? .unavailable
            var text = error.value(atPath: "message")?.stringValue ?? "the connector reported an error"
            for s in secrets { text = text.replacingOccurrences(of: s, with: "*****") }
            throw SpokeError(kind, system: system, object: object, message: text)
        }
        return answer
    }

    /// The next stdout line, or nil when the connector closed it; a request that takes longer
    /// than the timeout stops the connector.
    private func nextLine(object: String?) async throws -> String? {
        guard let queue = lines else { return nil }
        let timeout = timeout
        let line: String?? = await withTaskGroup(of: String??.self) { group in
            group.addTask { .some(await queue.next()) }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(timeout * 1_000_000_000))
                return .none
            }
            let first = await group.next() ?? .none
            group.cancelAll()
            // Frees the reader when the timer won.
            if first == nil { queue.close() }
            return first
        }
        guard let answered = line else {
            stop()
            throw unavailable("the connector did not answer within \(Int(timeout)) s (connection.timeout)", object)
        }
        return answered
    }

    private func unavailable(_ message: String, _ object: String?) -> SpokeError {
        SpokeError(.unavailable, system: system, object: object, message: message)
    }

    static func resolve(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
    }

    /// Reads `handle` to its end, line by line (blocking).
    static func blockingLines(_ handle: FileHandle) -> AnySequence<String> {
        AnySequence { () -> AnyIterator<String> in
            var buffer = Data()
            var finished = false
            return AnyIterator {
                while true {
                    if let newline = buffer.firstIndex(of: 0x0A) {
                        let line = buffer[buffer.startIndex..<newline]
                        buffer = Data(buffer[(newline + 1)...])
                        return String(decoding: line, as: UTF8.self)
                    }
                    if finished {
                        guard !buffer.isEmpty else { return nil }
                        defer { buffer = Data() }
                        return String(decoding: buffer, as: UTF8.self)
                    }
                    let chunk = handle.availableData
                    if chunk.isEmpty { finished = true } else { buffer.append(chunk) }
                }
            }
        }
    }
}
