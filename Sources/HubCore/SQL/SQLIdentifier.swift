/// A table, column or schema name, quoted for SQL text: the one audited way an identifier
/// reaches SQL in every SQL spoke (SQLite and PostgreSQL quote identifiers alike).
///
/// ``quoted`` wraps the name in double quotes and doubles every double quote inside, so `order`
/// reads as a name rather than a keyword and `a"b` becomes `"a""b"`. Spokes make identifiers
/// only from names found in the live schema (SQLite's `PRAGMA table_info`, PostgreSQL's
/// `information_schema`), never from configuration text alone; values are always bound as
/// statement parameters, never spliced into SQL.
public struct SQLIdentifier: Sendable, Hashable, CustomStringConvertible {
    /// The name as the schema spells it.
    public let name: String

    public init(_ name: String) { self.name = name }

    /// The name as an SQL identifier: `a"b` → `"a""b"`.
    public var quoted: String {
        var out = "\""
        for character in name {
            if character == "\"" { out += "\"\"" } else { out.append(character) }
        }
        out += "\""
        return out
    }

    /// `schema.table`, each part quoted: `"billing"."customers"`.
    public static func qualified(_ schema: String, _ name: String) -> String {
        SQLIdentifier(schema).quoted + "." + SQLIdentifier(name).quoted
    }

    public var description: String { name }
}
