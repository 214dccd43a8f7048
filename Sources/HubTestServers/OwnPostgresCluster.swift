import Foundation
import HubTesting

/// A PostgreSQL 15 cluster of a test's own (scripts/pg-cluster.sh), for faults that would disturb
/// other tests on the shared cluster: restarting or crashing the server. Root or a sudoer only.
public struct OwnPostgresCluster: Sendable {
    static let binaries = "/usr/lib/postgresql/15/bin"
    /// The cluster can be made here; on CI a test needing it runs (and fails) without.
    public static var available: Bool { FileManager.default.isExecutableFile(atPath: binaries + "/initdb") }
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/pg-cluster.sh").path

    public let directory: String
    public let port: Int
    public let password: String
    public let user = "hubctl", database = "hubctl_test", host = "127.0.0.1"

    /// A tool the cluster needs failed, or PostgreSQL 15 is not installed.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Makes and starts a cluster on a free port with a random password.
    public static func start() async throws -> OwnPostgresCluster {
        guard available else {
            throw Failure(description: "CI=true but no PostgreSQL 15 in \(binaries): install postgresql-15 (.ci/run does)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("own-pg-\(UUID().uuidString.prefix(8))").path
        let port = Int(try await must("python3", ["-c",
            "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1]); s.close()"])
            .trimmingCharacters(in: .whitespacesAndNewlines))!
        let password = "pw-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let cluster = OwnPostgresCluster(directory: directory, port: port, password: password)
        do {
            // Commits durable across a crash (`restart immediate`): with the shared cluster's
            // `synchronous_commit = off` a crash forgets the last commits (the hub's and the
            // systems' alike), and a test would count what the server lost as hubctl's loss.
            try await must(script, ["start", directory, String(port), "-c synchronous_commit=on"], environment: ["PG_PASSWORD": password])
        } catch {
            cluster.stop()
            throw error
        }
        return cluster
    }

    /// `pg_ctl restart -m fast` (sessions ended cleanly) or `-m immediate` (a crash, then recovery).
    public func restart(_ mode: String) async throws {
        try await Self.must(Self.script, ["restart", directory, mode])
    }

    /// Stops the server and removes its folder (synchronously: also from a `defer`).
    public func stop() {
        _ = try? ExternalTool.runSync(Self.script, ["stop", directory])
    }

    /// A query as the `hubctl` role; the result unaligned, `|`-separated.
    public func psql(_ sql: String) async throws -> String {
        try await Self.must("psql", ["-h", host, "-p", String(port), "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1",
                                     "-qAtX", "-c", sql], environment: ["PGPASSWORD": password])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @discardableResult
    static func must(_ program: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        let out = try await ExternalTool.run(program, arguments, environment: environment)
        guard out.status == 0 else { throw Failure(description: "\(program) exited \(out.status): \(out.stderr)") }
        return out.stdout
    }
}
