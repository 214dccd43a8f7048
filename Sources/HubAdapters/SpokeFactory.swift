import Foundation
import HubCore
import HubMapping
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
            return CSVSpoke(system: system.name, directory: path("path") ?? baseDirectory, delimiter: delimiter,
                            options: fileOptions(system))
        case .jsonl:
            return JSONLSpoke(system: system.name, directory: path("path") ?? baseDirectory, options: fileOptions(system))
        case .postgres:
            do {
                return PostgresSpoke(system: system.name, settings: try PostgresSettings.parse(system.connection),
                                    readsChangeLog: system.capture != nil)
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

    /// The `invalid_utf8`, `formula_guard` and `max_record_bytes` settings of a csv or jsonl system.
    static func fileOptions(_ system: SystemDefinition) -> FileOptions {
        let c = system.connection
        return FileOptions(invalidUTF8: c["invalid_utf8"]?.stringValue.flatMap(FileOptions.InvalidUTF8.init) ?? .reject,
                           formulaGuard: c["formula_guard"]?.boolValue ?? true,
                           maxRecordBytes: c["max_record_bytes"]?.intValue.map { Int($0) } ?? FileOptions.defaultMaxRecordBytes)
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

    /// Every system of `topology` built once: its spoke (with the topology's secrets), how its
    /// adapter maps records, and its mappers. A system whose spoke cannot be built keeps the
    /// error (its mappers are still there, for audits that only read the hub).
    public static func runtime(_ topology: Topology) -> TopologyRuntime {
        var spokes: [SystemName: any Spoke] = [:]
        var failures: [SystemName: SpokeError] = [:]
        for system in topology.systems {
            do {
                spokes[system.name] = try make(system, in: topology)
            } catch let error as SpokeError {
                failures[system.name] = error
            } catch {
                failures[system.name] = SpokeError(.configuration, system: system.name,
                                                   message: topology.secrets.redact(String(describing: error)))
            }
        }
        return TopologyRuntime(topology, spokes: spokes, failures: failures, traits: traits(of:))
    }

    /// How records of an adapter map, as the adapter declares.
    public static func traits(of adapter: AdapterKind) -> AdapterTraits {
        switch adapter {
        case .sqlite: SQLiteSpoke.traits
        case .csv: CSVSpoke.traits
        case .jsonl: JSONLSpoke.traits
        case .postgres: PostgresSpoke.traits
        case .rest: RESTSpoke.traits
        case .exec: ExecSpoke.traits
        }
    }
}
