import Foundation
import HubCore

extension RESTSpoke {
    /// Reads one page of the endpoint's list (see ``RESTReadPosition`` for the cursor).
    ///
    /// With a `cursorField` and a `since_param`, a read from a run's final cursor asks for the
    /// records changed since the highest cursor value of the previous run; the last page's
    /// `next` holds the highest value this run saw. Tombstones are reported in `deleted`.
    /// Records without an ID cannot be addressed and are left out.
    public func read(_ binding: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> SpokePage {
        let endpoint = try endpoint(binding)
        let incremental = binding.cursorField != nil && endpoint.sinceParam != nil
        let position = try position(cursor, binding)
        let page = try await listPage(binding, endpoint, position: position, limit: max(1, limit), incremental: incremental,
                                      chain: "read")
        var records: [SpokeRecord] = []
        var deleted: [ExternalID] = []
        var highest = position.max ?? position.since
        for item in page.items {
            guard case .object(let raw) = item else { continue }
            let fields = endpoint.fields(of: raw)
            guard let id = Self.id(fields.value(atPath: binding.idField)) else { continue }
            if let field = binding.cursorField { highest = RESTReadPosition.larger(highest, fields.value(atPath: field)) }
            if endpoint.isTombstone(item) { deleted.append(id) } else { records.append(SpokeRecord(id: id, fields: fields)) }
        }
        // An API has no schema to ask: the page's records show which fields it serves.
        let schema = DiscoveredObject.inferred(name: binding.object, from: records.map(\.fields), keys: [binding.idField])
        if let next = page.next {
            let position = RESTReadPosition(next: next, since: position.since, max: binding.cursorField != nil ? highest : nil)
            return SpokePage(records: records, deleted: deleted, next: position.cursor, isLast: false, schema: schema)
        }
        if binding.cursorField != nil { versions.readEnded(binding.object, highest: highest) }
        let final = incremental ? RESTReadPosition(since: highest).cursor : nil
        return SpokePage(records: records, deleted: deleted, next: final, isLast: true, schema: schema)
    }

    /// Lists IDs page by page (a full list; tombstones left out); the last page's `next` is nil.
    public func scanIDs(_ binding: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> IDPage {
        let endpoint = try endpoint(binding)
        let position = try position(cursor, binding)
        let page = try await listPage(binding, endpoint, position: RESTReadPosition(next: position.next), limit: max(1, limit),
                                      incremental: false, chain: "scan")
        let ids = page.items.filter { !endpoint.isTombstone($0) }.compactMap { item in
            item.objectValue.flatMap { Self.id(endpoint.fields(of: $0).value(atPath: binding.idField)) }
        }
        return IDPage(ids: ids, next: page.next.map { RESTReadPosition(next: $0).cursor }, isLast: page.next == nil)
    }

    /// Fetches records one request each; IDs the API does not have (404, 410) are left out.
    public func fetch(_ binding: ObjectBinding, ids: [ExternalID]) async throws -> [SpokeRecord] {
        let endpoint = try endpoint(binding)
        var records: [SpokeRecord] = []
        var seen: Set<ExternalID> = []
        for id in ids where seen.insert(id).inserted {
            let url = client.url(endpoint.itemPath, id: id)
            let response = try await client.send("GET", url, idempotent: true, object: binding.object)
            if response.status == 404 || response.status == 410 { continue }
            guard (200..<300).contains(response.status) else { throw client.failure(response, "GET", url, object: binding.object) }
            let body = try json(response, "GET", url, object: binding.object)
            let item = endpoint.record.isEmpty ? body : body.value(atPath: endpoint.record) ?? .null
            guard case .object(let raw) = item, !endpoint.isTombstone(item) else { continue }
            let fields = endpoint.fields(of: raw)
            records.append(SpokeRecord(id: Self.id(fields.value(atPath: binding.idField)) ?? id, fields: fields))
        }
        return records
    }

    /// The records created earlier with these keys, where the create path puts the key in the
    /// URL (`PUT …/records/{id}`): they are fetched by it. Nil otherwise: an API that assigns
    /// IDs gives no way to find a record by hubctl's key.
    public func lookupCreated(_ binding: ObjectBinding, keys: [String]) async throws -> [String: ExternalID]? {
        let endpoint = try endpoint(binding)
        guard endpoint.create.path.contains("{id}") else { return nil }
        let found = try await fetch(binding, ids: keys.map(ExternalID.init))
        let ids = Set(found.map(\.id.rawValue))
        return Dictionary(uniqueKeysWithValues: keys.filter(ids.contains).map { ($0, ExternalID($0)) })
    }

    /// The read position a stored cursor encodes, or a configuration error.
    func position(_ cursor: Cursor?, _ binding: ObjectBinding) throws -> RESTReadPosition {
        guard let position = RESTReadPosition(cursor) else {
            throw SpokeError(.configuration, system: system, object: binding.object,
                             message: "the stored cursor is not a REST read position; reset the cursor to read from the start")
        }
        return position
    }

    /// One list request: its records (tombstones included) and where the next page is, if any.
    /// - Parameters:
    ///   - chain: the kind of read (`read`, `scan`), to stop a read whose next page was already
    ///     read (see ``stopEndless(_:_:position:items:next:chain:)``).
    func listPage(_ binding: ObjectBinding, _ endpoint: RESTEndpoint, position: RESTReadPosition, limit: Int,
                  incremental: Bool, chain: String) async throws -> (items: [Value], next: Value?) {
        let url: URL
        if case .string(let next)? = position.next, Self.followsURLs(endpoint.pagination) {
            guard let same = client.sameOrigin(next) else {
                throw SpokeError(.configuration, system: system, object: binding.object,
                                 message: "the API's next-page link points to another address than connection.base_url; "
                                    + "credentials are only sent to the base URL's host")
            }
            // The page size of this read, not of the read that asked for the link.
            if let p = endpoint.limitParam, var parts = URLComponents(url: same, resolvingAgainstBaseURL: false) {
                var items = (parts.percentEncodedQueryItems ?? []).filter { $0.name != RESTClient.queryPart(p) }
                items.append(URLQueryItem(name: RESTClient.queryPart(p), value: String(limit)))
                parts.percentEncodedQueryItems = items
                url = parts.url ?? same
            } else {
                url = same
            }
        } else {
            var query = endpoint.query
            if let p = endpoint.limitParam { query[p] = String(limit) }
            if incremental, let p = endpoint.sinceParam, let since = position.since { query[p] = since.displayText }
            switch endpoint.pagination {
            case .page(let param, let start): query[param] = String(position.next?.intValue ?? Int64(start))
            case .offset(let param): query[param] = String(position.next?.intValue ?? 0)
            case .cursor(let param, _): if let token = position.next { query[param] = token.displayText }
            case .none, .header, .link, .nextURL: break
            }
            url = client.url(endpoint.path, query: query)
        }
        let response = try await client.send("GET", url, idempotent: true, object: binding.object)
        if response.status == 404 || response.status == 410 {
            // The collection itself is gone (or the path is wrong): never "every record was deleted".
            throw SpokeError(.missingObject, system: system, object: binding.object, message:
                "\(RESTClient.label("GET", url)) answered HTTP \(response.status) \(RESTClient.reason(response.status)): the collection "
                    + "does not exist; check connection.base_url and the entity's endpoint path, or restore the collection")
        }
        guard (200..<300).contains(response.status) else { throw client.failure(response, "GET", url, object: binding.object) }
        let body = try json(response, "GET", url, object: binding.object)
        let list = endpoint.records.isEmpty ? body : body.value(atPath: endpoint.records)
        guard case .array(let items)? = list else {
            throw SpokeError(.malformed, system: system, object: binding.object, message:
                "\(RESTClient.label("GET", url)) answered without a list of records at "
                    + (endpoint.records.isEmpty ? "the top of the body" : "'\(endpoint.records)'")
                    + "; set the endpoint's \"records\" to the JSON path of the list")
        }
        var next: Value?
        switch endpoint.pagination {
        case .none: next = nil
        case .page:
            let current = position.next?.intValue ?? Int64(endpoint.pageStart)
            next = Self.isFullPage(items.count, limit: limit, endpoint) ? .int(current + 1) : nil
        case .offset:
            next = Self.isFullPage(items.count, limit: limit, endpoint) ? .int((position.next?.intValue ?? 0) + Int64(items.count)) : nil
        case .cursor(_, let path):
            let token = body.value(atPath: path)
            next = (token?.isNull ?? true) || token?.displayText.isEmpty == true ? nil : token
        case .header(let name): next = response.header(name).flatMap { $0.isEmpty ? nil : .string($0) }
        case .link: next = response.header("Link").flatMap(Self.nextLink).map(Value.string)
        case .nextURL(let path): next = body.value(atPath: path).flatMap { $0.stringValue?.isEmpty == false ? $0 : nil }
        }
        try stopEndless(binding, endpoint, position: position, items: items, next: next, chain: chain)
        return (items, next)
    }

    /// Stops a read whose next page was already read in this read, or that passes the endpoint's
    /// `max_pages`. A page is known by its link or token (cursor, header, link and next_url
    /// styles) or, where hubctl counts pages itself (page and offset), by its content: an API
    /// that ignores the page parameter sends the same page again.
    func stopEndless(_ binding: ObjectBinding, _ endpoint: RESTEndpoint, position: RESTReadPosition, items: [Value],
                     next: Value?, chain: String) throws {
        let key = "\(chain) \(binding.object) "
        var startMarks: [String] = [], marks: [String] = []
        switch endpoint.pagination {
        case .page, .offset:
            marks = [SHA256.hexString(SHA256.hash(JSONWriter.bytes(.array(items))))]
        case .none, .cursor, .header, .link, .nextURL:
            startMarks = [position.next?.displayText ?? ""]
            marks = [next?.displayText ?? ""]
        }
        do {
            // Pages are chained by their token (a cursor also carries the highest value seen).
            try pages.advance(from: position.next.map { key + $0.displayText }, to: next.map { key + $0.displayText },
                              startMarks: startMarks, marks: marks, limit: endpoint.maxPages)
        } catch .repeated(let page) {
            throw SpokeError(.malformed, system: system, object: binding.object, message:
                "the API's pagination came back to a page already read in this read (page \(page), \(endpoint.paginationName) "
                    + "pagination), so the read would never end; it was stopped. Check the endpoint's pagination settings, "
                    + "or whether the API honours its page parameter")
        } catch .tooManyPages(let limit) {
            throw SpokeError(.malformed, system: system, object: binding.object, message:
                "the API's list went past \(limit) pages without a last page and was stopped; if the collection really has "
                    + "that many pages, raise the endpoint's pagination.max_pages")
        }
    }

    static func followsURLs(_ pagination: RESTEndpoint.Pagination) -> Bool {
        switch pagination {
        case .header, .link, .nextURL: return true
        default: return false
        }
    }

    /// A page as long as the limit asked for (or any non-empty page when the API takes no limit) may have a successor.
    static func isFullPage(_ count: Int, limit: Int, _ endpoint: RESTEndpoint) -> Bool {
        endpoint.limitParam == nil ? count > 0 : count >= limit
    }

    /// The `rel="next"` URL of a `Link` header.
    static func nextLink(_ header: String) -> String? {
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = pieces.first, first.hasPrefix("<"), first.hasSuffix(">") else { continue }
            if pieces.dropFirst().contains(where: { $0.replacingOccurrences(of: " ", with: "").lowercased() == "rel=\"next\"" || $0.lowercased() == "rel=next" }) {
                return String(first.dropFirst().dropLast())
            }
        }
        return nil
    }
}

extension RESTEndpoint {
    /// The pagination style's name, as the topology writes it.
    var paginationName: String {
        switch pagination {
        case .none: "none"
        case .page: "page"
        case .offset: "offset"
        case .cursor: "cursor"
        case .header(let name): "'\(name)' header"
        case .link: "Link header"
        case .nextURL: "next_url"
        }
    }

    /// The first page number of page pagination.
    var pageStart: Int {
        if case .page(_, let start) = pagination { return start }
        return 1
    }
}
