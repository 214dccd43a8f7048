import HubCore

/// One problem found in a topology, with where it is and what was expected.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// Dotted JSON path (`systems.crm.entities.customer.fields.emial`); empty for the whole file.
    public var path: String
    public var message: String
    /// Line and column in the file, when known.
    public var position: SourcePosition?

    public init(path: String, message: String, position: SourcePosition? = nil) {
        self.path = path
        self.message = message
        self.position = position
    }

    /// `path: message`, as printed by `hubctl validate`; control characters in the path (a NUL
    /// in a name) are shown as `\u0000` escapes.
    public var description: String { path.isEmpty ? message : "\(Self.printable(path)): \(message)" }

    static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The path as a JSON pointer (`/systems/crm/entities/customer`).
    public var pointer: String {
        guard !path.isEmpty else { return "" }
        var out = ""
        var token = ""
        func flush() {
            out += "/" + token.replacingTilde()
            token = ""
        }
        var inIndex = false
        for ch in path {
            if inIndex {
                if ch == "]" { inIndex = false; flush() } else { token.append(ch) }
            } else if ch == "." {
                if !token.isEmpty { flush() }
            } else if ch == "[" {
                if !token.isEmpty { flush() }
                inIndex = true
            } else {
                token.append(ch)
            }
        }
        if !token.isEmpty { flush() }
        return out
    }
}

extension String {
    fileprivate func replacingTilde() -> String {
        var out = ""
        for ch in self {
            switch ch {
            case "~": out += "~0"
            case "/": out += "~1"
            default: out.append(ch)
            }
        }
        return out
    }
}

/// A topology that failed validation: every problem found, at once.
public struct TopologyError: Error, Sendable, CustomStringConvertible {
    /// The topology file.
    public var file: String
    public var diagnostics: [Diagnostic]
    /// Problems that alone would not have stopped the topology from loading.
    public var warnings: [Diagnostic]

    public init(file: String, diagnostics: [Diagnostic], warnings: [Diagnostic] = []) {
        self.file = file
        self.diagnostics = diagnostics
        self.warnings = warnings
    }

    public var description: String {
        let count = diagnostics.count
        var lines = ["\(file): \(count) problem\(count == 1 ? "" : "s") in the topology:"]
        for d in diagnostics {
            let position = d.position.map { "\($0) " } ?? ""
            lines.append("  \(position)\(d)")
        }
        for d in warnings {
            let position = d.position.map { "\($0) " } ?? ""
            lines.append("  \(position)warning: \(d)")
        }
        return lines.joined(separator: "\n")
    }
}
