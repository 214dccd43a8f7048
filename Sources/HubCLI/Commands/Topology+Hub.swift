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
    func openHub(applicationName: String = "hubctl-hub") throws -> HubStore {
        guard let hubURL else { return try HubStore(path: hubPath) }
        do {
            return HubStore(database: try PostgresHubDatabase(settings: try hubSettings(hubURL), applicationName: applicationName))
        } catch let error as HubStoreError where hubOverrides.contains(TopologyLoader.hubVariable) {
            // The URL came from the environment: name the variable, not the topology's member.
            throw HubStoreError(error.message.replacingOccurrences(of: "hub.url", with: TopologyLoader.hubVariable))
        }
    }

    /// `cannot open the hub <where> (from HUBCTL_HUB): <why>`, for an error of ``openHub(applicationName:)``.
    func hubOpenFailure(_ error: any Error) -> String {
        let reason = String(describing: error).replacingOccurrences(of: "cannot open the PostgreSQL hub: ", with: "")
        return "cannot open the hub \(hubDescription): \(secrets.redact(reason))"
    }

    /// What to do when the hub cannot be opened.
    var hubOpenHint: String {
        hubURL == nil
            ? "check that the hub's folder exists and is writable, and that no other program holds the file \(hubPath)"
            : "check that PostgreSQL is running and reachable there, that \(hubURLSource)'s user and password are right "
                + "and that the user may create tables in the hub's schema; then run again"
    }

    /// Where a PostgreSQL hub's URL came from, for hints: `hub.url` or `HUBCTL_HUB`.
    var hubURLSource: String { hubOverrides.contains(TopologyLoader.hubVariable) ? TopologyLoader.hubVariable : "hub.url" }

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
