import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Wall time, CPU time and peak memory of one phase.
struct Measurement {
    var name: String
    var wall: Double
    var cpu: Double
    /// Peak resident set size, in MB.
    var peakRSS: Double
    var exitCode: Int32
}

/// Runs a command as a child process and measures it with `wait4` (CPU time and peak RSS of the
/// child alone).
func measureProcess(_ name: String, _ executable: String, _ arguments: [String], environment: [String: String] = [:])
    throws -> Measurement
{
    var pid: pid_t = 0
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in envp { free(p) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    let start = Date()
    let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    guard rc == 0 else { throw BenchError("cannot start \(executable): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    var usage = rusage()
    _ = wait4(pid, &status, 0, &usage)
    let wall = Date().timeIntervalSince(start)
    let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
    let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return Measurement(name: name, wall: wall, cpu: cpu, peakRSS: Double(usage.ru_maxrss) / 1024, exitCode: exit)
}

/// Measures a block run in this process (wall and CPU time; RSS is the process's peak so far).
func measureInProcess(_ name: String, _ body: () throws -> Void) rethrows -> Measurement {
    var before = rusage()
    getrusage(RUSAGE_SELF.rawValue, &before)
    let start = Date()
    try body()
    let wall = Date().timeIntervalSince(start)
    var after = rusage()
    getrusage(RUSAGE_SELF.rawValue, &after)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    let cpu = seconds(after.ru_utime) - seconds(before.ru_utime) + seconds(after.ru_stime) - seconds(before.ru_stime)
    return Measurement(name: name, wall: wall, cpu: cpu, peakRSS: Double(after.ru_maxrss) / 1024, exitCode: 0)
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
