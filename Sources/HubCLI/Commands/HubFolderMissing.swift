/// A SQLite hub named by `HUBCTL_HUB` or `hub migrate --to` whose folder does not exist: hubctl
/// creates a new hub there only in an existing folder, so that a typo in the path is refused
/// instead of starting an empty hub that links every system's records anew.
struct HubFolderMissing: Error, CustomStringConvertible {
    /// The variable or option the path came from.
    var source: String
    /// The hub file's path, as resolved.
    var hub: String
    /// Its folder, which does not exist.
    var folder: String

    var description: String { "\(source) names the hub \(hub), but its folder \(folder) does not exist" }

    /// What to do.
    var hint: String {
        "correct \(source), or create the folder first (mkdir -p '\(folder.replacingOccurrences(of: "'", with: "'\\''"))'): "
            + "hubctl makes a new hub there only in an existing folder"
    }
}
