import Foundation
import HubCore
import HubStore

/// Renders the dashboard's pages to HTML: one layout (navigation, inline CSS, no script, no
/// external asset), readable at a phone's width.
public enum DashboardPages {
    public static let sections: [(id: String, title: String)] = [
        ("overview", "Overview"), ("issues", "Issues"), ("runs", "Runs"), ("entity", "Entity"), ("topology", "Topology"),
    ]

    /// A whole page: `body` under the navigation, `active` highlighted.
    public static func layout(title: String, hubName: String, active: String, context: PageContext, body: HTML) -> HTML {
        let nav = HTML.join(sections.map { s in
            "<a href=\"\(context.href(s.id) ?? "#")\"\(s.id == active ? HTML(unsafeMarkup: " class=\"active\" aria-current=\"page\"") : .empty)>\(s.title)</a>"
        })
        var account: HTML = .empty
        if context.mode == .live {
            if let user = context.user, let csrf = context.csrf {
                account = "<form method=\"post\" action=\"/logout\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"\(csrf)\"><span class=\"muted\">signed in as \(user)</span> <button>Sign out</button></form>"
            } else if context.actionsEnabled {
                account = "<a href=\"/login\">Sign in to act</a>"
            } else {
                account = "<span class=\"muted\">read-only</span>"
            }
        }
        let flash: HTML = context.flash.map { "<p class=\"flash\" role=\"status\">\($0)</p>" } ?? .empty
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · hubctl \(hubName)</title><style>\(HTML(unsafeMarkup: css))</style></head>
            <body><header><strong class="brand">hubctl · \(hubName)</strong><nav>\(nav)</nav><div class="account">\(account)</div></header>
            <main>\(flash)\(body)</main></body></html>
            """
    }

    /// A table inside a scroller (wide tables scroll sideways on a phone instead of breaking the page).
    static func table(_ headers: [String], _ rows: [[HTML]], id: String? = nil) -> HTML {
        let head = HTML.join(headers.map { "<th>\($0)</th>" })
        let body = HTML.join(rows.map { "<tr>" + HTML.join($0.map { "<td>\($0)</td>" }) + "</tr>" })
        let idAttr: HTML = id.map { " id=\"\($0)\"" } ?? .empty
        return "<div class=\"scroll\"><table\(idAttr)><thead><tr>\(head)</tr></thead><tbody>\(body)</tbody></table></div>"
    }

    static func badge(_ text: String, _ kind: String) -> HTML { "<span class=\"badge \(kind)\">\(text)</span>" }

    static func value(_ v: Value?) -> HTML {
        guard let v, !v.isNull else { return "<span class=\"muted\">—</span>" }
        return "<code>\(v.displayText)</code>"
    }

    /// A hub timestamp shortened for a table: `2026-12-02 14:00:22` (UTC).
    static func time(_ t: String?) -> String {
        guard let t, t.count >= 19 else { return t ?? "—" }
        return String(t.prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    static func duration(_ seconds: Double?) -> String {
        guard let s = seconds else { return "—" }
        return s < 10 ? String(format: "%.2f s", s) : String(format: "%.0f s", s)
    }

    static func percent(_ d: Double?) -> String {
        guard let d else { return "—" }
        return String(format: "%.0f%%", (d * 100).rounded(.down))
    }

    static let css = """
        :root{color-scheme:light;--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f9fafb;--ok:#047857;--bad:#b91c1c;--warn:#b45309}
        *{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
        header{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center;padding:.6rem 1rem;background:#111827;color:#fff}
        header a{color:#d1d5db;text-decoration:none;padding:.2rem .45rem;border-radius:6px}header a.active,header a:hover{background:#374151;color:#fff}
        nav{display:flex;flex-wrap:wrap;gap:.25rem}.brand{font-size:1.05rem}.account{margin-left:auto;font-size:.85rem}.account .muted{color:#9ca3af}
        main{padding:1rem;max-width:1200px;margin:0 auto}h1{font-size:1.35rem;margin:.2rem 0 .8rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
        section.report-page{border-top:3px solid #111827;margin-top:2rem;padding-top:.5rem}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.6rem;margin-bottom:1rem}
        .card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:.6rem .8rem}.card b{display:block;font-size:1.5rem}
        .scroll{overflow-x:auto;background:#fff;border:1px solid var(--line);border-radius:10px}
        table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
        th{background:#f3f4f6;font-weight:600;white-space:nowrap}td.num,th.num{text-align:right}tr:last-child td{border-bottom:0}
        code{font:.85rem ui-monospace,SFMono-Regular,Menlo,monospace;background:#f3f4f6;padding:0 .25rem;border-radius:4px;overflow-wrap:anywhere}
        .nowrap{white-space:nowrap}#systems th{white-space:normal}.badge{display:inline-block;padding:0 .5rem;border-radius:999px;font-size:.8rem;font-weight:600;white-space:nowrap}
        .badge.ok{background:#d1fae5;color:var(--ok)}.badge.bad{background:#fee2e2;color:var(--bad)}.badge.warn{background:#fef3c7;color:var(--warn)}.badge.none{background:#e5e7eb;color:#374151}
        .muted{color:var(--muted)}.flash{background:#dbeafe;border:1px solid #93c5fd;padding:.5rem .8rem;border-radius:8px}
        .error{background:#fee2e2;border:1px solid #fca5a5;padding:.5rem .8rem;border-radius:8px}
        form.inline{display:inline-flex;flex-wrap:wrap;gap:.3rem;align-items:center;margin:.15rem 0}
        input[type=text],input[type=search],input[type=password]{font:inherit;padding:.3rem .45rem;border:1px solid #d1d5db;border-radius:6px;max-width:100%}
        button{font:inherit;font-size:.85rem;padding:.25rem .6rem;border:1px solid #9ca3af;border-radius:6px;background:#fff;cursor:pointer}
        button.primary{background:#111827;color:#fff;border-color:#111827}.legend{font-size:.85rem}.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin:0 .25rem 0 .6rem;vertical-align:-1px}
        svg{background:#fff;border:1px solid var(--line);border-radius:10px;max-width:100%;height:auto}
        @media (max-width:600px){main{padding:.6rem}table{font-size:.82rem}th,td{padding:.35rem .4rem}.account{margin-left:0}}
        """
}
