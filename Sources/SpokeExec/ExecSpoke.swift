import Foundation
import HubCore

/// A spoke whose system is reached by a connector: a program in any language that speaks the
/// JSON-lines protocol of docs/exec-protocol.md on its stdin and stdout.
///
/// The connector is started on first use with `command` (a program and its arguments; a
/// program path with a `/` is relative to the topology's folder, which is also its working
/// directory), receives `settings` in its first message (never as arguments, so secrets stay
/// out of process listings), and lives as long as the spoke. Reads, ID scans, fetches, write
/// batches, checks and discovery are each one request and one answer. The connector owns its
/// cursors: hubctl stores the text it returns and hands it back.
///
/// For example:
/// ```swift
/// let tickets = ExecSpoke(system: "tickets", command: ["python3", "connectors/tickets.py"],
///                         directory: "/srv/hub", settings: ["data_dir": "data"])
/// let page = try await tickets.read(binding, after: nil, limit: 500)
/// ```
public struct ExecSpoke: Spoke {
    public let system: SystemName
    public let capabilities: SpokeCapabilities
    let process: ExecProcess
    let pages: PaginationGuard

    /// The longest answer line accepted by default: 64 MiB.
    public static let defaultMaxLineBytes = 64 << 20

    /// - Parameters:
    ///   - command: the program and its arguments.
    ///   - directory: the working directory; relative program paths are resolved against it.
    ///   - settings: handed to the connector in its `open` message.
    ///   - tombstones: true when the connector reports deleted records in incremental reads
    ///     (then hubctl makes no ID scans).
    ///   - timeout: seconds to wait for any one answer; a connector that takes longer is stopped.
    ///   - maxLineBytes: the longest answer line accepted; a longer one stops the connector.
    ///   - maxPages: pages one read or ID scan may have before it is stopped as endless.
    ///   - grace: seconds a stopped connector has between SIGTERM and SIGKILL.
    ///   - secrets: values scrubbed from what the connector prints on stderr and from its error messages.
    public init(system: SystemName, command: [String], directory: String, settings: Value = [:], tombstones: Bool = false,
                timeout: Double = 60, maxLineBytes: Int = ExecSpoke.defaultMaxLineBytes,
                maxPages: Int = PaginationGuard.defaultMaxPages, grace: Double = 3, secrets: Set<String> = []) {
        self.system = system
        self.capabilities = SpokeCapabilities(incrementalReads: true, tombstones: tombstones, batchWrites: true)
        self.process = ExecProcess(system: system, command: command, directory: directory, settings: settings,
                                   timeout: timeout, maxLineBytes: maxLineBytes, grace: grace, secrets: secrets)
        self.pages = PaginationGuard(maxPages: maxPages)
    }

    /// The keys an exec system's `connection` may hold.
    public static let connectionKeys = ["command", "settings", "timeout", "tombstones", "max_line_mb", "max_pages"]

    /// The connector's process ID while it runs (started on first use, gone once stopped).
    public var processID: Int32? { get async { await process.processID } }

    /// Stops the connector (it is started again if the spoke is used again).
    public func stop() async { await process.stop() }

    static func binding(_ b: ObjectBinding) -> Value {
        var o: [String: Value] = ["name": .string(b.object), "entity": .string(b.entity.rawValue),
                                  "id_field": .string(b.idField), "fields": .array(b.fields.map(Value.string))]
        o["cursor_field"] = b.cursorField.map(Value.string) ?? .null
        return .object(o)
    }

    public func check(_ objects: [ObjectBinding]) async throws -> [SpokeCheckResult] {
        let answer = try await process.request("check", ["objects": .array(objects.map(Self.binding))], object: nil)
        let results = answer["results"]?.arrayValue ?? []
        return objects.enumerated().map { i, b in
            let r = i < results.count ? results[i] : .null
            return SpokeCheckResult(object: b.object,
                                    problems: (r.value(atPath: "problems")?.arrayValue ?? []).compactMap(\.stringValue),
                                    warnings: (r.value(atPath: "warnings")?.arrayValue ?? []).compactMap(\.stringValue))
        }
    }

    public func discover(_ objects: [ObjectBinding]) async throws -> SpokeSchema {
        let answer = try await process.request("discover", ["objects": .array(objects.map(Self.binding))], object: nil)
        let listed = answer["objects"]?.arrayValue ?? []
        return SpokeSchema(objects: listed.compactMap { o in
            guard let name = o.value(atPath: "name")?.stringValue else { return nil }
            let fields = (o.value(atPath: "fields")?.arrayValue ?? []).compactMap { f -> DiscoveredField? in
                guard let fieldName = f.value(atPath: "name")?.stringValue else { return nil }
                let type = f.value(atPath: "type")?.stringValue ?? "any"
                return DiscoveredField(name: fieldName, nativeType: type, kind: ValueKind(rawValue: type) ?? .any,
                                       isKey: f.value(atPath: "key")?.boolValue ?? false,
                                       nullable: f.value(atPath: "nullable")?.boolValue)
            }
            return DiscoveredObject(name: name, fields: fields)
        })
    }

    public func read(_ object: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> SpokePage {
        let answer = try await process.request("read", [
            "object": Self.binding(object), "cursor": cursor.map { .string($0.value) } ?? .null, "limit": .int(Int64(limit)),
        ], object: object.object)
        let records = try Self.records(answer["records"], system: system, object: object.object)
        let deleted = (answer["deleted"]?.arrayValue ?? []).compactMap(Self.id)
        let page = SpokePage(records: records, deleted: deleted, next: answer["next"]?.stringValue.map(Cursor.init),
                             isLast: answer["last"]?.boolValue ?? true)
        try advance("read", object, from: cursor, to: page.next, isLast: page.isLast)
        return page
    }

    /// Stops a read whose pages come round again or never end (see ``PaginationGuard``). A
    /// missing cursor is the start of the object: `"last": false` without a `next` reads it again.
    func advance(_ op: String, _ object: ObjectBinding, from cursor: Cursor?, to next: Cursor?, isLast: Bool) throws {
        let chain = "\(op) \(object.object) ", from = cursor?.value ?? "", to = next?.value ?? ""
        do {
            try pages.advance(from: chain + from, to: isLast ? nil : chain + to, startMarks: [from], marks: [to])
        } catch .repeated(let page) {
            throw SpokeError(.malformed, system: system, object: object.object, message:
                "the connector answered \(op) page \(page) with \"last\": false and a \"next\" cursor it had already given in this "
                    + "read, so the read would never end; it was stopped. The connector must move its cursor on every page")
        } catch .tooManyPages(let limit) {
            throw SpokeError(.malformed, system: system, object: object.object, message:
                "the connector's \(op) went past \(limit) pages without \"last\": true and was stopped; "
                    + "if the object really has that many pages, raise connection.max_pages")
        }
    }

    public func scanIDs(_ object: ObjectBinding, after cursor: Cursor?, limit: Int) async throws -> IDPage {
        let answer = try await process.request("scan_ids", [
            "object": Self.binding(object), "cursor": cursor.map { .string($0.value) } ?? .null, "limit": .int(Int64(limit)),
        ], object: object.object)
        let page = IDPage(ids: (answer["ids"]?.arrayValue ?? []).compactMap(Self.id),
                          next: answer["next"]?.stringValue.map(Cursor.init), isLast: answer["last"]?.boolValue ?? true)
        try advance("scan_ids", object, from: cursor, to: page.next, isLast: page.isLast)
        return page
    }

    public func fetch(_ object: ObjectBinding, ids: [ExternalID]) async throws -> [SpokeRecord] {
        guard !ids.isEmpty else { return [] }
        let answer = try await process.request("fetch", [
            "object": Self.binding(object), "ids": .array(ids.map { .string($0.rawValue) }),
        ], object: object.object)
        return try Self.records(answer["records"], system: system, object: object.object)
    }

    public func write(_ object: ObjectBinding, _ writes: [SpokeWrite]) async throws -> [SpokeWriteResult] {
        guard !writes.isEmpty else { return [] }
        let encoded: [Value] = writes.map { write in
            switch write {
            case .create(let key, let fields): return ["op": "create", "key": .string(key), "fields": .object(fields)]
            case .update(let id, let fields): return ["op": "update", "id": .string(id.rawValue), "fields": .object(fields)]
            case .delete(let id): return ["op": "delete", "id": .string(id.rawValue)]
            }
        }
        let answer = try await process.request("write", ["object": Self.binding(object), "writes": .array(encoded)],
                                               object: object.object)
        let results = answer["results"]?.arrayValue ?? []
        guard results.count == writes.count else {
            throw SpokeError(.malformed, system: system, object: object.object,
                             message: "the connector answered \(results.count) results for \(writes.count) writes; it must answer one per write, in order")
        }
        return try results.map { r in
            switch r.value(atPath: "status")?.stringValue {
            case "created"?:
                guard let id = Self.id(r.value(atPath: "id") ?? .null) else {
                    throw SpokeError(.malformed, system: system, object: object.object, message: "a created result has no id")
                }
                return .created(id)
            case "updated"?: return .updated
            case "deleted"?: return .deleted
            case "not_found"?: return .notFound
            case "failed"?: return .failed(r.value(atPath: "message")?.stringValue ?? "the connector refused the record")
            default:
                throw SpokeError(.malformed, system: system, object: object.object,
                                 message: "a write result's status must be created, updated, deleted, not_found or failed")
            }
        }
    }

    /// The records created earlier with these keys, when the connector can tell
    /// (`lookup_created`); nil when it cannot (it answers `unsupported`, or does not know the op).
    public func lookupCreated(_ object: ObjectBinding, keys: [String]) async throws -> [String: ExternalID]? {
        guard let answer = try await optional("lookup_created", ["object": Self.binding(object),
                                                                 "keys": .array(keys.map(Value.string))], object) else { return nil }
        var out: [String: ExternalID] = [:]
        for (key, value) in answer["ids"]?.objectValue ?? [:] where keys.contains(key) {
            if let id = Self.id(value) { out[key] = id }
        }
        return out
    }

    /// How many records the object holds, when the connector can tell cheaply (`count`).
    public func count(_ object: ObjectBinding) async throws -> Int? {
        guard let answer = try await optional("count", ["object": Self.binding(object)], object) else { return nil }
        return answer["count"]?.intValue.map { Int($0) }
    }

    /// Sends an optional request: nil when the connector answers `{"unsupported": true}` or a
    /// configuration error (a connector written before the op existed does not know it).
    func optional(_ op: String, _ fields: [String: Value], _ object: ObjectBinding) async throws -> [String: Value]? {
        do {
            let answer = try await process.request(op, fields, object: object.object)
            return answer["unsupported"]?.boolValue == true ? nil : answer
        } catch let error as SpokeError where error.kind == .configuration {
            return nil
        }
    }

    static func id(_ value: Value) -> ExternalID? {
        switch value {
        case .string(let s) where !s.isEmpty: return ExternalID(s)
        case .int(let i): return ExternalID(String(i))
        default: return nil
        }
    }

    static func records(_ value: Value?, system: SystemName, object: String) throws -> [SpokeRecord] {
        if let value, !value.isNull, value.arrayValue == nil {
            throw SpokeError(.malformed, system: system, object: object,
                             message: "the connector sent \"records\" that is not an array of records")
        }
        return try (value?.arrayValue ?? []).map { r in
            guard let id = r.value(atPath: "id").flatMap(id), let fields = r.value(atPath: "fields")?.objectValue else {
                throw SpokeError(.malformed, system: system, object: object,
                                 message: "the connector sent a record without an \"id\" or \"fields\" object")
            }
            return SpokeRecord(id: id, fields: fields)
        }
    }
}
