import HubCore

/// Keeps text a spreadsheet would run as a formula from being written into a CSV file as it is
/// (OWASP "CSV Injection"), and reads the guarded text back as it was.
///
/// - A *text* value is guarded when, after any leading `'`, it starts with `=`, `+`, `-`, `@`,
///   a tab or a carriage return — except a plain number (`-5`, `+4.5`, `-1e3`: a sign, digits,
///   an optional fraction and exponent, nothing before the sign), which no spreadsheet runs.
///   Guarding prefixes one `'`: `=1+1` is written `'=1+1`, `'=x` is written `''=x`.
/// - Numbers, booleans and null are never guarded (an integer field's `-5` is written `-5`).
/// - On read, a cell that starts with `'` followed by such a start (after any further `'`) loses
///   that one `'`: `'=1+1` reads `=1+1`, `''=x` reads `'=x`. Every other cell reads as it is
///   (`'plain` stays `'plain`).
///
/// So every text value reads back exactly as it was written (no echo), and a cell a person typed
/// as `'=x` to keep a spreadsheet from running it reads as the text `=x` they see.
enum FormulaGuard {
    private static let quote = UInt8(ascii: "'")

    /// True for the bytes that make a spreadsheet read a cell as a formula.
    @inline(__always)
    private static func isTrigger(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "=") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "@")
            || byte == 0x09 || byte == 0x0D
    }

    /// True when the text starts, after any `'`, with a formula trigger.
    private static func startsWithTrigger(afterQuotes utf8: Substring.UTF8View) -> Bool {
        guard let first = utf8.first(where: { $0 != quote }) else { return false }
        return isTrigger(first)
    }

    /// The cell text for a text value.
    static func guarded(_ text: String) -> String {
        let utf8 = Substring(text).utf8
        guard let first = utf8.first, first == quote || isTrigger(first) else { return text }
        guard startsWithTrigger(afterQuotes: utf8) else { return text }
        if first != quote && text.isPlainDecimalNumber { return text }
        return "'" + text
    }

    /// The text value of a cell hubctl may have guarded.
    static func unguarded(_ cell: String) -> String {
        let utf8 = Substring(cell).utf8
        guard utf8.first == quote else { return cell }
        let rest = Substring(cell).dropFirst()
        return startsWithTrigger(afterQuotes: rest.utf8) ? String(rest) : cell
    }
}
