import Foundation
import HubCore
import HubTestServers
import SpokePostgres
import Testing

/// A `postgres://` URL is read one way only: a password with a raw `@`, `/`, `?`, `#`, `%` or
/// quote is refused with a hint to percent-encode it (and no part of it in the message); an
/// encoded one works.
@Suite struct PostgresURLTests {
    static let hostile = #"Zq@Kx/Wv%Jy"Qu'Hm:1?#"#

    /// The password percent-encoded for a URL's userinfo.
    static func encoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed)!
    }

    static func fragments(_ secret: String) -> [String] {
        secret.split(whereSeparator: { "@/%\"'?#:".contains($0) }).map(String.init).filter { $0.count >= 2 }
    }

    @Test(arguments: ["Zq@Kx", "Zq/Kx", "Zq?Kx@Wv", "Zq#Kx", "50%Kx", #"Zq"Kx"#, hostile])
    func aRawPasswordThatCannotBeReadOneWayIsRefusedWithoutShowingIt(_ password: String) {
        let url = "postgres://hubctl:\(password)@dbhost7:5432/ledger9"
        do {
            let settings = try PostgresSettings.parse(["url": .string(url)])
            Issue.record("read as \(settings.description)")
        } catch {
            #expect(error.message.contains("percent-encode"), "\(error.message)")
            for part in Self.fragments(password) + ["ledger9", "dbhost7"] {
                #expect(!error.message.contains(part), "'\(part)' in \(error.message)")
            }
        }
    }

    @Test func anEncodedPasswordIsReadWhole() throws {
        let url = "postgres://hub%40ctl:\(Self.encoded(Self.hostile))@[::1]:6543/bill%2Fing?sslmode=require"
        let settings = try PostgresSettings.parse(["url": .string(url)])
        #expect(settings.password == Self.hostile)
        #expect(settings.user == "hub@ctl" && settings.host == "::1" && settings.port == 6543)
        #expect(settings.database == "bill/ing" && settings.sslMode == .require)
        #expect(!settings.description.contains("Zq") && !settings.description.contains("Kx"))
    }

    @Test func aWrongPortOrANestedPathIsRefused() {
        for url in ["postgres://u:pw@host:99999/db", "postgres://u:pw@host:port/db", "postgres://u:pw@host/db/extra"] {
            #expect(throws: SettingsError.self, "\(url)") { _ = try PostgresSettings.parse(["url": .string(url)]) }
        }
    }
}

@Suite(.enabled(if: TestServices.runPostgresTests, "needs PostgreSQL (scripts/with-test-services.sh)"))
struct PostgresHostilePasswordTests {
    @Test func aRoleWhosePasswordHoldsEveryAwkwardCharacterLogsInThroughAnEncodedURL() async throws {
        let fixture = try await PostgresFixture.make()
        let role = "r_" + fixture.schema
        let sqlPassword = PostgresURLTests.hostile.replacingOccurrences(of: "'", with: "''")
        try await fixture.sql("CREATE ROLE \(role) LOGIN PASSWORD '\(sqlPassword)'",
                              "GRANT USAGE, CREATE ON SCHEMA \(fixture.schema) TO \(role)",
                              "CREATE TABLE \(fixture.schema).customers (id serial PRIMARY KEY, email text)",
                              "GRANT SELECT ON \(fixture.schema).customers TO \(role)")
        let server = fixture.server
        let url = "postgres://\(role):\(PostgresURLTests.encoded(PostgresURLTests.hostile))@\(server.host):\(server.port)/\(server.database)?sslmode=disable"
        let settings = try PostgresSettings.parse(["url": .string(url), "schema": .string(fixture.schema)])
        let spoke = PostgresSpoke(system: "billing", settings: settings)
        let checked = try await spoke.check([ObjectBinding(entity: "customer", object: "customers", fields: ["email"])])
        #expect(checked.first?.problems == [], "\(checked)")
        await spoke.close()
        try await fixture.sql("DROP SCHEMA \(fixture.schema) CASCADE", "DROP ROLE \(role)")
        await fixture.tearDown()
    }
}
