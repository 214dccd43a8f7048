import Foundation
import HubCore
import HubTesting

/// Runs the tools a person would use on each system (psql, curl, sqlite3), off Swift's
/// cooperative threads so that servers inside the test process keep answering.
enum SystemTools {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `program` (looked up on PATH) and waits for it on a thread of its own.
    static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> Output {
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

    /// Runs a tool and fails unless it exits 0; returns its stdout.
    @discardableResult
    static func must(_ program: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        let out = try await run(program, arguments, environment: environment)
        guard out.status == 0 else { throw ToolFailure(message: "\(program) exited \(out.status): \(out.stderr)") }
        return out.stdout
    }

    /// Runs the built hubctl off the cooperative threads.
    static func hubctl(_ arguments: [String], environment: [String: String]) async throws -> HubctlProcess.Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try HubctlProcess.run(arguments, environment: environment) })
            }
        }
    }
}

struct ToolFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
