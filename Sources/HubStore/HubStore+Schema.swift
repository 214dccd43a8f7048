import GRDB
import Foundation
import HubCore

/// One step of the hub's schema, in SQLite's dialect (PostgreSQL's is derived by
/// ``HubDialect/ddl(_:)``, or written out in `postgres` where SQLite's syntax has no
/// translation: triggers).
struct HubMigration: Sendable {
    let identifier: String
    let sql: String
    let postgres: String?

    init(_ identifier: String, _ sql: String, postgres: String? = nil) {
        self.identifier = identifier
        self.sql = sql
        self.postgres = postgres
    }

    /// This step's DDL in `dialect`.
    func sql(in dialect: HubDialect) -> String { dialect == .sqlite ? sql : postgres ?? dialect.ddl(sql) }
}

extension HubStore {
    /// The hub's schema, one migration per step. Migrations only ever get appended; their
    /// identifiers are those GRDB has recorded in every existing SQLite hub.
    static let migrations: [HubMigration] = [
        // The canonical record of every entity. `seq` is a hub-wide change sequence: every
        // change takes the next value, so "what changed since X" is an index range scan.
        HubMigration("v1: entities, history, xref, cursors, push marks, runs", """
            CREATE TABLE entity (
                id INTEGER PRIMARY KEY,
                entity TEXT NOT NULL,
                hub_id TEXT NOT NULL UNIQUE,
                data TEXT NOT NULL,
                version INTEGER NOT NULL,
                seq INTEGER NOT NULL UNIQUE,
                field_meta TEXT NOT NULL DEFAULT '{}',
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                deleted_at TEXT
            );
            CREATE INDEX entity_by_entity_seq ON entity(entity, seq);

            -- History: every version of every entity, for lineage and three-way merges.
            CREATE TABLE entity_version (
                hub_id TEXT NOT NULL,
                version INTEGER NOT NULL,
                data TEXT NOT NULL,
                source_system TEXT,
                run_id TEXT,
                at TEXT NOT NULL,
                PRIMARY KEY (hub_id, version)
            ) WITHOUT ROWID;

            -- The ID cross-reference: each entity's ID in every system, and what the hub last
            -- knew that system held (the base of three-way merges and of echo suppression).
            CREATE TABLE xref (
                entity TEXT NOT NULL,
                system TEXT NOT NULL,
                external_id TEXT,
                hub_id TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('linked', 'pending_create', 'deleted')),
                base_hash TEXT,
                base_data TEXT NOT NULL DEFAULT '{}',
                base_version INTEGER,
                linked_by TEXT NOT NULL,
                linked_at TEXT NOT NULL,
                last_seen_run TEXT,
                PRIMARY KEY (entity, system, hub_id)
            ) WITHOUT ROWID;
            CREATE UNIQUE INDEX xref_by_external_id ON xref(entity, system, external_id);
            CREATE INDEX xref_by_hub_id ON xref(hub_id);

            -- Normalised identity keys per match rule, to link a new record to an existing entity.
            CREATE TABLE match_key (
                entity TEXT NOT NULL,
                rule INTEGER NOT NULL,
                key TEXT NOT NULL,
                hub_id TEXT NOT NULL,
                PRIMARY KEY (entity, rule, key, hub_id)
            ) WITHOUT ROWID;
            CREATE INDEX match_key_by_hub_id ON match_key(hub_id);

            CREATE TABLE cursor (
                system TEXT NOT NULL,
                entity TEXT NOT NULL,
                value TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (system, entity)
            ) WITHOUT ROWID;

            CREATE TABLE push_mark (
                system TEXT NOT NULL,
                entity TEXT NOT NULL,
                seq INTEGER NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (system, entity)
            ) WITHOUT ROWID;

            CREATE TABLE run (
                id TEXT PRIMARY KEY,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                status TEXT NOT NULL,
                exit_code INTEGER,
                dry_run INTEGER NOT NULL DEFAULT 0,
                topology_hash TEXT,
                report TEXT
            ) WITHOUT ROWID;

            CREATE TABLE run_count (
                run_id TEXT NOT NULL,
                system TEXT NOT NULL,
                entity TEXT NOT NULL,
                direction TEXT NOT NULL CHECK (direction IN ('pull', 'push')),
                read INTEGER NOT NULL DEFAULT 0,
                created INTEGER NOT NULL DEFAULT 0,
                updated INTEGER NOT NULL DEFAULT 0,
                deleted INTEGER NOT NULL DEFAULT 0,
                linked INTEGER NOT NULL DEFAULT 0,
                unchanged INTEGER NOT NULL DEFAULT 0,
                skipped INTEGER NOT NULL DEFAULT 0,
                failed INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (run_id, system, entity, direction)
            ) WITHOUT ROWID;

            -- Records that could not be synced, with why; the rest of the run went on.
            CREATE TABLE quarantine (
                id INTEGER PRIMARY KEY,
                run_id TEXT NOT NULL,
                system TEXT NOT NULL,
                entity TEXT NOT NULL,
                external_id TEXT,
                hub_id TEXT,
                direction TEXT NOT NULL,
                reason TEXT NOT NULL,
                message TEXT NOT NULL,
                created_at TEXT NOT NULL,
                resolved_at TEXT
            );
            CREATE INDEX quarantine_open ON quarantine(system, entity, external_id) WHERE resolved_at IS NULL;

            -- Fields changed in two places, with every competing value and how it was settled.
            CREATE TABLE conflict (
                id INTEGER PRIMARY KEY,
                run_id TEXT NOT NULL,
                entity TEXT NOT NULL,
                hub_id TEXT NOT NULL,
                field TEXT NOT NULL,
                candidates TEXT NOT NULL,
                winner TEXT,
                rule TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('resolved', 'open')),
                created_at TEXT NOT NULL,
                resolved_at TEXT,
                resolved_by TEXT
            );
            CREATE INDEX conflict_by_hub_id ON conflict(hub_id);
            CREATE INDEX conflict_open ON conflict(status) WHERE status = 'open';
            """),
        HubMigration("reliability: write intents and the run lock", """
            -- A create sent (or about to be sent) to a system, recorded before it is sent, with the
            -- key that lets a later run find the record if hubctl stopped before hearing the answer.
            CREATE TABLE intent (
                id INTEGER PRIMARY KEY,
                run_id TEXT NOT NULL,
                generation INTEGER NOT NULL,
                system TEXT NOT NULL,
                entity TEXT NOT NULL,
                hub_id TEXT NOT NULL,
                op TEXT NOT NULL CHECK (op IN ('create')),
                key TEXT NOT NULL,
                base_data TEXT NOT NULL,
                version INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                UNIQUE (system, entity, hub_id)
            );

            -- One run at a time per hub. `generation` grows with every run, so a run that lost
            -- the lock (stopped, then resumed after another took over) cannot commit any more.
            CREATE TABLE run_lock (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                generation INTEGER NOT NULL,
                run_id TEXT,
                pid INTEGER,
                host TEXT,
                acquired_at TEXT,
                heartbeat_at TEXT
            );
            INSERT INTO run_lock (id, generation) VALUES (1, 0);
            """),
        HubMigration("reliability: where a quarantined record is and what it looks like", """
            ALTER TABLE quarantine ADD COLUMN source TEXT;
            ALTER TABLE quarantine ADD COLUMN excerpt TEXT;
            """),
        // Manual changes to links and entities (link, unlink, relink, merge, unmerge, repush),
        // with who made them, when and why. `detail` holds what was changed, so that a merge can
        // be undone; `undone_by` points at the entry that undid it.
        HubMigration("audit: stewardship log and merge tombstones", """
            CREATE TABLE stewardship (
                id INTEGER PRIMARY KEY,
                action TEXT NOT NULL,
                entity TEXT NOT NULL,
                hub_id TEXT NOT NULL,
                other_hub_id TEXT,
                system TEXT,
                external_id TEXT,
                detail TEXT NOT NULL DEFAULT '{}',
                by TEXT NOT NULL,
                reason TEXT,
                at TEXT NOT NULL,
                undone_by INTEGER
            );
            CREATE INDEX stewardship_by_hub_id ON stewardship(hub_id);
            CREATE INDEX stewardship_by_other_hub_id ON stewardship(other_hub_id) WHERE other_hub_id IS NOT NULL;

            -- An entity merged into another is a tombstone that points at the survivor.
            ALTER TABLE entity ADD COLUMN merged_into TEXT;
            CREATE INDEX entity_by_merged_into ON entity(merged_into) WHERE merged_into IS NOT NULL;
            """),
        // How many live links each system has per entity, kept by triggers on xref, so that
        // delete detection compares counts without counting a million links every run.
        // Derived state on purpose: counting even a partial index of live links took 0.7 s
        // per system at a million links, where a quiet run must take well under a second;
        // the triggers cost about 4 µs per link written.
        HubMigration("performance: live link counts kept by triggers", """
            CREATE TABLE link_count (
                entity TEXT NOT NULL,
                system TEXT NOT NULL,
                live INTEGER NOT NULL,
                PRIMARY KEY (entity, system)
            ) WITHOUT ROWID;
            INSERT INTO link_count (entity, system, live)
                SELECT entity, system, count(*) FROM xref WHERE state = 'linked' GROUP BY entity, system;
            CREATE TRIGGER link_count_insert AFTER INSERT ON xref WHEN NEW.state = 'linked'
            BEGIN
                INSERT INTO link_count (entity, system, live) VALUES (NEW.entity, NEW.system, 1)
                ON CONFLICT (entity, system) DO UPDATE SET live = live + 1;
            END;
            CREATE TRIGGER link_count_delete AFTER DELETE ON xref WHEN OLD.state = 'linked'
            BEGIN
                UPDATE link_count SET live = live - 1 WHERE entity = OLD.entity AND system = OLD.system;
            END;
            CREATE TRIGGER link_count_update AFTER UPDATE OF state, entity, system ON xref
                WHEN (OLD.state = 'linked') != (NEW.state = 'linked') OR OLD.entity != NEW.entity OR OLD.system != NEW.system
            BEGIN
                UPDATE link_count SET live = live - 1
                    WHERE OLD.state = 'linked' AND entity = OLD.entity AND system = OLD.system;
                INSERT INTO link_count (entity, system, live) SELECT NEW.entity, NEW.system, 1 WHERE NEW.state = 'linked'
                ON CONFLICT (entity, system) DO UPDATE SET live = live + 1;
            END;
            """, postgres: """
            CREATE TABLE link_count (
                entity TEXT COLLATE "C" NOT NULL,
                system TEXT COLLATE "C" NOT NULL,
                live BIGINT NOT NULL,
                PRIMARY KEY (entity, system)
            );
            INSERT INTO link_count (entity, system, live)
                SELECT entity, system, count(*) FROM xref WHERE state = 'linked' GROUP BY entity, system;
            CREATE FUNCTION link_count_keep() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state = 'linked' THEN
                    UPDATE link_count SET live = live - 1 WHERE entity = OLD.entity AND system = OLD.system;
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.state = 'linked' THEN
                    INSERT INTO link_count (entity, system, live) VALUES (NEW.entity, NEW.system, 1)
                    ON CONFLICT (entity, system) DO UPDATE SET live = link_count.live + 1;
                END IF;
                RETURN NULL;
            END
            $$;
            CREATE TRIGGER link_count_keep AFTER INSERT OR DELETE OR UPDATE OF state, entity, system ON xref
                FOR EACH ROW EXECUTE FUNCTION link_count_keep();
            """),
        // `synced` (the record went through), `dismissed` (by a person, who and why kept here
        // and in the stewardship log) or `gone` (the record no longer exists).
        HubMigration("data safety: how a quarantine entry was closed", """
            ALTER TABLE quarantine ADD COLUMN resolution TEXT;
            ALTER TABLE quarantine ADD COLUMN resolved_by TEXT;
            ALTER TABLE quarantine ADD COLUMN resolve_reason TEXT;
            """),
        // What each system × entity's object looked like (its fields and their types) when
        // a run last read it without drift, and the mapping in force then; and every schema
        // change a run noticed, open until the schema or the mapping makes it moot.
        HubMigration("schema drift: fingerprints of each mapped object and drift events", """
            CREATE TABLE schema_fingerprint (
                system TEXT NOT NULL,
                entity TEXT NOT NULL,
                object TEXT NOT NULL,
                hash TEXT NOT NULL,
                fields TEXT NOT NULL,
                sampled INTEGER NOT NULL,
                mapping TEXT NOT NULL DEFAULT '{}',
                run_id TEXT NOT NULL,
                taken_at TEXT NOT NULL,
                PRIMARY KEY (system, entity)
            ) WITHOUT ROWID;
            CREATE TABLE schema_drift (
                id INTEGER PRIMARY KEY,
                run_id TEXT NOT NULL,
                last_run_id TEXT NOT NULL,
                system TEXT NOT NULL,
                entity TEXT NOT NULL,
                object TEXT NOT NULL,
                change TEXT NOT NULL CHECK (change IN ('added', 'removed', 'renamed', 'type_changed')),
                field TEXT NOT NULL,
                new_field TEXT,
                old_type TEXT,
                new_type TEXT,
                message TEXT NOT NULL,
                pauses INTEGER NOT NULL,
                detected_at TEXT NOT NULL,
                resolved_at TEXT,
                resolved_run_id TEXT
            );
            CREATE INDEX schema_drift_open ON schema_drift(system, entity) WHERE resolved_at IS NULL;
            CREATE INDEX schema_drift_by_run ON schema_drift(run_id);
            CREATE INDEX schema_drift_by_last_run ON schema_drift(last_run_id);
            """),
        // What `hubctl run` knows of each system (entity '' = the system as a whole) and of
        // each entity with a schedule of its own: when it last synced, failed, and is due.
        // Webhook delivery IDs already accepted, so a replayed delivery is refused.
        HubMigration("operations: schedule state per system and entity, webhook deliveries seen", """
            CREATE TABLE schedule_state (
                system TEXT NOT NULL,
                entity TEXT NOT NULL DEFAULT '',
                last_attempt_at TEXT,
                last_success_at TEXT,
                last_failure_at TEXT,
                last_error TEXT,
                consecutive_failures INTEGER NOT NULL DEFAULT 0,
                next_due_at TEXT,
                PRIMARY KEY (system, entity)
            ) WITHOUT ROWID;
            CREATE TABLE webhook_delivery (
                system TEXT NOT NULL,
                delivery_id TEXT NOT NULL,
                received_at TEXT NOT NULL,
                PRIMARY KEY (system, delivery_id)
            ) WITHOUT ROWID;
            CREATE INDEX webhook_delivery_by_time ON webhook_delivery(received_at);
            """),
        // The dashboard counts live entities (all, from entity_by_entity_seq, less the deleted)
        // and pending creates per system without reading every row.
        HubMigration("dashboard: partial indexes of deleted entities and pending creates", """
            CREATE INDEX entity_deleted_by_entity ON entity(entity) WHERE deleted_at IS NOT NULL;
            CREATE INDEX xref_pending_create ON xref(system, entity) WHERE state = 'pending_create';
            """),
        // Several `hubctl run --worker` processes on a PostgreSQL hub share the work by units (the
        // pull or the push of one system) held by leases set from the database's clock (epoch
        // milliseconds); `token` grows with every claim and fences the previous holder out.
        HubMigration("workers: rounds, work units with leases and fencing tokens, workers", """
            CREATE TABLE work_round (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                round INTEGER NOT NULL,
                started_at INTEGER,
                wake INTEGER NOT NULL DEFAULT 0
            );
            INSERT INTO work_round (id, round) VALUES (1, 0);
            CREATE TABLE work_unit (
                unit TEXT PRIMARY KEY,
                phase TEXT NOT NULL CHECK (phase IN ('pull', 'push')),
                system TEXT NOT NULL,
                done_round INTEGER NOT NULL DEFAULT 0,
                owner TEXT,
                token INTEGER NOT NULL DEFAULT 0,
                lease_expires_at INTEGER,
                heartbeat_at INTEGER,
                run_id TEXT
            ) WITHOUT ROWID;
            CREATE TABLE worker (
                id TEXT PRIMARY KEY,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL,
                started_at INTEGER NOT NULL,
                heartbeat_at INTEGER NOT NULL,
                stopped_at INTEGER,
                units_done INTEGER NOT NULL DEFAULT 0,
                fenced_writes INTEGER NOT NULL DEFAULT 0
            ) WITHOUT ROWID;
            """),
        // Workers share the work by (system, entity) units and per-system finishing steps
        // (`pull:crm/customer`, `pull-deletes:crm`). The whole-system units of the step above are
        // retired: dropped with their rows, so a worker still holding one is fenced out (its
        // token is gone). The deletes a pull unit found wait in `found_delete` for the system's
        // `pull-deletes` unit, which applies them children first.
        HubMigration("workers: units per system and entity, found deletes waiting for their system's children", """
            DROP TABLE work_unit;
            CREATE TABLE work_unit (
                unit TEXT PRIMARY KEY,
                phase TEXT NOT NULL CHECK (phase IN ('pull', 'pull-deletes', 'push', 'push-deletes')),
                system TEXT NOT NULL,
                entity TEXT,
                done_round INTEGER NOT NULL DEFAULT 0,
                owner TEXT,
                token INTEGER NOT NULL DEFAULT 0,
                lease_expires_at INTEGER,
                heartbeat_at INTEGER,
                run_id TEXT
            ) WITHOUT ROWID;
            CREATE TABLE found_delete (
                system TEXT NOT NULL,
                entity TEXT NOT NULL,
                hub_id TEXT NOT NULL,
                tombstone INTEGER NOT NULL,
                start_cursor TEXT,
                PRIMARY KEY (system, entity, hub_id)
            ) WITHOUT ROWID;
            """),
        // A pull over a system without a usable cursor reads each page's base hashes
        // (`linkedBaseHashes`) from an index alone, without a seek into xref's rows for each
        // ID. SQLite has no INCLUDE: a partial index of the live links with a hash, which a
        // pending create does not enter (`state` is a column too: SQLite 3.40 does not count a
        // column the predicate fixes as covered). PostgreSQL's unique index on the external ID
        // carries state and hash itself, so its links keep one index per external ID.
        HubMigration("performance: live links' base hashes by external ID from the index alone", """
            CREATE INDEX xref_linked_base_hash ON xref(entity, system, external_id, state, base_hash)
                WHERE state = 'linked' AND base_hash IS NOT NULL;
            """, postgres: """
            DROP INDEX xref_by_external_id;
            CREATE UNIQUE INDEX xref_by_external_id ON xref (entity, system, external_id) INCLUDE (state, base_hash);
            """),
        // A table read in parts by several workers (`"partitions"`) has one pull unit per part.
        // Each part's unit records what it saw here; the system's `pull-deletes` unit looks for
        // the table's deletes once every part of the round was read.
        HubMigration("workers: tables read in parts, what each part's read saw", """
            CREATE TABLE partition_read (
                system TEXT NOT NULL,
                entity TEXT NOT NULL,
                part INTEGER NOT NULL,
                parts INTEGER NOT NULL,
                round INTEGER NOT NULL,
                linked_seen INTEGER NOT NULL,
                malformed TEXT NOT NULL,
                PRIMARY KEY (system, entity, part)
            ) WITHOUT ROWID;
            """),
    ]

    /// The SQLite hub's migrations, for GRDB.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for step in migrations {
            migrator.registerMigration(step.identifier) { db in try db.execute(sql: step.sql) }
        }
        return migrator
    }
}

extension HubStore {
    /// Brings the hub schema of another database up to date: the same steps as SQLite's, in
    /// its dialect, each applied once and recorded in `hub_migration`. All in one transaction,
    /// under the dialect's migration lock, so two processes opening a new hub cannot both apply
    /// a step. Returns true when it created the hub (no step had been applied).
    /// - Throws: ``HubFromNewerHubctl`` for a hub a newer hubctl upgraded, writing nothing.
    @discardableResult
    public static func migrate(_ database: any HubDatabase) throws -> Bool {
        try database.write { sql in
            if let lock = sql.dialect.migrationLock { _ = try sql.rows(lock, []) }
            try sql.executeScript(
                "CREATE TABLE IF NOT EXISTS hub_migration (identifier TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            let steps = try sql.rows("SELECT identifier FROM hub_migration ORDER BY applied_at, identifier", [])
                .map { $0["identifier"] as String }
            try refuseNewer(steps, location: database.location)
            let applied = Set(steps)
            for step in migrations where !applied.contains(step.identifier) {
                try sql.executeScript(step.sql(in: sql.dialect))
                try sql.execute("INSERT INTO hub_migration (identifier, applied_at) VALUES (?, ?)",
                                [step.identifier, Timestamp.string(Date())])
            }
            return applied.isEmpty
        }
    }
}
