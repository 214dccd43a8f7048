import Foundation
import HubTestServers
import HubTesting
import Testing

/// The dashboard in a real browser: scripts/dashboard-browser-test.sh serves `hubctl dashboard` on
/// a demo hub with an open conflict and a quarantined record, and drives headless Chromium
/// (installing Debian's `chromium` when missing and running as root). On CI a missing chromium
/// fails the test.
@Suite(.enabled(if: Chromium.canRun, "needs chromium (apt-get install chromium, or run as root)"))
struct DashboardBrowserTests {
    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test("Every page renders the demo in Chromium, screenshots are not blank, and a conflict resolved through the form changes the next sync")
    func dashboardInChromium() async throws {
        let script = Self.repository.appendingPathComponent("scripts/dashboard-browser-test.sh").path
        // The script's own hubctl commands share one hub: in the PostgreSQL pass, a schema of its own.
        let hub = EndToEndHub.variables(forFixtureIn: FileManager.default.temporaryDirectory.path + "/dashboard-\(UUID().uuidString)")
        let out = try await SystemTools.run(script, [HubctlProcess.executable.path], environment: hub)
        #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
        #expect(out.stdout.contains("12 passed, 0 failed"), "\(out.stdout)")
        #expect(!out.stdout.contains("BLANK"))
    }
}

/// Whether the browser test can run: chromium is on PATH, or can be installed (root), or this is
/// CI, where a missing chromium must fail.
enum Chromium {
    static var canRun: Bool {
        TestServices.isCI || getuid() == 0
            || (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
                .contains { FileManager.default.isExecutableFile(atPath: "\($0)/chromium") }
    }
}
