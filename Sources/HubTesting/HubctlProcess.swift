import Foundation
import HubCore

/// Runs the built `hubctl` binary and captures what it printed.
public struct HubctlProcess {
    public struct Result: Sendable {
        public var exitCode: Int32
        /// True when the process was killed by a signal (then `exitCode` is the signal).
        public var killedBySignal: Bool
        public var stdout: String
        public var stderr: String

        /// stdout parsed as one JSON document (the whole envelope).
        public func json() throws -> Value { try JSONParser.parse(stdout) }

        /// The `result` of the JSON envelope every `--json` output shares.
        public func result() throws -> Value {
            let document = try json()
            guard let result = document.objectValue?["result"] else {
                throw NotADocument(output: String(stdout.prefix(200)))
            }
            return result
        }
    }

    /// stdout was JSON but not hubctl's envelope.
    public struct NotADocument: Error, CustomStringConvertible {
        public var output: String
        public var description: String { "the output is not a hubctl JSON document (no 'result'): \(output)" }
    }

    /// The `hubctl` executable next to the test bundle.
    public static var executable: URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("hubctl"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("hubctl"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/hubctl"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    /// Runs `hubctl` with `arguments` and waits for it.
    public static func run(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]) throws -> Result {
        try start(arguments, in: directory, environment: environment).wait()
    }

    /// Starts `hubctl` without waiting; in the PostgreSQL pass of the end-to-end tests, on the
    /// fixture's PostgreSQL hub (see ``EndToEndHub``).
    public static func start(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]) throws
        -> Running
    {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        env["HUBCTL_TOPOLOGY"] = nil
        env["HUBCTL_HUB"] = nil
        env["HUBCTL_HUB_SCHEMA"] = nil
        env["HUBCTL_FAULTS"] = nil
        env["HUBCTL_FAULT_LEDGER"] = nil
        for (k, v) in EndToEndHub.variables(arguments: arguments, directory: directory, given: environment) { env[k] = v }
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("hubctl-out-\(UUID().uuidString)")
        let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("hubctl-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outFile)
        process.standardError = try FileHandle(forWritingTo: errFile)
        try process.run()
        return Running(process: process, outFile: outFile, errFile: errFile)
    }

    /// A started `hubctl` process.
    public struct Running {
        public let process: Process
        let outFile: URL
        let errFile: URL

        /// The process ID.
        public var pid: Int32 { process.processIdentifier }

        /// What the process has written to stderr so far (it keeps running).
        public func stderrSoFar() -> String { (try? String(contentsOf: errFile, encoding: .utf8)) ?? "" }

        /// Waits for the process to end and collects what it printed.
        public func wait() -> Result {
            process.waitUntilExit()
            let out = (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
            let err = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: outFile)
            try? FileManager.default.removeItem(at: errFile)
            return Result(exitCode: process.terminationStatus, killedBySignal: process.terminationReason == .uncaughtSignal,
                          stdout: out, stderr: err)
        }
    }
}

/// A temporary folder removed when the test ends.
public final class TemporaryDirectory {
    public let path: String
    public init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("hubctl-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
