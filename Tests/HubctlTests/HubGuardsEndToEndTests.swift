import Foundation
import HubCore
import HubTestServers
import HubTesting
import Testing

/// The guards around opening a hub, through the binary: a hub a newer hubctl upgraded is refused
/// with nothing written; a hub address that points somewhere new is said, and a `HUBCTL_HUB` or
/// `--to` in a missing folder refused; `hub migrate` copies the webhook delivery IDs and names
/// the variables that chose the hub.
@Suite struct HubGuardsEndToEndTests {
    /// A hub a test chose with `HUBCTL_HUB` (so either pass of the end-to-end tests uses it):
    /// a SQLite file in the fixture's folder, or a schema of its own in the test cluster.
    struct ChosenHub {
        var environment: [String: String]
        var reader: FixtureHub
        /// How hubctl names it, with the variables that chose it.
        var description: String
        var password: String?

        init(_ kind: TestHubStore, in folder: String) throws {
            switch kind {
            case .sqlite:
                let file = folder + "/chosen hub.sqlite"
                environment = ["HUBCTL_HUB": file]
                reader = FixtureHub(sqliteFile: file)
                description = "\(file) (from HUBCTL_HUB)"
            case .postgres:
                let server = try TestServices.requirePostgres()
                let schema = "guard 'e2e' " + UUID().uuidString.prefix(8).lowercased()
                environment = ["HUBCTL_HUB": "postgres://\(server.user):${HUB_PW}@\(server.host):\(server.port)/\(server.database)",
                               "HUBCTL_HUB_SCHEMA": schema, "HUB_PW": server.password]
                reader = FixtureHub(postgresSchema: schema)
                description = "postgres://\(server.user)@\(server.host):\(server.port)/\(server.database)?schema=\(schema) "
                    + "(from HUBCTL_HUB and HUBCTL_HUB_SCHEMA)"
                password = server.password
            }
        }

        /// Every table of the hub, its rows as the tools print them, sorted.
        func dump() throws -> [String: [String]] {
            let tables = try reader.rows(reader.schema == nil
                ? "SELECT name FROM sqlite_master WHERE type = 'table'"
                : "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
            var out: [String: [String]] = [:]
            for table in tables { out[table] = try reader.rows("SELECT * FROM \"\(table)\"").sorted() }
            return out
        }

        /// Records a schema step no hubctl has: as a newer hubctl's migration would.
        func addFutureStep(_ identifier: String) throws {
            try reader.execute(reader.schema == nil
                ? "INSERT INTO grdb_migrations (identifier) VALUES ('\(identifier)')"
                : "INSERT INTO hub_migration (identifier, applied_at) VALUES ('\(identifier)', '2099-01-01T00:00:00.000Z')")
        }

        func removeFutureStep(_ identifier: String) throws {
            try reader.execute("DELETE FROM \(reader.schema == nil ? "grdb_migrations" : "hub_migration") WHERE identifier = '\(identifier)'")
        }

        /// Drops a PostgreSQL hub's schema.
        func drop() {
            guard let schema = reader.schema else { return }
            try? FixtureHub(postgresSchema: schema).execute("DROP SCHEMA \"\(schema.replacingOccurrences(of: "\"", with: "\"\""))\" CASCADE")
        }
    }

    @Test("A hub a newer hubctl upgraded: sync-all, run --once, status and the read commands exit 1 naming the hub and the step, and write nothing to the hub or the systems", arguments: TestHubStore.all)
    func aHubFromANewerHubctlIsRefused(_ kind: TestHubStore) throws {
        let tmp = try TemporaryDirectory()
        try SyncAllEndToEndTests.makeSystems(in: tmp.path)
        let topology = tmp.path + "/topology.json"
        let hub = try ChosenHub(kind, in: tmp.path)
        defer { hub.drop() }
        #expect(try HubctlProcess.run(["sync-all", "-t", topology], environment: hub.environment).exitCode == 0)
        let step = "v9: a table from the future"
        try hub.addFutureStep(step)
        // An edit a sync would carry to billing.
        try SyncAllEndToEndTests.execute(tmp.path + "/crm.db", "UPDATE contacts SET given_name = 'Anne' WHERE given_name = 'Ann'")
        let before = try hub.dump()
        #expect(before["entity"]?.count == 4)
        let writes = (try SyncAllEndToEndTests.writeCount(tmp.path + "/crm.db"), try SyncAllEndToEndTests.writeCount(tmp.path + "/billing.db"))
        let csv = try SyncAllEndToEndTests.csv(tmp.path)

        for command in [["sync-all"], ["sync-all", "--dry-run"], ["run", "--once", "--listen", "off"], ["status"], ["audit"],
                        ["check"], ["conflicts", "list"], ["hub", "migrate", "--to", tmp.path + "/copy.sqlite"]] {
            let result = try HubctlProcess.run(command + ["-t", topology], environment: hub.environment)
            #expect(result.exitCode == 1, "\(command): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains("Error: cannot open the hub \(hub.description): this hub was upgraded by a newer "
                                           + "hubctl (step \"\(step)\"), which this hubctl does not know; nothing was read or written"),
                    "\(command): \(result.stderr)")
            #expect(result.stderr.contains("Hint: run that hubctl version or a newer one on this hub"), "\(command): \(result.stderr)")
            if let password = hub.password { #expect(!(result.stdout + result.stderr).contains(password)) }
        }
        #expect(try hub.dump() == before)
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/copy.sqlite"))
        #expect(try SyncAllEndToEndTests.writeCount(tmp.path + "/crm.db") == writes.0)
        #expect(try SyncAllEndToEndTests.writeCount(tmp.path + "/billing.db") == writes.1)
        #expect(try SyncAllEndToEndTests.csv(tmp.path) == csv)

        // The refusal is the unknown step's alone: without it the same hub syncs the edit.
        try hub.removeFutureStep(step)
        let sync = try HubctlProcess.run(["sync-all", "-t", topology], environment: hub.environment)
        #expect(sync.exitCode == 0, "\(sync.stderr)")
        let names = try SyncAllEndToEndTests.rows(tmp.path + "/billing.db", "SELECT full_name FROM accounts WHERE email = 'ann@example.com'")
        #expect(names.first?["full_name"] as String? == "Anne Lee")
    }

    @Test("HUBCTL_HUB naming a file in a missing folder: sync-all, its dry run and run --once exit 78 naming the variable and the folder, and create nothing")
    func aHubVariableInAMissingFolderIsRefused() throws {
        let tmp = try TemporaryDirectory()
        try SyncAllEndToEndTests.makeSystems(in: tmp.path)
        let topology = tmp.path + "/topology.json"
        let folder = tmp.path + "/typo dir/it's"
        for command in [["sync-all"], ["sync-all", "--dry-run"], ["run", "--once", "--listen", "off"]] {
            let result = try HubctlProcess.run(command + ["-t", topology], environment: ["HUBCTL_HUB": folder + "/hub.sqlite"])
            #expect(result.exitCode == 78, "\(command): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains("Error: HUBCTL_HUB names the hub \(folder)/hub.sqlite, but its folder \(folder) does not exist"),
                    "\(command): \(result.stderr)")
            #expect(result.stderr.contains("Hint: correct HUBCTL_HUB, or create the folder first (mkdir -p '\(tmp.path)/typo dir/it'\\''s')"),
                    "\(command): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/typo dir"))
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/e2e.hub.sqlite"))
        #expect(try SyncAllEndToEndTests.writeCount(tmp.path + "/crm.db") == 0)
        #expect(try SyncAllEndToEndTests.writeCount(tmp.path + "/billing.db") == 0)
    }

    @Test("A command that creates a SQLite hub says so once on stderr, with the folder it made for the topology's hub; reading commands create none; hub migrate --to a missing folder exits 78")
    func creatingASQLiteHubIsSaid() throws {
        let tmp = try TemporaryDirectory()
        try SyncAllEndToEndTests.makeSystems(in: tmp.path)
        let topology = tmp.path + "/topology.json"
        try (try String(contentsOfFile: topology, encoding: .utf8))
            .replacingOccurrences(of: #""name": "e2e","#, with: #""name": "e2e", "hub": { "path": "hubs/new/e2e.hub.sqlite" },"#)
            .write(toFile: topology, atomically: true, encoding: .utf8)
        // An empty HUBCTL_HUB keeps the topology's hub in the PostgreSQL pass too.
        let own = ["HUBCTL_HUB": ""]
        let status = try HubctlProcess.run(["status", "-t", topology], environment: own)
        #expect(!status.stderr.contains("created a new hub"), "\(status.stderr)")
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/hubs"))

        let first = try HubctlProcess.run(["sync-all", "-t", topology], environment: own)
        #expect(first.exitCode == 0, "\(first.stderr)")
        #expect(first.stderr == "created a new hub at \(tmp.path)/hubs/new/e2e.hub.sqlite and its folder \(tmp.path)/hubs/new\n")
        let second = try HubctlProcess.run(["sync-all", "-t", topology], environment: own)
        #expect(second.exitCode == 0 && second.stderr.isEmpty, "\(second.stderr)")
        #expect(try FixtureHub(sqliteFile: tmp.path + "/hubs/new/e2e.hub.sqlite").int("SELECT count(*) FROM run") == 2)

        let chosen = try HubctlProcess.run(["sync-all", "-t", topology], in: tmp.path, environment: ["HUBCTL_HUB": "other.hub.sqlite"])
        #expect(chosen.stderr == "created a new hub at \(tmp.path)/other.hub.sqlite (from HUBCTL_HUB)\n", "\(chosen.stderr)")

        let missing = try HubctlProcess.run(["hub", "migrate", "-t", topology, "--to", tmp.path + "/nowhere/copy.sqlite"], environment: own)
        #expect(missing.exitCode == 78, "\(missing.stdout)\(missing.stderr)")
        #expect(missing.stderr.contains("Error: --to names the hub \(tmp.path)/nowhere/copy.sqlite, but its folder \(tmp.path)/nowhere does not exist"),
                "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/nowhere"))
        let copied = try HubctlProcess.run(["hub", "migrate", "-t", topology, "--to", tmp.path + "/copy.sqlite"], environment: own)
        #expect(copied.exitCode == 0, "\(copied.stdout)\(copied.stderr)")
        #expect(copied.stderr == "created a new hub at \(tmp.path)/copy.sqlite (from --to)\n", "\(copied.stderr)")
    }

    @Test("A command that creates a PostgreSQL hub (a new schema) says so once on stderr, without the password",
          .enabled(if: TestServices.runPostgresTests, "needs PostgreSQL: run scripts/with-test-services.sh swift test"))
    func creatingAPostgresHubIsSaid() throws {
        let tmp = try TemporaryDirectory()
        try SyncAllEndToEndTests.makeSystems(in: tmp.path)
        let topology = tmp.path + "/topology.json"
        let hub = try ChosenHub(.postgres, in: tmp.path)
        defer { hub.drop() }
        let first = try HubctlProcess.run(["sync-all", "-t", topology], environment: hub.environment)
        #expect(first.exitCode == 0, "\(first.stderr)")
        #expect(first.stderr == "created a new hub at \(hub.description)\n", "\(first.stderr)")
        let second = try HubctlProcess.run(["sync-all", "-t", topology], environment: hub.environment)
        #expect(second.exitCode == 0 && second.stderr.isEmpty, "\(second.stderr)")
        #expect(try hub.reader.int("SELECT count(*) FROM run") == 2)
        #expect(!(first.stdout + first.stderr).contains(try #require(hub.password)))
    }

    @Test("hub migrate copies the webhook delivery IDs kept beside a SQLite hub, and, HUBCTL_HUB having chosen the hub, says to point HUBCTL_HUB at the copy, which then syncs quietly", arguments: TestHubStore.all)
    func migrateCopiesDeliveriesAndNamesTheVariable(_ kind: TestHubStore) throws {
        let tmp = try TemporaryDirectory()
        try SyncAllEndToEndTests.makeSystems(in: tmp.path)
        let topology = tmp.path + "/topology.json"
        let source = tmp.path + "/a hub.sqlite"
        #expect(try HubctlProcess.run(["sync-all", "-t", topology], environment: ["HUBCTL_HUB": source]).exitCode == 0)
        // The delivery file `hubctl run` keeps beside the hub, as WebhookDeliveryStore writes it.
        let stamp = Timestamp.string(Date())
        let delivered = FixtureHub(sqliteFile: source + "-webhooks")
        try delivered.execute("""
            CREATE TABLE webhook_delivery (system TEXT NOT NULL, delivery_id TEXT NOT NULL, received_at TEXT NOT NULL,
                PRIMARY KEY (system, delivery_id)) WITHOUT ROWID;
            INSERT INTO webhook_delivery VALUES ('crm', 'd-1', '\(stamp)'), ('billing', 'it''s "2"', '\(stamp)')
            """)
        let kept = try delivered.rows("SELECT system, delivery_id, received_at FROM webhook_delivery ORDER BY 1, 2")

        let target = try ChosenHub(kind, in: tmp.path + "/target")
        defer { target.drop() }
        let to: [String], copy: FixtureHub, deliveries: FixtureHub, advised: [String: String]
        switch kind {
        case .sqlite:
            try FileManager.default.createDirectory(atPath: tmp.path + "/target", withIntermediateDirectories: true)
            let file = try #require(target.environment["HUBCTL_HUB"])
            (to, copy, deliveries) = (["--to", file], target.reader, FixtureHub(sqliteFile: file + "-webhooks"))
            advised = ["HUBCTL_HUB": file]
        case .postgres:
            let url = try #require(target.environment["HUBCTL_HUB"]), schema = try #require(target.environment["HUBCTL_HUB_SCHEMA"])
            (to, copy, deliveries) = (["--to", url, "--schema", schema], target.reader, target.reader)
            advised = ["HUBCTL_HUB": url, "HUBCTL_HUB_SCHEMA": schema]
        }
        let migrate = try HubctlProcess.run(["hub", "migrate", "-t", topology] + to,
                                            environment: ["HUBCTL_HUB": source, "HUB_PW": target.environment["HUB_PW"] ?? ""])
        #expect(migrate.exitCode == 0, "\(migrate.stdout)\(migrate.stderr)")
        let where_ = kind == .sqlite ? "\(advised["HUBCTL_HUB"]!)-webhooks"
            : "the webhook_delivery table of \(target.description.replacingOccurrences(of: " (from HUBCTL_HUB and HUBCTL_HUB_SCHEMA)", with: ""))"
        #expect(migrate.stdout.hasPrefix("hub migrate: \(source) (from HUBCTL_HUB) → "), "\(migrate.stdout)")
        #expect(migrate.stdout.contains("Webhook delivery IDs: 2 IDs copied from \(source)-webhooks to \(where_) (2 new there), "
                                        + "so a delivery accepted before the move is still refused as a replay."), "\(migrate.stdout)")
        let settings = advised.sorted { $0.key < $1.key }.map { "set \($0.key)='\($0.value.replacingOccurrences(of: "'", with: "'\\''"))'" }.joined(separator: " and ")
        #expect(migrate.stdout.contains("Copied and verified. The hub copied was chosen by HUBCTL_HUB, not by the topology: now "
                                        + "\(settings) (or unset HUBCTL_HUB and set the topology's hub to "), "\(migrate.stdout)")
        #expect(try deliveries.rows("SELECT system, delivery_id, received_at FROM webhook_delivery ORDER BY 1, 2") == kept)
        #expect(try copy.int("SELECT count(*) FROM entity") == 4)

        // Done as advised, the copy is the hub: nothing created, nothing to sync.
        let json = try HubctlProcess.run(["hub", "migrate", "-t", topology, "--json", "--replace"] + to,
                                         environment: ["HUBCTL_HUB": source, "HUB_PW": target.environment["HUB_PW"] ?? ""])
        #expect(json.exitCode == 0, "\(json.stderr)")
        #expect(try json.result().objectValue?["set_environment"] == .object(advised.mapValues { .string($0) }))
        #expect(try json.result().objectValue?["source_from"] == "HUBCTL_HUB")
        let after = try HubctlProcess.run(["sync-all", "-t", topology, "--json"], environment: target.environment)
        #expect(after.exitCode == 0 && after.stderr.isEmpty, "\(after.stderr)")
        let pulled = try after.result().objectValue?["totals"]?.objectValue?["pull"]?.objectValue
        #expect(pulled?["created"] == 0 && pulled?["updated"] == 0, "\(after.stdout)")
    }
}
