import ArgumentParser
import Foundation
import HubAdapters
import HubCore
import HubStewardship
import HubStore
import HubSync

/// `hubctl quarantine`: records that could not be synced, and retrying them.
struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "List records that could not be synced, retry them, or dismiss entries that no longer apply.",
        subcommands: [List.self, Retry.self, Dismiss.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List open quarantine entries: where the record is, why, and its redacted shape.")

        @OptionGroup var options: TopologyOptions
        @Flag(help: "Print one JSON document instead of a table.") var json = false

        func run() throws {
            let (console, _, store) = try openHub(options)
            let entries = try store.read { try $0.openQuarantine(limit: 100_000) }
            if json {
                console.out(JSONDocument.make("quarantine list", .object(["entries": .array(entries.map(\.json))]),
                                              generatedAt: Timestamp.string(Date())))
                return
            }
            guard !entries.isEmpty else {
                console.out("Nothing is quarantined.")
                return
            }
            var table = TextTable(["ID", "SYSTEM", "ENTITY", "DIR", "RECORD", "REASON", "MESSAGE"])
            for e in entries {
                table.add(["\(e.id ?? 0)", e.system.rawValue, e.entity.rawValue, e.direction.rawValue,
                           e.source ?? e.externalID?.rawValue ?? e.hubID?.rawValue ?? "-", e.reason.rawValue, e.message])
            }
            console.out(table.render())
            console.out("")
            console.out("Fix the record at its source, then `hubctl quarantine retry` (every sync-all retries them too); "
                        + "`hubctl quarantine dismiss ID --reason …` closes an entry that no longer applies.")
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry", abstract: "Retry quarantined records now: all of them, or the given entry IDs.")

        @OptionGroup var options: TopologyOptions
        @Argument(help: "Entry IDs from `hubctl quarantine list` (default: all).") var ids: [Int64] = []
        @Flag(help: "Print one JSON document instead of text.") var json = false

        func run() async throws {
            let (console, topology, store) = try openHub(options)
            let before = try store.read { try $0.openQuarantine(limit: 1_000_000) }
            let targeted = ids.isEmpty ? before : before.filter { ids.contains($0.id ?? -1) }
            for id in ids where !before.contains(where: { $0.id == id }) {
                console.error("no open quarantine entry \(id); `hubctl quarantine list` shows them")
                throw ExitCode(.failure)
            }
            let report: SyncReport
            do {
                report = try await SyncRunner.engine(topology, store: store).retryQuarantine(ids.isEmpty ? nil : ids)
            } catch {
                throw SyncRunner.exit(for: error, topology: topology, console: console)
            }
            let after = try store.read { try $0.openQuarantine(limit: 1_000_000) }
            let stillOpen = targeted.filter { t in after.contains { $0.id == t.id || Self.same($0, t) } }.count
            if json {
                console.out(JSONDocument.make("quarantine retry", .object([
                    "retried": .int(Int64(targeted.count)), "synced": .int(Int64(targeted.count - stillOpen)),
                    "still_quarantined": .int(Int64(stillOpen)), "report": report.json,
                ]), generatedAt: report.finishedAt))
            } else {
                console.out("Retried \(targeted.count): \(targeted.count - stillOpen) synced, \(stillOpen) still quarantined.")
                for (system, error) in report.systemErrors.sorted(by: { $0.key < $1.key }) {
                    console.out("system '\(system)' failed: \(error)")
                }
            }
            if stillOpen > 0 || !report.systemErrors.isEmpty { throw ExitCode(.partial) }
        }

        static func same(_ a: QuarantineEntry, _ b: QuarantineEntry) -> Bool {
            a.system == b.system && a.entity == b.entity && a.direction == b.direction && a.externalID == b.externalID
                && a.hubID == b.hubID
        }
    }
}

extension QuarantineCommand {
    struct Dismiss: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dismiss",
            abstract: "Close quarantine entries that no longer apply, recorded with who and why.",
            discussion: """
                The entries are closed and the dismissal is kept in the stewardship log (`hubctl history`). \
                A record that still cannot be synced is quarantined again, as a new entry, by the next run.

                Exit codes: 0 dismissed; 1 an ID is not an open entry (nothing is dismissed); 64 usage error; \
                75 a sync-all holds the hub.
                """)

        @OptionGroup var options: TopologyOptions
        @Argument(help: "Entry IDs from `hubctl quarantine list`.") var ids: [Int64]
        @OptionGroup var stewardship: StewardshipOptions

        func validate() throws {
            if ids.isEmpty { throw ValidationError("give the IDs of the entries to dismiss (see `hubctl quarantine list`)") }
        }

        func run() async throws {
            let (console, topology, store) = try openHub(options)
            let closed: [QuarantineEntry]
            do {
                closed = try Steward(runtime: SpokeFactory.runtime(topology), store: store)
                    .dismissQuarantine(ids, as: stewardship.attribution, dryRun: stewardship.dryRun)
            } catch {
                try reportFailure(error, console)
            }
            if stewardship.json {
                console.out(JSONDocument.make("quarantine dismiss", .object([
                    "dry_run": .bool(stewardship.dryRun), "dismissed": .array(closed.map(\.json)),
                ]), generatedAt: Timestamp.string(Date())))
                return
            }
            for e in closed {
                console.out("\(stewardship.dryRun ? "would dismiss" : "dismissed") #\(e.id ?? 0) \(e.system) \(e.entity) "
                            + "\(e.source ?? e.externalID?.rawValue ?? "-") [\(e.reason)]")
            }
            if stewardship.dryRun { console.out("Dry run: nothing was written.") }
        }
    }
}

extension QuarantineEntry {
    var json: Value {
        .object([
            "id": .int(id ?? 0), "run_id": .string(run.rawValue), "system": .string(system.rawValue),
            "entity": .string(entity.rawValue), "direction": .string(direction.rawValue),
            "external_id": externalID.map { .string($0.rawValue) } ?? .null, "hub_id": hubID.map { .string($0.rawValue) } ?? .null,
            "reason": .string(reason.rawValue), "message": .string(message), "source": source.map(Value.string) ?? .null,
            "excerpt": excerpt.map(Value.string) ?? .null, "created_at": .string(createdAt),
        ])
    }
}
