import Foundation
import Testing

/// Static audit: SQL text is built in one place per adapter, identifiers are quoted by one
/// helper, and nothing splices raw text into a PostgresNIO query.
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

    @Test func onlyThePostgresStatementBuilderMakesQueriesFromText() throws {
        for (path, text) in try Self.files() {
            if text.contains("unsafeSQL:") { #expect(path == "SpokePostgres/PostgresStatement.swift", "\(path) builds SQL from raw text") }
            #expect(!text.contains("\\(unescaped:"), "\(path) splices unescaped text into a query")
        }
    }

    @Test func identifiersAreQuotedOnlyByTheAuditedHelper() throws {
        for (path, text) in try Self.files() where path.hasPrefix("Spoke") {
            #expect(!text.contains("quotedDatabaseIdentifier"), "\(path) uses GRDB's quoting, which does not escape quotes")
            #expect(!text.contains("struct SQLIdentifier"), "\(path) defines its own identifier quoting")
        }
    }
}
