import Foundation
import HubCore
import HubTesting
import HubTestServers
import SpokeExec
import SpokeREST
import Testing

/// A list whose pages never end — a cursor, header or link pointing back at a page already
/// read, an API ignoring its page parameter, a connector repeating its cursor — stops the read
/// with an error naming the system, after a bounded number of requests.
@Suite struct EndlessPaginationTests {
    /// The endpoint settings of each of the fake's paging styles (no page size: the fake's own, 10).
    static func pagination(_ paging: FakeCRM.Paging) -> Value {
        switch paging {
        case .cursor: ["style": "cursor", "param": "after", "next": "paging.next.after"]
        case .header: ["style": "header", "header": "Next-Page"]
        case .link: ["style": "link"]
        case .nextURL: ["style": "next_url", "next": "paging.next.link"]
        case .page: ["style": "page", "param": "page", "start": 1]
        case .offset: ["style": "offset", "param": "offset"]
        }
    }

    static func spoke(_ crm: FakeCRM, _ paging: FakeCRM.Paging, maxPages: Int? = nil) async throws -> RESTSpoke {
        var pagination = pagination(paging).objectValue!
        if let maxPages { pagination["max_pages"] = .int(Int64(maxPages)) }
        let settings = try RESTSettings.parse(["base_url": .string(await crm.url()),
                                               "auth": ["type": "bearer", "token": .string(crm.token)]])
        let object = "crm/v3/objects/contacts"
        let endpoint = try RESTEndpoint.parse(object: object, defaults: [:], overrides: [
            "records": "results", "record_fields": "properties", "pagination": .object(pagination)])
        return RESTSpoke(system: "crm", settings: settings, endpoints: [object: endpoint])
    }

    static let binding = ObjectBinding(entity: "contact", object: "crm/v3/objects/contacts", fields: ["email"])

    /// Reads every page (at most 50) and returns the IDs, or the error that stopped the read.
    static func readAll(_ spoke: any Spoke, _ binding: ObjectBinding) async -> (ids: [String], error: SpokeError?, pages: Int) {
        var ids: [String] = [], cursor: Cursor?, pages = 0
        do {
            while pages < 50 {
                let page = try await spoke.read(binding, after: cursor, limit: 1000)
                pages += 1
                ids += page.records.map(\.id.rawValue)
                if page.isLast { return (ids, nil, pages) }
                cursor = page.next
            }
        } catch let error as SpokeError {
            return (ids, error, pages)
        } catch {
            Issue.record("\(error)")
        }
        return (ids, nil, pages)
    }

    @Test(arguments: FakeCRM.Paging.allCases)
    func everyPagingStyleOfTheFakeIsReadOnceToItsEnd(_ paging: FakeCRM.Paging) async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        for i in 1...25 { await crm.add("contacts", ["email": .string("c\(i)@x.test")]) }
        await crm.setPaging(paging)
        let read = await Self.readAll(try await Self.spoke(crm, paging), Self.binding)
        #expect(read.error == nil, "\(paging): \(String(describing: read.error))")
        #expect(read.ids == (1...25).map(String.init), "\(paging)")
        await crm.stop()
    }

    @Test(arguments: FakeCRM.Paging.allCases)
    func aListThatComesBackToAPageAlreadyReadIsStopped(_ paging: FakeCRM.Paging) async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        for i in 1...25 { await crm.add("contacts", ["email": .string("c\(i)@x.test")]) }
        await crm.setPaging(paging, repeating: true)
        let spoke = try await Self.spoke(crm, paging)
        let read = await Self.readAll(spoke, Self.binding)
        let error = try #require(read.error, "\(paging): the read did not stop after \(read.pages) pages")
        #expect(error.kind == .malformed && error.system == "crm", "\(paging)")
        #expect(error.message.contains("came back to a page already read"), "\(error.message)")
        let sent = await crm.requests.count
        #expect(sent <= 3, "\(paging): \(sent) requests")
        // The ID scan that finds deletes is guarded too.
        await crm.clearLog()
        var cursor: Cursor?
        await #expect(throws: SpokeError.self, "\(paging)") {
            for _ in 0..<50 {
                let page = try await spoke.scanIDs(Self.binding, after: cursor, limit: 1000)
                if page.isLast { return }
                cursor = page.next
            }
        }
        let scanned = await crm.requests.count
        #expect(scanned <= 3, "\(paging): \(scanned) requests")
        await crm.stop()
    }

    @Test func aListLongerThanMaxPagesIsStopped() async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        for i in 1...25 { await crm.add("contacts", ["email": .string("c\(i)@x.test")]) }
        await crm.setPaging(.cursor)
        let read = await Self.readAll(try await Self.spoke(crm, .cursor, maxPages: 2), Self.binding)
        let error = try #require(read.error)
        #expect(error.message.contains("went past 2 pages") && error.message.contains("max_pages"), "\(error.message)")
        #expect(read.ids.count == 10, "the second page would need a third: it is not handed over")
    }

    static func connector(_ body: String) throws -> (dir: String, command: [String]) {
        let dir = try ExecSpokeTests.temporaryDirectory()
        try """
            import json, sys
            for line in sys.stdin:
                req = json.loads(line)
                op = req["op"]
                if op == "open": out = {"protocol": 1}
            \(body)
                else: out = {"error": {"kind": "configuration", "message": "unknown op " + op}}
                out["id"] = req["id"]
                print(json.dumps(out), flush=True)
            """.write(toFile: dir + "/loop.py", atomically: true, encoding: .utf8)
        return (dir, ["python3", "loop.py"])
    }

    @Test func aConnectorRepeatingItsCursorIsStopped() async throws {
        // `next` always "p1" with last false; IDs and records the same each time.
        let (dir, command) = try Self.connector("""
                elif op == "read": out = {"records": [{"id": "a", "fields": {}}], "next": "p1", "last": False}
                elif op == "scan_ids": out = {"ids": ["a"], "next": None, "last": False}
            """)
        let spoke = ExecSpoke(system: "loop", command: command, directory: dir, timeout: 20)
        let binding = ObjectBinding(entity: "x", object: "things", fields: [])
        let read = await Self.readAll(spoke, binding)
        let error = try #require(read.error, "the read did not stop after \(read.pages) pages")
        #expect(error.kind == .malformed && error.message.contains("already given in this read"), "\(error.message)")
        #expect(read.pages <= 2)
        // A scan answering "last": false without a next cursor would start over for ever.
        await #expect(throws: SpokeError.self) { _ = try await spoke.scanIDs(binding, after: nil, limit: 10) }
        await spoke.stop()
    }

    @Test func aConnectorWhoseReadNeverEndsStopsAtMaxPages() async throws {
        let (dir, command) = try Self.connector("""
                elif op == "read":
                    n = int(req["cursor"] or "0") + 1
                    out = {"records": [{"id": str(n), "fields": {}}], "next": str(n), "last": False}
            """)
        let spoke = ExecSpoke(system: "loop", command: command, directory: dir, timeout: 20, maxPages: 5)
        let read = await Self.readAll(spoke, ObjectBinding(entity: "x", object: "things", fields: []))
        let error = try #require(read.error)
        #expect(error.message.contains("went past 5 pages"), "\(error.message)")
        #expect(read.ids == ["1", "2", "3", "4"])
        await spoke.stop()
    }
}
