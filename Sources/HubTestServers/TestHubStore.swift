import Foundation
import HubStore
import HubStorePostgres
import SpokePostgres

/// Which database a test's hub lives in. Tests that hold for every hub take
/// `@Test(arguments: TestHubStore.all)` and open their hub with ``make()``.
public enum TestHubStore: String, Sendable, CaseIterable, CustomStringConvertible {
    /// An in-memory SQLite hub.
    case sqlite
    /// A PostgreSQL hub in a fresh schema of the test cluster (scripts/with-test-services.sh).
    case postgres

    /// SQLite always; PostgreSQL when the test cluster is there, or on CI (where a missing
    /// cluster then fails the test instead of skipping it).
    public static var all: [TestHubStore] { TestServices.runPostgresTests ? [.sqlite, .postgres] : [.sqlite] }

    public var description: String { rawValue }

    /// A new, empty hub of this kind.
    public func make() throws -> HubStore {
        switch self {
        case .sqlite:
            return try HubStore.inMemory()
        case .postgres:
            return HubStore(database: try PostgresHubDatabase(settings: try Self.freshSchema()))
        }
    }

    /// Settings for a new schema in the test cluster, named after a random token.
    public static func freshSchema() throws -> PostgresSettings {
        let server = try TestServices.requirePostgres()
        let schema = "hub_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        return PostgresSettings(host: server.host, port: server.port, database: server.database, user: server.user,
                                password: server.password, schema: schema, sslMode: .disable)
    }
}
