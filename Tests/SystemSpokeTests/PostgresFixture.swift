import Foundation
import HubCore
import HubTestServers
import Logging
import PostgresNIO
import SpokePostgres

/// A fresh schema in the test cluster, with an admin connection to set tables up and inspect
/// them behind the spoke's back.
final class PostgresFixture: Sendable {
    let server: TestServices.Postgres
    let schema: String
    let admin: PostgresConnection
    static let logger = Logger(label: "hubctl.tests.postgres")

    private init(server: TestServices.Postgres, schema: String, admin: PostgresConnection) {
        self.server = server
        self.schema = schema
        self.admin = admin
    }

    deinit {
        let admin = admin
        if !admin.isClosed { admin.close().whenComplete { _ in withExtendedLifetime(admin) {} } }
    }

    /// Connects as the test role and creates an empty schema named after a random token.
    static func make() async throws -> PostgresFixture {
        let server = try TestServices.requirePostgres()
        let configuration = PostgresConnection.Configuration(host: server.host, port: server.port, username: server.user,
                                                             password: server.password, database: server.database,
                                                             tls: .disable)
        let admin = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let fixture = PostgresFixture(server: server, schema: schema, admin: admin)
        try await fixture.sql("CREATE SCHEMA \(schema)", "SET search_path TO \(schema)")
        return fixture
    }

    /// Settings for a spoke on this schema.
    func settings(password: String? = nil) -> PostgresSettings {
        PostgresSettings(host: server.host, port: server.port, database: server.database, user: server.user,
                         password: password ?? server.password, schema: schema, sslMode: .disable)
    }

    func spoke(_ name: SystemName = "billing") -> PostgresSpoke { PostgresSpoke(system: name, settings: settings()) }

    /// Runs SQL statements written by the test (never with values from the spoke under test),
    /// one at a time, in the fixture's schema.
    func sql(_ statements: String...) async throws {
        for text in statements {
            do {
                try await admin.query(PostgresQuery(unsafeSQL: text), logger: Self.logger)
            } catch {
                throw FixtureError(message: "\(text): \(String(reflecting: error))")
            }
        }
    }

    /// Runs a query and returns its rows as text.
    func rows(_ text: String) async throws -> [[String?]] {
        var out: [[String?]] = []
        for try await row in try await admin.query(PostgresQuery(unsafeSQL: text), logger: Self.logger) {
            var cells: [String?] = []
            for cell in row { cells.append(try cell.decode(String?.self)) }
            out.append(cells)
        }
        return out
    }

    /// Drops the schema and closes the admin connection.
    func tearDown() async {
        _ = try? await admin.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"), logger: Self.logger)
        try? await admin.close()
    }
}

/// A fixture statement failed, with PostgreSQL's details (test-written SQL only).
struct FixtureError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
