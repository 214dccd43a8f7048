import Foundation
import HubCore
import HubTesting
import HubTestServers

/// The PostgreSQL cluster and Kinto server of the test script, as the T9 battery uses them:
/// one Kinto account for the battery, a schema and a bucket per case, and the topology
/// snippets of a `postgres` and a Kinto `rest` system with their secrets in the environment.
struct HostileServices: Sendable {
    let postgres: TestServices.Postgres
    let kintoURL: String
    let kintoUser: String
    let kintoPassword: String

    /// Creates the battery's Kinto account.
    static func start() async throws -> HostileServices {
        let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let services = HostileServices(postgres: try TestServices.requirePostgres(), kintoURL: try TestServices.requireKinto(),
                                       kintoUser: "t9\(token.prefix(10))", kintoPassword: "pw-\(token)")
        try await services.tool("curl", ["-fsS", "-X", "PUT", "\(services.kintoURL)/accounts/\(services.kintoUser)", "-H",
                                         "Content-Type: application/json", "-d",
                                         JSONWriter.string(["data": ["password": .string(services.kintoPassword)]])])
        return services
    }

    /// What hubctl needs in its environment to reach both.
    var environment: [String: String] {
        ["T9_PG_HOST": postgres.host, "T9_PG_PORT": String(postgres.port), "T9_PG_DB": postgres.database,
         "T9_PG_USER": postgres.user, "T9_PG_PASSWORD": postgres.password, "T9_KINTO_URL": kintoURL,
         "T9_KINTO_PASSWORD": kintoPassword]
    }

    /// A `postgres` system named `name` mapping `object` in `schema` with `fields` (a JSON object).
    func postgresSystem(_ name: String, schema: String, object: String, fields: String, id: String? = nil) -> String {
        """
        "\(name)": {"adapter": "postgres", "connection": {"host": "${T9_PG_HOST}", "port": "${T9_PG_PORT}", "database": "${T9_PG_DB}",
                    "user": "${T9_PG_USER}", "password": "${T9_PG_PASSWORD}", "schema": \(JSONWriter.string(.string(schema))),
                    "sslmode": "disable", "connect_timeout": 5},
                    "entities": {"note": {"object": \(JSONWriter.string(.string(object))),\(id.map { " \"id\": \(JSONWriter.string(.string($0))),"} ?? "") "fields": \(fields)}}}
        """
    }

    /// A Kinto `rest` system named `name` holding notes in `bucket`.
    func kintoSystem(_ name: String, bucket: String) -> String {
        """
        "\(name)": {"adapter": "rest", "connection": {"base_url": "${T9_KINTO_URL}",
                    "auth": {"type": "basic", "username": "\(kintoUser)", "password": "${T9_KINTO_PASSWORD}"},
                    "timeout": 60, "retry": {"max_attempts": 2, "base_delay": 0.01},
                    "endpoint": {"records": "data", "record": "data", "envelope": "data", "limit_param": "_limit", "since_param": "_since",
                                 "query": {"_sort": "last_modified"}, "pagination": {"style": "header", "header": "Next-Page"},
                                 "tombstone": {"field": "deleted", "value": true}, "if_match": true}},
                    "entities": {"note": {"object": "notes", "cursor": "last_modified",
                      "endpoint": {"path": "buckets/\(bucket)/collections/notes/records"}, "fields": {"key": "key", "text": "text"}}}}
        """
    }

    @discardableResult
    func psql(_ sql: String) async throws -> String {
        try await tool("psql", connection + ["-c", sql], ["PGPASSWORD": postgres.password])
    }

    @discardableResult
    func psql(file: String) async throws -> String {
        try await tool("psql", connection + ["-f", file], ["PGPASSWORD": postgres.password])
    }

    private var connection: [String] {
        ["-X", "-At", "-q", "-v", "ON_ERROR_STOP=1", "-h", postgres.host, "-p", String(postgres.port), "-U", postgres.user, "-d", postgres.database]
    }

    /// curl against Kinto as the battery's account.
    @discardableResult
    func kinto(_ arguments: [String]) async throws -> String {
        try await tool("curl", ["-fsS", "-u", "\(kintoUser):\(kintoPassword)"] + arguments, [:])
    }

    func tool(_ program: String, _ arguments: [String], _ environment: [String: String] = [:]) async throws -> String {
        let out = try await ExternalTool.run(program, arguments, environment: environment)
        guard out.status == 0 else { throw HostileSetupError(message: "\(program) exited \(out.status): \(out.stderr.prefix(400))") }
        return out.stdout
    }
}

/// A case's systems could not be set up (a tool failed, a service is missing).
struct HostileSetupError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
