import Foundation

/// Runs the tools a person would use on each system (psql, curl, sqlite3) on a thread of its
/// own, so that servers inside the test process keep answering.
public enum ExternalTool {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `program` (looked up on PATH) with the process's environment and `environment` over it.
    public static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                    process.arguments = [program] + arguments
                    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                    let out = Pipe(), err = Pipe()
                    process.standardOutput = out
                    process.standardError = err
                    try process.run()
                    let stdout = out.fileHandleForReading.readDataToEndOfFile()
                    let stderr = err.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    continuation.resume(returning: Output(status: process.terminationStatus,
                                                          stdout: String(decoding: stdout, as: UTF8.self),
                                                          stderr: String(decoding: stderr, as: UTF8.self)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
