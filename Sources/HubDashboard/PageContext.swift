import Foundation
import HubCore

/// How a page is being rendered: served live (with or without the right to act), or written into
/// the static report.
public struct PageContext: Sendable {
    public enum Mode: Sendable { case live, report }
    public var mode: Mode
    /// Who is signed in (nil: read-only).
    public var user: String?
    /// The CSRF token every form carries (signed-in sessions only).
    public var csrf: String?
    /// Whether actions are configured at all (a token is set in the environment).
    public var actionsEnabled: Bool
    /// A message from the last action (shown once).
    public var flash: String?
    /// Hub IDs whose entity section the static report contains (links to others are plain text).
    public var reportEntities: Set<HubID> = []

    public init(mode: Mode, user: String? = nil, csrf: String? = nil, actionsEnabled: Bool = false, flash: String? = nil) {
        self.mode = mode
        self.user = user
        self.csrf = csrf
        self.actionsEnabled = actionsEnabled
        self.flash = flash
    }

    /// The static report: no actions, links are anchors within the file.
    public static let report = PageContext(mode: .report)

    /// True when the page may show action forms.
    var canAct: Bool { mode == .live && user != nil && csrf != nil }

    /// A page of the live dashboard, or its section in the report.
    func href(_ page: String) -> String? {
        mode == .live ? (page == "overview" ? "/" : "/" + page) : "#" + page
    }

    /// The link to an entity's page (nil in the report when it does not include that entity).
    func entityHref(_ entity: EntityName, _ hubID: HubID) -> String? {
        switch mode {
        case .live: return "/entity/" + Self.segment(entity.rawValue) + "/" + Self.segment(hubID.rawValue)
        case .report: return reportEntities.contains(hubID) ? "#entity-" + Self.segment(hubID.rawValue) : nil
        }
    }

    /// The link to a run's page (the report has only the newest run's section).
    func runHref(_ run: RunID, newest: RunID? = nil) -> String? {
        switch mode {
        case .live: return "/runs/" + Self.segment(run.rawValue)
        case .report: return run == newest ? "#run" : nil
        }
    }

    /// A path segment, percent-encoded.
    static func segment(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}

extension HTML {
    /// `text` as a link to `href`, or as plain text when there is nowhere to link.
    static func link(_ text: String, _ href: String?, className: String? = nil) -> HTML {
        guard let href else { return .text(text) }
        let c: HTML = className.map { " class=\"\(HTML.text($0))\"" } ?? ""
        return "<a href=\"\(href)\"\(c)>\(text)</a>"
    }
}
