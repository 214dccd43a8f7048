import HubCore

extension TopologyDecoder {
    static let systemKeys = ["adapter", "connection", "direction", "entities"]
    static let systemEntityKeys = ["object", "id", "cursor", "fields", "filter", "deletes"]
    static let fieldMappingKeys = [
        "field", "values", "direction", "default", "type", "format", "normalize", "parts", "separator", "split",
    ]
    static let deleteKeys = ["pull", "push"]

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
        } else if adapter == .sqlite {
            node.report("missing required key 'connection' (sqlite needs {\"path\": \"file.db\"})")
        }
        var mappings: [SystemEntityMapping] = []
        if let entitiesNode = node.require(s, "entities", "an object mapping entities to this system's objects"),
            let entityMembers = entitiesNode.orderedObject("an object mapping entities to this system's objects")
        {
            if entityMembers.isEmpty { entitiesNode.report("map at least one entity") }
            for (entityName, mappingNode) in entityMembers {
                guard let entity = entities.first(where: { $0.name.rawValue == entityName }) else {
                    mappingNode.report(unknownEntityMessage(entityName, entities: entities))
                    continue
                }
                if let mapping = decodeSystemEntity(mappingNode, entity: entity, system: name, direction: direction) {
                    mappings.append(mapping)
                }
            }
        }
        guard let adapter else { return nil }
        return SystemDefinition(name: name, adapter: adapter, connection: connection, direction: direction,
                                entities: mappings)
    }

    func decodeConnection(_ node: Node, adapter: AdapterKind?) -> [String: Value] {
        guard let c = node.object("an object of connection settings") else { return [:] }
        switch adapter {
        case .sqlite:
            node.rejectUnknownKeys(c, allowed: ["path"])
            if c["path"] == nil { node.report("missing required key 'path' (the SQLite database file)") }
        case .csv:
            node.rejectUnknownKeys(c, allowed: ["path", "delimiter"])
            if let d = c["delimiter"], let s = d.string(), s.count != 1 || s == "\"" || s == "\n" || s == "\r" {
                d.report("the delimiter must be one character other than a quote or a line break")
            }
        case .jsonl:
            node.rejectUnknownKeys(c, allowed: ["path"])
        default:
            break
        }
        if let p = c["path"] { _ = p.name("a path") }
        var out: [String: Value] = [:]
        for (key, child) in c { out[key] = substitute(child, key: key) }
        return out
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
            guard next < text.endIndex, text[next] == "{", let close = text[next...].firstIndex(of: "}") else {
                out.append(ch)
                i = next
                continue
            }
            let inner = String(text[text.index(after: next)..<close])
            var name = inner
            var fallback: String?
            if let range = inner.range(of: ":-") {
                name = String(inner[..<range.lowerBound])
                fallback = String(inner[range.upperBound...])
            }
            if name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                node.report("invalid variable reference '${\(inner)}'; write ${NAME} or ${NAME:-default}")
            } else if let value = environment[name], !(value.isEmpty && fallback != nil) {
                out += value
                if !Self.nonSecretKeys.contains(key) { secrets.insert(value) }
            } else if let fallback {
                out += fallback
            } else {
                node.report("environment variable '\(name)' is not set; export it or write ${\(name):-default}")
            }
            i = text.index(after: close)
        }
        return out
    }

    func decodeSystemEntity(_ node: Node, entity: EntityDefinition, system: SystemName, direction: Direction)
        -> SystemEntityMapping?
    {
        guard let m = node.object() else { return nil }
        node.rejectUnknownKeys(m, allowed: Self.systemEntityKeys)
        let object = node.require(m, "object", "the table, file or collection")?.name("a table, file or collection name")
        let idField = m["id"]?.name("the field holding the system's ID") ?? "id"
        let cursor = m["cursor"]?.name("a field that increases on every change")
        var fields: [FieldMapping] = []
        var claimed: [FieldName: String] = [:]  // canonical field → path of the mapping that claimed it
        var systemFields: [String: String] = [:]
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
                if mapping.direction.pushes, let other = systemFields[mapping.systemField],
                    fields.contains(where: { $0.systemField == mapping.systemField && $0.direction.pushes })
                {
                    mappingNode.report(
                        "system field '\(mapping.systemField)' is already written by \(other); "
                            + "set \"direction\": \"pull\" on one of them")
                }
                systemFields[mapping.systemField] = mappingNode.path
                if mapping.systemField == idField {
                    mappingNode.report("'\(idField)' is the system's ID field; it cannot also hold a canonical field")
                }
                fields.append(mapping)
            }
        }
        var filter: Predicate?
        if let filterNode = m["filter"] { filter = decodePredicate(filterNode, entity: entity) }
        var deletes = DeletePolicy()
        if let deletesNode = m["deletes"] { deletes = decodeDeletes(deletesNode, entity: entity) }
        guard let object else { return nil }
        return SystemEntityMapping(entity: entity.name, object: object, idField: idField, cursorField: cursor,
                                   fields: fields, filter: filter, deletes: deletes)
    }

    func decodeFieldMapping(_ canonical: String, _ node: Node, entity: EntityDefinition) -> FieldMapping? {
        guard let field = entity.field(FieldName(canonical)) else {
            node.report(unknownFieldMessage(canonical, entity: entity))
            return nil
        }
        if case .string(let systemField) = node.value {
            if systemField.isEmpty { node.report("expected a system field name, found an empty string"); return nil }
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
                    part.report(unknownFieldMessage(name, entity: entity))
                    continue
                }
                if f.type != .string { part.report("composite parts must be string fields; '\(name)' is \(f.type.rawValue)") }
                if names.contains(f.name) { part.report("'\(name)' is listed twice") }
                names.append(f.name)
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
        if let valuesNode = m["values"], let values = valuesNode.object("an object: canonical value → system value") {
            if field.type == .json || field.type == .ref { valuesNode.report("value maps do not apply to \(field.type.rawValue) fields") }
            var seen: [Value: String] = [:]
            for (k, v) in values {
                if let other = seen[v.value] {
                    v.report("system value \(v.value.json) is already the image of '\(other)'; the map must be invertible")
                }
                seen[v.value] = k
                mapping.values[k] = v.value
            }
        }
        if let d = m["direction"] { mapping.direction = d.enumeration(Direction.self, what: "direction") ?? .both }
        if let d = m["default"] {
            if d.value.isNull { d.report("a default cannot be null; leave 'default' out instead") }
            mapping.defaultValue = d.value
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
                if !text.contains("YYYY") || !text.contains("MM") || !text.contains("DD") {
                    f.report("unknown date format '\(text)'; use iso8601, unix, unix_ms or a pattern such as DD/MM/YYYY or YYYY-MM-DD HH:mm:ss")
                } else {
                    mapping.format = .pattern(text)
                }
            }
        }
        if let n = m["normalize"] { mapping.normalize = decodeNormalizers(n) }
        return mapping
    }

    func decodeDeletes(_ node: Node, entity: EntityDefinition) -> DeletePolicy {
        guard let d = node.object() else { return DeletePolicy() }
        node.rejectUnknownKeys(d, allowed: Self.deleteKeys)
        var policy = DeletePolicy()
        if let p = d["pull"], let pull = p.enumeration(DeletePolicy.Pull.self, what: "pull delete policy") {
            policy.pull = pull
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
                    for (name, v) in members {
                        if entity.field(FieldName(name)) == nil {
                            v.report(unknownFieldMessage(name, entity: entity))
                        } else {
                            values[FieldName(name)] = v.value
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
                    child.report(unknownFieldMessage(key, entity: entity))
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
            return [.compare(field.name, .equals(node.value))]
        }
        var out: [Predicate] = []
        for (op, v) in o.sorted(by: { $0.key < $1.key }) {
            let child = Node(value: v, path: node.child(op), reporter: node.reporter)
            switch op {
            case "eq": out.append(.compare(field.name, .equals(v)))
            case "ne": out.append(.compare(field.name, .notEquals(v)))
            case "in":
                if let items = child.array("an array of values") { out.append(.compare(field.name, .isIn(items.map(\.value)))) }
            case "gt", "gte", "lt", "lte":
                guard v.numberValue != nil || v.stringValue != nil else {
                    child.report("expected a number or a string to compare with, found \(v.typeName)")
                    continue
                }
                let c: Predicate.Comparison
                switch op {
                case "gt": c = .greaterThan(v)
                case "gte": c = .greaterOrEqual(v)
                case "lt": c = .lessThan(v)
                default: c = .lessOrEqual(v)
                }
                out.append(.compare(field.name, c))
            case "prefix":
                if let s = child.string() { out.append(.compare(field.name, .prefix(s))) }
            case "contains":
                if let s = child.string() { out.append(.compare(field.name, .contains(s))) }
            case "exists":
                if let b = child.bool() { out.append(.compare(field.name, .exists(b))) }
            default: break
            }
        }
        return out
    }
}
