/// A table or column name, quoted for SQL text.
///
/// This is the only way an identifier reaches SQL: ``quoted`` wraps the name in double quotes and
/// doubles every double quote inside, so `order` reads as a name rather than a keyword and `a"b`
/// becomes `"a""b"`. Identifiers are made from names found in the live schema (see
/// ``SQLiteTable``), never from configuration text alone; values are always bound as statement
/// arguments.
struct SQLIdentifier: Sendable, Hashable, CustomStringConvertible {
    /// The name as the schema spells it.
    let name: String

    init(_ name: String) { self.name = name }

    /// The name as an SQL identifier: `a"b` → `"a""b"`.
    var quoted: String {
        var out = "\""
        for character in name {
            if character == "\"" { out += "\"\"" } else { out.append(character) }
        }
        out += "\""
        return out
    }

    var description: String { name }
}
