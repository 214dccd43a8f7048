import HubCore

/// How a file spoke treats what it reads and writes: the `invalid_utf8`, `formula_guard` and
/// `max_record_bytes` connection settings of csv and jsonl systems.
public struct FileOptions: Sendable, Hashable {
    /// What to do with bytes that are not valid UTF-8.
    public enum InvalidUTF8: String, Sendable, Hashable, CaseIterable {
        /// The record is reported invalid (and quarantined by the engine) and kept as it is in
        /// the file: nothing is decoded into a value it does not hold.
        case reject
        /// Each invalid sequence reads as U+FFFD; a push that rewrites the record writes U+FFFD.
        case replace
    }

    public var invalidUTF8: InvalidUTF8
    /// CSV only: text a spreadsheet would run as a formula is written with a leading `'`, which
    /// reads strip again (see ``FormulaGuard``).
    public var formulaGuard: Bool
    /// The largest record (a CSV row or a JSON line, line end excluded) a read decodes; a larger
    /// one is reported invalid without being held in memory, and rewrites copy it as it is.
    public var maxRecordBytes: Int

    /// 16 MiB.
    public static let defaultMaxRecordBytes = 16 * 1024 * 1024

    public init(invalidUTF8: InvalidUTF8 = .reject, formulaGuard: Bool = true,
                maxRecordBytes: Int = FileOptions.defaultMaxRecordBytes) {
        self.invalidUTF8 = invalidUTF8
        self.formulaGuard = formulaGuard
        self.maxRecordBytes = max(1, maxRecordBytes)
    }

    /// What a record over the limit is told, e.g. "the record is larger than 16 MiB".
    var oversizeMessage: String {
        "the record is larger than \(Self.describe(bytes: maxRecordBytes)), the most a read takes "
            + "(raise the system's \"max_record_bytes\" to read it)"
    }

    static func describe(bytes: Int) -> String {
        if bytes % (1024 * 1024) == 0 { return "\(bytes / (1024 * 1024)) MiB" }
        if bytes % 1024 == 0 { return "\(bytes / 1024) KiB" }
        return "\(bytes) bytes"
    }
}
