import Foundation
import HubCore
import SpokeFiles
import Testing

/// What the csv and jsonl spokes do with hostile files: missing files and folders, nested JSON
/// values, NUL and invalid UTF-8, formulas, symbolic links and huge records.
@Suite struct FileSafetyTests {
    static func write(_ text: String, to path: String) throws { try CSVSpokeTests.write(text, to: path) }
    static func writeBytes(_ bytes: [UInt8], to path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }
    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
    static func contents(_ path: String) throws -> String { try CSVSpokeTests.contents(path) }

    static func spokes(_ directory: TemporaryDirectory) -> [(any Spoke, String)] {
        [(CSVSpoke(system: "sheet", directory: directory.path), "people.csv"),
         (JSONLSpoke(system: "events", directory: directory.path), "people.jsonl")]
    }

    // MARK: - Missing files and folders

    @Test func readingAMissingFileIsAMissingObjectErrorNamingTheFile() async throws {
        try await withTemporaryDirectory { directory in
            for (spoke, name) in Self.spokes(directory) {
                let binding = ObjectBinding(entity: "person", object: name, fields: ["name"])
                for call in ["read", "scanIDs", "fetch", "count"] {
                    let error = await #expect(throws: SpokeError.self, "\(name) \(call)") {
                        switch call {
                        case "read": _ = try await spoke.read(binding, after: nil, limit: 10)
                        case "scanIDs": _ = try await spoke.scanIDs(binding, after: nil, limit: 10)
                        case "fetch": _ = try await spoke.fetch(binding, ids: ["1"])
                        default: _ = try await spoke.count(binding)
                        }
                    }
                    #expect(error?.kind == .missingObject, "\(name) \(call): \(String(describing: error))")
                    #expect(error?.message.contains("'\(name)'") == true, "\(error?.message ?? "")")
                    #expect(error?.message.contains("does not exist") == true, "\(error?.message ?? "")")
                }
            }
        }
    }

    @Test func aMissingFolderIsAMissingObjectErrorForReadsAndWrites() async throws {
        let folder = "/nonexistent/hubctl-\(UUID().uuidString)"
        let spokes: [(any Spoke, String)] = [(CSVSpoke(system: "sheet", directory: folder), "p.csv"),
                                             (JSONLSpoke(system: "events", directory: folder), "p.jsonl")]
        for (spoke, name) in spokes {
            let binding = ObjectBinding(entity: "person", object: name, fields: ["name"])
            let read = await #expect(throws: SpokeError.self) { try await spoke.read(binding, after: nil, limit: 10) }
            #expect(read?.kind == .missingObject)
            #expect(read?.message.contains(folder) == true)
            let write = await #expect(throws: SpokeError.self) {
                try await spoke.write(binding, [.create(key: "k", fields: ["name": "x"])])
            }
            #expect(write?.kind == .missingObject)
            #expect(try await spoke.check([binding]).first?.problems.first?.contains("does not exist") == true)
        }
    }

    @Test func updatesOrDeletesToAMissingFileThrowAndCreatesAloneCreateIt() async throws {
        try await withTemporaryDirectory { (directory: TemporaryDirectory) async throws -> Void in
            for (spoke, name) in Self.spokes(directory) {
                let binding = ObjectBinding(entity: "person", object: name, fields: ["name"])
                for batch: [SpokeWrite] in [[.update(id: "1", fields: ["name": "x"])], [.delete(id: "1")],
                                            [.create(key: "k0", fields: ["name": "x"]), .delete(id: "1")]] {
                    let error = await #expect(throws: SpokeError.self) { try await spoke.write(binding, batch) }
                    #expect(error?.kind == .missingObject, "\(name): \(String(describing: error))")
                    #expect(!FileManager.default.fileExists(atPath: directory.path(name)))
                }
                #expect(try await spoke.write(binding, [.create(key: "k1", fields: ["name": "Ada"])]) == [.created("k1")])
                #expect(try await spoke.read(binding, after: nil, limit: 10).records.map(\.id) == ["k1"])
            }
        }
    }

    @Test func aFileThatDisappearsIsReportedAndNotReadAsEmpty() async throws {
        try await withTemporaryDirectory { directory in
            for (spoke, name) in Self.spokes(directory) {
                let binding = ObjectBinding(entity: "person", object: name, fields: ["name"])
                _ = try await spoke.write(binding, [.create(key: "a", fields: ["name": "Ada"])])
                try FileManager.default.moveItem(atPath: directory.path(name), toPath: directory.path(name + ".moved"))
                let error = await #expect(throws: SpokeError.self) { try await spoke.scanIDs(binding, after: nil, limit: 10) }
                #expect(error?.kind == .missingObject)
            }
        }
    }

    // MARK: - JSON values are replaced whole

    @Test func aJSONValueIsReplacedWholeAndOnlyMappedPathsReachInside() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("people.jsonl")
            try Self.write(#"{"id":"1","prefs":{"newsletter":true},"contact":{"email":"a@x","phone":"1"},"extra":{"keep":1}}"# + "\n",
                           to: path)
            let spoke = JSONLSpoke(system: "events", directory: directory.path)
            let binding = ObjectBinding(entity: "person", object: "people.jsonl", fields: ["prefs", "contact.email"])
            let results = try await spoke.write(binding, [
                .update(id: "1", fields: ["prefs": ["sms": false], "contact": ["email": "b@x"]]),
            ])
            #expect(results == [.updated])
            #expect(try Self.contents(path)
                == #"{"contact":{"email":"b@x","phone":"1"},"extra":{"keep":1},"id":"1","prefs":{"sms":false}}"# + "\n")
        }
    }

    // MARK: - Text round-trips byte for byte

    static let awkward: [String] = [
        "CSV\u{0}NUL_TAIL", "\u{0}", "emoji 🚀👩‍👩‍👧", "e\u{301}te\u{301} (combining)", "\u{E9}t\u{E9} (precomposed)",
        "two\r\nlines", "lone\rcr", "lone\nlf", "say \"hi\", ok", "'quoted'", "tab\tinside", "  spaces  ",
    ]

    @Test func awkwardTextRoundTripsByteForByteThroughCSVAndJSONL() async throws {
        try await withTemporaryDirectory { directory in
            for (spoke, name) in Self.spokes(directory) {
                let binding = ObjectBinding(entity: "note", object: name, fields: ["text"])
                let writes = Self.awkward.enumerated().map { SpokeWrite.create(key: "n\($0.offset)", fields: ["text": .string($0.element)]) }
                _ = try await spoke.write(binding, writes)
                let read = try await spoke.read(binding, after: nil, limit: 100).records
                #expect(read.map { Array(($0.fields["text"]?.stringValue ?? "").utf8) } == Self.awkward.map { Array($0.utf8) }, "\(name)")
                // An update to another text changes the bytes: canonically equivalent text is not "the same".
                let nfd = try #require(read.first { $0.id == "n3" })
                _ = try await spoke.write(binding, [.update(id: nfd.id, fields: ["text": .string("\u{E9}t\u{E9} (combining)")])])
                let after = try await spoke.fetch(binding, ids: [nfd.id]).first?.fields["text"]?.stringValue
                #expect(after.map { Array($0.utf8) } == Array("\u{E9}t\u{E9} (combining)".utf8), "\(name)")
            }
        }
    }

    @Test func aNULInAJSONLValueIsWrittenAsAnEscape() async throws {
        try await withTemporaryDirectory { directory in
            let spoke = JSONLSpoke(system: "events", directory: directory.path)
            let binding = ObjectBinding(entity: "note", object: "n.jsonl", fields: ["text"])
            _ = try await spoke.write(binding, [.create(key: "1", fields: ["text": "a\u{0}b"])])
            #expect(try Self.contents(directory.path("n.jsonl")) == #"{"id":"1","text":"a\u0000b"}"# + "\n")
        }
    }

    @Test func invalidUTF8InACSVCellIsAnInvalidRecordAndTheRowIsKeptOnRewrite() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("people.csv")
            let original = Array("id,name\n1,Ada\n2,Gr".utf8) + [0xFF, 0xFE] + Array("ce\n3,Linus\n".utf8)
            try Self.writeBytes(original, to: path)
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "person", object: "people.csv", fields: ["name"])
            let page = try await spoke.read(binding, after: nil, limit: 10)
            #expect(page.records.map(\.id) == ["1", "3"])
            #expect(page.invalid.map(\.pointer) == ["line 3"])
            #expect(page.invalid.first?.message.contains("not valid UTF-8") == true, "\(page.invalid)")
            #expect(page.invalid.first?.message.contains("name") == true, "\(page.invalid)")
            #expect(try await spoke.check([binding]).first?.problems.count == 1)
            _ = try await spoke.write(binding, [.update(id: "3", fields: ["name": "Linux"])])
            #expect(try Self.bytes(path) == Array("id,name\n1,Ada\n2,Gr".utf8) + [0xFF, 0xFE] + Array("ce\n3,Linux\n".utf8))
        }
    }

    @Test func invalidUTF8InAJSONLLineIsAnInvalidRecord() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("e.jsonl")
            let original = Array(#"{"id":"1","name":"Ada"}"#.utf8) + [0x0A] + Array(#"{"id":"2","name":"Gr"#.utf8) + [0xC3, 0x28]
                + Array(#"ce"}"#.utf8) + [0x0A]
            try Self.writeBytes(original, to: path)
            let spoke = JSONLSpoke(system: "events", directory: directory.path)
            let binding = ObjectBinding(entity: "person", object: "e.jsonl", fields: ["name"])
            let page = try await spoke.read(binding, after: nil, limit: 10)
            #expect(page.records.map(\.id) == ["1"])
            #expect(page.invalid.map(\.pointer) == ["line 2"])
            #expect(page.invalid.first?.message.contains("not valid UTF-8") == true, "\(page.invalid)")
            _ = try await spoke.write(binding, [.update(id: "1", fields: ["name": "Ada L."])])
            #expect(try Self.bytes(path) == Array(#"{"id":"1","name":"Ada L."}"#.utf8) + original.drop { $0 != 0x0A })
        }
    }

    // MARK: - Formula guard

    @Test func textThatASpreadsheetWouldRunIsGuardedAndReadsBackAsWritten() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("f.csv")
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "note", object: "f.csv", fields: ["text", "n"])
            let texts: [String] = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", "'=x", "''=y", "'plain", "-5", "+4.5",
                                   "a=b", "safe"]
            var writes = texts.enumerated().map { SpokeWrite.create(key: "t\($0.offset)", fields: ["text": .string($0.element)]) }
            writes.append(.create(key: "num", fields: ["text": "x", "n": .int(-5)]))
            _ = try await spoke.write(binding, writes)
            let read = try await spoke.read(binding, after: nil, limit: 100).records
            #expect(read.filter { $0.id != "num" }.map { $0.fields["text"]?.stringValue ?? "" } == texts)
            #expect(read.first { $0.id == "num" }?.fields["n"] == "-5")
            let cells = try Self.contents(path).split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
            #expect(Array(cells.prefix(texts.count + 1)) == [
                "t0,'=1+1,", "t1,'+SUM(A1),", "t2,'-2+3,", "t3,'@cmd,", "t4,'\tTAB,", "t5,\"'\rCR\",", "t6,''=x,", "t7,'''=y,",
                "t8,'plain,", "t9,-5,", "t10,+4.5,", "t11,a=b,", "t12,safe,", "num,x,-5",
            ].map { Substring($0) })
        }
    }

    @Test func aColumnNameASpreadsheetWouldRunIsGuardedInTheHeaderAndReadAsNamed() async throws {
        try await withTemporaryDirectory { directory in
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "note", object: "f.csv", fields: ["=cmd|' /C calc'!A0", "plain"])
            _ = try await spoke.write(binding, [.create(key: "t1", fields: ["=cmd|' /C calc'!A0": "x", "plain": "y"])])
            #expect(try Self.contents(directory.path("f.csv")).hasPrefix("id,'=cmd|' /C calc'!A0,plain\n"))
            let read = try await spoke.read(binding, after: nil, limit: 10).records
            #expect(read.map(\.fields) == [["id": "t1", "=cmd|' /C calc'!A0": "x", "plain": "y"]])
        }
    }

    // MARK: - Symbolic links

    @Test func aPushWritesThroughASymbolicLinkAndKeepsIt() async throws {
        try await withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory.path("sheet/real"), withIntermediateDirectories: true)
            try Self.write("id,name\n1,Ada\n", to: directory.path("sheet/real/people.csv"))
            try FileManager.default.createSymbolicLink(atPath: directory.path("sheet/people.csv"), withDestinationPath: "real/people.csv")
            let spoke = CSVSpoke(system: "sheet", directory: directory.path("sheet"))
            let binding = ObjectBinding(entity: "person", object: "people.csv", fields: ["name"])
            #expect(try await spoke.write(binding, [.update(id: "1", fields: ["name": "Ada L."])]) == [.updated])
            let link = try FileManager.default.destinationOfSymbolicLink(atPath: directory.path("sheet/people.csv"))
            #expect(link == "real/people.csv")
            #expect(try Self.contents(directory.path("sheet/real/people.csv")) == "id,name\n1,Ada L.\n")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("sheet/real")) == ["people.csv"])
        }
    }

    @Test func aSymbolicLinkLeadingOutsideTheFolderIsRefusedAndTheFileThereIsUntouched() async throws {
        try await withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory.path("outside"), withIntermediateDirectories: true)
            try Self.write("id,name\n1,Ada\n", to: directory.path("outside/people.csv"))
            try FileManager.default.createDirectory(atPath: directory.path("sheet"), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: directory.path("sheet/people.csv"), withDestinationPath: "../outside/people.csv")
            let spoke = CSVSpoke(system: "sheet", directory: directory.path("sheet"))
            let binding = ObjectBinding(entity: "person", object: "people.csv", fields: ["name"])
            for attempt in 0..<2 {
                do {
                    if attempt == 0 { _ = try await spoke.write(binding, [.update(id: "1", fields: ["name": "Eve"])]) }
                    else { _ = try await spoke.read(binding, after: nil, limit: 10) }
                    Issue.record("attempt \(attempt) went through the link")
                } catch let error as SpokeError {
                    #expect(error.kind == .configuration)
                    #expect(error.message.contains("outside the system's folder"), "\(error.message)")
                }
            }
            #expect(try Self.contents(directory.path("outside/people.csv")) == "id,name\n1,Ada\n")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: directory.path("sheet/people.csv")) == "../outside/people.csv")
        }
    }

    // MARK: - Huge records

    @Test func aRecordOverTheSizeLimitIsInvalidAndTheRestOfTheFileSyncs() async throws {
        try await withTemporaryDirectory { directory in
            let big = String(repeating: "x", count: 17 * 1024 * 1024)
            try Self.write("{\"id\":\"1\",\"t\":\"a\"}\n{\"id\":\"2\",\"t\":\"\(big)\"}\n{\"id\":\"3\",\"t\":\"c\"}\n", to: directory.path("big.jsonl"))
            try Self.write("id,t\n1,a\n2,\"\(big)\"\n3,c\n", to: directory.path("big.csv"))
            let spokes: [(any Spoke, String, String)] = [(JSONLSpoke(system: "e", directory: directory.path), "big.jsonl", "line 2"),
                                                         (CSVSpoke(system: "s", directory: directory.path), "big.csv", "line 3")]
            for (spoke, name, line) in spokes {
                let binding = ObjectBinding(entity: "x", object: name, fields: ["t"])
                let page = try await spoke.read(binding, after: nil, limit: 10)
                #expect(page.records.map(\.id) == ["1", "3"], "\(name)")
                #expect(page.invalid.map(\.pointer) == [line], "\(name)")
                #expect(page.invalid.first?.message.contains("16 MiB") == true, "\(page.invalid)")
                let before = try Self.bytes(directory.path(name))
                _ = try await spoke.write(binding, [.update(id: "3", fields: ["t": "C"])])
                let after = try Self.bytes(directory.path(name))
                #expect(after.count == before.count, "\(name): the huge row is copied as it was")
                #expect(Array(after.prefix(before.count - 4)) == Array(before.prefix(before.count - 4)))
            }
        }
    }

    // MARK: - Settings

    @Test func withReplaceInvalidUTF8ReadsAsTheReplacementCharacter() async throws {
        try await withTemporaryDirectory { directory in
            try Self.writeBytes(Array("id,name\n1,caf".utf8) + [0xE9] + Array("\n".utf8), to: directory.path("p.csv"))
            try Self.writeBytes(Array(#"{"id":"1","name":"caf"#.utf8) + [0xE9] + Array("\"}\n".utf8), to: directory.path("p.jsonl"))
            let options = FileOptions(invalidUTF8: .replace)
            let spokes: [(any Spoke, String)] = [(CSVSpoke(system: "s", directory: directory.path, options: options), "p.csv"),
                                                 (JSONLSpoke(system: "e", directory: directory.path, options: options), "p.jsonl")]
            for (spoke, name) in spokes {
                let page = try await spoke.read(ObjectBinding(entity: "x", object: name, fields: ["name"]), after: nil, limit: 10)
                #expect(page.invalid.isEmpty, "\(name)")
                #expect(page.records.first?.fields["name"] == "caf\u{FFFD}", "\(name)")
            }
        }
    }

    @Test func withTheFormulaGuardOffTextIsWrittenAndReadAsItIs() async throws {
        try await withTemporaryDirectory { directory in
            let spoke = CSVSpoke(system: "s", directory: directory.path, options: FileOptions(formulaGuard: false))
            let binding = ObjectBinding(entity: "x", object: "f.csv", fields: ["text"])
            _ = try await spoke.write(binding, [.create(key: "a", fields: ["text": "=1+1"]), .create(key: "b", fields: ["text": "'=x"])])
            #expect(try Self.contents(directory.path("f.csv")) == "id,text\na,=1+1\nb,'=x\n")
            #expect(try await spoke.read(binding, after: nil, limit: 10).records.map { $0.fields["text"] } == ["=1+1", "'=x"])
        }
    }

    @Test func theRecordSizeLimitIsASetting() async throws {
        try await withTemporaryDirectory { directory in
            let row = String(repeating: "y", count: 2000)
            try Self.write("{\"id\":\"1\",\"t\":\"\(row)\"}\n{\"id\":\"2\"}\n", to: directory.path("p.jsonl"))
            let small = JSONLSpoke(system: "e", directory: directory.path, options: FileOptions(maxRecordBytes: 1024))
            let page = try await small.read(ObjectBinding(entity: "x", object: "p.jsonl", fields: ["t"]), after: nil, limit: 10)
            #expect(page.records.map(\.id) == ["2"])
            #expect(page.invalid.first?.message.hasPrefix("the record is larger than 1 KiB") == true, "\(page.invalid)")
        }
    }
}
