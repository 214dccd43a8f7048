import HubCore

extension Normalizer {
    /// Applies this normalisation to a value. Only strings change; other values pass through.
    ///
    /// Every normaliser is idempotent: applying it twice gives what applying it once gives.
    /// White space is any Unicode `White_Space` scalar (spaces, tabs, line breaks, no-break
    /// spaces, ideographic space, …).
    public func apply(_ value: Value) -> Value {
        guard case .string(let s) = value else { return value }
        switch self {
        case .lowercase: return .string(s.lowercased())
        case .uppercase: return .string(s.uppercased())
        case .trim: return .string(s.trimmingWhitespace())
        case .collapseSpaces: return .string(s.collapsingWhitespace())
        case .digits:
            let trimmed = s.trimmingWhitespace()
            var out = String.UnicodeScalarView()
            if trimmed.unicodeScalars.first == "+" { out.append("+") }
            for scalar in trimmed.unicodeScalars where scalar.value >= 0x30 && scalar.value <= 0x39 { out.append(scalar) }
            return .string(String(out))
        case .emptyToNull:
            return s.unicodeScalars.allSatisfy(\.properties.isWhitespace) ? .null : value
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
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        if first == scalars.startIndex && last == scalars.index(before: scalars.endIndex) { return self }
        return String(scalars[first...last])
    }

    /// Every run of white space replaced by one space, without leading or trailing white space.
    public func collapsingWhitespace() -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in unicodeScalars {
            if scalar.properties.isWhitespace {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(scalar)
            }
        }
        return String(out)
    }
}
