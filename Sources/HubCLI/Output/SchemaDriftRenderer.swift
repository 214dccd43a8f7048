import HubCore
import HubStore

/// Renders schema changes (in `sync-all`'s report, `runs show` and `history`).
enum SchemaDriftRenderer {
    /// A heading, then one line per change: paused system × entity first.
    static func lines(_ changes: [SchemaDriftRecord]) -> [String] {
        let paused = Set(changes.filter(\.pauses).map { "\($0.system) \($0.entity)" }).sorted()
        var lines = ["Schema changes (\(changes.count))" + (paused.isEmpty ? ":" : "; paused: \(paused.joined(separator: ", ")):")]
        for d in changes.sorted(by: { $0.pauses && !$1.pauses }) { lines.append("  " + line(d)) }
        return lines
    }

    /// `sheet customer [renamed, pauses]: mapped field 'Country' is gone …`
    static func line(_ d: SchemaDriftRecord) -> String {
        "\(d.system) \(d.entity) [\(d.change.rawValue)\(d.pauses ? ", pauses" : "")]: \(d.message)"
    }
}
