import Foundation
import HubCore

extension TopologyLoader {
    /// `topology` with another hub (the target of `hubctl hub migrate --to`): a `postgres://`
    /// URL, checked as the topology's `hub.url` is (its password only from `${NAME}`, and then
    /// among the topology's secrets), with `schema`; or a SQLite file's path, relative to
    /// `baseDirectory`.
    /// - Throws: ``TopologyError`` naming `source` (the option the text came from).
    public static func retargetingHub(_ topology: Topology, to target: String, schema: String?, source: String,
                                      baseDirectory: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> Topology
    {
        let decoder = TopologyDecoder(positions: [:], environment: environment)
        let isURL = target.hasPrefix("postgres://") || target.hasPrefix("postgresql://") || target.hasPrefix("${")
        var members: [String: Value] = [isURL ? "url" : "path": .string(target)]
        if let schema { members["schema"] = .string(schema) }
        let node = Node(value: .object(members), path: source, reporter: decoder.reporter)
        var out = topology
        if let hub = node.object() {
            if isURL {
                (out.hubURL, out.hubSchema) = decoder.decodeHubURL(node, hub)
            } else if let path = hub["path"], let name = path.name("a file path") {
                if hub["schema"] != nil { node.report("--schema needs a PostgreSQL URL") }
                out.hubURL = nil
                out.hubSchema = nil
                out.hubPath = TopologyDecoder.resolve(decoder.expand(name, node: path, key: "path"), against: baseDirectory)
            }
        }
        guard decoder.reporter.diagnostics.isEmpty else {
            throw TopologyError(file: source, diagnostics: decoder.reporter.diagnostics)
        }
        for secret in decoder.secrets.secrets { out.secrets.insert(secret) }
        return out
    }
}
