import Foundation
import HubCore
import HubTopology
import SpokeFiles
import SpokeSQLite

/// Builds the spoke adapter of each system in a topology. Nothing connects here: adapters open
/// their system on first use.
public enum SpokeFactory {
    /// The spoke for one system.
    /// - Throws: `SpokeError` when the adapter cannot be built from the connection settings.
    public static func make(_ system: SystemDefinition, baseDirectory: String) throws -> any Spoke {
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
        case .postgres, .rest, .exec:
            throw SpokeError(.configuration, system: system.name,
                             message: "adapter '\(system.adapter.rawValue)' is not built yet in this version of hubctl")
        }
    }

    /// Spokes for every system of a topology.
    public static func makeAll(_ topology: Topology) throws -> [SystemName: any Spoke] {
        var out: [SystemName: any Spoke] = [:]
        for system in topology.systems { out[system.name] = try make(system, baseDirectory: topology.baseDirectory) }
        return out
    }
}
