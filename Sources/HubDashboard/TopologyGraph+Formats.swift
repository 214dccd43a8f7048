import Foundation
import HubCore

extension TopologyGraph {
    /// The graph in Graphviz's DOT language (`dot -Tsvg`).
    public var dot: String {
        func q(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n") + "\""
        }
        var lines = ["digraph \(q(name)) {", "  rankdir=LR;", "  node [fontname=\"Helvetica\"];"]
        lines.append("  hub [shape=doublecircle, label=\(q(hubLabel))];")
        for s in systems {
            lines.append("  \(q("system:" + s.name.rawValue)) [shape=box, style=rounded\(s.failing ? ", color=red" : ""), label=\(q(systemLabel(s)))];")
        }
        for e in edges {
            let (from, to) = e.kind == .pull ? (q("system:" + e.system.rawValue), "hub") : ("hub", q("system:" + e.system.rawValue))
            lines.append("  \(from) -> \(to) [label=\(q(e.kind.rawValue + ": " + e.label))];")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The graph as a Mermaid flowchart (renders in GitHub Markdown).
    public var mermaid: String {
        func q(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\"", with: "#quot;").replacingOccurrences(of: "\n", with: "<br/>") + "\""
        }
        var lines = ["flowchart LR", "  hub((\(q(hubLabel))))"]
        for (i, s) in systems.enumerated() { lines.append("  s\(i)[\(q(systemLabel(s)))]") }
        for e in edges {
            guard let i = systems.firstIndex(where: { $0.name == e.system }) else { continue }
            let label = q(e.kind.rawValue + ": " + e.label)
            lines.append(e.kind == .pull ? "  s\(i) -->|\(label)| hub" : "  hub -->|\(label)| s\(i)")
        }
        for (i, s) in systems.enumerated() where s.failing { lines.append("  style s\(i) stroke:#c0392b,stroke-width:2px") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `hub` and its entities with their counts, one per line.
    var hubLabel: String {
        (["hub: " + name] + hubEntities.map { e in e.name.rawValue + (e.count.map { " \($0)" } ?? "") }).joined(separator: "\n")
    }

    /// A system's name, adapter and live links.
    func systemLabel(_ s: System) -> String {
        "\(s.name) (\(s.adapter))" + (s.linked.map { "\n\($0) linked" } ?? "") + (s.failing ? "\nfailing" : "")
    }
}
