import ArgumentParser
import Foundation
import HubCore
import HubStore
import HubStorePostgres
import HubTopology
import SpokePostgres

extension Topology {
    /// Where the hub is, for people: the SQLite file, or the PostgreSQL hub's
    /// `postgres://user@host:port/database` (never its password).
    var hubLocation: String {
        guard let hubURL else { return hubPath }
        return (try? hubSettings(hubURL)).map { "postgres://\($0)" + (hubSchema.map { "?schema=\($0)" } ?? "") }
            ?? "a PostgreSQL hub (hub.url)"
    }

    /// ``hubLocation`` and, when the environment chose it, which variables did:
    /// `postgres://hubctl@db:5432/hubs?schema=staging (from HUBCTL_HUB and HUBCTL_HUB_SCHEMA)`.
    var hubDescription: String {
        hubOverrides.isEmpty ? hubLocation : "\(hubLocation) (from \(hubOverrides.joined(separator: " and ")))"
    }

    /// The hub as JSON: its `location` and `from` (`topology`, or the variables that chose it).
    var hubJSON: Value {
        .object(["location": .string(hubLocation),
                 "from": .string(hubOverrides.isEmpty ? "topology" : hubOverrides.joined(separator: " "))])
    }

    /// True when the hub exists: its SQLite file does, or its PostgreSQL schema holds one (asked
    /// without creating anything; an unreachable database counts as holding one, so that opening
    /// it reports why it cannot be reached). Commands that only read, and dry runs, create no hub.
    var hubExists: Bool {
        guard let hubURL else { return FileManager.default.fileExists(atPath: hubPath) }
        guard let settings = try? hubSettings(hubURL) else { return true }
        return (try? PostgresHubDatabase.exists(settings: settings)) ?? true
    }

    /// Opens the hub, creating it (or its schema) if needed: the SQLite file at `hub.path`, or
    /// the PostgreSQL database at `hub.url` (its sessions named `applicationName` in `pg_stat_activity`).
    /// A hub it creates is said (`created a new hub at …`) to `announce`, by default on stderr, so
    /// that a typo in its address shows. The folder of a SQLite hub the environment or `--to`
    /// names is never created.
    /// - Throws: ``HubFolderMissing``; `HubFromNewerHubctl` for a hub a newer hubctl upgraded.
    func openHub(applicationName: String = "hubctl-hub", announce: ((String) -> Void)? = nil) throws -> HubStore {
        let store: HubStore
        let created: Bool
        var folderNote = ""
        if let hubURL {
            do {
                let database = try PostgresHubDatabase(settings: try hubSettings(hubURL), applicationName: applicationName)
                (store, created) = (HubStore(database: database), database.created)
            } catch let error as HubStoreError where hubAddressSource != nil {
                // The URL came from the environment or --to: name it, not the topology's member.
                throw HubStoreError(error.message.replacingOccurrences(of: "hub.url", with: hubURLSource))
            }
        } else {
            try checkHubFolder()
            if let folder = missingHubFolder { folderNote = " and its folder \(folder)" }
            store = try HubStore(path: hubPath, creatingFolder: hubAddressSource == nil)
            created = store.created
        }
        if created {
            let line = "created a new hub at \(hubDescription)\(folderNote)"
            if let announce {
                announce(line)
            } else {
                var console = Console()
                console.redactor = secrets
                console.note(line)
            }
        }
        return store
    }

    /// The folder of the SQLite hub's file when it does not exist (nil for a PostgreSQL hub).
    var missingHubFolder: String? {
        guard hubURL == nil else { return nil }
        let folder = (hubPath as NSString).deletingLastPathComponent
        return folder.isEmpty || FileManager.default.fileExists(atPath: folder) ? nil : folder
    }

    /// Throws ``HubFolderMissing`` when the environment or `--to` names a SQLite hub in a folder
    /// that does not exist (the topology's own `hub.path` gets its folder created).
    func checkHubFolder() throws {
        guard let source = hubAddressSource, let folder = missingHubFolder else { return }
        throw HubFolderMissing(source: source, hub: hubPath, folder: folder)
    }

    /// `cannot open the hub <where> (from HUBCTL_HUB): <why>`, for an error of ``openHub(applicationName:)``.
    func hubOpenFailure(_ error: any Error) -> String {
        if let newer = error as? HubFromNewerHubctl { return "cannot open the hub \(hubDescription): \(newer.reason)" }
        let reason = String(describing: error).replacingOccurrences(of: "cannot open the PostgreSQL hub: ", with: "")
        return "cannot open the hub \(hubDescription): \(secrets.redact(reason))"
    }

    /// Prints why the hub could not be opened and what to do (`hint`, or ``hubOpenHint``), and
    /// returns the exit code: 78 for a folder that must not be created, 1 otherwise.
    func reportOpenFailure(_ error: any Error, _ console: Console, hint: String? = nil) -> ExitCode {
        switch error {
        case let missing as HubFolderMissing:
            console.error(missing.description)
            console.hint(missing.hint)
            return ExitCode(.config)
        case is HubFromNewerHubctl:
            console.error(hubOpenFailure(error))
            console.hint(newerHubctlHint)
            return ExitCode(.failure)
        default:
            console.error(hubOpenFailure(error))
            console.hint(hint ?? hubOpenHint)
            return ExitCode(.failure)
        }
    }

    /// What to do about a hub a newer hubctl upgraded.
    var newerHubctlHint: String {
        "run that hubctl version or a newer one on this hub (this is hubctl \(HubctlVersion.current)): "
            + "an older one would misread it, or write rows its schema does not expect"
    }

    /// What to do when the hub cannot be opened.
    var hubOpenHint: String {
        hubURL == nil
            ? "check that the hub's folder exists and is writable, and that no other program holds the file \(hubPath)"
            : "check that PostgreSQL is running and reachable there, that \(hubURLSource)'s user and password are right "
                + "and that the user may create tables in the hub's schema; then run again"
    }

    /// Where the hub's address came from when not from the topology: `HUBCTL_HUB`, or `--to`
    /// for the target of `hub migrate` (`HUBCTL_HUB_SCHEMA` alone keeps the topology's address).
    var hubAddressSource: String? { hubOverrides.first { $0 != TopologyLoader.hubSchemaVariable } }

    /// Where a PostgreSQL hub's URL came from, for hints: `hub.url`, `HUBCTL_HUB` or `--to`.
    var hubURLSource: String { hubAddressSource ?? "hub.url" }

    /// Opens the hub to read only: the SQLite file without migrating it; a PostgreSQL hub as
    /// usual (its transactions for reading are read-only).
    func openHubReadOnly() throws -> HubStore {
        hubURL == nil ? try HubStore.openReadOnly(path: hubPath) : try openHub()
    }

    private func hubSettings(_ url: String) throws -> PostgresSettings {
        var connection: [String: Value] = ["url": .string(url)]
        if let hubSchema { connection["schema"] = .string(hubSchema) }
        do {
            return try PostgresSettings.parse(connection)
        } catch {
            throw HubStoreError("hub.\(error.message.replacingOccurrences(of: "connection.", with: ""))")
        }
    }
}
