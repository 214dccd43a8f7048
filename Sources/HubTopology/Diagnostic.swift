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

    /// `path: message`, as printed by `hubctl validate`.
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }

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

/// Suggests the closest known name for a misspelt one.
enum Suggest {
    static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        var best: (String, Int)?
        for candidate in candidates {
            let d = distance(word.lowercased(), candidate.lowercased())
            let limit = max(1, min(3, (candidate.count + 1) / 3))
            if d <= limit, best == nil || d < best!.1 { best = (candidate, d) }
        }
        return best?.0
    }

    /// Edit distance counting a swap of two neighbouring letters as one edit (optimal string
    /// alignment), so `emial` is one edit from `email`.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }

    /// `a, b, c` or `a, b, c, …` when there are more than `limit`.
    static func list(_ names: [String], limit: Int = 8) -> String {
        names.count <= limit ? names.joined(separator: ", ") : names.prefix(limit).joined(separator: ", ") + ", …"
    }
}
