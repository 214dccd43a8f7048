import Foundation

/// The set of secret values a topology brought in from the environment, to scrub from every
/// output: messages, logs, reports, the hub.
public struct SecretRedactor: Sendable, Hashable {
    public private(set) var secrets: Set<String> = []

    public init(_ secrets: Set<String> = []) {
        // Very short values would redact ordinary text; they are still never printed by hubctl
        // itself, but scrubbing them from free text would do more harm than good.
        self.secrets = secrets.filter { $0.count >= 4 }
    }

    /// Adds a secret (values shorter than 4 characters are not scrubbed, see ``init(_:)``).
    public mutating func insert(_ secret: String) {
        if secret.count >= 4 { secrets.insert(secret) }
    }

    /// `text` with every secret value replaced by `*****`.
    public func redact(_ text: String) -> String {
        guard !secrets.isEmpty else { return text }
        var out = text
        // Longest first, so a secret that contains another is replaced whole.
        for secret in secrets.sorted(by: { $0.count > $1.count }) where out.contains(secret) {
            out = out.replacingOccurrences(of: secret, with: "*****")
        }
        return out
    }
}
