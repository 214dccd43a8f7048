import HubCore
import HubStore

/// A plain-text table with aligned columns: text left, numbers right.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []
    /// Columns kept left-aligned even when a cell looks like a number (IDs).
    var textColumns: Set<Int> = []

    init(_ header: [String]) { self.header = header }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func isNumeric(_ s: String) -> Bool { !s.isEmpty && s.allSatisfy { $0.isNumber || $0 == "-" || $0 == "." || $0 == "%" } }
        func line(_ cells: [String], header: Bool) -> String {
            var parts: [String] = []
            for (i, cell) in cells.enumerated() {
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                parts.append(!header && isNumeric(cell) && !textColumns.contains(i) ? pad + cell : cell + pad)
            }
            var s = parts.joined(separator: "  ")
            while s.hasSuffix(" ") { s.removeLast() }
            return s
        }
        return ([line(header, header: true)] + rows.map { line($0, header: false) }).joined(separator: "\n")
    }
}

extension TextTable {
    /// The table of a run's counts per system, entity and direction (`sync-all`, `runs show`).
    static func runCounts() -> TextTable {
        TextTable(["SYSTEM", "ENTITY", "DIR", "READ", "CREATED", "UPDATED", "DELETED", "LINKED", "UNCHANGED", "SKIPPED", "FAILED"])
    }

    /// Adds one row of counts; reads and links only exist for pulls.
    mutating func add(_ system: SystemName, _ entity: EntityName, _ direction: String, _ c: RunCounts) {
        let pull = direction == "pull"
        add([system.rawValue, entity.rawValue, direction, pull ? "\(c.read)" : "-", "\(c.created)", "\(c.updated)",
             "\(c.deleted)", pull ? "\(c.linked)" : "-", "\(c.unchanged)", "\(c.skipped)", "\(c.failed)"])
    }
}
