import HubCore

/// Identity keys: how the hub finds the entity a record seen for the first time belongs to.
/// One key per match rule whose fields all have values; the key is the JSON array of the rule's
/// (normalised) values. The engine, audit and stewardship all use this one definition, and the
/// store keeps the keys (`match_key`) in step with the entity's values.
public enum MatchKey {
    /// `(rule index, key)` pairs for `data` under `rules` (an entity's `match`).
    public static func keys(_ data: [String: Value], rules: [[FieldName]]) -> [(rule: Int, key: String)] {
        var out: [(rule: Int, key: String)] = []
        for (index, rule) in rules.enumerated() {
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

    /// A rule's name as links record it: `match:email`, `match:first_name+last_name`.
    public static func ruleName(_ rule: [FieldName]) -> String {
        "match:" + rule.map(\.rawValue).joined(separator: "+")
    }
}
