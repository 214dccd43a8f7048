import Foundation
import HubCore
import HubTopology
import SpokeExec
import SpokeFiles
import SpokePostgres
import SpokeREST
import SpokeSQLite

/// Builds the spoke adapter of each system in a topology. Nothing connects here: adapters open
/// their system on first use.
public enum SpokeFactory {
    /// The spoke for one system of `topology`: relative paths resolve against the topology's
    /// directory, and a connector's output is scrubbed of the topology's secrets.
    /// - Throws: `SpokeError` when the adapter cannot be built from the connection settings.
    public static func make(_ system: SystemDefinition, in topology: Topology) throws -> any Spoke {
        let baseDirectory = topology.baseDirectory, secrets = topology.secrets.secrets
        func path(_ key: String) -> String? {
            guard let p = system.connection[key]?.stringValue else { return nil }
            return p.hasPrefix("/") ? p : (baseDirectory as NSString).appendingPathComponent(p)
        }
        switch system.adapter {
        case .sqlite:
            guard let file = path("path") else {
                throw SpokeError(.configuration, system: system.name, message: "connection.path is missing")
            }
            return try SQLiteSpoke(system: system.name, path: file)
        case .csv:
            let delimiter = system.connection["delimiter"]?.stringValue?.first ?? ","
            return CSVSpoke(system: system.name, directory: path("path") ?? baseDirectory, delimiter: delimiter)
        case .jsonl:
            return JSONLSpoke(system: system.name, directory: path("path") ?? baseDirectory)
        case .postgres:
            do {
                return PostgresSpoke(system: system.name, settings: try PostgresSettings.parse(system.connection))
            } catch {
                throw SpokeError(.configuration, system: system.name, message: error.message)
            }
        case .rest:
            return try rest(system)
        case .exec:
            let command: [String]
            switch system.connection["command"] {
            case .string(let program)?: command = [program]
            case .array(let items)?: command = items.compactMap(\.stringValue)
            default: command = []
            }
            guard !command.isEmpty else {
                throw SpokeError(.configuration, system: system.name, message: "connection.command is missing")
            }
            let megabytes = system.connection["max_line_mb"]?.numberValue
            return ExecSpoke(system: system.name, command: command, directory: baseDirectory,
                             settings: system.connection["settings"] ?? [:],
                             tombstones: system.connection["tombstones"]?.boolValue ?? false,
                             timeout: system.connection["timeout"]?.numberValue ?? 60,
                             maxLineBytes: megabytes.map { Int($0 * 1_048_576) } ?? ExecSpoke.defaultMaxLineBytes,
                             maxPages: system.connection["max_pages"]?.intValue.map { Int($0) } ?? PaginationGuard.defaultMaxPages,
                             secrets: secrets)
        }
    }

    /// A rest spoke with each entity's endpoint settings over the system's defaults.
    static func rest(_ system: SystemDefinition) throws -> RESTSpoke {
        do {
            let settings = try RESTSettings.parse(system.connection)
            var endpoints: [String: RESTEndpoint] = [:]
            for mapping in system.entities {
                endpoints[mapping.object] = try RESTEndpoint.parse(object: mapping.object, defaults: settings.defaults,
                                                                   overrides: mapping.endpoint ?? [:])
            }
            return RESTSpoke(system: system.name, settings: settings, endpoints: endpoints)
        } catch {
            throw SpokeError(.configuration, system: system.name, message: error.message)
        }
    }

    /// Spokes for every system of a topology.
    public static func makeAll(_ topology: Topology) throws -> [SystemName: any Spoke] {
        var out: [SystemName: any Spoke] = [:]
        for system in topology.systems {
            out[system.name] = try make(system, in: topology)
        }
        return out
    }
}
