import HubCore

/// How one object (a collection of records) is read and written: an entity's `endpoint`
/// settings over the system's `connection.endpoint` defaults.
///
/// Paths are relative to the base URL; `{id}` stands for the record's ID (percent-encoded as a
/// path segment). JSON paths are dotted (`paging.next.after`); an empty path is the body itself.
public struct RESTEndpoint: Sendable, Hashable {
    /// How a list continues past its first page.
    public enum Pagination: Sendable, Hashable {
        /// One response holds every record.
        case none
        /// `?page=N`, counting from `start`; ends at a short or empty page.
        case page(param: String, start: Int)
        /// `?offset=N`; ends at a short or empty page.
        case offset(param: String)
        /// A token in the body (`paging.next.after`) sent back as a query parameter (`after`).
        case cursor(param: String, next: String)
        /// The next page's URL in a response header (Kinto's `Next-Page`).
        case header(name: String)
        /// The next page's URL in a `Link: <…>; rel="next"` header.
        case link
        /// The next page's URL in the body (`links.next`).
        case nextURL(path: String)
    }

    /// A write endpoint: the method and path.
    public struct Operation: Sendable, Hashable {
        public var method: String
        public var path: String
    }

    /// The collection path (list and create).
    public var path: String
    /// One record's path.
    public var itemPath: String
    /// Where the records are in a list response.
    public var records: String
    /// Where the record is in a single-record response (create, update, fetch).
    public var record: String
    /// The key write bodies wrap the fields in (`data` → `{"data": {…}}`), or empty for none.
    public var envelope: String
    /// The key of each record whose object holds its fields (HubSpot's `properties`): read
    /// records are flattened so mappings name `email`, not `properties.email`; empty for none.
    public var recordFields: String
    /// Query parameters added to every list request.
    public var query: [String: String]
    /// The page-size parameter (`limit`, `_limit`, `per_page`), if the API has one.
    public var limitParam: String?
    public var pagination: Pagination
    /// Pages one read may have; a read that goes on longer is stopped as endless.
    public var maxPages: Int
    /// The query parameter an incremental read sends the last cursor value in (`_since`).
    public var sinceParam: String?
    /// A record is a tombstone when the value at this path equals `tombstoneValue`.
    public var tombstoneField: String?
    public var tombstoneValue: Value
    public var create: Operation
    public var update: Operation
    public var delete: Operation
    /// A header carrying the create's hub key (`Idempotency-Key`), so a retried create is safe.
    public var idempotencyHeader: String?
    /// Every update is conditional: the record is fetched first, left alone when it changed
    /// since this run read it, and written with `If-Match` (its `ETag`), so a concurrent edit
    /// is never overwritten. Updates of nested paths always are.
    public var ifMatch: Bool

    /// The keys an `endpoint` object may hold.
    public static let keys = ["path", "item_path", "records", "record", "envelope", "record_fields", "query", "limit_param", "pagination",
                              "since_param", "tombstone", "create", "update", "delete", "idempotency_header", "if_match"]
    public static let paginationKeys = ["style", "param", "start", "next", "header", "max_pages"]
    public static let paginationStyles = ["none", "page", "offset", "cursor", "header", "link", "next_url"]
    public static let operationKeys = ["method", "path"]
    public static let tombstoneKeys = ["field", "value"]
    public static let methods = ["POST", "PUT", "PATCH", "DELETE"]

    /// Settings for `object` from the system defaults and the entity's own settings.
    /// - Throws: ``RESTConfigurationError`` naming the key at fault.
    public static func parse(object: String, defaults: [String: Value], overrides: [String: Value])
        throws(RESTConfigurationError) -> RESTEndpoint
    {
        let o = defaults.merging(overrides) { $1 }
        func text(_ key: String) throws(RESTConfigurationError) -> String? {
            guard let v = o[key] else { return nil }
            guard let s = v.stringValue else { throw RESTConfigurationError("endpoint.\(key) must be a string") }
            return s
        }
        let path = try text("path") ?? object
        let itemPath = try text("item_path") ?? (path.hasSuffix("/") ? path + "{id}" : path + "/{id}")
        let envelope = try text("envelope") ?? ""
        var endpoint = RESTEndpoint(
            path: path, itemPath: itemPath, records: try text("records") ?? "", record: try text("record") ?? "",
            envelope: envelope, recordFields: try text("record_fields") ?? "", query: [:], limitParam: try text("limit_param"), pagination: .none,
            maxPages: PaginationGuard.defaultMaxPages, sinceParam: try text("since_param"), tombstoneField: nil, tombstoneValue: true,
            create: Operation(method: "POST", path: path), update: Operation(method: "PATCH", path: itemPath),
            delete: Operation(method: "DELETE", path: itemPath), idempotencyHeader: try text("idempotency_header"), ifMatch: false)
        if let m = o["if_match"] {
            guard case .bool(let on) = m else { throw RESTConfigurationError("endpoint.if_match must be true or false") }
            endpoint.ifMatch = on
        }
        if let q = o["query"] {
            guard let object = q.objectValue else { throw RESTConfigurationError("endpoint.query must be an object of parameters") }
            for (k, v) in object {
                guard case .string = v else {
                    if v.isNull { continue }
                    endpoint.query[k] = v.displayText
                    continue
                }
                endpoint.query[k] = v.stringValue
            }
        }
        if let p = o["pagination"] {
            endpoint.pagination = try parsePagination(p)
            if let m = p.objectValue?["max_pages"] {
                guard let pages = m.intValue, pages >= 1 else {
                    throw RESTConfigurationError("endpoint.pagination.max_pages must be a whole number of pages, at least 1")
                }
                endpoint.maxPages = Int(pages)
            }
        }
        if let t = o["tombstone"] {
            guard let object = t.objectValue, let field = object["field"]?.stringValue else {
                throw RESTConfigurationError("endpoint.tombstone must be {\"field\": \"deleted\", \"value\": true}")
            }
            endpoint.tombstoneField = field
            endpoint.tombstoneValue = object["value"] ?? true
        }
        endpoint.create = try operation(o["create"], "create", default: endpoint.create)
        endpoint.update = try operation(o["update"], "update", default: endpoint.update)
        endpoint.delete = try operation(o["delete"], "delete", default: endpoint.delete)
        return endpoint
    }

    static func parsePagination(_ value: Value) throws(RESTConfigurationError) -> Pagination {
        guard let o = value.objectValue, let style = o["style"]?.stringValue else {
            throw RESTConfigurationError("endpoint.pagination must be an object with a style: \(paginationStyles.joined(separator: ", "))")
        }
        let param = o["param"]?.stringValue
        switch style {
        case "none": return .none
        case "page": return .page(param: param ?? "page", start: Int(o["start"]?.intValue ?? 1))
        case "offset": return .offset(param: param ?? "offset")
        case "cursor":
            guard let next = o["next"]?.stringValue else {
                throw RESTConfigurationError("endpoint.pagination.next is missing: the JSON path of the next page's token (e.g. paging.next.after)")
            }
            return .cursor(param: param ?? "after", next: next)
        case "header": return .header(name: o["header"]?.stringValue ?? "Next-Page")
        case "link": return .link
        case "next_url":
            guard let next = o["next"]?.stringValue else {
                throw RESTConfigurationError("endpoint.pagination.next is missing: the JSON path of the next page's URL")
            }
            return .nextURL(path: next)
        default:
            throw RESTConfigurationError("endpoint.pagination.style must be one of \(paginationStyles.joined(separator: ", "))")
        }
    }

    static func operation(_ value: Value?, _ name: String, default: Operation) throws(RESTConfigurationError) -> Operation {
        guard let value else { return `default` }
        guard let o = value.objectValue else { throw RESTConfigurationError("endpoint.\(name) must be {\"method\": …, \"path\": …}") }
        var op = `default`
        if let m = o["method"] {
            guard let method = m.stringValue?.uppercased(), methods.contains(method) else {
                throw RESTConfigurationError("endpoint.\(name).method must be one of \(methods.joined(separator: ", "))")
            }
            op.method = method
        }
        if let p = o["path"] {
            guard let path = p.stringValue else { throw RESTConfigurationError("endpoint.\(name).path must be a string") }
            op.path = path
        }
        return op
    }

    /// A record's fields as mappings see them: with `record_fields`, the nested object's members
    /// beside the record's other keys (those win, so the ID stays the ID).
    func fields(of record: [String: Value]) -> [String: Value] {
        guard !recordFields.isEmpty, case .object(let nested)? = record[recordFields] else { return record }
        var out = nested
        for (k, v) in record where k != recordFields { out[k] = v }
        return out
    }

    /// True when a record read from a list is a tombstone.
    func isTombstone(_ record: Value) -> Bool {
        guard let field = tombstoneField else { return false }
        return record.value(atPath: field) == tombstoneValue
    }
}
