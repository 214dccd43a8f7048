import Foundation
import HubCore
import HubTestServers
import SpokeREST
import Testing

/// Answers the T9 battery found mishandled: `connection.timeout` bounds each request even when
/// the server accepts the connection and never answers (FoundationNetworking alone waited for
/// it), a body that is not UTF-8 is refused rather than repaired into other text, and a body
/// that is not JSON says why.
@Suite struct RESTHostileAnswerTests {
    /// Reads one page from a fake CRM after `setUp`, returning the error that stopped it.
    static func readError(timeout: Double = CRMShape.patientTimeout, _ setUp: (FakeCRM) async -> Void) async throws -> SpokeError? {
        let crm = try await FakeCRM.start(token: "tok-hostile")
        await crm.add("contacts", ["email": "ann@example.com"])
        await setUp(crm)
        let settings = try RESTSettings.parse(["base_url": .string(await crm.url()), "auth": ["type": "bearer", "token": .string(crm.token)],
                                               "timeout": .double(timeout), "retry": ["max_attempts": 1]])
        let object = "crm/v3/objects/contacts"
        let endpoint = try RESTEndpoint.parse(object: object, defaults: [:], overrides: ["records": "results", "record_fields": "properties"])
        let spoke = RESTSpoke(system: "crm", settings: settings, endpoints: [object: endpoint])
        defer { Task { await crm.stop() } }
        do {
            let page = try await spoke.read(ObjectBinding(entity: "contact", object: object, fields: ["email"]), after: nil, limit: 10)
            Issue.record("the answer was accepted: \(page.records.map(\.fields))")
            return nil
        } catch let error as SpokeError {
            return error
        }
    }

    @Test func anAPIThatAcceptsTheConnectionAndNeverAnswersTimesOut() async throws {
        let error = try await Self.readError(timeout: 2) { crm in
            for n in 1...3 { await crm.inject(.init(method: "GET", nth: n, action: .delay(seconds: 30))) }
        }
        #expect(error?.message.contains("timed out") == true, "\(String(describing: error))")
    }

    @Test func aBodyThatIsNotUTF8IsRefusedAndNeverRepaired() async throws {
        let error = try await Self.readError { crm in
            await crm.inject(.init(method: "GET", nth: 1, action: .bytes(Array(#"{"results": [{"id": "1", "properties": {"email": "caf"#.utf8) + [0xE9] + Array(#""}}]}"#.utf8))))
        }
        #expect(error?.kind == .malformed && error?.message.contains("not UTF-8") == true, "\(String(describing: error))")
    }

    @Test func aBodyNestedTooDeeplySaysWhy() async throws {
        let error = try await Self.readError { crm in
            await crm.inject(.init(method: "GET", nth: 1, action: .body(#"{"results": "# + String(repeating: "[", count: 10_000) + "}")))
        }
        #expect(error?.kind == .malformed && error?.message.contains("nesting deeper than 512 levels") == true, "\(String(describing: error))")
    }
}
