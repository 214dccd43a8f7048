import HubCore
import HubMapping
import HubTopology
import Testing

@Suite struct NormalizerTests {
    func apply(_ n: Normalizer, _ s: String) -> Value { n.apply(.string(s)) }

    @Test func lowercaseAndUppercaseFollowUnicode() {
        #expect(apply(.lowercase, "ÄBC Straße İ") == "äbc straße i̇")
        #expect(apply(.uppercase, "straße ǆ") == "STRASSE Ǆ")
    }

    @Test func trimRemovesEveryKindOfWhiteSpaceAtTheEnds() {
        #expect(apply(.trim, "  a b \n") == "a b")
        #expect(apply(.trim, "\u{A0}\u{3000}\tx\u{2003}\r\n") == "x")
        #expect(apply(.trim, " \n ") == "")
        #expect(apply(.trim, "a") == "a")
    }

    @Test func collapseSpacesLeavesOneSpaceBetweenWords() {
        #expect(apply(.collapseSpaces, " a \t\n b  c\u{A0}d ") == "a b c d")
        #expect(apply(.collapseSpaces, "   ") == "")
    }

    @Test func digitsKeepsASCIIDigitsAndALeadingPlus() {
        #expect(apply(.digits, "+49 (0) 30-1234") == "+490301234")
        #expect(apply(.digits, " 030 / 1234 ") == "0301234")
        #expect(apply(.digits, " +1 555 ") == "+1555")
        #expect(apply(.digits, "1+2") == "12")
        #expect(apply(.digits, "١٢٣") == "")
    }

    @Test func emptyToNullTurnsBlankTextIntoNull() {
        #expect(apply(.emptyToNull, "") == .null)
        #expect(apply(.emptyToNull, " \t\u{A0}") == .null)
        #expect(apply(.emptyToNull, " x ") == " x ")
    }

    @Test func onlyTextChanges() {
        for n in Normalizer.allCases {
            #expect(n.apply(42) == 42)
            #expect(n.apply(.null) == .null)
            #expect(n.apply(["A": " B "]) == ["A": " B "])
        }
    }

    @Test func normalisersApplyInOrder() {
        #expect([Normalizer.trim, .lowercase, .emptyToNull].apply(" ABC ") == "abc")
        #expect([Normalizer.digits, .emptyToNull].apply("n/a") == .null)
        #expect([Normalizer]().apply(" x ") == " x ")
    }

    /// Strict equality: the same Unicode scalars, not only canonically equivalent text. Content
    /// hashes are computed over the bytes.
    func sameScalars(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return Array(x.unicodeScalars) == Array(y.unicodeScalars)
        default: return a == b
        }
    }

    @Test(arguments: Normalizer.allCases)
    func everyNormaliserIsIdempotent(_ n: Normalizer) {
        var rng = SplitMix64(seed: 0x5EED_0001 &+ UInt64(Normalizer.allCases.firstIndex(of: n)!))
        for _ in 0..<3000 {
            let s = Gen.string(&rng, maxLength: 16)
            let once = n.apply(.string(s))
            let twice = n.apply(once)
            #expect(sameScalars(once, twice), "\(n) is not idempotent on \(s.unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }

    @Test func commonChainsAreIdempotent() {
        let chains: [[Normalizer]] = [
            [.trim, .lowercase], [.collapseSpaces, .uppercase], [.trim, .emptyToNull], [.digits, .emptyToNull],
            [.lowercase, .collapseSpaces, .emptyToNull], [.uppercase, .trim],
        ]
        var rng = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            let s = Gen.string(&rng)
            for chain in chains {
                let once = chain.apply(.string(s))
                #expect(sameScalars(once, chain.apply(once)), "\(chain) on \(s.debugDescription)")
            }
        }
    }
}
