import HubCore

/// A filter over canonical fields.
///
/// Forms in a topology: `{"f": value}` (equals), `{"f": {"in": [...]}}`,
/// `{"f": {"ne"|"gt"|"gte"|"lt"|"lte"|"prefix"|"contains": v}}`, `{"f": {"exists": true}}`,
/// `{"all": [p, …]}`, `{"any": [p, …]}`, `{"not": p}`. Several keys in one object all apply.
public indirect enum Predicate: Sendable, Hashable {
    case compare(FieldName, Comparison)
    case all([Predicate])
    case any([Predicate])
    case not(Predicate)

    /// A test on one field.
    public enum Comparison: Sendable, Hashable {
        case equals(Value)
        case notEquals(Value)
        case isIn([Value])
        case greaterThan(Value)
        case greaterOrEqual(Value)
        case lessThan(Value)
        case lessOrEqual(Value)
        case prefix(String)
        case contains(String)
        case exists(Bool)
    }

    /// Every canonical field the predicate reads.
    public var fields: Set<FieldName> {
        switch self {
        case .compare(let f, _): return [f]
        case .all(let ps), .any(let ps): return ps.reduce(into: []) { $0.formUnion($1.fields) }
        case .not(let p): return p.fields
        }
    }
}
