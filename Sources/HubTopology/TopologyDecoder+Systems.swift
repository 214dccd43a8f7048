import HubCore

extension TopologyDecoder {
    static let systemKeys = ["adapter", "connection", "direction", "entities", "schedule", "webhook", "capture"]
    static let systemEntityKeys = [
        "object", "id", "cursor", "fields", "filter", "on_unmatch", "deletes", "endpoint", "schedule", "partitions",
    ]
    static let fieldMappingKeys = [
        "field", "values", "direction", "default", "type", "format", "normalize", "parts", "separator", "split",
    ]
    static let deleteKeys = ["pull", "push", "max_share", "min_count"]

    func decodeSystems(_ node: Node, entities: [EntityDefinition]) -> [SystemDefinition] {
        guard let members = node.orderedObject("an object of systems") else { return [] }
        if members.isEmpty { node.report("declare at least one system") }
        var systems: [SystemDefinition] = []
        for (name, systemNode) in members {
            if let system = decodeSystem(SystemName(name), systemNode, entities: entities) { systems.append(system) }
        }
        return systems
    }

    func decodeSystem(_ name: SystemName, _ node: Node, entities: [EntityDefinition]) -> SystemDefinition? {
        guard let s = node.object() else { return nil }
        node.rejectUnknownKeys(s, allowed: Self.systemKeys)
        var adapter: AdapterKind?
        if let adapterNode = node.require(s, "adapter", AdapterKind.allCases.map(\.rawValue).joined(separator: " | ")),
            let kind = adapterNode.enumeration(AdapterKind.self, what: "adapter")
        {
            if AdapterKind.available.contains(kind) {
                adapter = kind
            } else {
                adapterNode.report(
                    "adapter '\(kind.rawValue)' is not built yet in this version of hubctl "
                        + "(available: \(AdapterKind.available.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        let direction = s["direction"].flatMap { $0.enumeration(Direction.self, what: "direction") } ?? .both
        var connection: [String: Value] = [:]
        if let connectionNode = s["connection"] {
            connection = decodeConnection(connectionNode, adapter: adapter)
        } else if let adapter, let example = Self.requiredConnection[adapter] {
            node.report("missing required key 'connection' (\(adapter.rawValue) needs \(example))")
        }
        var mappings: [SystemEntityMapping] = []
        if let entitiesNode = node.require(s, "entities", "an object mapping entities to this system's objects"),
            let entityMembers = entitiesNode.orderedObject("an object mapping entities to this system's objects")
        {
            if entityMembers.isEmpty { entitiesNode.report("map at least one entity") }
            for (entityName, mappingNode) in entityMembers {
                guard let entity = entities.first(where: { $0.name.rawValue == entityName }) else {
                    if !brokenEntities.contains(entityName) {
                        mappingNode.report(unknownEntityMessage(entityName, entities: entities))
                    }
                    continue
                }
                if let mapping = decodeSystemEntity(mappingNode, entity: entity, system: name, direction: direction,
                                                    adapter: adapter) {
                    mappings.append(mapping)
                }
            }
        }
        let schedule = s["schedule"].flatMap { decodeSchedule($0) }
        let webhook = s["webhook"].flatMap { decodeWebhook($0) }
        let capture = s["capture"].flatMap { decodeCapture($0, adapter: adapter, direction: direction) }
        guard let adapter else { return nil }
        return SystemDefinition(name: name, adapter: adapter, connection: connection, direction: direction,
                                entities: mappings, schedule: schedule, webhook: webhook, capture: capture)
    }

    func decodeConnection(_ node: Node, adapter: AdapterKind?) -> [String: Value] {
        guard let c = node.object("an object of connection settings") else { return [:] }
        switch adapter {
        case .sqlite:
            node.rejectUnknownKeys(c, allowed: ["path"])
            if c["path"] == nil { node.report("missing required key 'path' (the SQLite database file)") }
        case .csv:
            node.rejectUnknownKeys(c, allowed: Self.csvConnectionKeys)
            checkFiles(c)
            if let g = c["formula_guard"] { _ = g.bool() }
        case .jsonl:
            node.rejectUnknownKeys(c, allowed: Self.jsonlConnectionKeys)
            checkFiles(c)
        case .postgres:
            checkPostgres(node, c)
        case .rest:
            checkREST(node, c)
        case .exec:
            checkExec(node, c)
        case nil:
            break
        }
        if let p = c["path"], adapter != .rest { _ = p.name("a path") }
        // A NUL cannot reach a file name, a host or a program's arguments (the connector's own
        // `settings` are its business).
        for (key, child) in c.sorted(by: { $0.key < $1.key }) where key != "settings" && key != "path" {
            let strings = child.value.stringValue.map { [$0] } ?? child.value.arrayValue?.compactMap(\.stringValue) ?? []
            if strings.contains(where: { $0.utf8.contains(0) }) {
                child.report("a connection setting cannot hold a NUL character (\\u0000)")
            }
        }
        var out: [String: Value] = [:]
        for (key, child) in c.sorted(by: { $0.key < $1.key }) { out[key] = substitute(child, key: key) }
        if adapter == .postgres, let node = c["url"], case .string(let url)? = out["url"] { checkPostgresURL(node, url) }
        if adapter == .csv, let d = c["delimiter"], d.string() != nil, case .string(let s)? = out["delimiter"],
            s.count != 1 || s == "\"" || s == "\n" || s == "\r"
        {
            d.report("the delimiter must be one character other than a quote or a line break")
        }
        return out
    }

    static let csvConnectionKeys = ["path", "delimiter", "invalid_utf8", "formula_guard", "max_record_bytes"]
    static let jsonlConnectionKeys = ["path", "invalid_utf8", "max_record_bytes"]

    /// The range `max_record_bytes` accepts: 1 KiB to 1 GiB.
    static let recordSizeRange: ClosedRange<Int64> = 1024...(1 << 30)

    /// `invalid_utf8` and `max_record_bytes` of a file system.
    func checkFiles(_ c: [String: Node]) {
        if let u = c["invalid_utf8"], let text = u.string("reject or replace"), !["reject", "replace"].contains(text) {
            u.report("unknown invalid_utf8 '\(text)'; expected reject (the default: such records are quarantined) or replace "
                     + "(invalid bytes read as U+FFFD)")
        }
        if let m = c["max_record_bytes"], let size = m.int(), !Self.recordSizeRange.contains(size) {
            m.report("expected a size in bytes from \(Self.recordSizeRange.lowerBound) (1 KiB) to \(Self.recordSizeRange.upperBound) (1 GiB)")
        }
    }

    /// Replaces `${NAME}` in every string with the environment's value.
    func substitute(_ node: Node, key: String) -> Value {
        switch node.value {
        case .string(let s):
            return .string(expand(s, node: node, key: key))
        case .object:
            var out: [String: Value] = [:]
            for (k, child) in node.object() ?? [:] { out[k] = substitute(child, key: k) }
            return .object(out)
        case .array:
            return .array((node.array() ?? []).map { substitute($0, key: key) })
        default:
            return node.value
        }
    }

    /// Connection keys whose values are not secrets (paths, hosts). Values brought in from the
    /// environment under any other key are treated as secrets and scrubbed from output.
    static let nonSecretKeys: Set<String> = [
        "path", "dir", "directory", "folder", "host", "port", "database", "dbname", "schema", "delimiter",
        "user", "username", "base_url",
    ]

    func expand(_ text: String, node: Node, key: String) -> String {
        guard text.contains("$") else { return text }
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            let ch = text[i]
            guard ch == "$" else { out.append(ch); i = text.index(after: i); continue }
            let next = text.index(after: i)
            if next < text.endIndex, text[next] == "$" {
                out.append("$")
                i = text.index(after: next)
                continue
            }
            guard next < text.endIndex, text[next] == "{" else {
                out.append(ch)
                i = next
                continue
            }
            guard let close = text[next...].firstIndex(of: "}") else {
                node.report("unterminated variable reference '\(text[i...])'; write ${NAME}, or $$ for a literal $")
                return out
            }
            let inner = String(text[text.index(after: next)..<close])
            var name = inner
            var fallback: String?
            var requiredMessage: String?
            if let range = inner.range(of: ":-") {
                name = String(inner[..<range.lowerBound])
                fallback = String(inner[range.upperBound...])
            } else if let range = inner.range(of: ":?") {
                name = String(inner[..<range.lowerBound])
                requiredMessage = String(inner[range.upperBound...])
            }
            if name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                node.report("invalid variable reference '${\(inner)}'; write ${NAME}, ${NAME:-default} or ${NAME:?message}")
            } else if let value = environment[name], !(value.isEmpty && (fallback != nil || requiredMessage != nil)) {
                out += value
                if !Self.nonSecretKeys.contains(key) { secrets.insert(value) }
            } else if let fallback {
                out += fallback
            } else if let requiredMessage, !requiredMessage.isEmpty {
                node.report("environment variable '\(name)' is not set: \(requiredMessage)")
            } else {
                node.report("environment variable '\(name)' is not set; export it or write ${\(name):-default}")
            }
            i = text.index(after: close)
        }
        return out
    }

    /// What a connection must hold, by adapter, for the message about a missing connection.
    static let requiredConnection: [AdapterKind: String] = [
        .sqlite: "{\"path\": \"file.db\"}",
        .postgres: "{\"url\": \"postgres://user:${PGPASSWORD}@host/db\"} or host, database, user, password",
        .rest: "{\"base_url\": \"https://api.example.com\", \"auth\": {…}}",
        .exec: "{\"command\": [\"python3\", \"connector.py\"]}",
    ]

    func decodeSystemEntity(_ node: Node, entity: EntityDefinition, system: SystemName, direction: Direction,
                            adapter: AdapterKind? = nil) -> SystemEntityMapping?
    {
        guard let m = node.object() else { return nil }
        node.rejectUnknownKeys(m, allowed: Self.systemEntityKeys)
        let objectNode = node.require(m, "object", "the table, file or collection")
        let object = objectNode?.name("a table, file or collection name")
        if let objectNode, let object, adapter == .csv || adapter == .jsonl,
           object.contains("/") || object == "." || object == ".."
        {
            objectNode.report("expected a file name inside the system's folder, without '/' and not '.' or '..'; "
                              + "point the connection's 'path' at another folder instead")
        }
        let idField = m["id"]?.name("the field holding the system's ID") ?? "id"
        let (cursor, lookback) = m["cursor"].map { decodeCursor($0, adapter: adapter) } ?? (nil, ObjectBinding.defaultCursorLookback)
        var fields: [FieldMapping] = []
        var claimed: [FieldName: String] = [:]  // canonical field → path of the mapping that claimed it
        var writers: [String: String] = [:]  // system field → path of the mapping that writes it
        if let fieldsNode = node.require(m, "fields", "canonical field → system field"),
            let members = fieldsNode.orderedObject("an object: canonical field → system field")
        {
            if members.isEmpty { fieldsNode.report("map at least one field") }
            for (canonical, mappingNode) in members {
                guard let mapping = decodeFieldMapping(canonical, mappingNode, entity: entity) else { continue }
                for part in mapping.canonical {
                    if let other = claimed[part] {
                        mappingNode.report("canonical field '\(part)' is already mapped at \(other)")
                    }
                    claimed[part] = mappingNode.path
                }
                // Two canonical fields may be read from one system field; only one may write it.
                if mapping.direction.pushes {
                    if let other = writers[mapping.systemField] {
                        mappingNode.report(
                            "system field '\(mapping.systemField)' is already written by \(other); "
                                + "set \"direction\": \"pull\" on one of them")
                    } else {
                        writers[mapping.systemField] = mappingNode.path
                    }
                }
                if mapping.systemField == idField {
                    mappingNode.report("'\(idField)' is the system's ID field; it cannot also hold a canonical field")
                }
                fields.append(mapping)
            }
        }
        var filter: Predicate?
        if let filterNode = m["filter"] { filter = decodePredicate(filterNode, entity: entity) }
        var deletes = DeletePolicy()
        if let deletesNode = m["deletes"] {
            let written = Set(fields.filter { direction.pushes && $0.direction.pushes }.flatMap(\.canonical))
            deletes = decodeDeletes(deletesNode, entity: entity, written: written)
        }
        var onUnmatch = OnUnmatch.leave
        if let n = m["on_unmatch"], let value = n.enumeration(OnUnmatch.self, what: "on_unmatch behaviour") {
            onUnmatch = value
            if filter == nil && value == .delete { n.report("'on_unmatch' needs a 'filter' to apply to") }
        }
        var endpoint: [String: Value]?
        if let endpointNode = m["endpoint"] {
            if adapter != nil && adapter != .rest {
                endpointNode.report("'endpoint' is for rest systems; this system's adapter is \(adapter!.rawValue)")
            } else {
                checkEndpoint(endpointNode)
                endpoint = substitute(endpointNode, key: "endpoint").objectValue
            }
        }
        let schedule = m["schedule"].flatMap { decodeSchedule($0) }
        let partitions = m["partitions"].flatMap { decodePartitions($0, adapter: adapter, cursor: cursor, direction: direction) }
        guard let object else { return nil }
        return SystemEntityMapping(entity: entity.name, object: object, idField: idField, cursorField: cursor,
                                   cursorLookback: lookback, fields: fields, filter: filter, onUnmatch: onUnmatch, deletes: deletes, endpoint: endpoint,
                                   schedule: schedule, partitions: partitions)
    }

    /// `"partitions": 4`: workers read a table without a cursor in this many parts (by a hash of
    /// each row's ID), each part its own unit. Only sqlite and postgres tables read in full.
    func decodePartitions(_ node: Node, adapter: AdapterKind?, cursor: String?, direction: Direction) -> Int? {
        guard let n = node.int() else { return nil }
        guard (1...Int64(Self.maxPartitions)).contains(n) else {
            node.report("expected a number of parts from 1 to \(Self.maxPartitions)")
            return nil
        }
        if let adapter, adapter != .sqlite && adapter != .postgres {
            node.report("'partitions' is for sqlite and postgres tables, whose queries select a part of the rows by ID; "
                        + "a \(adapter.rawValue) system is read whole by one worker: remove it")
            return nil
        }
        if cursor != nil {
            node.report("'partitions' splits a full read, and this mapping reads by its cursor (only what changed): "
                        + "remove one of them")
            return nil
        }
        if !direction.pulls {
            node.report("'partitions' splits reads, and this system is only written to: remove it")
            return nil
        }
        return n == 1 ? nil : Int(n)
    }

    /// The most parts a table may be read in.
    static let maxPartitions = 256

    /// `"cursor": "updated_at"`, or `{"field": "updated_at", "lookback": "2m"}`.
    func decodeCursor(_ node: Node, adapter: AdapterKind?) -> (field: String?, lookback: Double) {
        let what = "a field that increases on every change"
        if case .string = node.value { return (node.name(what), ObjectBinding.defaultCursorLookback) }
        guard let c = node.object("a field name, or an object like {\"field\": \"updated_at\", \"lookback\": \"2m\"}")
        else { return (nil, ObjectBinding.defaultCursorLookback) }
        node.rejectUnknownKeys(c, allowed: ["field", "lookback"])
        let field = node.require(c, "field", what)?.name(what)
        if let n = c["lookback"], let adapter, adapter != .sqlite && adapter != .postgres {
            n.report("'lookback' is for sqlite and postgres systems, which read by keyset; a \(adapter.rawValue) system "
                     + "reads from its highest cursor value again: remove it")
        }
        let lookback = c["lookback"].flatMap { duration($0) } ?? ObjectBinding.defaultCursorLookback
        return (field, lookback)
    }

    func decodeFieldMapping(_ canonical: String, _ node: Node, entity: EntityDefinition) -> FieldMapping? {
        guard let field = entity.field(FieldName(canonical)) else {
            reportUnknownField(node, canonical, entity: entity)
            return nil
        }
        if case .string = node.value {
            guard let systemField = node.name("a system field name") else { return nil }
            return FieldMapping.rename(field.name, systemField)
        }
        guard let m = node.object("a system field name or an object with 'field'") else { return nil }
        node.rejectUnknownKeys(m, allowed: Self.fieldMappingKeys)
        guard let systemField = node.require(m, "field", "the system's field")?.name("a system field name") else {
            return nil
        }
        var mapping = FieldMapping.rename(field.name, systemField)
        if let partsNode = m["parts"], let parts = partsNode.array("an array of canonical fields") {
            var names: [FieldName] = []
            for part in parts {
                guard let name = part.name("a canonical field") else { continue }
                guard let f = entity.field(FieldName(name)) else {
                    reportUnknownField(part, name, entity: entity)
                    continue
                }
                if f.type != .string { part.report("composite parts must be string fields; '\(name)' is \(f.type.rawValue)") }
                if names.contains(f.name) { part.report("'\(name)' is listed twice") } else { names.append(f.name) }
            }
            if parts.count < 2 { partsNode.report("a composite needs at least two parts") }
            if !names.contains(field.name) { partsNode.report("the parts must include '\(canonical)', the key this mapping is under") }
            mapping.canonical = names
        }
        if let sepNode = m["separator"], let sep = sepNode.string() {
            if sep.isEmpty { sepNode.report("the separator cannot be empty") }
            mapping.separator = sep
            if m["parts"] == nil { sepNode.report("'separator' only applies to composite mappings with 'parts'") }
        }
        if let splitNode = m["split"] {
            mapping.split = splitNode.enumeration(SplitSide.self, what: "split side") ?? .left
            if m["parts"] == nil { splitNode.report("'split' only applies to composite mappings with 'parts'") }
        }
        if mapping.isComposite {
            for key in ["values", "default", "type", "format"] where m[key] != nil {
                m[key]!.report("'\(key)' does not apply to composite mappings (with 'parts')")
            }
        }
        if let valuesNode = m["values"], let values = valuesNode.orderedObject("an object: canonical value → system value") {
            if field.type == .json || field.type == .ref { valuesNode.report("value maps do not apply to \(field.type.rawValue) fields") }
            // System values are compared loosely on the way in (a CSV's "1" is the map's 1), so
            // two of them that look alike make the map impossible to invert.
            var seen: [String: String] = [:]
            for (k, v) in values {
                let key = Self.looseKey(v.value)
                if let other = seen[key] {
                    v.report("system value \(v.value.json) is already the image of '\(other)'; the map must be invertible")
                } else {
                    seen[key] = k
                }
                mapping.values[k] = v.value
            }
        }
        if let d = m["direction"] { mapping.direction = d.enumeration(Direction.self, what: "direction") ?? .both }
        if let d = m["default"] {
            if d.value.isNull {
                d.report("a default cannot be null; leave 'default' out instead")
            } else if let problem = Self.canonicalTypeProblem(d.value, field: field) {
                d.report("the default \(problem)")
            } else {
                mapping.defaultValue = Self.canonicalConstant(d.value, field: field)
            }
        }
        if let t = m["type"] { mapping.systemType = t.enumeration(SystemValueType.self, what: "system value type") }
        if let f = m["format"], let text = f.name("a date format") {
            if field.type != .date && field.type != .datetime {
                f.report("'format' applies to date and datetime fields; '\(canonical)' is \(field.type.rawValue)")
            }
            switch text {
            case "iso8601": mapping.format = .iso8601
            case "unix": mapping.format = .unixSeconds
            case "unix_ms": mapping.format = .unixMilliseconds
            default:
                if let problem = Self.datePatternProblem(text) {
                    f.report(problem)
                } else {
                    mapping.format = .pattern(text)
                }
            }
        }
        if let n = m["normalize"] { mapping.normalize = decodeNormalizers(n) }
        return mapping
    }

    /// The tokens of a date pattern, in the order they are recognised (as `DateTimes` does).
    static let datePatternTokens = ["YYYY", "SSS", "MM", "DD", "HH", "mm", "ss"]

    /// Why a date pattern cannot be used, or nil.
    static func datePatternProblem(_ pattern: String) -> String? {
        let p = Array(pattern)
        var counts: [String: Int] = [:]
        var i = 0
        while i < p.count {
            if let token = datePatternTokens.first(where: { t in
                i + t.count <= p.count && String(p[i..<i + t.count]) == t
            }) {
                counts[token, default: 0] += 1
                i += token.count
            } else {
                i += 1
            }
        }
        if counts["YYYY"] == nil || counts["MM"] == nil || counts["DD"] == nil {
            return "unknown date format '\(pattern)'; use iso8601, unix, unix_ms or a pattern with YYYY, MM and DD "
                + "such as DD/MM/YYYY or YYYY-MM-DD HH:mm:ss"
        }
        if let twice = datePatternTokens.first(where: { (counts[$0] ?? 0) > 1 }) {
            var message = "the date format '\(pattern)' uses '\(twice)' twice"
            if twice == "MM" { message += " (MM is the month; minutes are mm)" }
            return message
        }
        return nil
    }

    /// Text under which two system values count as the same (see `EntityMapper`'s loose equality).
    static func looseKey(_ v: Value) -> String {
        switch v {
        case .int(let i): return String(i)
        case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
        case .object, .array, .null: return "\u{0}" + v.json
        default: return v.displayText
        }
    }

    /// Why `value` cannot be a canonical value of `field`, or nil when it can.
    static func canonicalTypeProblem(_ value: Value, field: FieldDefinition) -> String? {
        let expected: String
        switch (field.type, value) {
        case (.json, _), (_, .null): return nil
        case (.string, .string), (.date, .string), (.datetime, .string), (.integer, .int), (.number, .int),
            (.number, .double), (.boolean, .bool):
            return nil
        case (.ref, _): return "cannot be set for ref field '\(field.name)'"
        case (.string, _): expected = "a string"
        case (.date, _): expected = "a date string (YYYY-MM-DD)"
        case (.datetime, _): expected = "a date-time string (RFC 3339)"
        case (.integer, _): expected = "an integer"
        case (.number, _): expected = "a number"
        case (.boolean, _): expected = "true or false"
        }
        return "for \(field.type.rawValue) field '\(field.name)' must be \(expected), found \(value.typeName)"
    }

    /// A constant written in the topology, in the form canonical values are stored in: numbers
    /// as numbers with a fraction, strings after the field's normalisation.
    static func canonicalConstant(_ value: Value, field: FieldDefinition) -> Value {
        var v = value
        if field.type == .number, case .int(let i) = v { v = .double(Double(i)) }
        return field.normalize.apply(v)
    }

    func decodeDeletes(_ node: Node, entity: EntityDefinition, written: Set<FieldName>) -> DeletePolicy {
        guard let d = node.object() else { return DeletePolicy() }
        node.rejectUnknownKeys(d, allowed: Self.deleteKeys)
        var policy = DeletePolicy()
        if let p = d["pull"], let pull = p.enumeration(DeletePolicy.Pull.self, what: "pull delete policy") {
            policy.pull = pull
        }
        if let n = d["max_share"] {
            if let share = n.value.numberValue, share > 0, share <= 1 {
                policy.maxShare = share
            } else {
                n.report("expected a share between 0 and 1 (0.2 = 20 %), found \(n.value.json)")
            }
        }
        if let n = d["min_count"], let count = n.int() {
            if count < 1 { n.report("expected a count of at least 1") } else { policy.minCount = Int(count) }
        }
        if let p = d["push"] {
            switch p.value {
            case .string(let s):
                switch s {
                case "delete": policy.push = .delete
                case "ignore": policy.push = .ignore
                default:
                    p.report("unknown push delete policy '\(s)'; expected delete, ignore or {\"set\": {\"field\": value}}")
                }
            case .object:
                guard let o = p.object() else { break }
                p.rejectUnknownKeys(o, allowed: ["set"])
                if let setNode = p.require(o, "set", "canonical field → value to set instead of deleting"),
                    let members = setNode.object()
                {
                    var values: [FieldName: Value] = [:]
                    for (name, v) in members.sorted(by: { $0.key < $1.key }) {
                        guard let field = entity.field(FieldName(name)) else {
                            reportUnknownField(v, name, entity: entity)
                            continue
                        }
                        if let problem = Self.canonicalTypeProblem(v.value, field: field) {
                            v.report("the value \(problem)")
                        } else if !written.contains(field.name) {
                            v.report("this system does not write '\(name)', so setting it would change nothing; "
                                        + "map it under 'fields' (direction both or push)")
                        } else {
                            values[field.name] = Self.canonicalConstant(v.value, field: field)
                        }
                    }
                    if members.isEmpty { setNode.report("set at least one field") }
                    policy.push = .set(values)
                }
            default:
                p.report("expected delete, ignore or {\"set\": {…}}, found \(p.value.typeName)")
            }
        }
        return policy
    }

    static let comparisonKeys = ["in", "ne", "gt", "gte", "lt", "lte", "prefix", "contains", "exists", "eq"]

    func decodePredicate(_ node: Node, entity: EntityDefinition) -> Predicate? {
        guard let members = node.object("a filter object, e.g. {\"country\": {\"in\": [\"DE\", \"FR\"]}}") else {
            return nil
        }
        var parts: [Predicate] = []
        for (key, child) in members.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "all", "any":
                guard let items = child.array("an array of filters") else { continue }
                if items.isEmpty { child.report("'\(key)' needs at least one filter") }
                let ps = items.compactMap { decodePredicate($0, entity: entity) }
                parts.append(key == "all" ? .all(ps) : .any(ps))
            case "not":
                if let p = decodePredicate(child, entity: entity) { parts.append(.not(p)) }
            default:
                guard let field = entity.field(FieldName(key)) else {
                    reportUnknownField(child, key, entity: entity)
                    continue
                }
                parts.append(contentsOf: decodeComparisons(child, field: field))
            }
        }
        if members.isEmpty { node.report("an empty filter; remove it or add a condition") }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    func decodeComparisons(_ node: Node, field: FieldDefinition) -> [Predicate] {
        guard case .object(let o) = node.value, !o.isEmpty,
            o.keys.allSatisfy({ Self.comparisonKeys.contains($0) })
        else {
            if case .object(let o) = node.value, let bad = o.keys.sorted().first(where: { !Self.comparisonKeys.contains($0) }) {
                var message = "unknown filter operator '\(bad)' (allowed: \(Self.comparisonKeys.joined(separator: ", ")))"
                if let guess = Suggest.closest(to: bad, in: Self.comparisonKeys) { message += "; did you mean '\(guess)'?" }
                node.reporter.report(node.child(bad), message)
                return []
            }
            if case .object(let o) = node.value, o.isEmpty {
                node.report("an empty condition; write a value, or an operator such as {\"in\": [...]}")
                return []
            }
            return [.compare(field.name, .equals(Self.canonicalConstant(node.value, field: field)))]
        }
        // Constants are compared with stored canonical values, which are normalised.
        func canonical(_ v: Value) -> Value { Self.canonicalConstant(v, field: field) }
        let caseOnly = field.normalize.filter { $0 == .lowercase || $0 == .uppercase }
        var out: [Predicate] = []
        for (op, v) in o.sorted(by: { $0.key < $1.key }) {
            let child = Node(value: v, path: node.child(op), reporter: node.reporter)
            switch op {
            case "eq": out.append(.compare(field.name, .equals(canonical(v))))
            case "ne": out.append(.compare(field.name, .notEquals(canonical(v))))
            case "in":
                if let items = child.array("an array of values") {
                    out.append(.compare(field.name, .isIn(items.map { canonical($0.value) })))
                }
            case "gt", "gte", "lt", "lte":
                guard v.numberValue != nil || v.stringValue != nil else {
                    child.report("expected a number or a string to compare with, found \(v.typeName)")
                    continue
                }
                let c: Predicate.Comparison
                let bound = canonical(v)
                switch op {
                case "gt": c = .greaterThan(bound)
                case "gte": c = .greaterOrEqual(bound)
                case "lt": c = .lessThan(bound)
                default: c = .lessOrEqual(bound)
                }
                out.append(.compare(field.name, c))
            case "prefix":
                if let s = child.string() { out.append(.compare(field.name, .prefix(caseOnly.apply(.string(s)).stringValue ?? s))) }
            case "contains":
                if let s = child.string() { out.append(.compare(field.name, .contains(caseOnly.apply(.string(s)).stringValue ?? s))) }
            case "exists":
                if let b = child.bool() { out.append(.compare(field.name, .exists(b))) }
            default: break
            }
        }
        return out
    }
}
