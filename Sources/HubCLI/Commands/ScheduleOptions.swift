import ArgumentParser
import HubTopology

/// `--every`: the schedule of systems whose topology names none. `hubctl run` reads by it;
/// `hubctl status`, `hubctl dashboard` and `hubctl report` judge delayed and next run by it.
struct ScheduleOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The schedule of systems whose topology names none, as given to `hubctl run --every` (default 5m).",
                               valueName: "duration"))
    var every: String?

    func validate() throws { _ = try schedule() }

    /// The schedule `--every` gives, or the standard one.
    func schedule() throws -> Schedule {
        guard let every else { return .standard }
        guard let seconds = DurationText.seconds(every), seconds >= 1 else {
            throw ValidationError("--every takes a duration of at least 1s, like 30s, 5m or 1h")
        }
        return Schedule(every: seconds)
    }
}
