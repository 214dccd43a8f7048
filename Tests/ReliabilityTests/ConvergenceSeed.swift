import Foundation
import PropertyBased
import Testing

/// Replays one T3 sequence: with `HUBCTL_T3_SEED` set to the seed a failure printed
/// (`.fixedSeed("…")`, the text between the quotes), the property checks of the test run that
/// sequence only; unset, every sequence gets a fresh random seed.
struct ConvergenceSeed: TestTrait, TestScoping {
    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard let text = ProcessInfo.processInfo.environment["HUBCTL_T3_SEED"], !text.isEmpty else {
            try await function()
            return
        }
        guard let seed = Self.parse(text) else {
            Issue.record("HUBCTL_T3_SEED is not a seed printed by a T3 failure (32 bytes in base64): \(text)")
            return
        }
        print("T3: replaying seed \(text)")
        let fixed: FixedSeedTrait = .fixedSeed(seed.0, seed.1, seed.2, seed.3)
        try await fixed.provideScope(for: test, testCase: testCase, performing: function)
    }

    /// The four words of a seed in the form `Xoshiro.currentSeed` prints.
    static func parse(_ text: String) -> (UInt64, UInt64, UInt64, UInt64)? {
        let trimmed = text.trimmingCharacters(in: CharacterSet(charactersIn: "\"() "))
        guard let data = Data(base64Encoded: trimmed), data.count == 32 else { return nil }
        let words = data.withUnsafeBytes { raw in (0..<4).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) } }
        return (words[0], words[1], words[2], words[3])
    }
}
