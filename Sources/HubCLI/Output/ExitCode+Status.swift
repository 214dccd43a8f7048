import ArgumentParser
import HubCore

extension ExitCode {
    /// The process exit code for one of hubctl's exit statuses.
    init(_ status: ExitStatus) { self.init(status.rawValue) }
}
