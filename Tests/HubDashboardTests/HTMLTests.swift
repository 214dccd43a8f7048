import Testing
@testable import HubDashboard

@Suite("HTML escaping")
struct HTMLTests {
    @Test("Interpolated text is escaped, markup from literals is kept")
    func interpolatedTextIsEscaped() {
        let value = "<script>alert(1)</script>"
        let html: HTML = "<td>\(value)</td>"
        #expect(html.rendered == "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>")
    }

    @Test("Quotes, ampersands and control characters cannot break out of an attribute")
    func attributeBreakoutIsEscaped() {
        let hostile = "\" onmouseover='x' a=&b\u{0}c"
        let html: HTML = "<input value=\"\(hostile)\">"
        #expect(html.rendered == "<input value=\"&quot; onmouseover=&#39;x&#39; a=&amp;bc\">".replacingOccurrences(of: "bc", with: "b\u{FFFD}c"))
    }

    @Test("HTML values nest without being escaped twice")
    func fragmentsNest() {
        let inner: HTML = "<b>\("a<b")</b>"
        let outer: HTML = "<p>\(inner)</p>"
        #expect(outer.rendered == "<p><b>a&lt;b</b></p>")
    }

    @Test("Form bodies decode plus signs and percent escapes; the first of a repeated field wins")
    func formDecoding() {
        let form = DashboardRoutes.parseForm("value=Jos%C3%A9+M%3Cx%3E&take=&value=second&csrf=ab12")
        #expect(form["value"] == "José M<x>")
        #expect(form["take"] == "")
        #expect(form["csrf"] == "ab12")
    }
}
