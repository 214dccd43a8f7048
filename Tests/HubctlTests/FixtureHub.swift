import Foundation
import HubTestServers
import HubTesting

/// The hub of an end-to-end fixture, read and written with the same SQL whichever database holds
/// it: the SQLite file the topology names (with `sqlite3`), or in the PostgreSQL pass
/// (`HUBCTL_TEST_HUB=postgres`, see ``EndToEndHub``) the fixture's schema in the test cluster
/// (with `psql`). Rows come back as the two tools print them: columns joined by `|`, NULL empty.
struct FixtureHub {
    /// The SQLite hub's file.
    let file: String
    /// The fixture's PostgreSQL schema, in the PostgreSQL pass.
    let schema: String?

    /// The hub of the topology in `file`'s folder (the fixture's folder), whose SQLite file is `file`.
    init(file: String) {
        self.file = file
        schema = EndToEndHub.isPostgres
            ? EndToEndHub.schema(forFixtureIn: URL(fileURLWithPath: file).deletingLastPathComponent().path) : nil
    }

    /// The SQLite hub in `sqliteFile`, in either pass (a hub a test put there itself).
    init(sqliteFile: String) {
        file = sqliteFile
        schema = nil
    }

    /// The PostgreSQL hub in `postgresSchema` of the test cluster, in either pass (a hub a test
    /// chose itself with `HUBCTL_HUB_SCHEMA`).
    init(postgresSchema: String) {
        file = ""
        schema = postgresSchema
    }

    /// The hub of the topology in `folder`, whose SQLite file is `folder/name`.
    init(_ folder: String, _ name: String) { self.init(file: folder + "/" + name) }

    /// True once a `hubctl` command has created the hub (its file, or its schema's tables).
    func exists() throws -> Bool {
        guard let schema else { return FileManager.default.fileExists(atPath: file) }
        return try run("SELECT count(*) FROM information_schema.tables WHERE table_schema = '\(schema)'", inSchema: false)
            != ["0"]
    }

    /// The text of one field of a JSON column, in the hub's SQL dialect.
    func jsonText(_ column: String, _ field: String) -> String {
        schema == nil ? "json_extract(\(column), '$.\(field)')" : "(\(column)::json ->> '\(field)')"
    }

    /// Runs statements (several, separated by `;`) in one transaction.
    func execute(_ sql: String) throws { _ = try run(sql) }

    /// The rows of a query, one string per row.
    func rows(_ sql: String) throws -> [String] { try run(sql) }

    /// The first column of the first row of a query, nil when it returns no row.
    func value(_ sql: String) throws -> String? { try run(sql).first }

    /// The integer a query returns (a `count(*)`, say).
    func int(_ sql: String) throws -> Int {
        let text = try value(sql) ?? ""
        guard let n = Int(text) else { throw HubQueryFailed(message: "expected an integer from \(sql), got '\(text)'") }
        return n
    }

    private func run(_ sql: String, inSchema: Bool = true) throws -> [String] {
        let output: ExternalTool.Output
        if let schema {
            let server = try TestServices.requirePostgres()
            let search = inSchema ? "SET search_path TO \"\(schema)\";\n" : ""
            output = try ExternalTool.runSync("psql", [
                "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", server.host, "-p", "\(server.port)", "-U", server.user,
                "-d", server.database, "-c", search + sql,
            ], environment: ["PGPASSWORD": server.password, "PGCONNECT_TIMEOUT": "10"])
        } else {
            output = try ExternalTool.runSync("sqlite3", ["-bail", "-cmd", ".timeout 5000", file, "BEGIN; \(sql); COMMIT;"])
        }
        guard output.status == 0 else {
            throw HubQueryFailed(message: "\(schema == nil ? "sqlite3" : "psql") failed on the hub: \(output.stderr) — \(sql)")
        }
        return output.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .reversed().drop { $0.isEmpty }.reversed()
    }
}

/// A query on a fixture's hub failed.
struct HubQueryFailed: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
