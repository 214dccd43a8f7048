/// A file that cannot be understood, with the line where the problem is.
struct FileSyntaxError: Error, Sendable, CustomStringConvertible {
    /// The 1-based line number.
    var line: Int
    var message: String

    var description: String { "line \(line): \(message)" }
}
