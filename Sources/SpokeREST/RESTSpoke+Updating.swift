import Foundation
import HubCore

/// Updates that never lose a field they did not mean to change.
///
/// Many APIs merge a PATCH's top-level keys only (Kinto does): `{"contact": {"phone": …}}`
/// replaces the whole `contact` object, wiping `contact.email`. So an update that touches a
/// nested path (a mapping's dotted path) fetches the record first and sends the whole
/// top-level value of each nested path it touches: the record's current value with the
/// changed leaves set.
///
/// The same fetch makes the update conditional (always for nested paths, for every update with
/// the endpoint's `if_match`): a record whose cursor field moved past what this run read was
/// changed by someone else since, and is left for the next run to read and merge
/// (`.notSent`); otherwise the write carries `If-Match` with the record's `ETag`, and a
/// `412 Precondition Failed` (changed between the fetch and the write) fetches it again, up to
/// three times.
extension RESTSpoke {
    /// True when an update writes below a mapping's dotted path (`contact.phone`).
    static func touchesNestedPath(_ fields: [String: Value], _ binding: ObjectBinding) -> Bool {
        binding.fields.contains { path in
            guard let dot = path.firstIndex(of: "."), fields[path] == nil else { return false }
            return fields[String(path[..<dot])] != nil
        }
    }

    /// `fields` with each top-level value that nested paths write replaced by the record's
    /// current value with those paths set: siblings the mapping does not write are kept.
    static func wholeTopLevelValues(_ fields: [String: Value], current: [String: Value],
                                    _ binding: ObjectBinding) -> [String: Value] {
        var out = fields
        let nested = binding.fields.filter { $0.contains(".") && fields[$0] == nil }
        for root in Set(nested.map { String($0.prefix { $0 != "." }) }) where fields[root] != nil {
            var merged: [String: Value] = [root: current[root]?.objectValue.map(Value.object) ?? .object([:])]
            for path in nested where path.hasPrefix(root + ".") {
                if let value = fields.value(atPath: path) { merged.setValue(value, atPath: path) }
            }
            out[root] = merged[root]
        }
        return out
    }

    func conditionalUpdate(_ id: ExternalID, _ fields: [String: Value], _ binding: ObjectBinding,
                           _ endpoint: RESTEndpoint) async throws -> SpokeWriteResult {
        let op = endpoint.update
        let url = client.url(op.path, id: id)
        for _ in 1...3 {
            let read = client.url(endpoint.itemPath, id: id)
            let fetched = try await client.send("GET", read, idempotent: true, object: binding.object)
            if fetched.status == 404 || fetched.status == 410 { return .notFound }
            guard (200..<300).contains(fetched.status) else { throw client.failure(fetched, "GET", read, object: binding.object) }
            let body = try json(fetched, "GET", read, object: binding.object)
            let current = (endpoint.record.isEmpty ? body : body.value(atPath: endpoint.record))?.objectValue.map(endpoint.fields(of:)) ?? [:]
            if let field = binding.cursorField, versions.changedSinceRead(binding.object, id, current.value(atPath: field)) {
                return .notSent("the record changed in the system after this run read it; it is not overwritten: "
                                + "the next run reads the change, merges it and sends what is left")
            }
            var headers: [String: String] = [:]
            if let tag = fetched.header("ETag") { headers["If-Match"] = tag }
            let response = try await client.send(op.method, url, body: self.body(Self.wholeTopLevelValues(fields, current: current, binding), endpoint),
                                                 headers: headers, idempotent: true, object: binding.object)
            if response.status == 412 { continue }
            if response.status == 404 || response.status == 410 { return .notFound }
            guard (200..<300).contains(response.status) else { return try recordFailure(response, op.method, url, binding) }
            rememberWritten(response, op.method, url, id, binding, endpoint)
            return .updated
        }
        return .notSent("the record kept changing while hubctl wrote it (HTTP 412 Precondition Failed three times); "
                        + "the next run reads it again and sends what is left")
    }

    /// Notes the record's cursor value after hubctl's own write, so that a later update in the
    /// same run does not take hubctl's write for someone else's.
    func rememberWritten(_ response: HTTPResponse, _ method: String, _ url: URL, _ id: ExternalID, _ binding: ObjectBinding,
                         _ endpoint: RESTEndpoint) {
        guard let field = binding.cursorField, let body = try? json(response, method, url, object: binding.object),
              let record = (endpoint.record.isEmpty ? body : body.value(atPath: endpoint.record))?.objectValue.map(endpoint.fields(of:)),
              let version = record.value(atPath: field) else { return }
        versions.wrote(binding.object, id, version)
    }
}

/// What this spoke's reads and writes saw of record versions (their cursor field's value), so
/// an update can tell whether someone else changed a record since this run read it.
final class RecordVersions: Sendable {
    private struct State {
        /// Per object: the highest cursor value of its last completed read.
        var readUpTo: [String: Value] = [:]
        /// Per object and record: the cursor value the record had after hubctl's own last write.
        var written: [String: [ExternalID: Value]] = [:]
    }
    private let state = Locked(State())

    func readEnded(_ object: String, highest: Value?) {
        guard let highest else { return }
        state.withLock { $0.readUpTo[object] = RESTReadPosition.larger($0.readUpTo[object], highest) }
    }

    func wrote(_ object: String, _ id: ExternalID, _ version: Value) {
        state.withLock { $0.written[object, default: [:]][id] = version }
    }

    /// True when the record's version is newer than everything this run read of the object and
    /// is not hubctl's own write. Unknown (no completed read, no version) is not a change.
    func changedSinceRead(_ object: String, _ id: ExternalID, _ version: Value?) -> Bool {
        guard let version, !version.isNull else { return false }
        return state.withLock { s in
            guard let read = s.readUpTo[object] else { return false }
            if s.written[object]?[id] == version { return false }
            return version != read && RESTReadPosition.larger(read, version) == version
        }
    }
}
