import Foundation

/// How often `hubctl run` reads a system (or one of its entities), and how it backs off while
/// the system fails.
///
/// Written in a topology as `"schedule": {"every": "5m", "jitter": "10%", "max_backoff": "1h"}`.
public struct Schedule: Sendable, Hashable {
    /// The time between two reads.
    public var every: TimeInterval
    /// Each wait is stretched or shortened at random by up to this share of it (0.1 = ±10 %), so
    /// many hubs started together do not read a system at the same instant.
    public var jitter: Double
    /// The longest wait after consecutive failures (the wait doubles from `every` on each one).
    public var maxBackoff: TimeInterval

    /// The schedule of a system whose topology names none: every 5 minutes, ±10 %.
    public static let standard = Schedule(every: 300)

    public init(every: TimeInterval, jitter: Double = 0.1, maxBackoff: TimeInterval? = nil) {
        self.every = every
        self.jitter = jitter
        self.maxBackoff = maxBackoff ?? max(every, 3600)
    }
}

/// How a system's webhook deliveries (`POST /hooks/{system}` on `hubctl run`'s listener) are
/// verified and batched.
///
/// Secrets come only from `${ENV}` references and are never printed: `description` names only
/// how many there are.
public struct WebhookSettings: Sendable, Hashable, CustomStringConvertible {
    /// How the sender signs a delivery.
    public enum Style: String, Sendable, Hashable, CaseIterable {
        /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`,
        /// HMAC-SHA256 over `id.timestamp.body`.
        case standard
        /// GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body, `X-GitHub-Delivery` as the ID.
        case github
    }

    public var style: Style
    /// Every secret accepted at once (several during a rotation), in the order written.
    public var secrets: [String]
    /// Deliveries for the system within this window wake it once.
    public var debounce: TimeInterval
    /// Deliveries signed further than this from now are refused (Standard Webhooks only).
    public var tolerance: TimeInterval

    public init(style: Style = .standard, secrets: [String], debounce: TimeInterval = 0.2, tolerance: TimeInterval = 300) {
        self.style = style
        self.secrets = secrets
        self.debounce = debounce
        self.tolerance = tolerance
    }

    public var description: String { "webhook(\(style.rawValue), \(secrets.count) secret(s))" }
}

/// Durations as topologies write them: `"250ms"`, `"30s"`, `"5m"`, `"1h"`, `"1d"`, or a number of
/// seconds.
public enum DurationText {
    /// The seconds `text` stands for, or nil when it is not a duration.
    public static func seconds(_ text: String) -> TimeInterval? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            // "5ms" ends in "s" too: only take "s" when what is left is a number.
            guard let value = Double(number), value.isFinite, value >= 0 else { continue }
            return value * factor
        }
        if let value = Double(trimmed), value.isFinite, value >= 0 { return value }
        return nil
    }

    /// `seconds` written the short way (`"5m"`, `"90s"`, `"250ms"`).
    public static func text(_ seconds: TimeInterval) -> String {
        if seconds == 0 { return "0s" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds != seconds.rounded() && seconds < 60 { return "\((seconds * 1000).rounded() / 1000)s" }
        var rest = Int(seconds.rounded())
        var out = ""
        for (suffix, factor) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= factor {
            out += "\(rest / factor)\(suffix)"
            rest %= factor
        }
        return out
    }
}
