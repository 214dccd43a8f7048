import GRDB

/// The values bound to one hub statement's `?` placeholders, in order.
///
/// Written like GRDB's `StatementArguments` (`[a, b, nil]`), and held as SQLite's value kinds
/// (null, integer, real, text, blob) so that every store binds the same values: SQLite hands
/// them to the statement as they are, PostgreSQL sends them as text for the server to type.
public struct HubArguments: ExpressibleByArrayLiteral, Sendable {
    public var values: [DatabaseValue]

    public init() { values = [] }

    public init(arrayLiteral elements: (any DatabaseValueConvertible)?...) {
        values = elements.map { $0?.databaseValue ?? .null }
    }

    public init(_ elements: some Sequence<(any DatabaseValueConvertible)?>) {
        values = elements.map { $0?.databaseValue ?? .null }
    }

    public init(_ elements: some Sequence<some DatabaseValueConvertible>) {
        values = elements.map(\.databaseValue)
    }

    public static func += (lhs: inout HubArguments, rhs: HubArguments) { lhs.values += rhs.values }

    /// The same values for GRDB, through its initializer for optional existentials: the one
    /// for a sequence of values maps them with a key path, which the runtime instantiates on
    /// every call (about 5 % of an initial sync's CPU time, for every statement the hub runs).
    var statementArguments: StatementArguments { StatementArguments(values.map { $0 as (any DatabaseValueConvertible)? }) }
}
