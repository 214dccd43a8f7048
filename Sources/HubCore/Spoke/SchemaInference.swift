/// The fields of a sample of JSON records, as dotted paths in order of first appearance (each
/// record's keys taken in sorted order), with the kind of the values seen at each path.
///
/// Built for every page a JSON Lines file or an API returns, so a record whose every path is
/// already known is merged by walking a tree of the paths seen (one lookup per key): no path
/// text is built and no keys are sorted. Only a record that brings a new path is visited in
/// sorted order, which is all that decides the order of the paths. Merging kinds does not
/// depend on the order of the records (see ``join(_:_:)``), so both walks agree.
struct SchemaInference {
    /// A path segment: its children by key, and the path it ends, if a value was seen there.
    /// Records have few keys: compared one by one, they are found faster than hashed.
    private struct Node {
        var keys: [String] = []
        var children: [Int] = []
        var path: Int?

        func child(_ key: String) -> Int? {
            for i in keys.indices where keys[i] == key { return children[i] }
            return nil
        }
    }

    /// Paths in order of first appearance, with the kind seen (nil: only nulls so far).
    private var paths: [String] = []
    private var kinds: [ValueKind?] = []
    /// Path index by path text: `{"a.b": 1}` and `{"a": {"b": 1}}` name the same path.
    private var pathIndex: [String: Int] = [:]
    /// The tree of keys; node 0 is the record itself.
    private var nodes = [Node()]

    /// Adds the paths and kinds of one record.
    mutating func add(_ record: [String: Value]) {
        if record.isEmpty || !merge(record, at: 0) { visit(.object(record), path: "", at: 0) }
    }

    /// The object the records seen describe.
    func object(name: String, keys: Set<String>) -> DiscoveredObject {
        let fields = zip(paths, kinds).map { path, kind in
            let kind = kind ?? .any
            return DiscoveredField(name: path, nativeType: kind.rawValue, kind: kind, isKey: keys.contains(path))
        }
        return DiscoveredObject(name: name, fields: fields, fromSample: true)
    }

    /// Merges the kinds of an object whose every path is known; false at the first one that
    /// is not (the kinds merged before it stay merged: merging again changes nothing).
    private mutating func merge(_ object: [String: Value], at node: Int) -> Bool {
        for (key, value) in object {
            guard let child = nodes[node].child(key) else { return false }
            if case .object(let inner) = value, !inner.isEmpty {
                guard merge(inner, at: child) else { return false }
            } else {
                guard let path = nodes[child].path else { return false }
                kinds[path] = Self.join(kinds[path], Self.kind(of: value))
            }
        }
        return true
    }

    /// Visits a value in sorted key order, adding the paths not seen yet.
    private mutating func visit(_ value: Value, path: String, at node: Int) {
        if case .object(let object) = value, !object.isEmpty {
            for key in object.keys.sorted() {
                visit(object[key]!, path: path.isEmpty ? key : path + "." + key, at: child(key, of: node))
            }
            return
        }
        let kind = Self.kind(of: value)
        if let known = nodes[node].path ?? pathIndex[path] {
            nodes[node].path = known
            kinds[known] = Self.join(kinds[known], kind)
        } else {
            nodes[node].path = paths.count
            pathIndex[path] = paths.count
            paths.append(path)
            kinds.append(kind)
        }
    }

    private mutating func child(_ key: String, of node: Int) -> Int {
        if let child = nodes[node].child(key) { return child }
        nodes.append(Node())
        nodes[node].keys.append(key)
        nodes[node].children.append(nodes.count - 1)
        return nodes.count - 1
    }

    /// The kind of one value; nil for null.
    static func kind(of value: Value) -> ValueKind? {
        switch value {
        case .null: return nil
        case .bool: return .boolean
        case .int: return .integer
        case .double: return .number
        case .string(let s):
            // Dates have a '-' after four characters; counting characters walks the whole text.
            guard s.dropFirst(4).first == "-" else { return .text }
            let count = s.count
            if count == 10, s.dropFirst(7).first == "-" { return .date }
            if count > 10, s.dropFirst(10).first == "T" { return .datetime }
            return .text
        case .array, .object: return .json
        }
    }

    /// Two kinds seen at one path: nulls take the other's kind, integers and numbers mix into
    /// numbers, anything else that differs into `any`. Order-independent, so records may be
    /// merged in any order.
    static func join(_ seen: ValueKind?, _ kind: ValueKind?) -> ValueKind? {
        guard let seen else { return kind }
        guard let kind, kind != seen else { return seen }
        return (seen == .integer && kind == .number) || (seen == .number && kind == .integer) ? .number : .any
    }
}
