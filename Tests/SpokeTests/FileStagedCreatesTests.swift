import Foundation
import HubCore
import SpokeFiles
import Testing

/// Creates staged over several batches reach a file in one atomic rewrite at the commit.
@Suite struct FileStagedCreatesTests {
    static func contents(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    static func creates(_ range: ClosedRange<Int>) -> [SpokeWrite] {
        range.map { .create(key: "k\($0)", fields: ["name": .string("n\($0)")]) }
    }

    /// Temporary files of unfinished rewrites left in `directory`.
    static func temporaryFiles(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".hubctl-tmp") }
    }

    static let binding = ObjectBinding(entity: "thing", object: "things.csv", idField: "id", fields: ["name"])

    @Test("Batches of staged creates leave the file alone until the commit writes them all at once")
    func stagedBatchesAreWrittenAtTheCommit() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("things.csv")
            // An existing file with a byte order mark, CRLF line ends and an unreadable row: all kept.
            let original = "\u{FEFF}id,name\r\nold,\"a, b\"\r\nx,too,many\r\n"
            try Data(original.utf8).write(to: URL(fileURLWithPath: path))
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let staging = try #require(try await spoke.stageCreates(Self.binding))
            #expect(try await staging.stage(Self.creates(1...2)))
            #expect(try await staging.stage(Self.creates(3...3)))
            #expect(try Self.contents(path) == original)
            try await staging.commit()
            #expect(try Self.contents(path) == original + "k1,n1\r\nk2,n2\r\nk3,n3\r\n")
            #expect(try Self.temporaryFiles(in: directory.path).isEmpty)
        }
    }

    @Test("A batch with a key that is already a row's ID, in the file or staged, is not staged; a missing file is created")
    func keysAlreadyUsedAreNotStaged() async throws {
        try await withTemporaryDirectory { directory in
            let spoke = JSONLSpoke(system: "feed", directory: directory.path)
            var binding = Self.binding
            binding.object = "things.jsonl"
            let staging = try #require(try await spoke.stageCreates(binding))
            #expect(try await staging.stage(Self.creates(1...2)))
            #expect(try await !staging.stage(Self.creates(2...3)))
            #expect(try await !staging.stage(Self.creates(3...3) + Self.creates(3...3)))
            #expect(try await staging.stage(Self.creates(3...3)))
            try await staging.commit()
            #expect(try Self.contents(directory.path("things.jsonl")).split(separator: "\n").count == 3)
            // Again, in a later push: nothing new, the file is not rewritten.
            let before = try FileManager.default.attributesOfItem(atPath: directory.path("things.jsonl"))[.modificationDate] as? Date
            let again = try #require(try await spoke.stageCreates(binding))
            #expect(try await !again.stage(Self.creates(1...3)))
            try await again.commit()
            #expect(try await spoke.write(binding, Self.creates(1...3)) == (1...3).map { .created(ExternalID("k\($0)")) })
            let after = try FileManager.default.attributesOfItem(atPath: directory.path("things.jsonl"))[.modificationDate] as? Date
            #expect(before == after)
            let ids = try await spoke.scanIDs(binding, after: nil, limit: 10).ids.map(\.rawValue)
            #expect(ids == ["k1", "k2", "k3"])
        }
    }

    @Test("Updates, deletes and creates that set their own ID are not staged")
    func onlyPlainCreatesAreStaged() async throws {
        try await withTemporaryDirectory { directory in
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let staging = try #require(try await spoke.stageCreates(Self.binding))
            #expect(try await !staging.stage([.update(id: "k1", fields: ["name": "x"])]))
            #expect(try await !staging.stage([.delete(id: "k1")]))
            #expect(try await !staging.stage([.create(key: "k1", fields: ["id": "other", "name": "x"])]))
            #expect(try await staging.stage(Self.creates(1...1)))
            // A column the header lacks, once the header is written, waits for a rewrite.
            #expect(try await !staging.stage([.create(key: "k2", fields: ["name": "x", "extra": "y"])]))
            try await staging.commit()
            #expect(try Self.contents(directory.path("things.csv")) == "id,name\nk1,n1\n")
        }
    }

    @Test("The commit writes nothing when the file changed after the creates were staged")
    func aFileChangedMeanwhileIsNotOverwritten() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("things.csv")
            try Data("id,name\na,1\n".utf8).write(to: URL(fileURLWithPath: path))
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let staging = try #require(try await spoke.stageCreates(Self.binding))
            #expect(try await staging.stage(Self.creates(1...1)))
            try Data("id,name\na,1\nb,someone else's edit\n".utf8).write(to: URL(fileURLWithPath: path))
            await #expect(throws: SpokeError.self) { try await staging.commit() }
            #expect(try Self.contents(path) == "id,name\na,1\nb,someone else's edit\n")
            #expect(try Self.temporaryFiles(in: directory.path).isEmpty)
        }
    }

    @Test("A missing file that nothing was staged for is not created")
    func nothingStagedCreatesNoFile() async throws {
        try await withTemporaryDirectory { directory in
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let staging = try #require(try await spoke.stageCreates(Self.binding))
            #expect(try await !staging.stage(Self.creates(1...1) + Self.creates(1...1)))
            try await staging.commit()
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        }
    }

    @Test("Discarded staged creates leave the file as it was")
    func discardLeavesTheFile() async throws {
        try await withTemporaryDirectory { directory in
            let spoke = CSVSpoke(system: "sheet", directory: directory.path)
            let staging = try #require(try await spoke.stageCreates(Self.binding))
            #expect(try await staging.stage(Self.creates(1...5)))
            await staging.discard()
            #expect(!FileManager.default.fileExists(atPath: directory.path("things.csv")))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        }
    }
}
