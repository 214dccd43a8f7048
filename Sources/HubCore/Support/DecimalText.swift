extension String {
    /// True for plain decimal number text: an optional sign, digits with an optional fraction and
    /// an optional exponent (`-12`, `3.5`, `.5`, `1e3`). Not hex, `inf`, `nan`, or anything
    /// around the number (spaces included).
    public var isPlainDecimalNumber: Bool {
        var digits = 0
        var it = utf8.makeIterator()
        var c = it.next()
        if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { c = it.next() }
        while let b = c, b >= 48 && b <= 57 { digits += 1; c = it.next() }
        if c == UInt8(ascii: ".") {
            c = it.next()
            while let b = c, b >= 48 && b <= 57 { digits += 1; c = it.next() }
        }
        guard digits > 0 else { return false }
        if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            c = it.next()
            if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { c = it.next() }
            var exponentDigits = 0
            while let b = c, b >= 48 && b <= 57 { exponentDigits += 1; c = it.next() }
            guard exponentDigits > 0 else { return false }
        }
        return c == nil
    }
}
