import HubCore
import HubTopology

/// The identity keys of a canonical record, one per match rule whose fields all have values:
/// the same keys the engine stores in `match_key` (a test keeps the two in step).
public enum IdentityKeys {
    /// `(rule index, key)` pairs; the key is the JSON array of the rule's (normalised) values.
    public static func keys(_ data: [String: Value], entity: EntityDefinition) -> [(rule: Int, key: String)] {
        entity.match.enumerated().compactMap { index, rule in
            let values = rule.compactMap { field in data[field.rawValue].flatMap { $0.isNull ? nil : $0 } }
            return values.count == rule.count ? (index, JSONWriter.string(.array(values))) : nil
        }
    }

    /// The rule's name as links record it: `match:email`, `match:first_name+last_name`.
    public static func ruleName(_ rule: Int, entity: EntityDefinition) -> String {
        "match:" + entity.match[rule].map(\.rawValue).joined(separator: "+")
    }
}
