import Foundation
import HubCore

extension RESTSpoke {
    /// Applies each write with one request, in order.
    ///
    /// - A create sends the fields (in the envelope) to the create endpoint and reads the new
    ///   record's ID from the answer; a create path with `{id}` (`PUT …/records/{id}`) uses the
    ///   hub key as the ID. A POST is repeated after a 5xx or a timeout only when the endpoint
    ///   sends an idempotency key (`idempotency_header`); otherwise its outcome is unknown and it
    ///   is reported `.indeterminate` (parked for a person) so that no record is created twice.
    /// - An update sends only the given fields (use PATCH for APIs that merge); 404 or 410 →
    ///   `.notFound`. A delete of a record that is gone succeeds (`.notFound`).
    /// - Any other 4xx is that record's `.failed` result with the status (never the body).
    ///
    /// When the API stays unavailable through every retry, the batch stops: if nothing was
    /// applied yet the error is thrown (the system is skipped this run); otherwise the writes
    /// already applied are reported and the rest are `.notSent`, to be sent again next run.
    public func write(_ binding: ObjectBinding, _ writes: [SpokeWrite]) async throws -> [SpokeWriteResult] {
        let endpoint = try endpoint(binding)
        var results: [SpokeWriteResult] = []
        for (index, write) in writes.enumerated() {
            do {
                results.append(try await apply(write, binding, endpoint))
            } catch let error as SpokeError where error.kind == .unavailable && index > 0 {
                let note = "not sent: the API became unavailable after \(index) of \(writes.count) writes (\(error.message))"
                results += Array(repeating: .notSent(note), count: writes.count - index)
                break
            }
        }
        return results
    }

    func apply(_ write: SpokeWrite, _ binding: ObjectBinding, _ endpoint: RESTEndpoint) async throws -> SpokeWriteResult {
        switch write {
        case .create(let key, let fields):
            let op = endpoint.create
            let keyed = op.path.contains("{id}")
            let url = client.url(op.path, id: keyed ? ExternalID(key) : nil)
            var headers: [String: String] = [:]
            if let h = endpoint.idempotencyHeader { headers[h] = key }
            let idempotent = op.method != "POST" || endpoint.idempotencyHeader != nil
            let response: HTTPResponse
            do {
                response = try await client.send(op.method, url, body: body(fields, endpoint), headers: headers,
                                                 idempotent: idempotent, object: binding.object)
            } catch let noAnswer as NoAnswer {
                // No answer to a POST without an idempotency key: it may have been applied.
                return .indeterminate("the create's outcome is unknown (\(noAnswer.error.message)); it was not repeated so the record is "
                               + "not created twice: check the API for it, or give the endpoint an idempotency_header")
            }
            if (500..<600).contains(response.status) && !idempotent && response.status != 503 {
                return .indeterminate("the API answered HTTP \(response.status) \(RESTClient.reason(response.status)) to a create; "
                               + "its outcome is unknown, so it was not repeated (give the endpoint an idempotency_header to retry safely)")
            }
            guard (200..<300).contains(response.status) else { return try recordFailure(response, op.method, url, binding) }
            let body = try json(response, op.method, url, object: binding.object)
            let record = (endpoint.record.isEmpty ? body : body.value(atPath: endpoint.record))?.objectValue.map(endpoint.fields(of:))
            if let id = Self.id(record?.value(atPath: binding.idField)) {
                if let field = binding.cursorField, let version = record?.value(atPath: field) {
                    versions.wrote(binding.object, id, version)
                }
                return .created(id)
            }
            if keyed { return .created(ExternalID(key)) }
            return .failed("the API answered the create without the new record's ID at '"
                           + (endpoint.record.isEmpty ? "" : endpoint.record + ".") + binding.idField
                           + "'; set the endpoint's \"record\" to where the created record is in the answer")
        case .update(let id, let fields):
            if endpoint.ifMatch || Self.touchesNestedPath(fields, binding) {
                return try await conditionalUpdate(id, fields, binding, endpoint)
            }
            let op = endpoint.update
            let url = client.url(op.path, id: id)
            let response = try await client.send(op.method, url, body: body(fields, endpoint), idempotent: true,
                                                 object: binding.object)
            if response.status == 404 || response.status == 410 { return .notFound }
            guard (200..<300).contains(response.status) else { return try recordFailure(response, op.method, url, binding) }
            rememberWritten(response, op.method, url, id, binding, endpoint)
            return .updated
        case .delete(let id):
            let op = endpoint.delete
            let url = client.url(op.path, id: id)
            let response = try await client.send(op.method, url, idempotent: true, object: binding.object)
            if response.status == 404 || response.status == 410 { return .notFound }
            guard (200..<300).contains(response.status) else { return try recordFailure(response, op.method, url, binding) }
            return .deleted
        }
    }

    /// The request body: the fields, wrapped in the endpoint's envelope.
    func body(_ fields: [String: Value], _ endpoint: RESTEndpoint) -> Value {
        endpoint.envelope.isEmpty ? .object(fields) : .object([endpoint.envelope: .object(fields)])
    }

    /// A write's non-2xx answer: authentication and redirects stop the run; other 4xx are this
    /// record's failure. The body is never quoted.
    func recordFailure(_ response: HTTPResponse, _ method: String, _ url: URL, _ binding: ObjectBinding) throws -> SpokeWriteResult {
        switch response.status {
        case 401, 300..<400: throw client.failure(response, method, url, object: binding.object)
        case 400..<500:
            return .failed("rejected by the API: \(method) answered HTTP \(response.status) \(RESTClient.reason(response.status))")
        default: throw client.failure(response, method, url, object: binding.object)
        }
    }
}
