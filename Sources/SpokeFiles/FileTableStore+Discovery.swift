import Foundation
import HubCore

extension FileTableStore {
    /// The files of the directory ending in `fileExtension`, and the bound files, with the fields
    /// their first records hold. CSV fields are untyped text (`any`); JSON Lines fields get the
    /// kind their sampled values have.
    func discover(_ objects: [ObjectBinding], fileExtension: String, typed: Bool) throws -> SpokeSchema {
        var names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(fileExtension) }.sorted()
        for binding in objects where !names.contains(binding.object) { names.append(binding.object) }
        var out: [DiscoveredObject] = []
        for name in names {
            let binding = objects.first { $0.object == name } ?? ObjectBinding(entity: "", object: name, fields: [])
            let sample = try self.sample(binding, count: 50)
            var object = DiscoveredObject.inferred(name: name, from: sample, keys: [binding.idField])
            if !typed {
                object.fields = object.fields.map { CSVFormat.field($0.name, isKey: $0.isKey) }
            }
            object.fromSample = typed
            out.append(object)
        }
        return SpokeSchema(objects: out)
    }

    /// The fields of the file's first `count` data rows (the header alone for a CSV file without rows).
    func sample(_ binding: ObjectBinding, count: Int) throws -> [[String: Value]] {
        let path = try path(for: binding)
        guard var file = try open(path, binding) else { return [] }
        defer { file.close() }
        guard let layout = file.layout else { return [] }
        var rows: [[String: Value]] = []
        try run(binding) {
            while rows.count < count, let row = try format.readRow(&file.reader, layout: layout) {
                if !format.isBlank(row) { rows.append(format.fields(of: row, layout: layout)) }
            }
            if rows.isEmpty {
                // A header without rows still names the columns.
                let empty = format.fields(of: format.makeRow([:], layout: layout), layout: layout)
                if !empty.isEmpty { rows.append(empty.mapValues { _ in Value.null }) }
            }
        }
        return rows
    }
}
