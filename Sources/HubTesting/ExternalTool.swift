import Foundation

/// Runs the tools a person would use on each system (psql, curl, sqlite3).
///
/// What a tool prints goes to temporary files, not pipes: a pipe's write end is inherited by
/// every process another test starts at the same moment, and a reader waiting for the end of a
/// pipe would wait for those processes too (a long `hubctl run` held a whole suite once).
public enum ExternalTool {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `program` on a thread of its own, so that servers inside the test process keep
    /// answering while it runs.
    public static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try runSync(program, arguments, environment: environment) })
            }
        }
    }

    /// Runs `program` (looked up on PATH) with the process's environment and `environment` over
    /// it, and waits for it on the calling thread: only for tools that need nothing from the
    /// test process (sqlite3 on a file).
    public static func runSync(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let temporary = FileManager.default.temporaryDirectory
        let outFile = temporary.appendingPathComponent("tool-out-\(UUID().uuidString)")
        let errFile = temporary.appendingPathComponent("tool-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outFile)
            try? FileManager.default.removeItem(at: errFile)
        }
        let out = try FileHandle(forWritingTo: outFile), err = try FileHandle(forWritingTo: errFile)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? out.close()
        try? err.close()
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: outFile, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: errFile, encoding: .utf8)) ?? "")
    }
}
