import HubCore
import HubTopology

extension Predicate {
    /// True when the canonical record satisfies the predicate.
    public func matches(_ record: CanonicalRecord) -> Bool {
        switch self {
        case .all(let ps): return ps.allSatisfy { $0.matches(record) }
        case .any(let ps): return ps.contains { $0.matches(record) }
        case .not(let p): return !p.matches(record)
        case .compare(let field, let comparison):
            let v = record[field.rawValue] ?? .null
            switch comparison {
            case .equals(let x): return Self.equal(v, x)
            case .notEquals(let x): return !Self.equal(v, x)
            case .isIn(let xs): return xs.contains { Self.equal(v, $0) }
            case .greaterThan(let x): return Self.order(v, x).map { $0 > 0 } ?? false
            case .greaterOrEqual(let x): return Self.order(v, x).map { $0 >= 0 } ?? false
            case .lessThan(let x): return Self.order(v, x).map { $0 < 0 } ?? false
            case .lessOrEqual(let x): return Self.order(v, x).map { $0 <= 0 } ?? false
            case .prefix(let p): return v.stringValue?.hasPrefix(p) ?? false
            case .contains(let s): return v.stringValue?.contains(s) ?? false
            case .exists(let wanted): return v.isNull != wanted
            }
        }
    }

    static func equal(_ a: Value, _ b: Value) -> Bool {
        if a == b { return true }
        if let x = a.numberValue, let y = b.numberValue { return x == y }
        return false
    }

    /// -1, 0, 1 for comparable values (numbers with numbers, strings with strings), else nil.
    /// Two strings that are both dates or date-times compare as instants (so `…05Z` comes after
    /// `…04.500Z`, which text order gets wrong); other strings compare as text.
    static func order(_ a: Value, _ b: Value) -> Int? {
        if let x = a.numberValue, let y = b.numberValue { return x < y ? -1 : (x > y ? 1 : 0) }
        guard let x = a.stringValue, let y = b.stringValue else { return nil }
        if let p = DateTimes.parseISO(x), let q = DateTimes.parseISO(y) {
            let l = (p.seconds, p.millis), r = (q.seconds, q.millis)
            return l < r ? -1 : (l > r ? 1 : 0)
        }
        return x < y ? -1 : (x > y ? 1 : 0)
    }
}
