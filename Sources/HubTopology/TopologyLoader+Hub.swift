import Foundation
import HubCore

extension TopologyLoader {
    /// The environment variable naming a hub that replaces the topology's `hub`: a
    /// `postgres://` URL (its password only as `${NAME}`) or a SQLite file's path.
    public static let hubVariable = "HUBCTL_HUB"
    /// The environment variable naming the PostgreSQL schema of the hub (with ``hubVariable``,
    /// or alone to change the schema of the topology's own PostgreSQL hub).
    public static let hubSchemaVariable = "HUBCTL_HUB_SCHEMA"

    /// `topology` with the hub the environment names (``hubVariable``, ``hubSchemaVariable``),
    /// checked as `hub migrate --to` is; unchanged when neither is set (or both are empty).
    /// A relative path is taken from `workingDirectory`, as any path in the environment is.
    /// - Throws: ``TopologyError`` naming the variable, never printing a password.
    public static func overridingHub(_ topology: Topology,
                                     environment: [String: String] = ProcessInfo.processInfo.environment,
                                     workingDirectory: String = FileManager.default.currentDirectoryPath) throws -> Topology
    {
        func value(_ name: String) -> String? {
            guard let text = environment[name], !text.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            return text
        }
        let hub = value(hubVariable), schema = value(hubSchemaVariable)
        var out: Topology
        if let hub {
            out = try retargetingHub(topology, to: hub, schema: schema, source: hubVariable, schemaSource: hubSchemaVariable,
                                     baseDirectory: workingDirectory, environment: environment)
            out.hubOverrides = [hubVariable] + (schema == nil ? [] : [hubSchemaVariable])
        } else if let schema {
            guard topology.hubURL != nil else {
                throw TopologyError(file: hubSchemaVariable, diagnostics: [Diagnostic(
                    path: hubSchemaVariable,
                    message: "a schema needs a PostgreSQL hub, and the topology's hub is the SQLite file \(topology.hubPath); "
                        + "set \(hubVariable) to a postgres:// URL too, or unset \(hubSchemaVariable)")])
            }
            out = topology
            out.hubSchema = schema
            out.hubOverrides = [hubSchemaVariable]
        } else {
            return topology
        }
        return out
    }

    /// `topology` with another hub (the target of `hubctl hub migrate --to`, or ``hubVariable``):
    /// a `postgres://` URL, checked as the topology's `hub.url` is (its password only from
    /// `${NAME}`, and then among the topology's secrets), with `schema`; or a SQLite file's path,
    /// relative to `baseDirectory`.
    /// - Throws: ``TopologyError`` naming `source` (the option or variable the text came from)
    ///   or `schemaSource` (the one the schema came from).
    public static func retargetingHub(_ topology: Topology, to target: String, schema: String?, source: String,
                                      schemaSource: String = "--schema", baseDirectory: String,
                                      environment: [String: String] = ProcessInfo.processInfo.environment)
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
            } else if let separator = target.range(of: "://") {
                // Another database's URL would otherwise name a strange SQLite file.
                let scheme = target[..<separator.lowerBound]
                let named = scheme.allSatisfy { $0.isLetter || $0.isNumber || "+-.".contains($0) } ? " \(scheme)://" : ""
                node.report("expected a postgres:// URL or a SQLite file's path, not a\(named) URL")
            } else if let path = hub["path"], let name = path.name("a file path") {
                if hub["schema"] != nil { node.report("\(schemaSource) needs a PostgreSQL URL") }
                out.hubURL = nil
                out.hubSchema = nil
                out.hubPath = TopologyDecoder.resolve(decoder.expand(name, node: path, key: "path"), against: baseDirectory)
            }
        }
        guard decoder.reporter.diagnostics.isEmpty else {
            // Problems are reported on the option or variable the text came from, not on a member of it.
            let named = decoder.reporter.diagnostics.map { d in
                Diagnostic(path: d.path == "\(source).schema" ? schemaSource : source, message: d.message)
            }
            throw TopologyError(file: source, diagnostics: named)
        }
        for secret in decoder.secrets.secrets { out.secrets.insert(secret) }
        return out
    }
}
