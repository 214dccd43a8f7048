import Foundation
import HubCore

/// The envelope of every `--json` document hubctl prints: `format_version`, `hubctl_version`,
/// `command`, `generated_at`, the command's `result`, and `diagnostics` (problems and warnings,
/// as `validate` reports them). Readers must ignore keys they do not know.
enum JSONDocument {
    static func make(_ command: String, _ result: Value, generatedAt: String? = nil, diagnostics: [Value] = []) -> String {
        JSONWriter.pretty(.object([
            "format_version": "1.0", "hubctl_version": .string(HubctlVersion.current), "command": .string(command),
            "generated_at": .string(generatedAt ?? Timestamp.string(Date())), "result": result,
            "diagnostics": .array(diagnostics),
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
