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
    static func order(_ a: Value, _ b: Value) -> Int? {
        if let x = a.numberValue, let y = b.numberValue { return x < y ? -1 : (x > y ? 1 : 0) }
        if let x = a.stringValue, let y = b.stringValue { return x < y ? -1 : (x > y ? 1 : 0) }
        return nil
    }
}
