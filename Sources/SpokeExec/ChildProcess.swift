import Foundation
import HubCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A connector's process, started with `posix_spawn` so that it begins life clean: an empty
/// signal mask, every signal at its default action, and a process group of its own.
///
/// Foundation's `Process` hands the child the spawning thread's signal mask, and Swift's
/// threads block almost every signal, SIGTERM included: such a child cannot be terminated.
/// Here the child can, and so can everything it starts (the whole group is signalled).
///
/// ``terminate(grace:)`` closes the child's stdin, sends SIGTERM to its group, SIGKILL after
/// `grace` seconds, and reaps the child. Every live child is also in ``ChildRegistry``, which
/// does the same when hubctl exits or is told to stop (SIGTERM, SIGINT, SIGHUP).
final class ChildProcess: Sendable {
    let pid: pid_t
    /// Our ends of the child's stdin, stdout and stderr.
    let stdin: Int32
    let stdout: Int32
    let stderr: Int32
    private let state = Locked<State>(State())

    private struct State {
        var stdinOpen = true
        var exitStatus: Int32?
    }

    private init(pid: pid_t, stdin: Int32, stdout: Int32, stderr: Int32) {
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Starts `arguments[0]` (looked up on `PATH` unless it contains a `/`) in `directory`.
    /// - Throws: ``SpawnError`` with the system's reason (the program is missing, not executable).
    static func spawn(_ arguments: [String], directory: String) throws(SpawnError) -> ChildProcess {
        ChildRegistry.shared.prepare()
        var pipes: [Int32] = []
        defer { pipes.forEach { _ = close($0) } }
        func makePipe() throws(SpawnError) -> (read: Int32, write: Int32) {
            guard let fds = closeOnExecPipe() else { throw SpawnError(code: errno) }
            pipes += [fds.read, fds.write]
            return fds
        }
        let input = try makePipe(), output = try makePipe(), errors = try makePipe()

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input.read, 0)
        posix_spawn_file_actions_adddup2(&actions, output.write, 1)
        posix_spawn_file_actions_adddup2(&actions, errors.write, 2)
        guard let addChdir else { throw SpawnError(code: ENOSYS) }
        guard addChdir(&actions, directory) == 0 else { throw SpawnError(code: errno) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let status = arguments[0].contains("/")
            ? posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
            : posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard status == 0 else { throw SpawnError(code: status) }
        // Keep our ends; the child's ends close with `pipes` (the child has its copies).
        pipes.removeAll { $0 == input.write || $0 == output.read || $0 == errors.read }
        let child = ChildProcess(pid: pid, stdin: input.write, stdout: output.read, stderr: errors.read)
        ChildRegistry.shared.add(child)
        return child
    }

    /// Writes all of `data` to the child's stdin.
    /// - Returns: false when the child no longer reads it (its stdin is closed).
    func write(_ data: [UInt8]) -> Bool {
        guard state.withLock({ $0.stdinOpen }) else { return false }
        var offset = 0
        while offset < data.count {
            let n = data.withUnsafeBytes { Foundation.write(stdin, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// Closes the child's stdin: a connector reads end-of-file and should exit.
    func closeInput() {
        let wasOpen = state.withLock { s in
            defer { s.stdinOpen = false }
            return s.stdinOpen
        }
        if wasOpen { _ = close(stdin) }
    }

    /// The exit status once the child has ended and been reaped; nil while it runs.
    /// A child killed by a signal reports 128 + the signal, as shells do.
    func poll() -> Int32? {
        state.withLock { s in
            if let done = s.exitStatus { return done }
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            guard r == pid else {
                if r < 0 && errno == ECHILD { s.exitStatus = -1 }
                return s.exitStatus
            }
            let signal = status & 0x7f
            s.exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
            return s.exitStatus
        }
    }

    /// Ends the child and everything in its process group: stdin closed, SIGTERM, then SIGKILL
    /// after `grace` seconds; reaps the child. Blocks until the child is gone. The threads
    /// reading stdout and stderr close them when they reach their end.
    func terminate(grace: Double) {
        closeInput()
        if poll() == nil { kill(-pid, SIGTERM) }
        if !waitForExit(seconds: grace) { kill(-pid, SIGKILL) }
        _ = waitForExit(seconds: 5)
        // Whatever else the connector left in its group, gone before this returns. A killed
        // process takes a moment to die on a busy machine; the wait is bounded, since a process
        // that died but that its new parent has not reaped yet still counts in the group.
        kill(-pid, SIGKILL)
        let deadline = Date().addingTimeInterval(2)
        while kill(-pid, 0) == 0, Date() < deadline { usleep(10_000) }
        ChildRegistry.shared.remove(self)
    }

    /// Polls for the child's exit for up to `seconds`; true when it exited.
    func waitForExit(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while poll() == nil {
            if Date() >= deadline { return false }
            usleep(10_000)
        }
        return true
    }
}

/// Why a connector could not be started.
struct SpawnError: Error, CustomStringConvertible {
    var code: Int32
    var description: String { String(cString: strerror(code)) }
}

/// Every connector process alive in this hubctl, so that none outlives it: at exit, and on
/// SIGTERM, SIGINT or SIGHUP, each is terminated (stdin closed, SIGTERM to its group, SIGKILL
/// after a grace period) before hubctl ends with the signal it received.
///
/// The signal handler only writes the signal's number to a pipe; a thread of the registry's own
/// reads it and does the work, outside the handler.
final class ChildRegistry: Sendable {
    static let shared = ChildRegistry()
    /// Seconds a connector has between SIGTERM and SIGKILL when hubctl exits or is stopped.
    static let exitGrace = 2.0

    private let children = Locked<[pid_t: ChildProcess]>([:])
    private let installed = Locked(false)

    func add(_ child: ChildProcess) { children.withLock { $0[child.pid] = child } }
    func remove(_ child: ChildProcess) { _ = children.withLock { $0.removeValue(forKey: child.pid) } }

    /// Installs the exit and signal handlers once, before the first child starts. Writing to a
    /// connector that has exited then fails with EPIPE instead of killing hubctl with SIGPIPE.
    func prepare() {
        let first = installed.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        signal(SIGPIPE, SIG_IGN)
        atexit { ChildRegistry.shared.terminateAll() }
        let pipe = signalPipe
        guard pipe.read >= 0 else { return }
        Thread.detachNewThread {
            var signo: UInt8 = 0
            while read(pipe.read, &signo, 1) != 1 {}
            ChildRegistry.shared.terminateAll()
            signal(Int32(signo), SIG_DFL)
            kill(getpid(), Int32(signo))
            usleep(200_000)
            _exit(128 + Int32(signo))
        }
        for s in [SIGTERM, SIGINT, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signo in
                var byte = UInt8(truncatingIfNeeded: signo)
                _ = write(signalPipe.write, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            sigaction(s, &action, nil)
        }
    }

    /// Terminates every live child, all at once: their stdins closed, SIGTERM to each group,
    /// SIGKILL to the groups still there after the grace period, every child reaped.
    func terminateAll() {
        let live = children.withLock { Array($0.values) }
        guard !live.isEmpty else { return }
        let group = DispatchGroup()
        for child in live {
            DispatchQueue.global().async(group: group) { child.terminate(grace: Self.exitGrace) }
        }
        group.wait()
    }
}

/// The pipe a signal handler writes the signal's number to (a handler may do little else).
private let signalPipe: (read: Int32, write: Int32) = closeOnExecPipe() ?? (-1, -1)

/// A pipe whose ends are not inherited by programs hubctl starts.
private func closeOnExecPipe() -> (read: Int32, write: Int32)? {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return nil }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return (fds[0], fds[1])
}

/// `posix_spawn_file_actions_addchdir_np` (glibc 2.29+, macOS 10.15+), which Swift's C library
/// module does not declare: the child changes directory between fork and exec.
private let addChdir: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
}()
