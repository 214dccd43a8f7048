import HubCore

extension TopologyDecoder {
    static let entityKeys = ["fields", "match", "conflicts", "on_referenced_delete"]
    static let fieldKeys = ["type", "required", "normalize", "entity"]
    static let conflictKeys = ["resolve", "priority", "fields"]
    static let fieldConflictKeys = ["owner", "resolve", "priority"]

    /// First pass: entity names and their fields, so systems can be checked against them.
    func decodeEntities(_ node: Node) -> [EntityDefinition] {
        guard let members = node.orderedObject("an object of entities") else { return [] }
        if members.isEmpty { node.report("declare at least one entity") }
        var entities: [EntityDefinition] = []
        for (name, entityNode) in members {
            guard let e = entityNode.object() else { brokenEntities.insert(name); continue }
            entityNode.rejectUnknownKeys(e, allowed: Self.entityKeys)
            var fields: [FieldDefinition] = []
            if let fieldsNode = entityNode.require(e, "fields", "an object of canonical fields"),
                let fieldMembers = fieldsNode.orderedObject("an object of canonical fields")
            {
                if fieldMembers.isEmpty { fieldsNode.report("declare at least one field") }
                for (fieldName, fieldNode) in fieldMembers {
                    if let field = decodeField(FieldName(fieldName), fieldNode) {
                        fields.append(field)
                    } else {
                        brokenFields.insert("\(name).\(fieldName)")
                    }
                }
            }
            entities.append(EntityDefinition(name: EntityName(name), fields: fields))
        }
        return entities
    }

    func decodeField(_ name: FieldName, _ node: Node) -> FieldDefinition? {
        // A bare string is shorthand for the type.
        if case .string = node.value {
            guard let type = node.enumeration(FieldType.self, what: "field type") else { return nil }
            if type == .ref { node.report("a ref field needs an object with 'entity': {\"type\": \"ref\", \"entity\": \"…\"}") }
            return FieldDefinition(name: name, type: type)
        }
        guard let f = node.object("an object with 'type' (or a type name)") else { return nil }
        node.rejectUnknownKeys(f, allowed: Self.fieldKeys)
        guard let typeNode = node.require(f, "type", FieldType.allCases.map(\.rawValue).joined(separator: " | ")),
            let type = typeNode.enumeration(FieldType.self, what: "field type")
        else { return nil }
        let required = f["required"]?.bool() ?? false
        let normalize = f["normalize"].map(decodeNormalizers) ?? []
        var refEntity: EntityName?
        if let entityNode = f["entity"] {
            if type != .ref {
                entityNode.report("'entity' is only allowed on fields of type ref")
            } else if let target = entityNode.name("an entity name") {
                refEntity = EntityName(target)
            }
        } else if type == .ref {
            node.report("missing required key 'entity' (the entity this ref points to)")
        }
        return FieldDefinition(name: name, type: type, required: required, normalize: normalize, refEntity: refEntity)
    }

    func decodeNormalizers(_ node: Node) -> [Normalizer] {
        if case .array = node.value {
            return (node.array() ?? []).compactMap { $0.enumeration(Normalizer.self, what: "normalizer") }
        }
        return node.enumeration(Normalizer.self, what: "normalizer").map { [$0] } ?? []
    }

    /// Second pass: references, match rules and conflict policies, which need the entity and
    /// system names.
    func completeEntities(_ entities: inout [EntityDefinition], node: Node, systemNames: [String]) {
        guard let members = node.object() else { return }
        let entityNames = entities.map(\.name.rawValue)
        for index in entities.indices {
            let entity = entities[index]
            guard let entityNode = members[entity.name.rawValue], let e = entityNode.object() else { continue }
            let fieldNames = entity.fields.map(\.name.rawValue)
            // References must name declared entities.
            if let fieldsNode = e["fields"], let fieldMembers = fieldsNode.object() {
                for field in entity.fields {
                    guard let target = field.refEntity, !entityNames.contains(target.rawValue),
                        !brokenEntities.contains(target.rawValue)
                    else { continue }
                    let path = fieldMembers[field.name.rawValue].map { $0.child("entity") } ?? fieldsNode.path
                    var message = "ref to unknown entity '\(target)' (declared: \(Suggest.list(entityNames)))"
                    if let guess = Suggest.closest(to: target.rawValue, in: entityNames) {
                        message += "; did you mean '\(guess)'?"
                    }
                    node.reporter.report(path, message)
                }
            }
            if let matchNode = e["match"] {
                entities[index].match = decodeMatch(matchNode, entity: entity, fieldNames: fieldNames)
            }
            if let conflictsNode = e["conflicts"] {
                entities[index].conflicts = decodeConflicts(conflictsNode, entity: entity, systemNames: systemNames)
            }
            if let policyNode = e["on_referenced_delete"],
                let policy = policyNode.enumeration(ReferencedDeletePolicy.self, what: "referenced-delete policy")
            {
                entities[index].onReferencedDelete = policy
            }
        }
    }

    func decodeMatch(_ node: Node, entity: EntityDefinition, fieldNames: [String]) -> [[FieldName]] {
        guard let rules = node.array("an array of field lists, e.g. [[\"email\"]]") else { return [] }
        var out: [[FieldName]] = []
        for rule in rules {
            guard let fields = rule.array("an array of field names, e.g. [\"email\"]") else { continue }
            if fields.isEmpty { rule.report("a match rule needs at least one field") }
            var names: [FieldName] = []
            for fieldNode in fields {
                guard let name = fieldNode.name("a field name") else { continue }
                guard let field = entity.field(FieldName(name)) else {
                    reportUnknownField(fieldNode, name, entity: entity)
                    continue
                }
                if field.type == .json { fieldNode.report("json fields cannot be matched on; use a scalar field") }
                names.append(field.name)
            }
            if names.count == fields.count, !names.isEmpty { out.append(names) }
        }
        return out
    }

    func decodeConflicts(_ node: Node, entity: EntityDefinition, systemNames: [String]) -> ConflictPolicy {
        guard let c = node.object() else { return ConflictPolicy() }
        node.rejectUnknownKeys(c, allowed: Self.conflictKeys)
        var policy = ConflictPolicy()
        if let r = c["resolve"], let resolve = r.enumeration(Resolution.self, what: "conflict resolution") {
            policy.resolve = resolve
        }
        if let p = c["priority"] { policy.priority = decodeSystemList(p, systemNames: systemNames) }
        if policy.resolve == .priority, policy.priority.isEmpty {
            node.report("resolve 'priority' needs a 'priority' list of systems, first wins")
        }
        if let fieldsNode = c["fields"], let members = fieldsNode.object() {
            for (name, ruleNode) in members.sorted(by: { $0.key < $1.key }) {
                guard entity.field(FieldName(name)) != nil else {
                    reportUnknownField(ruleNode, name, entity: entity)
                    continue
                }
                guard let r = ruleNode.object("an object with 'owner' or 'resolve'") else { continue }
                ruleNode.rejectUnknownKeys(r, allowed: Self.fieldConflictKeys)
                var rule = FieldConflictRule()
                if let ownerNode = r["owner"], let owner = ownerNode.name("a system name") {
                    if systemNames.contains(owner) {
                        rule.owner = SystemName(owner)
                    } else {
                        ownerNode.report(unknownSystemMessage(owner, systemNames: systemNames))
                    }
                }
                if let resolveNode = r["resolve"] {
                    rule.resolve = resolveNode.enumeration(Resolution.self, what: "conflict resolution")
                }
                if let p = r["priority"] { rule.priority = decodeSystemList(p, systemNames: systemNames) }
                if r["owner"] == nil, r["resolve"] == nil, r["priority"] == nil {
                    ruleNode.report("give 'owner' (a system) or 'resolve' for this field")
                }
                if rule.resolve == .priority, (rule.priority ?? policy.priority).isEmpty {
                    ruleNode.report("resolve 'priority' needs a 'priority' list of systems, first wins")
                }
                policy.fields[FieldName(name)] = rule
            }
        }
        return policy
    }

    /// A priority list. Naming a system that is not declared is allowed (a warning): a priority
    /// list may be written ahead of the systems it ranks.
    func decodeSystemList(_ node: Node, systemNames: [String]) -> [SystemName] {
        guard let items = node.array("an array of system names") else { return [] }
        var out: [SystemName] = []
        for item in items {
            guard let name = item.name("a system name") else { continue }
            if out.contains(SystemName(name)) {
                item.report("system '\(name)' is listed twice")
                continue
            }
            if !systemNames.contains(name) {
                var message = "system '\(name)' is not declared in 'systems' (declared: \(Suggest.list(systemNames))); "
                    + "it ranks nothing until it is"
                if let guess = Suggest.closest(to: name, in: systemNames) { message += "; did you mean '\(guess)'?" }
                item.warn(message)
            }
            out.append(SystemName(name))
        }
        return out
    }

    /// Reports a field name that the entity does not have, unless the field is declared but
    /// broken (reported already).
    func reportUnknownField(_ node: Node, _ name: String, entity: EntityDefinition) {
        guard !brokenFields.contains("\(entity.name).\(name)") else { return }
        node.report(unknownFieldMessage(name, entity: entity))
    }

    func unknownFieldMessage(_ name: String, entity: EntityDefinition) -> String {
        let names = entity.fields.map(\.name.rawValue)
        var message = "unknown canonical field '\(name)' (\(entity.name) has: \(Suggest.list(names)))"
        if let guess = Suggest.closest(to: name, in: names) { message += "; did you mean '\(guess)'?" }
        return message
    }

    func unknownSystemMessage(_ name: String, systemNames: [String]) -> String {
        var message = "unknown system '\(name)' (declared: \(Suggest.list(systemNames)))"
        if let guess = Suggest.closest(to: name, in: systemNames) { message += "; did you mean '\(guess)'?" }
        return message
    }

    func unknownEntityMessage(_ name: String, entities: [EntityDefinition]) -> String {
        let names = entities.map(\.name.rawValue)
        var message = "unknown entity '\(name)' (declared: \(Suggest.list(names)))"
        if let guess = Suggest.closest(to: name, in: names) { message += "; did you mean '\(guess)'?" }
        return message
    }
}
