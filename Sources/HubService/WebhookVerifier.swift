import Crypto
import Foundation
import HubTopology

/// What became of a webhook delivery (the `outcome` label of `hubctl_webhook_deliveries_total`).
public enum WebhookOutcome: String, Error, Sendable, CaseIterable {
    /// Verified, new: the system is woken.
    case accepted
    /// Verified, but its delivery ID was accepted before: nothing happens.
    case replayed
    /// No signature matches any of the system's secrets.
    case badSignature = "bad_signature"
    /// Signed further than the tolerance (±5 minutes) from now.
    case stale
    /// A header is missing or unreadable.
    case malformed
    /// No system of that name, or one without a `webhook` section.
    case unknownSystem = "unknown_system"
    /// The body is larger than the listener accepts.
    case tooLarge = "too_large"
    /// The body did not arrive whole: the sender closed the connection, or sent nothing for
    /// the listener's idle timeout.
    case incomplete
    /// More deliveries were being handled than the listener takes at once: answered 503 with
    /// `Retry-After` before the body was read.
    case overloaded
    /// Verified, but its ID could not be recorded in the hub: answered 503 with `Retry-After`
    /// (the system is woken anyway).
    case unrecorded
}

/// Checks a webhook delivery's signature, the Standard Webhooks way or GitHub's.
///
/// Standard Webhooks: `webhook-id`, `webhook-timestamp` (Unix seconds), `webhook-signature`
/// holding one or more space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
/// A secret written `whsec_<base64>` is the base64-decoded key; any other secret is used as its
/// bytes. GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, the delivery ID in
/// `X-GitHub-Delivery`. Comparisons are constant-time (swift-crypto's
/// `isValidAuthenticationCode`).
public struct WebhookVerifier: Sendable {
    public let settings: WebhookSettings

    public init(_ settings: WebhookSettings) { self.settings = settings }

    /// The delivery ID when the delivery is authentic and fresh, else why not.
    /// - Parameter header: a header's value by lower-cased name.
    public func verify(header: (String) -> String?, body: [UInt8], now: Date) -> Result<String, WebhookOutcome> {
        switch settings.style {
        case .standard: return verifyStandard(header: header, body: body, now: now)
        case .github: return verifyGitHub(header: header, body: body)
        }
    }

    func verifyStandard(header: (String) -> String?, body: [UInt8], now: Date) -> Result<String, WebhookOutcome> {
        guard let id = header("webhook-id"), !id.isEmpty, id.utf8.count <= 256,
            let timestampText = header("webhook-timestamp"), let timestamp = Int64(timestampText),
            let signatures = header("webhook-signature")
        else { return .failure(.malformed) }
        if abs(now.timeIntervalSince1970 - Double(timestamp)) > settings.tolerance { return .failure(.stale) }
        let signed = Array("\(id).\(timestampText).".utf8) + body
        let candidates = signatures.split(separator: " ").compactMap { part -> [UInt8]? in
            guard part.hasPrefix("v1,") else { return nil }
            return Data(base64Encoded: String(part.dropFirst(3))).map { [UInt8]($0) }
        }
        for secret in settings.secrets {
            let key = SymmetricKey(data: Self.standardKey(secret))
            for mac in candidates where HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: signed, using: key) {
                return .success(id)
            }
        }
        return .failure(.badSignature)
    }

    func verifyGitHub(header: (String) -> String?, body: [UInt8]) -> Result<String, WebhookOutcome> {
        guard let id = header("x-github-delivery"), !id.isEmpty, id.utf8.count <= 256,
            let signature = header("x-hub-signature-256"), signature.hasPrefix("sha256="),
            let mac = Self.hex(String(signature.dropFirst(7)))
        else { return .failure(.malformed) }
        for secret in settings.secrets {
            let key = SymmetricKey(data: Array(secret.utf8))
            if HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: key) { return .success(id) }
        }
        return .failure(.badSignature)
    }

    /// The key bytes of a Standard Webhooks secret.
    static func standardKey(_ secret: String) -> [UInt8] {
        if secret.hasPrefix("whsec_"), let data = Data(base64Encoded: String(secret.dropFirst(6))) { return [UInt8](data) }
        return Array(secret.utf8)
    }

    static func hex(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        for i in stride(from: 0, to: bytes.count, by: 2) {
            guard let hi = nibble(bytes[i]), let lo = nibble(bytes[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
        }
        return out
    }

    /// Signs a delivery the Standard Webhooks way (for tests, and for `bench/`).
    public static func standardSignature(id: String, timestamp: Int64, body: [UInt8], secret: String) -> String {
        let key = SymmetricKey(data: standardKey(secret))
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(timestamp).".utf8) + body, using: key)
        return "v1," + Data(mac).base64EncodedString()
    }

    /// Signs a body the GitHub way (for tests).
    public static func githubSignature(body: [UInt8], secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + Data(mac).map { String(format: "%02x", $0) }.joined()
    }
}
