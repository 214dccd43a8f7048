import HubCore

/// The envelope of every `--json` document of the audit, lineage and stewardship commands
/// (docs/ux.md §6.3): readers must ignore keys they do not know.
enum JSONDocument {
    static func make(_ command: String, _ result: Value, generatedAt: String) -> String {
        JSONWriter.pretty(.object([
            "format_version": "1.0", "hubctl_version": .string(HubctlVersion.current), "command": .string(command),
            "generated_at": .string(generatedAt), "result": result, "diagnostics": .array([]),
        ]))
    }
}

extension Optional where Wrapped: StringIdentifier {
    /// The identifier as JSON text, or null.
    var json: Value { map { .string($0.rawValue) } ?? .null }
}

extension Optional where Wrapped == String {
    /// The text as JSON, or null.
    var json: Value { map(Value.string) ?? .null }
}
