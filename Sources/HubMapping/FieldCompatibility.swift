import HubCore
import HubTopology

/// Whether a system field can hold a canonical field's values, for `hubctl check`.
public enum FieldCompatibility {
    /// What a mapping of `type` onto a system field of `kind` means.
    public enum Verdict: Sendable, Hashable {
        case compatible
        /// It works for some values only (text that holds numbers); the message says which.
        case risky(String)
        /// It cannot work.
        case incompatible(String)
    }

    /// The verdict for one field mapping onto a discovered field.
    public static func verdict(_ type: FieldType, mapping: FieldMapping, kind: ValueKind) -> Verdict {
        // A declared system type decides what is written.
        let written: ValueKind? = switch mapping.systemType {
        case .string?: .text
        case .integer?: .integer
        case .number?: .number
        case .boolean?: .boolean
        case .json?: .json
        case nil: nil
        }
        if let written, written != kind, kind != .any, kind != .text {
            return .incompatible("the mapping writes \(written.rawValue) values but the field holds \(kind.rawValue)")
        }
        if kind == .any { return .compatible }
        let unix = mapping.format == .unixSeconds || mapping.format == .unixMilliseconds
        switch (type, kind) {
        case (.string, .text), (.string, .json), (.json, .json), (.json, .text), (.ref, .text), (.ref, .integer):
            return .compatible
        case (.integer, .integer), (.integer, .number), (.integer, .text), (.integer, .json):
            return .compatible
        case (.number, .number), (.number, .text), (.number, .json):
            return .compatible
        case (.number, .integer):
            return .risky("numbers with a fraction cannot be stored in an integer field")
        case (.boolean, .boolean), (.boolean, .text), (.boolean, .integer), (.boolean, .json):
            return .compatible
        case (.date, .date), (.date, .datetime), (.datetime, .datetime), (.date, .text), (.datetime, .text):
            return .compatible
        case (.datetime, .date):
            return .risky("the field keeps the date only: times are lost")
        case (.date, .integer), (.date, .number), (.datetime, .integer), (.datetime, .number):
            if unix { return .compatible }
            // A pattern of digits only (`YYYYMMDD`) writes a whole number, which reads back.
            if case .pattern(let pattern)? = mapping.format {
                guard let tokens = Self.tokens(of: pattern) else {
                    return .incompatible("the format '\(pattern)' writes separators, which \(kind == .integer ? "an" : "a") "
                                         + "\(kind.rawValue) field cannot hold; use a pattern of digits only such as YYYYMMDD, or unix")
                }
                if type == .datetime && !tokens.contains("HH") {
                    return .risky("the format '\(pattern)' keeps the date only: times are lost")
                }
                return .compatible
            }
            return .incompatible("the field holds numbers; give the mapping \"format\": \"unix\", \"unix_ms\" or a pattern of "
                                 + "digits such as \"YYYYMMDD\"")
        case (.string, .integer), (.string, .number), (.string, .boolean), (.string, .date), (.string, .datetime):
            return .risky("text that is not a \(kind.rawValue) will be refused by the system")
        case (_, .binary):
            return .incompatible("the field holds binary data")
        default:
            return .incompatible("a \(type.rawValue) field cannot be stored in a \(kind.rawValue) field")
        }
    }

    /// The tokens of a date pattern made of tokens only (`YYYYMMDDHHmm`), or nil when it holds
    /// anything else (a separator).
    static func tokens(of pattern: String) -> [String]? {
        let tokens = ["YYYY", "SSS", "MM", "DD", "HH", "mm", "ss"]
        var rest = Substring(pattern)
        var found: [String] = []
        while !rest.isEmpty {
            guard let token = tokens.first(where: { rest.hasPrefix($0) }) else { return nil }
            found.append(token)
            rest = rest.dropFirst(token.count)
        }
        return found
    }
}
