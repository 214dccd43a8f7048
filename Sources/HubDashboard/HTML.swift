/// A fragment of HTML that is safe to send: every `String` interpolated into it is escaped, and
/// only other `HTML` values are inserted as markup. Records hold user data, so a value such as
/// `<script>alert(1)</script>` always reaches the page as text.
public struct HTML: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The markup.
    public private(set) var rendered: String

    /// Markup written by hubctl itself (never user data).
    public init(unsafeMarkup: String) { rendered = unsafeMarkup }

    public init(stringLiteral value: String) { rendered = value }

    public init(stringInterpolation: Interpolation) { rendered = stringInterpolation.out }

    public var description: String { rendered }

    /// Nothing.
    public static let empty = HTML(unsafeMarkup: "")

    /// `text`, escaped.
    public static func text(_ text: String) -> HTML { HTML(unsafeMarkup: escape(text)) }

    /// Joins fragments.
    public static func join(_ parts: some Sequence<HTML>, separator: HTML = .empty) -> HTML {
        HTML(unsafeMarkup: parts.map(\.rendered).joined(separator: separator.rendered))
    }

    public static func + (a: HTML, b: HTML) -> HTML { HTML(unsafeMarkup: a.rendered + b.rendered) }

    public static func += (a: inout HTML, b: HTML) { a.rendered += b.rendered }

    /// Escapes the five characters that matter in text and quoted attribute values; NUL and other
    /// control characters (which a browser would drop or mangle) become U+FFFD.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    /// Builds an `HTML` value: literals are markup, interpolated strings and numbers are escaped.
    public struct Interpolation: StringInterpolationProtocol {
        var out = ""
        public init(literalCapacity: Int, interpolationCount: Int) { out.reserveCapacity(literalCapacity * 2) }
        public mutating func appendLiteral(_ literal: String) { out += literal }
        public mutating func appendInterpolation(_ html: HTML) { out += html.rendered }
        public mutating func appendInterpolation(_ text: String) { out += HTML.escape(text) }
        public mutating func appendInterpolation(_ text: String?) { out += HTML.escape(text ?? "") }
        public mutating func appendInterpolation<T: BinaryInteger>(_ n: T) { out += "\(n)" }
        public mutating func appendInterpolation(_ parts: [HTML]) { out += parts.map(\.rendered).joined() }
    }
}
