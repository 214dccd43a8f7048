import HubCore
@testable import HubTopology
import Testing

@Suite struct EnvironmentTests {
    func connection(_ json: String, environment: [String: String]) throws -> [String: Value] {
        let text = topology(moreSystems: """
            "api": {"adapter": "jsonl", "connection": \(json), "entities": {"customer": {"object": "c.jsonl", "fields": {"email": "e"}}}}
            """)
        return try #require(try valid(text, environment: environment).system("api")).connection
    }

    @Test func aVariableIsReplacedByItsValue() throws {
        let c = try connection(#"{"path": "${DATA}/exports"}"#, environment: ["DATA": "/srv/data"])
        #expect(c == ["path": "/srv/data/exports"])
    }

    @Test func aMissingVariableIsAValidationErrorThatNamesIt() {
        let text = topology(crmConnection: #"{"path": "${CRM_DB}"}"#)
        #expect(problems(text) == [
            "systems.crm.connection.path: environment variable 'CRM_DB' is not set; export it or write ${CRM_DB:-default}"
        ])
    }

    @Test func aDefaultIsUsedWhenTheVariableIsUnsetOrEmpty() throws {
        #expect(try connection(#"{"path": "${DIR:-out}"}"#, environment: [:]) == ["path": "out"])
        #expect(try connection(#"{"path": "${DIR:-out}"}"#, environment: ["DIR": ""]) == ["path": "out"])
        #expect(try connection(#"{"path": "${DIR:-out}"}"#, environment: ["DIR": "in"]) == ["path": "in"])
        #expect(try connection(#"{"path": "${DIR:-}x"}"#, environment: [:]) == ["path": "x"])
    }

    @Test func anEmptyVariableWithoutADefaultIsEmpty() throws {
        #expect(try connection(#"{"path": "a${DIR}b"}"#, environment: ["DIR": ""]) == ["path": "ab"])
    }

    @Test func aRequiredVariableCarriesItsOwnMessage() {
        let text = topology(crmConnection: #"{"path": "${CRM_DB:?point it at the CRM database}"}"#)
        #expect(problems(text) == [
            "systems.crm.connection.path: environment variable 'CRM_DB' is not set: point it at the CRM database"
        ])
        #expect(problems(text, environment: ["CRM_DB": "crm.db"]) == [])
    }

    @Test func aDoubleDollarIsALiteralDollar() throws {
        let c = try connection(#"{"path": "$$HOME/$${X}/a$b$"}"#, environment: ["HOME": "/root", "X": "x"])
        #expect(c == ["path": "$HOME/${X}/a$b$"])
    }

    @Test func malformedReferencesAreRejected() {
        #expect(problems(topology(crmConnection: #"{"path": "${}"}"#)) == [
            "systems.crm.connection.path: invalid variable reference '${}'; write ${NAME}, ${NAME:-default} or ${NAME:?message}"
        ])
        #expect(problems(topology(crmConnection: #"{"path": "${A B}"}"#)) == [
            "systems.crm.connection.path: invalid variable reference '${A B}'; write ${NAME}, ${NAME:-default} or ${NAME:?message}"
        ])
        #expect(problems(topology(crmConnection: #"{"path": "db/${CRM"}"#)) == [
            "systems.crm.connection.path: unterminated variable reference '${CRM'; write ${NAME}, or $$ for a literal $"
        ])
    }

    @Test func everyMissingVariableIsReported() {
        let text = topology(crmConnection: #"{"path": "${A}/${B}"}"#, topExtra: #""hub": {"path": "${HUB}"}"#)
        #expect(problems(text) == [
            "hub.path: environment variable 'HUB' is not set; export it or write ${HUB:-default}",
            "systems.crm.connection.path: environment variable 'A' is not set; export it or write ${A:-default}",
            "systems.crm.connection.path: environment variable 'B' is not set; export it or write ${B:-default}",
        ])
    }

    @Test func theHubPathMayComeFromTheEnvironment() throws {
        let text = topology(topExtra: #""hub": {"path": "${HUB:-state/hub.sqlite}"}"#)
        #expect(try valid(text).hubPath == "/work/topo/state/hub.sqlite")
        #expect(try valid(text, environment: ["HUB": "/var/lib/hub.sqlite"]).hubPath == "/var/lib/hub.sqlite")
    }

    @Test("A PostgreSQL hub's URL takes its password from the environment, which joins the secrets")
    func aPostgresHubURLTakesItsPasswordFromTheEnvironment() throws {
        let text = topology(topExtra: #""hub": {"url": "postgres://hub:${HUB_PW}@db:5433/hubs", "schema": "sales"}"#)
        let t = try valid(text, environment: ["HUB_PW": "s3cret-pw"])
        #expect(t.hubURL == "postgres://hub:s3cret-pw@db:5433/hubs")
        #expect(t.hubSchema == "sales")
        #expect(t.secrets.redact("login s3cret-pw failed") == "login ***** failed")
        #expect(try valid(topology()).hubURL == nil)
    }

    @Test func theDefaultHubPathIsNamedAfterTheTopology() throws {
        #expect(try valid(topology()).hubPath == "/work/topo/test.hub.sqlite")
        let unnamed = topology().replacingOccurrences(of: #""name": "test""#, with: #""$schema": "x.json""#)
        #expect(try valid(unnamed).hubPath == "/work/topo/test.hub.sqlite")
    }

    @Test func variablesInsideNestedConnectionValuesAreReplaced() throws {
        // Connection keys of adapters that are not built are not checked; sqlite, csv and jsonl
        // keys are, so nesting is shown through the jsonl system's path only being a string.
        let text = topology(crmConnection: #"{"path": "${DB}"}"#)
        let t = try valid(text, environment: ["DB": "crm.db"])
        #expect(t.system("crm")?.connection == ["path": "crm.db"])
    }
}

@Suite struct SecretTests {
    static let text = topology(
        crmConnection: #"{"path": "${CRM_PATH}"}"#,
        moreSystems: #"""
            "sheet": {"adapter": "csv", "connection": {"path": "${EXPORTS:-out}", "delimiter": "${DELIM}"},
                      "direction": "push", "entities": {"customer": {"object": "c.csv", "fields": {"email": "Email"}}}}
            """#)

    @Test func pathsAndDelimitersFromTheEnvironmentAreNotSecrets() throws {
        let t = try valid(Self.text, environment: ["CRM_PATH": "/secure/crm.db", "EXPORTS": "/srv/out", "DELIM": ";"])
        #expect(t.secrets.secrets.isEmpty)
        #expect(t.secrets.redact("/secure/crm.db") == "/secure/crm.db")
    }

    @Test func valuesUnderOtherKeysAreSecretsAndAreRedacted() throws {
        // The built adapters (sqlite, csv, jsonl) only take paths and a delimiter; adapters with
        // credentials (postgres, rest) will bring keys such as `url` or `token`. Substitution
        // records every value it brings in under such keys.
        let decoder = TopologyDecoder(positions: [:], environment: ["TOKEN": "s3cr3t-token", "PG": "postgres://u:pw@db/x", "DIR": "/srv"])
        let connection: Value = ["url": "${PG}", "auth": ["token": "Bearer ${TOKEN}"], "path": "${DIR}/x"]
        let node = Node(value: connection, path: "systems.api.connection", reporter: decoder.reporter)
        let substituted = decoder.substitute(node, key: "connection")
        #expect(substituted == ["url": "postgres://u:pw@db/x", "auth": ["token": "Bearer s3cr3t-token"], "path": "/srv/x"])
        #expect(decoder.reporter.diagnostics.isEmpty)
        #expect(decoder.secrets.secrets == ["s3cr3t-token", "postgres://u:pw@db/x"])
        let topology = Topology(name: "t", baseDirectory: "/", hubPath: "/t.hub.sqlite", entities: [], systems: [],
                                secrets: decoder.secrets)
        #expect(topology.secrets.redact("GET with Bearer s3cr3t-token to postgres://u:pw@db/x failed")
            == "GET with Bearer ***** to ***** failed")
    }

    @Test func theRedactorScrubsLongestSecretsFirstAndSkipsTinyOnes() {
        var redactor = SecretRedactor(["s3cr3t-token", "abc"])
        #expect(redactor.secrets == ["s3cr3t-token"])
        #expect(redactor.redact("Authorization: Bearer s3cr3t-token failed") == "Authorization: Bearer ***** failed")
        redactor = SecretRedactor(["token", "token-long"])
        #expect(redactor.redact("token-long and token") == "***** and *****")
        #expect(SecretRedactor().redact("nothing to hide") == "nothing to hide")
    }
}

extension EnvironmentTests {
    static func postgres(_ url: String) -> String {
        topology(moreSystems: """
            "billing": {"adapter": "postgres", "connection": {"url": "\(url)"},
                        "entities": {"customer": {"object": "customers", "fields": {"email": "email"}}}}
            """)
    }

    @Test func aPostgresURLWhosePasswordCannotBeReadOneWayIsRefusedAtItsPath() {
        // The password comes from the environment with a raw @ and /: the URL would read as
        // host "Wv" and database "Jy@db.internal:5432/billing".
        let found = problems(Self.postgres("postgres://hubctl:${PGPASSWORD}@db.internal:5432/billing"),
                             environment: ["PGPASSWORD": "Zq@Wv/Jy"])
        #expect(found.count == 1 && found[0].hasPrefix("systems.billing.connection.url: "), "\(found)")
        #expect(found.first?.contains("percent-encode") == true)
        for part in ["Zq", "Wv", "Jy"] { #expect(!found.joined().contains(part), "\(part) in \(found)") }
    }

    @Test func anEncodedPasswordIsAcceptedAndScrubbedInBothForms() throws {
        let t = try valid(Self.postgres("postgres://hubctl:${PGPASSWORD}@db.internal:5432/billing"),
                          environment: ["PGPASSWORD": "Zq%40Wv%2FJy"])
        #expect(t.secrets.redact("Zq@Wv/Jy and Zq%40Wv%2FJy") == "***** and *****")
        // A whole URL from the environment: its password is a secret of its own too.
        let whole = try valid(Self.postgres("${DATABASE_URL}"), environment: ["DATABASE_URL": "postgres://u:Zq%40Wv%2FJy@db/x"])
        #expect(whole.secrets.redact("password Zq@Wv/Jy") == "password *****")
    }
}
