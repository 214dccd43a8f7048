import Foundation
import HubCore
import HubTesting
import SpokeFiles
import Testing

@Suite struct CSVSpokeTests {
    // MARK: - Fixtures

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    static func contents(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    static func readAll(_ spoke: some Spoke, _ binding: ObjectBinding, from cursor: Cursor? = nil,
                        limit: Int = 100) async throws -> (records: [SpokeRecord], next: Cursor?) {
        var records: [SpokeRecord] = []
        var cursor = cursor
        while true {
            let page = try await spoke.read(binding, after: cursor, limit: limit)
            records += page.records
            cursor = page.next
            if page.isLast { return (records, cursor) }
        }
    }

    /// A spoke over a new file in `directory`; the edit rewrites the record's line in a text
    /// editor's way, setting the name and a millisecond timestamp in `updated`.
    static func subject(_ directory: TemporaryDirectory, cursor: String?) -> SpokeConformance.Subject {
        let name = "\(UUID().uuidString).csv"
        let spoke = CSVSpoke(system: "sheet", directory: directory.path)
        let binding = ObjectBinding(entity: "thing", object: name, idField: "id", cursorField: cursor,
                                    fields: ["name", "score", "updated"])
        let path = directory.path(name)
        var missing = binding
        missing.object = "missing-" + name
        return SpokeConformance.Subject(spoke: spoke, binding: binding, missingObject: missing) { id, fields in
            // Rows look like: id,"name, with commas",score,updated
            var lines = try Self.contents(path).components(separatedBy: "\n")
            guard let index = lines.firstIndex(where: { $0.hasPrefix("\(id.rawValue),") }) else { return }
            let cells = lines[index].split(separator: ",", omittingEmptySubsequences: false)
            let score = cells[cells.count - 2]
            let newName = fields["name"]?.stringValue ?? "?"
            lines[index] = "\(id.rawValue),\(newName),\(score),\(Int(Date().timeIntervalSince1970 * 1000))"
            try Self.write(lines.joined(separator: "\n"), to: path)
        }
    }

    // MARK: - Conformance

    @Test func csvSpokePassesTheConformanceSuite() async throws {
        try await withTemporaryDirectory { directory in
            try await SpokeConformance { Self.subject(directory, cursor: "updated") }.run()
        }
    }

    @Test func csvSpokeWithoutACursorPassesTheConformanceSuite() async throws {
        try await withTemporaryDirectory { directory in
            try await SpokeConformance { Self.subject(directory, cursor: nil) }.run()
        }
    }

    // MARK: - Quoting and encodings

    @Test func awkwardCellsRoundTripThroughQuoting() async throws {
        try await withTemporaryDirectory { directory in
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "note", object: "notes.csv", fields: ["text"])
            let values = ["a,b", "say \"hi\"", "two\nlines", "crlf\r\ninside", "=SUM(A1:A9)", "  padded ", "\"", ",",
                          "ünï 🚀", "trailing,", "'quote'"]
            let writes = values.enumerated().map { SpokeWrite.create(key: "n\($0.offset)", fields: ["text": .string($0.element)]) }
            #expect(try await spoke.write(binding, writes) == values.indices.map { .created(ExternalID("n\($0)")) })
            let read = try await Self.readAll(spoke, binding, limit: 2).records
            #expect(read.map { $0.fields["text"]?.stringValue } == values)
            let text = try Self.contents(directory.path("notes.csv"))
            #expect(text.hasPrefix("id,text\nn0,\"a,b\"\nn1,\"say \"\"hi\"\"\"\nn2,\"two\nlines\"\n"))
            // The formula guard (on by default) keeps a spreadsheet from running it.
            #expect(text.contains("\nn4,'=SUM(A1:A9)\n"))
        }
    }

    @Test func aByteOrderMarkIsToleratedAndKept() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("people.csv")
            try Self.write("\u{FEFF}id,name\n1,Ada\n2,Grace\n", to: path)
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "person", object: "people.csv", fields: ["name"])
            let records = try await Self.readAll(spoke, binding).records
            #expect(records.map(\.id) == ["1", "2"])
            #expect(records.first?.fields == ["id": "1", "name": "Ada"])
            #expect(try await spoke.write(binding, [.update(id: "2", fields: ["name": "Grace H."])]) == [.updated])
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("\u{FEFF}id,name\n1,Ada\n2,Grace H.\n".utf8))
        }
    }

    @Test func crlfLineEndsAreReadAndKept() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("people.csv")
            try Self.write("id,name,city\r\n1,Ada,\"London\r\nUK\"\r\n2,Grace,Arlington\r\n3,Linus,Helsinki", to: path)
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "person", object: "people.csv", fields: ["name", "city"])
            let records = try await Self.readAll(spoke, binding, limit: 1).records
            #expect(records.map(\.id) == ["1", "2", "3"])
            #expect(records[0].fields["city"] == "London\r\nUK")
            #expect(records[2].fields["city"] == "Helsinki")
            let results = try await spoke.write(binding, [.update(id: "2", fields: ["city": "Washington"]),
                                                          .create(key: "4", fields: ["name": "Barbara", "city": "Boston"])])
            #expect(results == [.updated, .created("4")])
            #expect(try Self.contents(path)
                == "id,name,city\r\n1,Ada,\"London\r\nUK\"\r\n2,Grace,Washington\r\n3,Linus,Helsinki\r\n4,Barbara,Boston\r\n")
        }
    }

    @Test func anEmptyCellReadsAsNullAndMissingCellsToo() async throws {
        try await withTemporaryDirectory { directory in
            try Self.write("id,name,phone,email\n1,,\"\",a@example.com\n2,Grace\n", to: directory.path("people.csv"))
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "person", object: "people.csv", fields: ["name", "phone", "email"])
            let records = try await spoke.fetch(binding, ids: ["1", "2"])
            #expect(records.first { $0.id == "1" }?.fields == ["id": "1", "name": nil, "phone": nil, "email": "a@example.com"])
            #expect(records.first { $0.id == "2" }?.fields == ["id": "2", "name": "Grace", "phone": nil, "email": nil])
            // An empty string and null are both an empty cell.
            _ = try await spoke.write(binding, [.update(id: "2", fields: ["name": "", "phone": nil, "email": 42])])
            #expect(try await spoke.fetch(binding, ids: ["2"]).first?.fields == ["id": "2", "name": nil, "phone": nil, "email": "42"])
        }
    }

    @Test func unnamedTrailingColumnsAndTrailingDelimitersAreTolerated() async throws {
        try await withTemporaryDirectory { directory in
            try Self.write("id,name,,\n1,Ada,,\n2,Grace\n", to: directory.path("export.csv"))
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "person", object: "export.csv", fields: ["name"])
            #expect(try await spoke.check([binding]).first?.problems == [])
            let records = try await Self.readAll(spoke, binding).records
            #expect(records.map(\.fields) == [["id": "1", "name": "Ada"], ["id": "2", "name": "Grace"]])
        }
    }

    @Test func otherDelimitersWork() async throws {
        try await withTemporaryDirectory { directory in
            try Self.write("id;name\n1;\"a;b\"\n", to: directory.path("semi.csv"))
            let spoke = CSVSpoke(system: "sheet", directory: directory.path, delimiter: ";")
            let binding = ObjectBinding(entity: "x", object: "semi.csv", fields: ["name"])
            #expect(try await spoke.fetch(binding, ids: ["1"]).first?.fields["name"] == "a;b")
            _ = try await spoke.write(binding, [.create(key: "2", fields: ["name": "c,d;e"])])
            #expect(try Self.contents(directory.path("semi.csv")) == "id;name\n1;\"a;b\"\n2;\"c,d;e\"\n")

            let bad = CSVSpoke(system: "sheet", directory: directory.path, delimiter: "\"")
            let error = await #expect(throws: SpokeError.self) { try await bad.read(binding, after: nil, limit: 1) }
            #expect(error?.kind == .configuration)
        }
    }

    // MARK: - Pushes

    @Test func aPushAddsColumnsTheHeaderLacksAndKeepsOtherRowsByteForByte() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("people.csv")
            try Self.write("id,name\n1,\"Ada\"\n2,Grace\n", to: path)
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "person", object: "people.csv", fields: ["name", "phone", "email"])
            let results = try await spoke.write(binding, [.update(id: "2", fields: ["email": "g@example.com", "zeta": true, "phone": "555"])])
            #expect(results == [.updated])
            #expect(try Self.contents(path) == "id,name,phone,email,zeta\n1,\"Ada\"\n2,Grace,555,g@example.com,true\n")
            #expect(try await spoke.fetch(binding, ids: ["1"]).first?.fields["email"] == .null)
        }
    }

    @Test func theFirstPushCreatesAMissingFileWithTheBindingsColumns() async throws {
        try await withTemporaryDirectory { directory in
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "customer", object: "customers.csv", idField: "Row ID",
                                        fields: ["Email", "First", "Last"])
            let check = try await spoke.check([binding])
            #expect(check.map(\.problems) == [[]])
            #expect(check.map(\.missingObject) == ["'customers.csv' does not exist in '\(directory.path)'"])
            #expect(check.first?.warnings.first?.hasSuffix("does not exist in '\(directory.path)' yet; the first push creates it") == true)
            let read = await #expect(throws: SpokeError.self) { try await Self.readAll(spoke, binding) }
            #expect(read?.kind == .missingObject)
            // Updates and deletes of a missing file create nothing.
            let write = await #expect(throws: SpokeError.self) {
                try await spoke.write(binding, [.update(id: "x", fields: ["Email": "a"]), .delete(id: "y")])
            }
            #expect(write?.kind == .missingObject)
            #expect(try directory.fileNames().isEmpty)

            let results = try await spoke.write(binding, [.create(key: "hub-1", fields: ["Last": "Lovelace", "Email": "ada@example.com"])])
            #expect(results == [.created("hub-1")])
            #expect(try Self.contents(directory.path("customers.csv")) == "Row ID,Email,First,Last\nhub-1,ada@example.com,,Lovelace\n")
        }
    }

    @Test func rewritesAreAtomicAndLeaveNoTemporaryFiles() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("people.csv")
            try Self.write("id,name\n1,Ada\n", to: path)
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "person", object: "people.csv", fields: ["name"])
            for round in 0..<5 {
                _ = try await spoke.write(binding, [.create(key: "k\(round)", fields: ["name": .string("N\(round)")]),
                                                    .update(id: "1", fields: ["name": .string("Ada \(round)")])])
            }
            #expect(try directory.fileNames() == ["people.csv"])
            #expect(try await Self.readAll(spoke, binding).records.count == 6)

            // A failed rewrite leaves the file as it was, and no temporary file either.
            try Self.write("id,name\n1,Ada\n1,Again\n", to: path)
            let error = await #expect(throws: SpokeError.self) {
                try await spoke.write(binding, [.update(id: "1", fields: ["name": "x"])])
            }
            #expect(error?.kind == .malformed)
            #expect(error?.message.contains("line 3") == true)
            #expect(try Self.contents(path) == "id,name\n1,Ada\n1,Again\n")
            #expect(try directory.fileNames() == ["people.csv"])
        }
    }

    @Test func aCreateOfAnExistingIDFailsOnlyThatRecord() async throws {
        try await withTemporaryDirectory { directory in
            try Self.write("id,name\n1,Ada\n", to: directory.path("people.csv"))
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "person", object: "people.csv", fields: ["name"])
            let results = try await spoke.write(binding, [.create(key: "hub-9", fields: ["id": "1", "name": "Clash"]),
                                                          .create(key: "hub-8", fields: ["name": "New"])])
            #expect(results.first.map { if case .failed = $0 { true } else { false } } == true)
            #expect(results.last == .created("hub-8"))
            #expect(try Self.contents(directory.path("people.csv")) == "id,name\n1,Ada\nhub-8,New\n")
        }
    }

    // MARK: - Malformed files

    @Test(arguments: [
        ("id,name\n1,Ada\n2,\"Grace\n3,Linus\n", "line 3", "not closed"),
        ("id,name,id\n1,Ada,1\n", "line 1", "'id' twice"),
        ("id,name\n1,\"Ada\"x\n", "line 2", "closing quote"),
        ("id,name\n1,\"multi\nline\"\n2,\"open\n", "line 4", "not closed"),
    ])
    func malformedFilesAreErrorsNamingTheLine(text: String, line: String, detail: String) async throws {
        try await withTemporaryDirectory { directory in
            try Self.write(text, to: directory.path("bad.csv"))
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "person", object: "bad.csv", fields: ["name"])
            let error = await #expect(throws: SpokeError.self) { try await Self.readAll(spoke, binding) }
            #expect(error?.kind == .malformed)
            #expect(error?.message.contains(line) == true, "\(error?.message ?? "")")
            #expect(error?.message.contains(detail) == true, "\(error?.message ?? "")")
            let problems = try await spoke.check([binding]).first?.problems ?? []
            #expect(problems.count == 1)
        }
    }

    @Test(arguments: [
        ("id,name\n1,Ada\n2,Grace,extra\n3,Linus\n", "line 3", "3 cells"),
        ("id,name\n1,Ada\n,Nobody\n3,Linus\n", "line 3", "no ID"),
    ])
    func aRowThatCannotBeReadIsReportedAndTheOthersAreRead(text: String, line: String, detail: String) async throws {
        try await withTemporaryDirectory { directory in
            try Self.write(text, to: directory.path("bad.csv"))
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "person", object: "bad.csv", fields: ["name"])
            let page = try await spoke.read(binding, after: nil, limit: 10)
            #expect(page.records.map(\.id) == ["1", "3"])
            #expect(page.invalid.count == 1)
            #expect(page.invalid.first?.pointer == line)
            #expect(page.invalid.first?.message.contains(detail) == true)
            #expect(try await spoke.check([binding]).first?.problems.count == 1)
            // A push keeps the unreadable row as it was.
            #expect(try await spoke.write(binding, [.update(id: "3", fields: ["name": "Linux"])]) == [.updated])
            #expect(try Self.contents(directory.path("bad.csv")) == text.replacingOccurrences(of: "3,Linus", with: "3,Linux"))
        }
    }

    // MARK: - Cursors and pages

    @Test func cursorValuesCompareAsNumbersWhenTheyAreNumbers() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("v.csv")
            try Self.write("id,version\na,9\nb,10\nc,\nd,2\n", to: path)
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "x", object: "v.csv", cursorField: "version", fields: [])
            let first = try await Self.readAll(spoke, binding, limit: 1)
            #expect(first.records.map(\.id) == ["a", "b", "c", "d"], "a full read includes the empty cursor")
            let second = try await Self.readAll(spoke, binding, from: first.next)
            #expect(second.records.map(\.id) == ["b"], "the row at the highest value (10, not 9) is read again")
            try Self.write("id,version\na,11\nb,10\nc,\nd,2\n", to: path)
            #expect(try await Self.readAll(spoke, binding, from: second.next).records.map(\.id) == ["a", "b"])
        }
    }

    @Test func aFileChangedBetweenPagesIsReadAgainFromTheStart() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("p.csv")
            try Self.write("id,name\n1,a\n2,b\n3,c\n", to: path)
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let binding = ObjectBinding(entity: "x", object: "p.csv", fields: ["name"])
            let first = try await spoke.read(binding, after: nil, limit: 2)
            #expect(first.records.map(\.id) == ["1", "2"])
            try Self.write("id,name\n0,z\n1,a\n2,b\n3,c\n", to: path)
            let rest = try await Self.readAll(spoke, binding, from: first.next)
            #expect(rest.records.map(\.id) == ["0", "1", "2", "3"])
        }
    }
}
