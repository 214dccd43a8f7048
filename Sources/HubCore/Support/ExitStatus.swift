/// hubctl's process exit codes, in one place (README "Commands"; the BSD sysexits values where one
/// fits, so scripts and supervisors can tell a usage error from a locked hub).
public enum ExitStatus: Int32, Sendable, Hashable, CaseIterable {
    /// Done, nothing to report.
    case ok = 0
    /// Failed, refused, not found, or (audit, check, status) findings to look at.
    case failure = 1
    /// A run completed partly: records quarantined, conflicts parked, a guard held deletes back,
    /// a system failed or was paused while the rest synced.
    case partial = 3
    /// The command line is wrong (EX_USAGE).
    case usage = 64
    /// Another run holds the hub (EX_TEMPFAIL): try again later.
    case locked = 75
    /// The topology is invalid (EX_CONFIG).
    case config = 78
}
