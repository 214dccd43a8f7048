import HubCore
import PostgresNIO

/// Change capture for a PostgreSQL system: a change-log table, one trigger function and one
/// trigger per bound table, all in the system's schema (`connection.schema`, default `public`).
///
/// Every INSERT, UPDATE or DELETE on a captured table appends a row to `hubctl_changes`
/// (the writing transaction's ID, `schema.table`, the row's ID, the operation; a TRUNCATE one
/// row without an ID) and calls
/// `pg_notify('hubctl_changes', 'schema.table')`, so `hubctl run` can wake at once — unless the
/// writer is hubctl itself (`application_name` `hubctl`, as the spoke connects), whose pushes
/// would otherwise wake the system for a read that finds nothing new. The notification is only
/// a hint: a system with `capture` reads the log by transaction snapshot
/// (``PostgresSpoke/readThroughChangeLog(_:after:limit:)``).
///
/// ``installStatements(_:)`` and ``removeStatements()`` are the exact SQL that ``apply(_:)`` runs,
/// in one transaction. Installing twice leaves one of everything; removing drops what
/// installing created (the triggers that call the function, the function, the log table) and
/// nothing else. Identifiers are quoted by ``SQLIdentifier``, tables are found in
/// `information_schema` first.
public struct PostgresChangeCapture: Sendable {
    /// The channel notifications are sent on.
    public static let channel = "hubctl_changes"
    /// The change-log table, in the system's schema.
    public static let logTable = "hubctl_changes"
    /// The trigger function, in the system's schema.
    public static let function = "hubctl_record_change"
    /// Each captured table's trigger.
    public static let trigger = "hubctl_capture"
    /// Each captured table's `TRUNCATE` trigger (one entry, no row ID: the next read is a full one).
    public static let truncateTrigger = "hubctl_capture_truncate"
    /// The change log's index on (table, row ID, entry).
    public static let logIndex = "hubctl_changes_table_row"

    let spoke: PostgresSpoke

    public init(spoke: PostgresSpoke) { self.spoke = spoke }

    var schema: String { spoke.settings.schema }
    var qualifiedLog: String { SQLIdentifier.qualified(schema, Self.logTable) }
    var qualifiedFunction: String { SQLIdentifier.qualified(schema, Self.function) }

    /// The statements `capture install` runs for these bound tables (`object` as the topology
    /// writes it, `idField` its ID column), in order.
    /// - Throws: `SpokeError` when a table or ID column does not exist, or a table is a view.
    public func installStatements(_ objects: [(object: String, idField: String)]) async throws -> [String] {
        let system = spoke.system, schema = self.schema
        guard !schema.contains("$") else {
            throw SpokeError(.configuration, system: system, message:
                "change capture cannot be installed in schema '\(schema)': its name contains '$'; use a schema without one")
        }
        var statements = [
            """
            CREATE TABLE IF NOT EXISTS \(qualifiedLog) (
              id bigserial PRIMARY KEY,
              txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
              table_name text NOT NULL,
              row_id text,
              op text NOT NULL,
              at timestamptz NOT NULL DEFAULT now()
            )
            """,
            // The change-log read finds each row's last entry of a window by (table, row, entry).
            "CREATE INDEX IF NOT EXISTS \(SQLIdentifier(Self.logIndex).quoted) ON \(qualifiedLog) (table_name, row_id, id)",
            // SECURITY DEFINER: writers of the captured tables need no privilege on the log.
            """
            CREATE OR REPLACE FUNCTION \(qualifiedFunction)() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $hubctl$
            DECLARE
              changed jsonb;
            BEGIN
              IF TG_OP = 'TRUNCATE' THEN changed := NULL;
              ELSIF TG_OP = 'DELETE' THEN changed := to_jsonb(OLD);
              ELSE changed := to_jsonb(NEW);
              END IF;
              INSERT INTO \(qualifiedLog) (table_name, row_id, op)
                VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, changed ->> TG_ARGV[0], TG_OP);
              -- hubctl's own writes are logged but wake nobody: the run that made them knows.
              IF current_setting('application_name', true) IS DISTINCT FROM 'hubctl' THEN
                PERFORM pg_notify('\(Self.channel)', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
              END IF;
              RETURN NULL;
            END
            $hubctl$
            """,
        ]
        let tables = try await run { connection, logger in
            var out: [(PostgresTable, String)] = []
            for (object, idField) in objects {
                let table: PostgresTable
                switch try await PostgresTable.load(object, defaultSchema: schema, on: connection, logger: logger) {
                case .success(let t): table = t
                case .failure(let missing): throw SpokeError(.configuration, system: system, object: object, message: missing.message)
                }
                guard !table.isView else {
                    throw SpokeError(.configuration, system: system, object: object, message:
                        "'\(table.schema).\(table.name)' is a view: triggers capture changes on tables only; "
                            + "leave this system without capture or bind its table")
                }
                guard let id = table.column(named: idField) else {
                    throw SpokeError(.configuration, system: system, object: object, message: table.missingColumn(idField, role: "ID column"))
                }
                out.append((table, id.name))
            }
            return out
        }
        var seen = Set<String>()
        for (table, id) in tables where seen.insert(table.qualified).inserted {
            statements.append("CREATE OR REPLACE TRIGGER \(SQLIdentifier(Self.trigger).quoted) "
                              + "AFTER INSERT OR UPDATE OR DELETE ON \(table.qualified) "
                              + "FOR EACH ROW EXECUTE FUNCTION \(qualifiedFunction)(\(Self.literal(id)))")
            statements.append("CREATE OR REPLACE TRIGGER \(SQLIdentifier(Self.truncateTrigger).quoted) "
                              + "AFTER TRUNCATE ON \(table.qualified) "
                              + "FOR EACH STATEMENT EXECUTE FUNCTION \(qualifiedFunction)(\(Self.literal(id)))")
        }
        return statements
    }

    /// The statements `capture remove` runs, in order: drop every trigger that calls the
    /// function (whatever tables the topology binds now), then the function and the log table.
    public func removeStatements() async throws -> [String] {
        let schema = self.schema
        let rows = try await run { connection, logger in
            var statement = PostgresStatement("""
                SELECT n.nspname::text, c.relname::text, t.tgname::text
                FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE t.tgfoid IN (SELECT p.oid FROM pg_proc p JOIN pg_namespace pn ON pn.oid = p.pronamespace
                                   WHERE p.proname = 
                """)
            statement.bind(Self.function)
            statement.append(" AND pn.nspname = ")
            statement.bind(schema)
            statement.append(") ORDER BY 1, 2, 3")
            return try await connection.textRows(statement, logger: logger)
        }
        var statements: [String] = []
        for row in rows {
            guard let tableSchema = row[0], let table = row[1], let trigger = row[2] else { continue }
            statements.append("DROP TRIGGER IF EXISTS \(SQLIdentifier(trigger).quoted) ON \(SQLIdentifier.qualified(tableSchema, table))")
        }
        statements.append("DROP FUNCTION IF EXISTS \(qualifiedFunction)()")
        statements.append("DROP TABLE IF EXISTS \(qualifiedLog)")
        return statements
    }

    /// Runs `statements` in one transaction: all of them, or none.
    public func apply(_ statements: [String]) async throws {
        try await run { connection, logger in
            try await connection.execute("BEGIN", logger: logger)
            do {
                for sql in statements { try await connection.execute(sql, logger: logger) }
                try await connection.execute("COMMIT", logger: logger)
            } catch {
                try? await connection.execute("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Runs `body` on the spoke's connection, turning PostgreSQL's errors into ``SpokeError``s.
    func run<T: Sendable>(_ body: @Sendable (PostgresConnection, Logger) async throws -> T) async throws -> T {
        do {
            return try await spoke.session.run(body)
        } catch {
            throw PostgresErrors.statementError(error, system: spoke.system, object: nil)
        }
    }

    /// `text` as an SQL string literal: `'it''s'`.
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
