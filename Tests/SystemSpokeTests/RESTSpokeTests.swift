import Foundation
import HubCore
import HubTesting
import HubTestServers
import SpokeREST
import Testing

@Suite(.enabled(if: TestServices.runKintoTests, "needs Kinto: run scripts/with-test-services.sh swift test"))
struct KintoSpokeTests {
    @Test func aKintoCollectionPassesTheConformanceSuite() async throws {
        try await SpokeConformance {
            let k = try await KintoCollection.make()
            return SpokeConformance.Subject(
                spoke: try k.spoke(),
                binding: ObjectBinding(entity: "contact", object: k.path, idField: "id", cursorField: "last_modified",
                                       fields: ["name", "score"]),
                externalEdit: { id, fields in
                    try await k.request("PATCH", "\(k.path)/\(id.rawValue)", body: ["data": .object(fields)])
                })
        }.run()
    }

    @Test func deletedKintoRecordsComeBackAsTombstonesSinceTheLastCursor() async throws {
        let k = try await KintoCollection.make()
        let spoke = try k.spoke()
        #expect(spoke.capabilities.tombstones)
        let binding = ObjectBinding(entity: "contact", object: k.path, cursorField: "last_modified", fields: ["name"])
        let created = try await spoke.write(binding, (0..<3).map { .create(key: "k\($0)", fields: ["name": .string("n\($0)")]) })
        guard case .created(let gone) = created[1] else { Issue.record("\(created)"); return }
        let first = try await spoke.read(binding, after: nil, limit: 100)
        #expect(first.records.count == 3 && first.isLast)
        try await k.request("DELETE", "\(k.path)/\(gone.rawValue)")
        let next = try await spoke.read(binding, after: first.next, limit: 100)
        #expect(next.records.isEmpty)
        #expect(next.deleted == [gone])
        let quiet = try await spoke.read(binding, after: next.next, limit: 100)
        #expect(quiet.records.isEmpty && quiet.deleted.isEmpty)
    }

    @Test func aWrongKintoPasswordIsAnAuthenticationErrorThatDoesNotShowThePassword() async throws {
        let k = try await KintoCollection.make()
        let wrong = "hubctl-canary-0123456789abcdef"
        let spoke = try k.spoke(password: wrong)
        let binding = ObjectBinding(entity: "contact", object: k.path, fields: ["name"])
        do {
            _ = try await spoke.read(binding, after: nil, limit: 10)
            Issue.record("a wrong password read records")
        } catch let error as SpokeError {
            #expect(error.message.contains("authentication failed"))
            #expect(!error.description.contains(wrong))
        }
    }
}

@Suite struct FakeCRMSpokeTests {
    @Test func theFakeCRMsShapePassesTheConformanceSuite() async throws {
        let servers = ServerList()
        try await SpokeConformance {
            let crm = try await FakeCRM.start(token: "crm-token-\(UUID().uuidString)")
            await servers.add(crm)
            return SpokeConformance.Subject(
                spoke: try await CRMShape.spoke(crm),
                binding: ObjectBinding(entity: "contact", object: "crm/v3/objects/contacts", idField: "id",
                                       cursorField: "updatedAt", fields: ["name", "score"]),
                externalEdit: { id, fields in await crm.edit("contacts", id: id.rawValue, fields) })
        }.run()
        await servers.stopAll()
    }

    @Test func writesWrapFieldsInTheEnvelopeAndReadsFlattenThem() async throws {
        let crm = try await FakeCRM.start(token: "t0ken-abcdef")
        defer { Task { await crm.stop() } }
        let spoke = try await CRMShape.spoke(crm)
        let binding = ObjectBinding(entity: "contact", object: "crm/v3/objects/contacts", cursorField: "updatedAt",
                                    fields: ["email", "firstname"])
        let results = try await spoke.write(binding, [.create(key: "h1", fields: ["email": "a@x.test", "firstname": "Ann"])])
        #expect(results == [.created("1")])
        let request = try #require(await crm.requests.last)
        #expect(request.method == "POST" && request.path == "/crm/v3/objects/contacts")
        #expect(try JSONParser.parse(request.body) == ["properties": ["email": "a@x.test", "firstname": "Ann"]])
        #expect(request.headers["Authorization"] == "Bearer t0ken-abcdef")
        let page = try await spoke.read(binding, after: nil, limit: 10)
        #expect(page.records.first?.fields["email"] == "a@x.test")
        #expect(page.records.first?.fields["updatedAt"]?.stringValue != nil)
    }

    @Test func aTooManyRequestsAnswerIsRetriedAfterItsRetryAfterSeconds() async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        defer { Task { await crm.stop() } }
        await crm.add("contacts", ["email": "a@x.test"])
        await crm.inject(.init(method: "GET", nth: 1, action: .status(429, retryAfter: .seconds(7))))
        let clock = VirtualClock()
        let spoke = try await CRMShape.spoke(crm, clock: clock)
        let page = try await spoke.read(ObjectBinding(entity: "c", object: "crm/v3/objects/contacts", fields: ["email"]),
                                        after: nil, limit: 10)
        #expect(page.records.count == 1)
        #expect(clock.sleeps == [7])
        #expect(await crm.requests.map(\.status) == [429, 200])
    }

    @Test func aRetryAfterHTTPDateIsHonoured() async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        defer { Task { await crm.stop() } }
        await crm.inject(.init(method: "GET", nth: 1, action: .status(503, retryAfter: .date(secondsFromNow: 30))))
        let clock = VirtualClock()
        let spoke = try await CRMShape.spoke(crm, clock: SystemClockAt(clock))
        // The date is 30 s ahead when the server writes it; on a busy machine the answer can take
        // a while to be read, and the wait is shorter by that much (never longer).
        let started = Date()
        _ = try await spoke.read(ObjectBinding(entity: "c", object: "crm/v3/objects/contacts", fields: ["email"]), after: nil, limit: 10)
        let elapsed = Date().timeIntervalSince(started)
        let wait = try #require(clock.sleeps.first)
        #expect(wait >= 28 - elapsed && wait <= 31, "waited \(wait) s for a date 30 s ahead (the read took \(elapsed) s)")
    }

    @Test func serverErrorsOnReadsBackOffExponentiallyWithJitterUntilTheAttemptsRunOut() async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        defer { Task { await crm.stop() } }
        for n in 1...4 { await crm.inject(.init(method: "GET", nth: n, action: .status(500, retryAfter: nil))) }
        let clock = VirtualClock()
        let spoke = try await CRMShape.spoke(crm, clock: clock, retry: ["max_attempts": 4, "base_delay": 1, "max_delay": 3])
        let binding = ObjectBinding(entity: "c", object: "crm/v3/objects/contacts", fields: ["email"])
        await #expect(throws: SpokeError.self) { _ = try await spoke.read(binding, after: nil, limit: 10) }
        // Jitter is half the ceiling in these tests: ceilings 1, 2, 3 (capped).
        #expect(clock.sleeps == [0.5, 1, 1.5])
        #expect(await crm.requests.count == 4)
        // The fifth request (a new read) succeeds: the fault table is spent.
        _ = try await spoke.read(binding, after: nil, limit: 10)
    }

    @Test func aTimedOutReadIsRetried() async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        defer { Task { await crm.stop() } }
        await crm.inject(.init(method: "GET", nth: 1, action: .delay(seconds: 60)))
        let spoke = try await CRMShape.spoke(crm, clock: VirtualClock(), timeout: 10)
        let page = try await spoke.read(ObjectBinding(entity: "c", object: "crm/v3/objects/contacts", fields: ["email"]),
                                        after: nil, limit: 10)
        #expect(page.isLast)
    }

    @Test func aCreateThatFailsAfterBeingAppliedIsNotSentTwice() async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        defer { Task { await crm.stop() } }
        await crm.inject(.init(method: "POST", nth: 1, action: .applyThenStatus(500)))
        let spoke = try await CRMShape.spoke(crm, clock: VirtualClock())
        let binding = ObjectBinding(entity: "c", object: "crm/v3/objects/contacts", fields: ["email"])
        let results = try await spoke.write(binding, [.create(key: "h1", fields: ["email": "a@x.test"]),
                                                      .create(key: "h2", fields: ["email": "b@x.test"])])
        guard case .indeterminate(let message) = results[0] else { Issue.record("\(results)"); return }
        #expect(message.contains("outcome is unknown"))
        #expect(results[1] == .created("2"))
        #expect(await crm.records("contacts").count == 2, "one record per create: none sent twice")
    }

    @Test func aCreateRefusedForTooManyRequestsIsRetried() async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        defer { Task { await crm.stop() } }
        await crm.inject(.init(method: "POST", nth: 1, action: .status(429, retryAfter: .seconds(1))))
        let clock = VirtualClock()
        let spoke = try await CRMShape.spoke(crm, clock: clock)
        let results = try await spoke.write(ObjectBinding(entity: "c", object: "crm/v3/objects/contacts", fields: ["email"]),
                                            [.create(key: "h1", fields: ["email": "a@x.test"])])
        #expect(results == [.created("1")])
        #expect(clock.sleeps == [1])
    }

    @Test func aClientErrorIsThatRecordsFailureAndIsNotRetried() async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        defer { Task { await crm.stop() } }
        await crm.setRequired(["email"])
        let spoke = try await CRMShape.spoke(crm, clock: VirtualClock())
        let results = try await spoke.write(ObjectBinding(entity: "c", object: "crm/v3/objects/contacts", fields: ["email"]),
                                            [.create(key: "h1", fields: ["firstname": "no email"]),
                                             .create(key: "h2", fields: ["email": "b@x.test"]),
                                             .update(id: "999", fields: ["email": "c@x.test"])])
        #expect(results.count == 3)
        guard case .failed(let message) = results[0] else { Issue.record("\(results)"); return }
        #expect(message.contains("HTTP 400") && !message.contains("no email"))
        #expect(results[1] == .created("1"))
        #expect(results[2] == .notFound)
        #expect(await crm.requests.filter { $0.method == "POST" }.count == 2, "the refused create was sent once")
    }

    @Test func anUnavailableAPIMidBatchReportsWhatWasAppliedAndHoldsTheRest() async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        defer { Task { await crm.stop() } }
        for n in 2...3 { await crm.inject(.init(method: "POST", nth: n, action: .status(503, retryAfter: nil))) }
        let spoke = try await CRMShape.spoke(crm, clock: VirtualClock(), retry: ["max_attempts": 2])
        let results = try await spoke.write(ObjectBinding(entity: "c", object: "crm/v3/objects/contacts", fields: ["email"]),
                                            (1...3).map { .create(key: "h\($0)", fields: ["email": .string("\($0)@x.test")]) })
        #expect(results.first == .created("1"))
        #expect(results.dropFirst().allSatisfy { if case .notSent(let m) = $0 { m.hasPrefix("not sent") } else { false } })
        #expect(await crm.records("contacts").count == 1)
    }

    @Test func theRateLimitSpacesRequests() async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        defer { Task { await crm.stop() } }
        let clock = VirtualClock()
        let spoke = try await CRMShape.spoke(crm, clock: clock, rateLimit: 4)
        let binding = ObjectBinding(entity: "c", object: "crm/v3/objects/contacts", fields: ["email"])
        _ = try await spoke.write(binding, (1...5).map { .create(key: "h\($0)", fields: ["email": .string("\($0)@x.test")]) })
        // Each request after the first waits for its slot, 0.25 s after the one before.
        #expect(clock.sleeps == [0.25, 0.25, 0.25, 0.25])
    }

    @Test func aWrongTokenIsAnAuthenticationErrorWithoutTheTokenOrTheEchoedBody() async throws {
        let crm = try await FakeCRM.start(token: "right-token")
        defer { Task { await crm.stop() } }
        let canary = "hubctl-canary-feedfacecafebeef"
        let spoke = try await CRMShape.spoke(crm, token: canary)
        let binding = ObjectBinding(entity: "c", object: "crm/v3/objects/contacts", fields: ["email"])
        do {
            _ = try await spoke.read(binding, after: nil, limit: 10)
            Issue.record("a wrong token read records")
        } catch let error as SpokeError {
            #expect(error.kind == .configuration && error.message.contains("authentication failed"))
            #expect(!"\(error)".contains(canary) && !"\(error)".contains("invalid token"))
        }
        let checked = try? await spoke.check([binding])
        #expect(checked == nil, "check throws the authentication error for the CLI to report")
        for request in await crm.requests { #expect(!request.path.contains(canary) && request.query.values.allSatisfy { !$0.contains(canary) }) }
    }

    @Test func checkFindsAMissingEndpointAndWarnsAboutFieldsNoRecordHas() async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        defer { Task { await crm.stop() } }
        await crm.add("contacts", ["email": "a@x.test", "firstname": "Ann"])
        let spoke = try await CRMShape.spoke(crm)
        let results = try await spoke.check([
            ObjectBinding(entity: "c", object: "crm/v3/objects/contacts", cursorField: "updatedAt", fields: ["emial", "firstname"]),
            ObjectBinding(entity: "c", object: "crm/v3/objcts/contacts", fields: ["email"]),
        ])
        #expect(results[0].problems.isEmpty)
        #expect(results[0].warnings == ["no sampled record has the field 'emial'; did you mean 'email'?"])
        #expect(results[1].problems.first?.contains("the collection does not exist") == true, "\(results[1].problems)")
        let schema = try await spoke.discover([ObjectBinding(entity: "c", object: "crm/v3/objects/contacts", fields: [])])
        #expect(Set(schema.objects[0].fields.map(\.name)).isSuperset(of: ["id", "email", "firstname", "updatedAt"]))
    }

    @Test func aCollectionThatAnswers404IsAMissingObjectNotAnEmptyList() async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        defer { Task { await crm.stop() } }
        let spoke = try await CRMShape.spoke(crm, object: "crm/v3/gone/contacts")
        let binding = ObjectBinding(entity: "c", object: "crm/v3/gone/contacts", fields: ["email"])
        await #expect(throws: SpokeError.self) { _ = try await spoke.read(binding, after: nil, limit: 10) }
        do {
            _ = try await spoke.scanIDs(binding, after: nil, limit: 10)
            Issue.record("a missing collection was scanned as empty")
        } catch let error as SpokeError {
            #expect(error.kind == .missingObject && error.message.contains("HTTP 404"), "\(error)")
        }
    }

    @Test func idsArePercentEncodedAsOnePathSegment() async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        defer { Task { await crm.stop() } }
        let spoke = try await CRMShape.spoke(crm)
        let binding = ObjectBinding(entity: "c", object: "crm/v3/objects/contacts", fields: ["email"])
        _ = try await spoke.write(binding, [.update(id: "../../1?x=#", fields: ["email": "x"]), .delete(id: "a/b")])
        let paths = await crm.requests.map(\.path)
        #expect(paths.allSatisfy { $0.hasPrefix("/crm/v3/objects/contacts/") && $0.split(separator: "/").count == 5 }, "\(paths)")
    }
}

extension FakeCRM {
    func setRequired(_ names: Set<String>) { requiredProperties = names }
}

/// The virtual clock's waits with the real date, for `Retry-After` dates the fake computes from
/// real time.
struct SystemClockAt: RESTClock {
    let virtual: VirtualClock
    init(_ virtual: VirtualClock) { self.virtual = virtual }
    func now() -> Date { Date() }
    func sleep(seconds: Double) async throws { try await virtual.sleep(seconds: seconds) }
}

/// Fake servers started by a conformance run, stopped at the end.
actor ServerList {
    var servers: [FakeCRM] = []
    func add(_ s: FakeCRM) { servers.append(s) }
    func stopAll() async {
        for s in servers { await s.stop() }
    }
}

extension FakeCRMSpokeTests {
    @Test func aTruncatedPageIsAMalformedAnswerThatQuotesNothing() async throws {
        let crm = try await FakeCRM.start(token: "tok-1234")
        defer { Task { await crm.stop() } }
        await crm.inject(.init(method: "GET", nth: 1, action: .malformedBody))
        let spoke = try await CRMShape.spoke(crm, clock: VirtualClock())
        do {
            _ = try await spoke.read(ObjectBinding(entity: "c", object: "crm/v3/objects/contacts", fields: ["email"]), after: nil, limit: 10)
            Issue.record("a truncated page was read")
        } catch let error as SpokeError {
            #expect(error.kind == .malformed && error.message.contains("not JSON"))
            #expect(!error.message.contains("results"))
        }
    }
}

extension KintoSpokeTests {
    @Test func createsKeyedByTheHubKeyAreFoundByItAfterACrash() async throws {
        let k = try await KintoCollection.make()
        let settings = try RESTSettings.parse([
            "base_url": .string(k.root), "auth": ["type": "basic", "username": .string(k.user), "password": .string(k.password)],
        ])
        var overrides = KintoCollection.endpoint
        overrides["create"] = ["method": "PUT", "path": .string(k.path + "/{id}")]
        let endpoint = try RESTEndpoint.parse(object: k.path, defaults: [:], overrides: overrides)
        let spoke = RESTSpoke(system: "kinto", settings: settings, endpoints: [k.path: endpoint])
        let binding = ObjectBinding(entity: "contact", object: k.path, fields: ["name"])
        let key = "0192f0c4-1c2d-7e3f-8a9b-0c1d2e3f4a5b"
        #expect(try await spoke.write(binding, [.create(key: key, fields: ["name": "Ann"])]) == [.created(ExternalID(key))])
        // Sent again after a crash: the same record, not a second one.
        #expect(try await spoke.write(binding, [.create(key: key, fields: ["name": "Ann"])]) == [.created(ExternalID(key))])
        #expect(try await spoke.read(binding, after: nil, limit: 10).records.count == 1)
        #expect(try await spoke.lookupCreated(binding, keys: [key, "0192f0c4-0000-7000-8000-000000000000"]) == [key: ExternalID(key)])
        let posting = try k.spoke()
        #expect(try await posting.lookupCreated(binding, keys: [key]) == nil, "an API that assigns IDs cannot be asked by key")
    }
}
