import Foundation
import HubCore

/// Reads a topology file and turns it into a validated ``Topology``, or a ``TopologyError``
/// listing every problem with its JSON path, line and column.
///
/// Loading never connects to a system: it is safe to run anywhere, e.g. in CI.
public enum TopologyLoader {
    /// Loads the topology at `path`, with the hub the environment names instead of its own
    /// when `HUBCTL_HUB` or `HUBCTL_HUB_SCHEMA` is set (see ``overridingHub(_:environment:workingDirectory:)``).
    /// - Parameter environment: where `${NAME}` references and those variables are looked up.
    /// - Throws: ``TopologyError``.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> Topology
    {
        let url = URL(fileURLWithPath: path)
        guard let data = FileManager.default.contents(atPath: path) else {
            let message = FileManager.default.fileExists(atPath: path)
                ? "cannot read the topology file; check its permissions"
                : "no topology file here; pass -t PATH or set HUBCTL_TOPOLOGY"
            throw TopologyError(file: path, diagnostics: [Diagnostic(path: "", message: message)])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TopologyError(file: path, diagnostics: [Diagnostic(path: "", message: "the file is not UTF-8 text")])
        }
        let base = url.deletingLastPathComponent().standardizedFileURL.path
        return try overridingHub(try decode(text, fileName: path, baseDirectory: base, environment: environment),
                                 environment: environment)
    }

    /// Decodes topology JSON text.
    /// - Throws: ``TopologyError``.
    public static func decode(_ text: String, fileName: String = "topology.json", baseDirectory: String,
                              environment: [String: String] = [:]) throws -> Topology
    {
        let root: Value
        let positions: [String: SourcePosition]
        do {
            (root, positions) = try JSONParser.parseWithPositions(text)
        } catch let error as JSONSyntaxError {
            throw TopologyError(file: fileName, diagnostics: [
                Diagnostic(path: "", message: "invalid JSON: \(error.message)", position: error.position)
            ])
        }
        let decoder = TopologyDecoder(positions: positions, environment: environment)
        guard let topology = decoder.decode(root, fileName: fileName, baseDirectory: baseDirectory) else {
            throw TopologyError(file: fileName, diagnostics: decoder.reporter.diagnostics,
                                warnings: decoder.reporter.warnings)
        }
        return topology
    }
}
