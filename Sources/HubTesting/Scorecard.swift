import Foundation

/// Figures the reliability battery measures (duplicates, losses, leaks, coverage), appended as
/// JSON lines to `$HUBCTL_SCORECARD` (default `.build/reliability-scorecard.jsonl` in the
/// package), so `.ci/run` can print one scorecard and fail on any loss, duplicate or leak.
public enum Scorecard {
    static let lock = NSLock()

    /// The scorecard file.
    public static var path: String {
        if let p = ProcessInfo.processInfo.environment["HUBCTL_SCORECARD"] { return p }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/reliability-scorecard.jsonl").path
    }

    /// Records the figures of one test (for example `T1`, `["duplicates": 0, "cases": 28]`).
    public static func record(_ test: String, _ figures: [String: Double]) {
        let body = figures.keys.sorted().map { key -> String in
            let v = figures[key]!
            let number = v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
            return "\"\(key)\": \(number)"
        }.joined(separator: ", ")
        let line = "{\"test\": \"\(test)\", \(body)}\n"
        print("scorecard \(line)", terminator: "")
        lock.lock()
        defer { lock.unlock() }
        if !FileManager.default.fileExists(atPath: path) {
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                     withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            try? handle.close()
        }
    }
}
