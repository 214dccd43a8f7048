import Foundation

/// Which hub the `hubctl` processes of the end-to-end tests use.
///
/// By default each topology's own hub (a SQLite file next to it). With
/// `HUBCTL_TEST_HUB=postgres` (and the test cluster of `scripts/with-test-services.sh`), every
/// `hubctl` that ``HubctlProcess`` starts gets `HUBCTL_HUB` and `HUBCTL_HUB_SCHEMA`: the test
/// cluster, in a schema of its own per fixture (derived from the topology file's folder, so
/// that every call of one test meets the same hub), the password as
/// `${HUBCTL_TEST_POSTGRES_PASSWORD}`, as a user would write it.
public enum EndToEndHub {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// True in the PostgreSQL pass of the end-to-end tests (`HUBCTL_TEST_HUB=postgres`).
    public static var isPostgres: Bool { environment["HUBCTL_TEST_HUB"]?.lowercased() == "postgres" }

    /// The schema of the fixture whose topology file is in `directory`: `e2e_` and a hash of the
    /// folder's path, stable for the whole test.
    public static func schema(forFixtureIn directory: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in URL(fileURLWithPath: directory).standardizedFileURL.path.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return "e2e_" + String(hash, radix: 16)
    }

    /// `HUBCTL_HUB` for the test cluster, its password left as `${HUBCTL_TEST_POSTGRES_PASSWORD}`.
    public static var url: String {
        let e = environment
        let host = e["HUBCTL_TEST_POSTGRES_HOST"] ?? "127.0.0.1", port = e["HUBCTL_TEST_POSTGRES_PORT"] ?? "5432"
        let user = e["HUBCTL_TEST_POSTGRES_USER"] ?? "postgres", database = e["HUBCTL_TEST_POSTGRES_DATABASE"] ?? "postgres"
        return "postgres://\(user):${HUBCTL_TEST_POSTGRES_PASSWORD}@\(host):\(port)/\(database)"
    }

    /// The variables to add for a `hubctl` run with `arguments` in `directory` (nil: the test
    /// process's): none on the SQLite pass, nor when the test sets `HUBCTL_HUB` itself or its
    /// topology already names a PostgreSQL hub (`hub.url`).
    static func variables(arguments: [String], directory: String?, given: [String: String]) -> [String: String] {
        guard isPostgres, given["HUBCTL_HUB"] == nil, given["HUBCTL_HUB_SCHEMA"] == nil else { return [:] }
        let cwd = directory ?? FileManager.default.currentDirectoryPath
        let file = URL(fileURLWithPath: topologyPath(arguments, given: given), relativeTo: URL(fileURLWithPath: cwd + "/"))
        if let text = try? String(contentsOf: file, encoding: .utf8), namesPostgresHub(text) { return [:] }
        return variables(forFixtureIn: file.deletingLastPathComponent().path)
    }

    /// `HUBCTL_HUB` and `HUBCTL_HUB_SCHEMA` for the fixture in `directory` in the PostgreSQL pass
    /// (none otherwise), for tests that start `hubctl` through a script of their own.
    public static func variables(forFixtureIn directory: String) -> [String: String] {
        isPostgres ? ["HUBCTL_HUB": url, "HUBCTL_HUB_SCHEMA": schema(forFixtureIn: directory)] : [:]
    }

    /// The topology file a `hubctl` command line reads: `-t`/`--topology`, `HUBCTL_TOPOLOGY`, the
    /// folder `hubctl demo` creates, or `topology.json`.
    static func topologyPath(_ arguments: [String], given: [String: String]) -> String {
        for (i, argument) in arguments.enumerated() {
            if ["-t", "--topology"].contains(argument), i + 1 < arguments.count { return arguments[i + 1] }
            if argument.hasPrefix("--topology=") { return String(argument.dropFirst("--topology=".count)) }
        }
        if let path = given["HUBCTL_TOPOLOGY"] { return path }
        if arguments.first == "demo" {
            return (arguments.dropFirst().first { !$0.hasPrefix("-") } ?? "hubctl-demo") + "/topology.json"
        }
        return "topology.json"
    }

    /// True when topology text has a `hub` with a `url`.
    static func namesPostgresHub(_ text: String) -> Bool {
        guard let data = text.data(using: .utf8),
              let top = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let hub = top["hub"] as? [String: Any] else { return false }
        return hub["url"] != nil
    }
}
