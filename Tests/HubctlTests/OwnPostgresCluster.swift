import Foundation
import HubTestServers
import HubTesting

/// A PostgreSQL 15 cluster of a test's own (scripts/pg-cluster.sh), for faults that would disturb
/// other tests on the shared cluster: restarting or crashing the server. Root or a sudoer only.
struct OwnPostgresCluster {
    static let binaries = "/usr/lib/postgresql/15/bin"
    /// The cluster can be made here; on CI a test needing it runs (and fails) without.
    static var available: Bool { FileManager.default.isExecutableFile(atPath: binaries + "/initdb") }
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/pg-cluster.sh").path

    let directory: String
    let port: Int
    let password: String
    let user = "hubctl", database = "hubctl_test", host = "127.0.0.1"

    /// Makes and starts a cluster on a free port with a random password.
    static func start() async throws -> OwnPostgresCluster {
        guard available else {
            throw ToolFailure(message: "CI=true but no PostgreSQL 15 in \(binaries): install postgresql-15 (.ci/run does)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("own-pg-\(UUID().uuidString.prefix(8))").path
        let port = Int(try await SystemTools.must("python3", ["-c",
            "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1]); s.close()"])
            .trimmingCharacters(in: .whitespacesAndNewlines))!
        let password = "pw-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let cluster = OwnPostgresCluster(directory: directory, port: port, password: password)
        do {
            try await SystemTools.must(script, ["start", directory, String(port)], environment: ["PG_PASSWORD": password])
        } catch {
            cluster.stop()
            throw error
        }
        return cluster
    }

    /// `pg_ctl restart -m fast` (sessions ended cleanly) or `-m immediate` (a crash, then recovery).
    func restart(_ mode: String) async throws {
        try await SystemTools.must(Self.script, ["restart", directory, mode])
    }

    /// Stops the server and removes its folder (synchronously: also from a `defer`).
    func stop() {
        _ = try? ExternalTool.runSync(Self.script, ["stop", directory])
    }

    /// A query as the `hubctl` role; the result unaligned, `|`-separated.
    func psql(_ sql: String) async throws -> String {
        try await SystemTools.must("psql", ["-h", host, "-p", String(port), "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1",
                                            "-qAtX", "-c", sql], environment: ["PGPASSWORD": password])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
