import Foundation

/// The processes running on this machine, read from `/proc` (Linux), for tests that prove no
/// connector is left behind.
public enum ProcessTable {
    /// The IDs of the processes whose command line contains `marker`.
    public static func processes(withCommandLineContaining marker: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { Int($0) != nil }.compactMap { pid in
            guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                  String(decoding: cmdline, as: UTF8.self).contains(marker) else { return nil }
            return pid
        }
    }

    /// True when `pid` no longer exists, not even as a zombie waiting to be reaped.
    public static func isGone(_ pid: Int32) -> Bool { !FileManager.default.fileExists(atPath: "/proc/\(pid)") }

    /// True when `pid` is stopped (state `T` in `/proc/PID/stat`), by SIGSTOP or a fault's `stop`.
    public static func isStopped(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")"),
              stat.distance(from: close, to: stat.endIndex) > 2
        else { return false }
        return stat[stat.index(close, offsetBy: 2)] == "T"
    }
}
