import Foundation
import HubTestServers

/// A schema of its own in the test PostgreSQL for a capture test run through the binary: the
/// topology's `${CAP_…}` variables, and psql as a person would run it.
struct CapturePostgres {
    let server: TestServices.Postgres
    let schema: String

    init(prefix: String) throws {
        server = try TestServices.requirePostgres()
        schema = prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(10)
    }

    /// The variables the capture topologies read their connection from.
    var environment: [String: String] {
        ["CAP_PGHOST": server.host, "CAP_PGPORT": String(server.port), "CAP_PGDATABASE": server.database,
         "CAP_PGUSER": server.user, "CAP_PGPASSWORD": server.password, "CAP_SCHEMA": schema]
    }

    /// psql's connection arguments (the password goes in `PGPASSWORD`).
    var psqlArguments: [String] {
        ["-h", server.host, "-p", String(server.port), "-U", server.user, "-d", server.database, "-v", "ON_ERROR_STOP=1", "-qAtX"]
    }

    /// Runs `sql` with psql; returns its output.
    @discardableResult
    func psql(_ sql: String) async throws -> String {
        try await SystemTools.must("psql", psqlArguments + ["-c", sql], environment: ["PGPASSWORD": server.password])
    }
}
