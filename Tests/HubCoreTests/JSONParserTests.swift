import HubCore
import Testing

@Suite struct JSONParserTests {
    func syntaxError(_ text: String) -> JSONSyntaxError? {
        do {
            _ = try JSONParser.parse(text)
            Issue.record("expected \(text.debugDescription) to be rejected")
            return nil
        } catch let error as JSONSyntaxError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test func scalarsParse() throws {
        #expect(try JSONParser.parse("null") == .null)
        #expect(try JSONParser.parse(" true ") == true)
        #expect(try JSONParser.parse("false") == false)
        #expect(try JSONParser.parse("\"x\"") == "x")
        #expect(try JSONParser.parse("[]") == [])
        #expect(try JSONParser.parse("{}") == [:])
        #expect(try JSONParser.parse(" \n\t{\"a\" : [1 , {\"b\":null}]}\r\n") == ["a": [1, ["b": nil]]])
    }

    @Test func integersStayIntegersAndEverythingElseIsADouble() throws {
        #expect(try JSONParser.parse("42") == .int(42))
        #expect(try JSONParser.parse("-0") == .int(0))
        #expect(try JSONParser.parse("9223372036854775807") == .int(.max))
        #expect(try JSONParser.parse("-9223372036854775808") == .int(.min))
        #expect(try JSONParser.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try JSONParser.parse("42.0") == .double(42))
        #expect(try JSONParser.parse("1e2") == .double(100))
        #expect(try JSONParser.parse("-2.5E-3") == .double(-0.0025))
        #expect(try JSONParser.parse("0.1") == .double(0.1))
        #expect(try JSONParser.parse("1E+2") == .double(100))
    }

    @Test func escapesDecode() throws {
        #expect(try JSONParser.parse(#""\"\\\/\b\f\n\r\t""#) == "\"\\/\u{8}\u{C}\n\r\t")
        #expect(try JSONParser.parse(#""caf\u00e9 \u00E9""#) == "café é")
        #expect(try JSONParser.parse(#""\u0000""#) == "\u{0}")
        #expect(try JSONParser.parse(#""a\u4e2db""#) == "a中b")
    }

    @Test func surrogatePairsDecodeToOneScalar() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == "😀")
        #expect(try JSONParser.parse(#""x\uD834\uDD1Ey""#) == "x𝄞y")
    }

    @Test func rawUTF8PassesThrough() throws {
        #expect(try JSONParser.parse("\"Zoë 😀 中文\"") == "Zoë 😀 中文")
        #expect(try JSONParser.parse("\u{FEFF}{\"bom\": 1}") == ["bom": 1])
    }

    /// (text, message, line, column)
    static let errors: [(String, String, Int, Int)] = [
        ("", "unexpected end of input; expected a value", 1, 1),
        ("{", "expected a quoted key", 1, 2),
        ("{\"a\" 1}", "expected ':' after key", 1, 6),
        ("{\"a\": 1,}", "expected a quoted key", 1, 9),
        ("{\"a\": 1 \"b\": 2}", "expected ',' or '}'", 1, 9),
        ("[1 2]", "expected ',' or ']'", 1, 4),
        ("[1,", "unexpected end of input; expected a value", 1, 4),
        ("[1", "unexpected end of input; expected ',' or ']'", 1, 3),
        ("{\"a\": 1", "unexpected end of input; expected ',' or '}'", 1, 8),
        ("01", "unexpected text after the JSON value", 1, 2),
        ("1.", "invalid number: digits expected after '.'", 1, 3),
        ("-", "invalid number", 1, 2),
        ("1e", "invalid number: digits expected in exponent", 1, 3),
        (".5", "unexpected character '.'; expected a value", 1, 1),
        ("nul", "invalid literal", 1, 1),
        ("True", "unexpected character 'T'; expected a value", 1, 1),
        ("\"abc", "unterminated string", 1, 5),
        ("\"a\tb\"", "control character in string; escape it", 1, 3),
        ("[\"a\\x\"]", "invalid escape '\\x'", 1, 4),
        ("\"\\u12G4\"", "invalid \\u escape", 1, 2),
        ("\"\\ud83d\"", "lone surrogate in \\u escape", 1, 2),
        ("\"\\ude00\"", "lone surrogate in \\u escape", 1, 2),
        ("\"\\ud83d\\u0041\"", "invalid surrogate pair", 1, 2),
        ("{\"a\": 1,\n \"a\": 2}", "duplicate key 'a'", 2, 2),
        ("{\n  \"é\": \"ü\",\n  \"x\": ?\n}", "unexpected character '?'; expected a value", 3, 8),
        ("{\"k\": \"中文\", \"v\": x}", "unexpected character 'x'; expected a value", 1, 18),
        ("{} {}", "unexpected text after the JSON value", 1, 4),
    ]

    @Test(arguments: 0..<errors.count)
    func syntaxErrorsSayWhatAndWhere(_ index: Int) throws {
        let (text, message, line, column) = Self.errors[index]
        let error = try #require(syntaxError(text))
        #expect(error.message == message, "\(text.debugDescription)")
        #expect(error.position == SourcePosition(line: line, column: column), "\(text.debugDescription): \(error)")
        #expect(error.description == "\(line):\(column): \(message)")
    }

    @Test func nestingIsLimitedTo512Levels() throws {
        let ok = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
        let tooDeep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(syntaxError(tooDeep)?.message == "nesting deeper than 512 levels")
        let objects = String(repeating: "{\"a\":", count: 600) + "1" + String(repeating: "}", count: 600)
        #expect(syntaxError(objects)?.message == "nesting deeper than 512 levels")
    }

    @Test func positionsAreRecordedForEveryValueByDottedPath() throws {
        let text = """
            {
              "name": "x",
              "systems": {
                "crm": {"adapter": "sqlite", "list": [1, {"k": true}]}
              }
            }
            """
        let (value, positions) = try JSONParser.parseWithPositions(text)
        #expect(value.objectValue?["name"] == "x")
        #expect(positions[""] == SourcePosition(line: 1, column: 1))
        #expect(positions["name"] == SourcePosition(line: 2, column: 11))
        #expect(positions["systems"] == SourcePosition(line: 3, column: 14))
        #expect(positions["systems.crm"] == SourcePosition(line: 4, column: 12))
        #expect(positions["systems.crm.adapter"] == SourcePosition(line: 4, column: 24))
        #expect(positions["systems.crm.list[0]"] == SourcePosition(line: 4, column: 43))
        #expect(positions["systems.crm.list[1].k"] == SourcePosition(line: 4, column: 52))
        #expect(positions.count == 9)
    }

    @Test func bytesParseLikeText() throws {
        let text = #"{"a": [1, 2.5, "x"]}"#
        let bytes = Array(text.utf8)
        let value = try bytes.withUnsafeBufferPointer { try JSONParser.parse(bytes: $0) }
        #expect(value == ["a": [1, 2.5, "x"]])
    }
}

@Suite struct JSONWriterTests {
    @Test func keysAreSortedByTheirUTF8Bytes() {
        let value: Value = ["b": 1, "a": 2, "B": 3, "é": 4, "z": 5, "aa": 6]
        #expect(JSONWriter.string(value) == #"{"B":3,"a":2,"aa":6,"b":1,"z":5,"é":4}"#)
        #expect(JSONWriter.string(["x": ["d": 1, "c": [["f": 1, "e": 2]]]]) == #"{"x":{"c":[{"e":2,"f":1}],"d":1}}"#)
    }

    @Test func stringsAreEscapedMinimally() {
        #expect(JSONWriter.string("a\"b\\c/d") == #""a\"b\\c/d""#)
        #expect(JSONWriter.string("\n\r\t\u{8}\u{C}") == #""\n\r\t\b\f""#)
        #expect(JSONWriter.string("\u{0}\u{1F}\u{7F}") == "\"\\u0000\\u001f\u{7F}\"")
        #expect(JSONWriter.string("Zoë 😀") == "\"Zoë 😀\"")
    }

    @Test func numbersKeepTheirKind() {
        #expect(JSONWriter.string(42) == "42")
        #expect(JSONWriter.string(-7) == "-7")
        #expect(JSONWriter.string(1.0) == "1.0")
        #expect(JSONWriter.string(-0.0) == "0.0")
        #expect(JSONWriter.string(0.1) == "0.1")
        #expect(JSONWriter.string(2.5) == "2.5")
        #expect(JSONWriter.string(123_456_789_012_345.0) == "123456789012345.0")
        #expect(JSONWriter.string(1e15) == "1000000000000000.0")
        #expect(JSONWriter.string(1e17) == "1e+17")
        #expect(JSONWriter.string(1e-7) == "1e-07")
        #expect(JSONWriter.string(.double(.nan)) == "null")
        #expect(JSONWriter.string(.double(.infinity)) == "null")
    }

    @Test func everythingWrittenParsesBackEqual() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let d = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng))
            guard d.isFinite else { continue }
            let back = try JSONParser.parse(JSONWriter.string(.double(d)))
            #expect(back == .double(d), "\(d)")
        }
        let value: Value = ["s": "a\u{1}\"\\\n😀", "i": .int(.min), "d": 1e300, "b": false, "n": nil, "a": [[], [:], [1.5]]]
        #expect(try JSONParser.parse(JSONWriter.string(value)) == value)
        #expect(try JSONParser.parse(JSONWriter.pretty(value)) == value)
    }

    @Test func equalValuesWriteTheSameBytes() {
        var a: [String: Value] = [:]
        var b: [String: Value] = [:]
        for i in 0..<50 { a["k\(i)"] = .int(Int64(i)) }
        for i in (0..<50).reversed() { b["k\(i)"] = .int(Int64(i)) }
        #expect(JSONWriter.bytes(.object(a)) == JSONWriter.bytes(.object(b)))
    }

    @Test func prettyOutputIndentsWithTwoSpaces() {
        #expect(JSONWriter.pretty(["b": [1, 2], "a": [:], "c": []]) == """
            {
              "a": {},
              "b": [
                1,
                2
              ],
              "c": []
            }
            """)
    }
}
