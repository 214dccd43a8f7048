import HubCore

/// Where a read of an endpoint continues: the meaning of a rest spoke's ``Cursor``.
///
/// A small JSON object:
/// - `{"since": v}`: the start of the next incremental run: records changed after `v` (the
///   highest cursor value read so far), sent in the endpoint's `since_param`;
/// - `{"next": n, "since": v, "max": m}`: within a read, before the page `n` (a next-page URL,
///   a token, a page number or an offset), with the highest cursor value `m` seen so far.
struct RESTReadPosition: Sendable, Hashable {
    /// The next page: a URL, token, page number or offset; nil at the start of a read.
    var next: Value?
    /// The cursor value the read started from.
    var since: Value?
    /// The highest cursor value seen in this read so far.
    var max: Value?

    init(next: Value? = nil, since: Value? = nil, max: Value? = nil) {
        self.next = next
        self.since = since
        self.max = max
    }

    /// Decodes a stored cursor; nil means the start.
    init?(_ cursor: Cursor?) {
        guard let cursor else { self.init(); return }
        guard case .object(let o)? = try? JSONParser.parse(cursor.value) else { return nil }
        self.init(next: o["next"].flatMap { $0.isNull ? nil : $0 }, since: o["since"].flatMap { $0.isNull ? nil : $0 },
                  max: o["max"].flatMap { $0.isNull ? nil : $0 })
    }

    var cursor: Cursor {
        var o: [String: Value] = [:]
        if let next { o["next"] = next }
        if let since { o["since"] = since }
        if let max { o["max"] = max }
        return Cursor(JSONWriter.string(.object(o)))
    }

    /// The larger of two cursor values: numbers by value, text by its characters.
    static func larger(_ a: Value?, _ b: Value?) -> Value? {
        guard let a, !a.isNull else { return b.flatMap { $0.isNull ? nil : $0 } }
        guard let b, !b.isNull else { return a }
        if let x = a.numberValue, let y = b.numberValue { return y > x ? b : a }
        return b.displayText > a.displayText ? b : a
    }
}
