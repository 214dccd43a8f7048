import HubCore
import HubTopology

/// Identity keys of a canonical record, one per match rule whose fields all have values.
enum MatchKeys {
    /// `(rule index, key)` pairs; the key is the JSON array of the rule's (normalised) values.
    static func keys(_ data: [String: Value], entity: EntityDefinition) -> [(rule: Int, key: String)] {
        var out: [(Int, String)] = []
        for (i, rule) in entity.match.enumerated() {
            var values: [Value] = []
            for field in rule {
                guard let v = data[field.rawValue], !v.isNull else { values = []; break }
                values.append(v)
            }
            if values.count == rule.count { out.append((i, JSONWriter.string(.array(values)))) }
        }
        return out
    }

    /// The rule's name for `linked_by`: `match:email` or `match:first_name+last_name`.
    static func ruleName(_ rule: Int, entity: EntityDefinition) -> String {
        "match:" + entity.match[rule].map(\.rawValue).joined(separator: "+")
    }
}
