import HubCore

/// Collects diagnostics while a topology is decoded, so every problem is reported at once.
final class Reporter {
    private(set) var diagnostics: [Diagnostic] = []
    /// Problems that do not stop the topology from loading.
    private(set) var warnings: [Diagnostic] = []
    let positions: [String: SourcePosition]

    init(positions: [String: SourcePosition]) { self.positions = positions }

    func report(_ path: String, _ message: String) {
        let d = Diagnostic(path: path, message: message, position: positions[path])
        if !diagnostics.contains(d) { diagnostics.append(d) }
    }

    func warn(_ path: String, _ message: String) {
        let d = Diagnostic(path: path, message: message, position: positions[path])
        if !warnings.contains(d) { warnings.append(d) }
    }
}

/// A value in the topology with its path, and typed accessors that report what was expected.
struct Node {
    let value: Value
    let path: String
    let reporter: Reporter

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func report(_ message: String) { reporter.report(path, message) }

    func warn(_ message: String) { reporter.warn(path, message) }

    /// The object's members, or nil (reported) when this is not an object.
    func object(_ what: String = "an object") -> [String: Node]? {
        guard case .object(let o) = value else {
            report("expected \(what), found \(value.typeName)")
            return nil
        }
        var out: [String: Node] = [:]
        for (k, v) in o { out[k] = Node(value: v, path: child(k), reporter: reporter) }
        return out
    }

    /// Members in the order they appear in the file.
    func orderedObject(_ what: String = "an object") -> [(String, Node)]? {
        guard let members = object(what) else { return nil }
        return members.sorted { a, b in
            let pa = reporter.positions[a.value.path], pb = reporter.positions[b.value.path]
            switch (pa, pb) {
            case let (x?, y?): return (x.line, x.column) < (y.line, y.column)
            default: return a.key < b.key
            }
        }
    }

    func array(_ what: String = "an array") -> [Node]? {
        guard case .array(let a) = value else {
            report("expected \(what), found \(value.typeName)")
            return nil
        }
        return a.enumerated().map { Node(value: $1, path: "\(path)[\($0)]", reporter: reporter) }
    }

    func string(_ what: String = "a string") -> String? {
        guard case .string(let s) = value else {
            report("expected \(what), found \(value.typeName)")
            return nil
        }
        return s
    }

    /// A non-empty string.
    func name(_ what: String = "a non-empty string") -> String? {
        guard let s = string(what) else { return nil }
        if s.isEmpty { report("expected \(what), found an empty string"); return nil }
        if s.utf8.contains(0) { report("expected \(what) without a NUL character (\\u0000)"); return nil }
        return s
    }

    /// Reports every key of this object that holds a NUL character: keys that are names (of
    /// entities, fields, systems) end up in files, SQL and C strings, where a NUL cuts them short.
    func rejectNULInKeys() {
        guard case .object(let members) = value else { return }
        for key in members.keys.sorted() where key.utf8.contains(0) {
            reporter.report(child(key), "a name cannot hold a NUL character (\\u0000)")
        }
    }

    func bool() -> Bool? {
        guard case .bool(let b) = value else {
            report("expected true or false, found \(value.typeName)")
            return nil
        }
        return b
    }

    func int() -> Int64? {
        guard case .int(let i) = value else {
            report("expected an integer, found \(value.typeName)")
            return nil
        }
        return i
    }

    /// One of an enum's raw values, with a suggestion when misspelt.
    func enumeration<E: RawRepresentable & CaseIterable>(_ type: E.Type, what: String) -> E? where E.RawValue == String {
        guard let s = string("one of: " + E.allCases.map(\.rawValue).joined(separator: ", ")) else { return nil }
        if let e = E(rawValue: s) { return e }
        let names = E.allCases.map(\.rawValue)
        var message = "unknown \(what) '\(s)'; expected one of: \(names.joined(separator: ", "))"
        if let guess = Suggest.closest(to: s, in: names) { message += "; did you mean '\(guess)'?" }
        report(message)
        return nil
    }

    /// Reports every key of an object that is not in `allowed`.
    func rejectUnknownKeys(_ members: [String: Node], allowed: [String]) {
        for key in members.keys.sorted() where !allowed.contains(key) {
            var message = "unknown key '\(key)'"
            if let guess = Suggest.closest(to: key, in: allowed) {
                message += "; did you mean '\(guess)'?"
            } else {
                message += " (allowed: \(allowed.joined(separator: ", ")))"
            }
            reporter.report(child(key), message)
        }
    }

    /// Reports a required key that is missing.
    func require(_ members: [String: Node], _ key: String, _ what: String) -> Node? {
        if let node = members[key] { return node }
        report("missing required key '\(key)' (\(what))")
        return nil
    }
}
