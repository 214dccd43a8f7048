import Foundation
import Testing

/// Static audit: SQL text is built in one place per adapter, identifiers are quoted by one
/// helper, nothing splices raw text into a PostgresNIO query, and the SQLite spoke's SQL comes
/// only from its builder.
@Suite struct SQLAuditTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    /// Every Swift file under Sources/, with its path relative to Sources/.
    static func files() throws -> [(path: String, text: String)] {
        let enumerator = FileManager.default.enumerator(atPath: sources.path)
        var out: [(String, String)] = []
        while let path = enumerator?.nextObject() as? String {
            guard path.hasSuffix(".swift") else { continue }
            out.append((path, try String(contentsOf: sources.appendingPathComponent(path), encoding: .utf8)))
        }
        return out
    }

    /// The spoke's statement builder, and the PostgreSQL hub's executor, which sends HubStore's
    /// own statements (text written in HubStore with `?` placeholders, every value bound).
    @Test func onlyThePostgresStatementBuilderMakesQueriesFromText() throws {
        let allowed = ["SpokePostgres/PostgresStatement.swift", "HubStorePostgres/PostgresHubExecutor.swift"]
        for (path, text) in try Self.files() {
            if text.contains("unsafeSQL:") { #expect(allowed.contains(path), "\(path) builds SQL from raw text") }
            #expect(!text.contains("\\(unescaped:"), "\(path) splices unescaped text into a query")
        }
    }

    /// The SQLite spoke makes SQL only through `SQLiteSQL`, whose interpolation takes identifiers
    /// (quoted by `SQLIdentifier`), other `SQLiteSQL` and placeholder counts, never a `String`; and
    /// it reads the schema with bound pragma functions, not GRDB's helpers, which splice names
    /// into `PRAGMA table_info("…")` without escaping quotes.
    @Test func theSQLiteSpokeBuildsSQLOnlyThroughItsBuilder() throws {
        let builder = "SpokeSQLite/SQLiteSQL.swift"
        let sqlite = try Self.files().filter { $0.path.hasPrefix("SpokeSQLite/") }
        #expect(sqlite.count >= 8)
        #expect(sqlite.contains { $0.path == builder })
        let introspection = ["quotedDatabaseIdentifier", ".columns(in:", ".primaryKey(", "hasUniqueKey:", ".tableExists(",
                             ".viewExists(", ".indexes(on:", ".foreignKeys(on:", "PRAGMA "]
        for (path, text) in sqlite {
            for call in introspection {
                #expect(!text.contains(call), "\(path) uses \(call), which splices a name into SQL")
            }
            #expect(!text.contains("stringLiteral:") || path == builder, "\(path) makes SQL from a runtime string")
            guard path != builder else { continue }
            // GRDB's `sql:` argument label, as in `db.execute(sql: …)` or `Row.fetchAll(db, sql: …)`.
            #expect(text.range(of: #"[(,]\s*sql:"#, options: .regularExpression) == nil,
                    "\(path) hands SQL text to GRDB itself instead of through SQLiteSQL")
            #expect(!text.contains(".quoted"), "\(path) quotes a name itself instead of interpolating an SQLIdentifier")
        }
        // The builder's interpolations: identifiers, SQL, placeholder counts. No String, no Any.
        let text = try #require(sqlite.first { $0.path == builder }?.text)
        let interpolations = text.components(separatedBy: "func appendInterpolation(").dropFirst()
            .map { String($0.prefix { $0 != ")" }) }
        #expect(interpolations.sorted() == ["_ identifier: SQLIdentifier", "_ identifiers: [SQLIdentifier]",
                                            "_ sql: SQLiteSQL", "placeholders count: Int"])
        #expect(text.contains("func appendLiteral(_ literal: StaticString)"))
        #expect(text.contains("init(stringLiteral value: StaticString)"))
    }

    @Test func identifiersAreQuotedOnlyByTheAuditedHelper() throws {
        for (path, text) in try Self.files() where path.hasPrefix("Spoke") {
            #expect(!text.contains("quotedDatabaseIdentifier"), "\(path) uses GRDB's quoting, which does not escape quotes")
            #expect(!text.contains("struct SQLIdentifier"), "\(path) defines its own identifier quoting")
        }
    }
}
