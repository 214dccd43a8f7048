import Foundation

/// The real servers the test script (`scripts/with-test-services.sh`) started, found through
/// the environment variables it exports.
///
/// A suite that needs a server is enabled when the server is there, or when `CI=true`: on CI a
/// missing server must fail the tests that need it rather than skip them quietly. For example:
/// ```swift
/// @Suite(.enabled(if: TestServices.runPostgresTests, "needs PostgreSQL (scripts/with-test-services.sh)"))
/// struct PostgresSpokeTests {
///     @Test func readsRows() async throws {
///         let server = try TestServices.requirePostgres()
///     }
/// }
/// ```
public enum TestServices {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// True when running on CI (`CI=true`).
    public static var isCI: Bool { ["true", "1", "yes"].contains(environment["CI"]?.lowercased() ?? "") }

    // MARK: PostgreSQL

    /// Where the test PostgreSQL cluster listens, and a role that may create databases and schemas.
    public struct Postgres: Sendable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String
        public var database: String
    }

    /// The test cluster, when the test script started one.
    public static var postgres: Postgres? {
        let e = environment
        guard let host = e["HUBCTL_TEST_POSTGRES_HOST"], let port = e["HUBCTL_TEST_POSTGRES_PORT"].flatMap(Int.init),
              let user = e["HUBCTL_TEST_POSTGRES_USER"], let password = e["HUBCTL_TEST_POSTGRES_PASSWORD"] else { return nil }
        return Postgres(host: host, port: port, user: user, password: password,
                        database: e["HUBCTL_TEST_POSTGRES_DATABASE"] ?? "postgres")
    }

    /// True when the test cluster also accepts TLS (a self-signed certificate).
    public static var postgresTLS: Bool { environment["HUBCTL_TEST_POSTGRES_TLS"] == "1" }

    /// Run PostgreSQL tests: the server is there, or CI must fail without it.
    public static var runPostgresTests: Bool { postgres != nil || isCI }

    public static let postgresNote =
        "needs PostgreSQL: run the tests with scripts/with-test-services.sh swift test"

    /// The test cluster, or a failure explaining how to start it.
    public static func requirePostgres() throws -> Postgres {
        guard let postgres else { throw MissingService(message: "CI=true but no PostgreSQL: \(postgresNote)") }
        return postgres
    }

    // MARK: Kinto

    /// The Kinto server's API root (`http://127.0.0.1:PORT/v1`), when the test script started one.
    public static var kintoURL: String? { environment["HUBCTL_TEST_KINTO_URL"] }

    /// Run Kinto tests: the server is there, or CI must fail without it.
    public static var runKintoTests: Bool { kintoURL != nil || isCI }

    public static let kintoNote = "needs Kinto: run the tests with scripts/with-test-services.sh swift test"

    /// The Kinto API root, or a failure explaining how to start it.
    public static func requireKinto() throws -> String {
        guard let kintoURL else { throw MissingService(message: "CI=true but no Kinto: \(kintoNote)") }
        return kintoURL
    }
}

/// A server the tests need was not started.
public struct MissingService: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
