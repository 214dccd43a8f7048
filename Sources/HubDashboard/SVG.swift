import Foundation
import HubCore
import HubStore

/// Charts drawn on the server as SVG: no script, no external asset; every label escaped.
public enum SVG {
    static let pullColor = "#2563eb"
    static let pushColor = "#059669"

    /// The topology graph: the hub in the middle, the systems around it, an arrow per direction
    /// (pull: system → hub, push: hub → system) labelled with entities and counts.
    /// - Parameter standalone: adds the XML namespace, for an `.svg` file.
    public static func topology(_ graph: TopologyGraph, standalone: Bool = false) -> HTML {
        let width = 860.0, height = 560.0, cx = width / 2, cy = height / 2
        let hubR = 64.0, boxW = 170.0, boxH = 58.0
        let n = max(graph.systems.count, 1)
        var positions: [SystemName: (x: Double, y: Double)] = [:]
        for (i, s) in graph.systems.enumerated() {
            let angle = -Double.pi / 2 + 2 * Double.pi * Double(i) / Double(n)
            positions[s.name] = (cx + 320 * cos(angle), cy + 205 * sin(angle))
        }
        var body: [HTML] = []
        body.append("""
            <defs><marker id="arrow-pull" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="\(pullColor)"/></marker>\
            <marker id="arrow-push" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="\(pushColor)"/></marker></defs>
            """)
        for e in graph.edges {
            guard let p = positions[e.system] else { continue }
            let dx = cx - p.x, dy = cy - p.y, len = max((dx * dx + dy * dy).squareRoot(), 1)
            let ux = dx / len, uy = dy / len
            // Two parallel arrows for a system that pulls and pushes.
            let both = graph.edges.filter { $0.system == e.system }.count > 1
            let off = both ? (e.kind == .pull ? 8.0 : -8.0) : 0
            let ox = -uy * off, oy = ux * off
            // Leave the box (approximately, along the line) and stop at the hub's circle.
            let boxExit = min(abs(boxW / 2 / (ux == 0 ? 1e-9 : ux)), abs(boxH / 2 / (uy == 0 ? 1e-9 : uy))) + 4
            let sx = p.x + ux * boxExit + ox, sy = p.y + uy * boxExit + oy
            let hx = cx - ux * (hubR + 6) + ox, hy = cy - uy * (hubR + 6) + oy
            let (x1, y1, x2, y2) = e.kind == .pull ? (sx, sy, hx, hy) : (hx, hy, sx, sy)
            let color = e.kind == .pull ? pullColor : pushColor
            // The label sits beside its arrow, on the arrow's own side, anchored away from it.
            let side = both ? (e.kind == .pull ? 1.0 : -1.0) : 1.0
            let px = -uy * side, py = ux * side
            let mx = (sx + hx) / 2 + px * 18, my = (sy + hy) / 2 + py * 18 + 4
            let anchor = abs(px) < 0.35 ? "middle" : (px > 0 ? "start" : "end")
            body.append("""
                <g class="edge \(e.kind.rawValue)"><title>\(e.system.rawValue) \(e.kind.rawValue): \(e.label)</title>\
                <line x1="\(f(x1))" y1="\(f(y1))" x2="\(f(x2))" y2="\(f(y2))" stroke="\(color)" stroke-width="2.5" marker-end="url(#arrow-\(e.kind.rawValue))"/>\
                <text x="\(f(mx))" y="\(f(my))" text-anchor="\(anchor)" font-size="12" fill="\(color)" stroke="#fff" stroke-width="4" paint-order="stroke">\(e.kind.rawValue) · \(e.lastRunWrites.map { "\($0) written" } ?? e.entities.map(\.rawValue).joined(separator: ", "))</text></g>
                """)
        }
        body.append("<g class=\"hub\"><circle cx=\"\(f(cx))\" cy=\"\(f(cy))\" r=\"\(f(hubR))\" fill=\"#111827\"/>")
        body.append("<text x=\"\(f(cx))\" y=\"\(f(cy - 22))\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\" fill=\"#fff\">hub</text>")
        for (i, e) in graph.hubEntities.prefix(4).enumerated() {
            body.append("<text x=\"\(f(cx))\" y=\"\(f(cy + Double(i) * 17))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#e5e7eb\">\(e.name.rawValue)\(e.count.map { " \($0)" } ?? "")</text>")
        }
        body.append("</g>")
        for s in graph.systems {
            guard let p = positions[s.name] else { continue }
            let stroke = s.failing ? "#dc2626" : "#9ca3af"
            body.append("""
                <g class="system"><title>\(s.name.rawValue) (\(s.adapter))\(s.failing ? ": failing" : "")</title>\
                <rect x="\(f(p.x - boxW / 2))" y="\(f(p.y - boxH / 2))" width="\(f(boxW))" height="\(f(boxH))" rx="10" fill="#fff" stroke="\(stroke)" stroke-width="\(s.failing ? "3" : "1.5")"/>\
                <text x="\(f(p.x))" y="\(f(p.y - 5))" text-anchor="middle" font-size="15" font-weight="bold" fill="#111827">\(s.name.rawValue)</text>\
                <text x="\(f(p.x))" y="\(f(p.y + 15))" text-anchor="middle" font-size="12" fill="#4b5563">\(s.adapter)\(s.linked.map { " · \($0) linked" } ?? "")\(s.failing ? " · failing" : "")</text></g>
                """)
        }
        let ns: HTML = standalone ? " xmlns=\"http://www.w3.org/2000/svg\"" : ""
        return """
            <svg\(ns) class="topology" viewBox="0 0 \(Int(width)) \(Int(height))" width="100%" role="img" aria-label="Topology: the hub and its systems" font-family="system-ui, sans-serif">\(body)</svg>
            """
    }

    /// Records written per direction in each run, oldest on the left: pulls (hub writes) and
    /// pushes (system writes) side by side.
    public static func activity(_ runs: [RunActivity]) -> HTML {
        let width = 820.0, height = 220.0, left = 48.0, bottom = 28.0, top = 16.0
        guard !runs.isEmpty else { return "<p class=\"muted\">No runs yet: the chart fills in as `hubctl sync-all` runs.</p>" }
        let peak = max(runs.map { max($0.pulled, $0.pushed) }.max() ?? 0, 1)
        let slot = (width - left - 8) / Double(runs.count)
        let barW = max(min(slot * 0.36, 18), 1.5)
        let plotH = height - bottom - top
        var body: [HTML] = []
        for frac in [0.0, 0.5, 1.0] {
            let y = top + plotH * (1 - frac)
            body.append("<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(width - 4))\" y2=\"\(f(y))\" stroke=\"#e5e7eb\"/>")
            body.append("<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"#6b7280\">\(Int((Double(peak) * frac).rounded()))</text>")
        }
        for (i, r) in runs.enumerated() {
            let x = left + slot * Double(i) + slot / 2
            for (value, dx, color, what) in [(r.pulled, -barW - 1, pullColor, "pulled"), (r.pushed, 1.0, pushColor, "pushed")] {
                let h = plotH * Double(value) / Double(peak)
                body.append("""
                    <rect x="\(f(x + dx))" y="\(f(top + plotH - h))" width="\(f(barW))" height="\(f(max(h, value > 0 ? 1 : 0)))" fill="\(color)"><title>run \(r.run.rawValue) \(r.startedAt): \(value) \(what) (\(r.status))</title></rect>
                    """)
            }
            if r.status == "failed" {
                body.append("<circle cx=\"\(f(x))\" cy=\"\(f(height - bottom + 10))\" r=\"4\" fill=\"#dc2626\"><title>run \(r.run.rawValue) failed</title></circle>")
            }
        }
        body.append("<text x=\"\(f(left))\" y=\"\(f(height - 4))\" font-size=\"11\" fill=\"#6b7280\">\(DashboardPages.time(runs.first!.startedAt))</text>")
        body.append("<text x=\"\(f(width - 4))\" y=\"\(f(height - 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"#6b7280\">\(DashboardPages.time(runs.last!.startedAt))</text>")
        return """
            <svg class="activity" viewBox="0 0 \(Int(width)) \(Int(height))" width="100%" role="img" aria-label="Records written per direction over the last \(runs.count) runs" font-family="system-ui, sans-serif">\(body)</svg>
            <p class="legend"><span class="swatch" style="background:\(HTML(unsafeMarkup: pullColor))"></span>pulled into the hub <span class="swatch" style="background:\(HTML(unsafeMarkup: pushColor))"></span>pushed to systems <span class="muted">(last \(runs.count) runs)</span></p>
            """
    }

    /// A coordinate with one decimal.
    static func f(_ v: Double) -> HTML { HTML(unsafeMarkup: String(format: "%.1f", v.isFinite ? v : 0)) }
}
