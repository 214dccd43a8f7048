import HubCore
import HubTopology

extension Normalizer {
    /// Applies this normalisation to a value. Only strings change; other values pass through.
    public func apply(_ value: Value) -> Value {
        guard case .string(let s) = value else { return value }
        switch self {
        case .lowercase: return .string(s.lowercased())
        case .uppercase: return .string(s.uppercased())
        case .trim: return .string(s.trimmingWhitespace())
        case .collapseSpaces:
            return .string(s.split(whereSeparator: { $0.isWhitespace }).joined(separator: " "))
        case .digits:
            let trimmed = s.trimmingWhitespace()
            let plus = trimmed.hasPrefix("+") ? "+" : ""
            return .string(plus + trimmed.filter { $0.isASCII && $0.isNumber })
        case .emptyToNull:
            return s.trimmingWhitespace().isEmpty ? .null : value
        }
    }
}

extension Array where Element == Normalizer {
    /// Applies every normalisation in order.
    public func apply(_ value: Value) -> Value {
        var v = value
        for n in self { v = n.apply(v) }
        return v
    }
}

extension String {
    /// The string without leading and trailing white space (including line breaks).
    public func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = lastIndex(where: { !$0.isWhitespace })!
        return String(self[first...last])
    }
}
