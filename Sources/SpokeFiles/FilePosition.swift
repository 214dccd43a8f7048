import HubCore

/// Where a read of a file continues: the meaning of a file spoke's ``Cursor``.
///
/// A cursor is a small JSON object:
/// - `{"at": 1234, "line": 17, "file": "…"}`: within a run, the byte offset and line of the
///   next row, and the fingerprint (size, modification time, inode) of the file the offset
///   belongs to. If the file changed since, the read starts again from the first row (records
///   may come twice; none is skipped).
/// - With a `cursorField`, also `"since"` (the lower bound of this run; absent on a full read)
///   and `"max"` (the highest cursor value returned so far in this run).
/// - `{"since": v}`: the start of the next run: rows whose cursor value is `v` or more (rows at
///   `v` are read again, so a row changed later with the same value is not missed).
///   `{"since": null}` reads every row whose cursor cell is not empty.
struct FilePosition: Sendable {
    /// The byte offset and line of the next row; nil at the start of a run.
    var offset: Int?
    var line: Int = 1
    var fingerprint: String?
    /// True when rows are filtered by cursor value (`since` may still be nil: no lower bound).
    var isIncremental: Bool
    var since: Value?
    /// The highest cursor value returned so far in this run.
    var max: Value?

    /// The start of a full read.
    static let start = FilePosition(offset: nil, isIncremental: false)

    init(offset: Int?, line: Int = 1, fingerprint: String? = nil, isIncremental: Bool, since: Value? = nil, max: Value? = nil) {
        self.offset = offset
        self.line = line
        self.fingerprint = fingerprint
        self.isIncremental = isIncremental
        self.since = since
        self.max = max
    }

    /// Decodes a stored cursor (nil is the start of a full read); nil when the text is not one.
    init?(_ cursor: Cursor?) {
        guard let cursor else { self = .start; return }
        guard case .object(let o)? = try? JSONParser.parse(cursor.value) else { return nil }
        if let at = o["at"] {
            guard let offset = at.intValue, offset >= 0, let line = o["line"]?.intValue,
                  let fingerprint = o["file"]?.stringValue else { return nil }
            self.offset = Int(offset)
            self.line = Int(line)
            self.fingerprint = fingerprint
        } else {
            guard o.keys.contains("since") else { return nil }
        }
        // (`Value` is expressible by `nil`: spell out "no value" to keep it apart from `.null`.)
        isIncremental = o.keys.contains("since")
        since = o["since"].flatMap { $0.isNull ? Value?.none : $0 }
        max = o["max"].flatMap { $0.isNull ? Value?.none : $0 }
    }

    /// The cursor text.
    var cursor: Cursor {
        var o: [String: Value] = [:]
        if let offset {
            o["at"] = .int(Int64(offset))
            o["line"] = .int(Int64(line))
            o["file"] = fingerprint.map(Value.string) ?? .null
        }
        if isIncremental { o["since"] = since ?? .null }
        if let max { o["max"] = max }
        return Cursor(JSONWriter.string(.object(o)))
    }
}

/// Orders cursor values: numerically when both are numbers (or numeric text), as text otherwise.
enum CursorOrder {
    /// True when `a` sorts before `b`.
    static func less(_ a: Value, _ b: Value) -> Bool {
        if let x = number(a), let y = number(b) { return x < y }
        return a.displayText.unicodeScalars.lexicographicallyPrecedes(b.displayText.unicodeScalars)
    }

    /// True when a row's cursor value is absent: null or empty text.
    static func isEmpty(_ value: Value?) -> Bool {
        guard let value else { return true }
        return value.isNull || value.stringValue == ""
    }

    private static func number(_ value: Value) -> Double? {
        if let n = value.numberValue { return n }
        guard let s = value.stringValue, let first = s.utf8.first,
              first == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first),
              let d = Double(s), d.isFinite else { return nil }
        return d
    }
}
