import HubCore
import HubTopology

/// The identity keys of a canonical record, one per match rule whose fields all have values:
/// the same keys the engine stores in `match_key` (a test keeps the two in step).
public enum IdentityKeys {
    /// `(rule index, key)` pairs; the key is the JSON array of the rule's (normalised) values.
    public static func keys(_ data: [String: Value], entity: EntityDefinition) -> [(rule: Int, key: String)] {
        var out: [(rule: Int, key: String)] = []
        for (index, rule) in entity.match.enumerated() {
            // `Value` reads `nil` as `.null`, so absent and null values are told apart by hand.
            var values: [Value] = []
            for field in rule {
                guard let v = data[field.rawValue], !v.isNull else { break }
                values.append(v)
            }
            if values.count == rule.count { out.append((index, JSONWriter.string(.array(values)))) }
        }
        return out
    }

    /// The rule's name as links record it: `match:email`, `match:first_name+last_name`.
    public static func ruleName(_ rule: Int, entity: EntityDefinition) -> String {
        "match:" + entity.match[rule].map(\.rawValue).joined(separator: "+")
    }
}
