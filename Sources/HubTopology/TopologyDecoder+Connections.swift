import HubCore

/// The keys each adapter's `connection` (and a rest entity's `endpoint`) may hold, checked
/// before anything connects. The adapters read the same keys (tests keep the lists in step).
extension TopologyDecoder {
    static let postgresConnectionKeys = ["url", "host", "port", "database", "user", "password", "schema", "sslmode",
                                         "connect_timeout"]
    static let postgresSSLModes = ["disable", "prefer", "require", "verify-full"]
    static let restConnectionKeys = ["base_url", "auth", "headers", "timeout", "rate_limit", "retry", "endpoint"]
    static let restAuthKeys = ["type", "token", "username", "password", "name", "value"]
    static let restAuthTypes = ["none", "bearer", "basic", "header"]
    static let restRetryKeys = ["max_attempts", "base_delay", "max_delay", "max_retry_after"]
    static let restEndpointKeys = ["path", "item_path", "records", "record", "envelope", "record_fields", "query",
                                   "limit_param", "pagination", "since_param", "tombstone", "create", "update", "delete",
                                   "idempotency_header", "if_match"]
    static let restPaginationKeys = ["style", "param", "start", "next", "header", "max_pages"]
    static let restPaginationStyles = ["none", "page", "offset", "cursor", "header", "link", "next_url"]
    static let restOperationKeys = ["method", "path"]
    static let restMethods = ["POST", "PUT", "PATCH", "DELETE"]
    static let restTombstoneKeys = ["field", "value"]
    static let execConnectionKeys = ["command", "settings", "timeout", "tombstones", "max_line_mb", "max_pages"]

    /// Connection keys that hold secrets: their values must come from the environment.
    static let secretKeys: Set<String> = ["password", "token", "value"]

    /// Checks a postgres connection.
    func checkPostgres(_ node: Node, _ c: [String: Node]) {
        node.rejectUnknownKeys(c, allowed: Self.postgresConnectionKeys)
        if c["url"] == nil {
            if c["database"] == nil { node.report("missing required key 'database' (or give a postgres:// 'url')") }
            if c["user"] == nil { node.report("missing required key 'user' (or give a postgres:// 'url')") }
        }
        if let url = c["url"], let text = url.string(), !text.contains("${"),
           !(text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")) {
            url.report("expected a URL like postgres://user:${PGPASSWORD}@host:5432/database")
        }
        if let url = c["url"], let text = url.string(), Self.urlHasLiteralPassword(text) {
            url.report("the URL holds a password written in the topology; write it as ${NAME} so it comes from the environment")
        }
        if let mode = c["sslmode"], let text = mode.string(), !text.contains("${"), !Self.postgresSSLModes.contains(text) {
            mode.report("unknown sslmode '\(text)'; expected \(Self.postgresSSLModes.joined(separator: ", "))")
        }
        if let port = c["port"], port.value.intValue == nil, port.value.stringValue == nil {
            port.report("expected a port number, found \(port.value.typeName)")
        }
        checkSecret(c["password"])
    }

    /// Checks a postgres URL once `${ENV}` is substituted: it must read one way only (a raw `@`
    /// or `/` in a password would move part of it into the host or database name, which are
    /// printed). Its password, decoded and as written, joins the secrets scrubbed from output.
    func checkPostgresURL(_ node: Node, _ url: String) {
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else { return }
        do {
            let parts = try ConnectionURL.parse(url, schemes: ["postgres", "postgresql"])
            if let password = parts.password, !password.isEmpty {
                secrets.insert(password)
                if let raw = url.split(separator: "@", maxSplits: 1).first?.split(separator: ":").dropFirst(2).joined(separator: ":") {
                    secrets.insert(raw)
                }
            }
        } catch {
            node.report(error.message)
        }
    }

    /// Checks a rest connection.
    func checkREST(_ node: Node, _ c: [String: Node]) {
        node.rejectUnknownKeys(c, allowed: Self.restConnectionKeys)
        if let url = node.require(c, "base_url", "the API root, e.g. https://api.example.com/v1"), let text = url.string(),
           !text.contains("${"), !(text.hasPrefix("http://") || text.hasPrefix("https://")) {
            url.report("expected an http:// or https:// URL")
        }
        if let auth = c["auth"], let a = auth.object("an object with a type: bearer, basic or header") {
            auth.rejectUnknownKeys(a, allowed: Self.restAuthKeys)
            if let type = auth.require(a, "type", Self.restAuthTypes.joined(separator: " | ")), let t = type.string() {
                let needs: [String]
                switch t {
                case "bearer": needs = ["token"]
                case "basic": needs = ["username", "password"]
                case "header": needs = ["name", "value"]
                case "none": needs = []
                default:
                    type.report("unknown auth type '\(t)'; expected \(Self.restAuthTypes.joined(separator: ", "))")
                    needs = []
                }
                for key in needs { _ = auth.require(a, key, "for \(t) authentication") }
            }
            for key in ["token", "password", "value"] { checkSecret(a[key]) }
        }
        if let retry = c["retry"], let r = retry.object() {
            retry.rejectUnknownKeys(r, allowed: Self.restRetryKeys)
            for (key, n) in r where n.value.numberValue == nil {
                n.report("expected a number for '\(key)', found \(n.value.typeName)")
            }
        }
        for key in ["timeout", "rate_limit"] {
            if let n = c[key], (n.value.numberValue ?? 0) <= 0 { n.report("expected a positive number, found \(n.value.json)") }
        }
        if let headers = c["headers"], let h = headers.object("an object of header names and values") {
            for (_, v) in h { _ = v.string() }
        }
        if let endpoint = c["endpoint"] { checkEndpoint(endpoint) }
    }

    /// Checks a rest endpoint object (under `connection` or an entity).
    func checkEndpoint(_ node: Node) {
        guard let e = node.object("an object of endpoint settings") else { return }
        node.rejectUnknownKeys(e, allowed: Self.restEndpointKeys)
        for key in ["path", "item_path", "records", "record", "envelope", "record_fields", "limit_param", "since_param",
                    "idempotency_header"] {
            _ = e[key]?.string()
        }
        if let q = e["query"] { _ = q.object("an object of query parameters") }
        if let m = e["if_match"] { _ = m.bool() }
        if let p = e["pagination"], let o = p.object("an object with a style") {
            p.rejectUnknownKeys(o, allowed: Self.restPaginationKeys)
            checkMaxPages(o["max_pages"])
            if let style = p.require(o, "style", Self.restPaginationStyles.joined(separator: " | ")), let s = style.string() {
                if !Self.restPaginationStyles.contains(s) {
                    style.report("unknown pagination style '\(s)'; expected \(Self.restPaginationStyles.joined(separator: ", "))")
                } else if (s == "cursor" || s == "next_url") && o["next"] == nil {
                    p.report("missing required key 'next' (the JSON path of the next page's \(s == "cursor" ? "token" : "URL"))")
                }
            }
        }
        if let t = e["tombstone"], let o = t.object("{\"field\": \"deleted\", \"value\": true}") {
            t.rejectUnknownKeys(o, allowed: Self.restTombstoneKeys)
            _ = t.require(o, "field", "the field that marks a deleted record")
        }
        for key in ["create", "update", "delete"] {
            guard let op = e[key], let o = op.object("{\"method\": …, \"path\": …}") else { continue }
            op.rejectUnknownKeys(o, allowed: Self.restOperationKeys)
            if let m = o["method"], let text = m.string(), !Self.restMethods.contains(text.uppercased()) {
                m.report("unknown method '\(text)'; expected \(Self.restMethods.joined(separator: ", "))")
            }
        }
    }

    /// Checks an exec connection.
    func checkExec(_ node: Node, _ c: [String: Node]) {
        node.rejectUnknownKeys(c, allowed: Self.execConnectionKeys)
        if let command = node.require(c, "command", "the connector's program and arguments, e.g. [\"python3\", \"connector.py\"]") {
            switch command.value {
            case .string(let s) where !s.isEmpty: break
            case .array(let items) where !items.isEmpty && items.allSatisfy({ ($0.stringValue ?? "").isEmpty == false }): break
            default: command.report("expected a program, or an array of the program and its arguments")
            }
        }
        if let s = c["settings"] { _ = s.object("an object handed to the connector") }
        if let t = c["timeout"], (t.value.numberValue ?? 0) <= 0 { t.report("expected a positive number of seconds") }
        if let t = c["tombstones"] { _ = t.bool() }
        if let m = c["max_line_mb"], (m.value.numberValue ?? 0) <= 0 {
            m.report("expected a positive number of megabytes (the longest answer line a connector may send; default 64)")
        }
        checkMaxPages(c["max_pages"])
    }

    /// `max_pages`: a whole number of pages, at least 1.
    func checkMaxPages(_ node: Node?) {
        guard let node else { return }
        if (node.value.intValue ?? 0) < 1 { node.report("expected a whole number of pages, at least 1 (default 10000)") }
    }

    /// A secret written in the topology rather than brought in with `${NAME}` is an error: the
    /// topology lives in git.
    func checkSecret(_ node: Node?) {
        guard let node, let text = node.string(), !text.isEmpty, !text.contains("${") else { return }
        node.report("a secret written in the topology; write ${NAME} and export NAME so it comes from the environment")
    }

    static func urlHasLiteralPassword(_ text: String) -> Bool {
        guard let scheme = text.range(of: "://") else { return false }
        let rest = text[scheme.upperBound...]
        guard let at = rest.firstIndex(of: "@") else { return false }
        let userinfo = rest[..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return false }
        let password = userinfo[userinfo.index(after: colon)...]
        return !password.isEmpty && !password.contains("${")
    }
}

extension TopologyDecoder {
    /// Reads `hub.url` (a PostgreSQL hub) and `hub.schema`: the URL's password must come from
    /// `${ENV}` and joins the secrets; a hub has a `path` or a `url`, not both.
    func decodeHubURL(_ node: Node, _ hub: [String: Node]) -> (url: String?, schema: String?) {
        let schema = hub["schema"]?.name("a schema name")
        guard let u = hub["url"], let text = u.string() else {
            if let s = hub["schema"] { s.report("hub.schema needs a PostgreSQL hub.url") }
            return (nil, schema)
        }
        if hub["path"] != nil {
            u.report("a hub is a SQLite file (hub.path) or a PostgreSQL database (hub.url), not both; remove one")
        }
        if !text.contains("${"), !(text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")) {
            u.report("expected a URL like postgres://user:${PGPASSWORD}@host:5432/database")
        }
        if Self.urlHasLiteralPassword(text) {
            u.report("the URL holds a password written in the topology; write it as ${NAME} so it comes from the environment")
        }
        let url = expand(text, node: u, key: "url")
        checkPostgresURL(u, url)
        return (url, schema)
    }
}
