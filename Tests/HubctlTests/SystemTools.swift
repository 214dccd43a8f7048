import Foundation
import HubCore
import HubTesting

/// Runs the tools a person would use on each system (psql, curl, sqlite3), off Swift's
/// cooperative threads so that servers inside the test process keep answering.
enum SystemTools {
    typealias Output = ExternalTool.Output

    /// Runs `program` (looked up on PATH) and waits for it on a thread of its own.
    static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> Output {
        try await ExternalTool.run(program, arguments, environment: environment)
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
