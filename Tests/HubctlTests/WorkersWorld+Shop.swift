import Foundation
import HubCore
import HubTestServers
import HubTesting
import Testing

/// Two SQLite systems of three entities each — customers, and orders and tickets referring to
/// them — and a PostgreSQL hub: one system's entities are units of their own.
extension WorkersWorld {
    static let shopSystems = ["crm", "shop"]

    static func makeShop() async throws -> WorkersWorld {
        let postgres = try TestServices.requirePostgres()
        let directory = try TemporaryDirectory()
        let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let schema = "wk_" + token.prefix(10), hubSchema = "wkhub_" + token.prefix(10)
        // No system lives in PostgreSQL here; the schema exists so that `drop` finds both.
        try await SystemTools.must("psql", psqlArguments(postgres) + ["-c", "CREATE SCHEMA \(schema)"],
                                   environment: ["PGPASSWORD": postgres.password])
        try await SystemTools.must("sqlite3", [directory.path + "/shop.db", """
            CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, name TEXT);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, number TEXT, customer_id INTEGER REFERENCES customers(id), amount TEXT);
            CREATE TABLE tickets (id INTEGER PRIMARY KEY, code TEXT, customer_id INTEGER REFERENCES customers(id), subject TEXT);
            INSERT INTO customers (id, email, name) VALUES (1, 'ann@example.com', 'Ann'), (2, 'bob@example.com', 'Bob'),
                                                           (3, 'cid@example.com', 'Cid');
            INSERT INTO orders (number, customer_id, amount) VALUES ('1001', 1, '10'), ('1002', 2, '20'), ('1003', 2, '30');
            INSERT INTO tickets (code, customer_id, subject) VALUES ('T1', 2, 'Broken'), ('T2', 3, 'Late');
            """])
        try await SystemTools.must("sqlite3", [directory.path + "/crm.db", """
            CREATE TABLE people (pid INTEGER PRIMARY KEY, mail TEXT, full_name TEXT);
            CREATE TABLE purchases (id INTEGER PRIMARY KEY, no TEXT, person INTEGER REFERENCES people(pid), total TEXT);
            CREATE TABLE cases (id INTEGER PRIMARY KEY, ref TEXT, person INTEGER REFERENCES people(pid), title TEXT);
            INSERT INTO people (pid, mail, full_name) VALUES (7, 'dora@example.com', 'Dora'), (8, 'ann@example.com', 'Ann');
            INSERT INTO purchases (no, person, total) VALUES ('2001', 7, '40');
            INSERT INTO cases (ref, person, title) VALUES ('C1', 7, 'Refund');
            """])
        let topology = directory.path + "/topology.json"
        try """
            {
              "version": 1, "name": "shop",
              "hub": {"url": "postgres://\(postgres.user):${HUB_PGPASSWORD}@\(postgres.host):\(postgres.port)/\(postgres.database)?sslmode=disable",
                      "schema": "\(hubSchema)"},
              "entities": {
                "customer": {"fields": {"email": {"type": "string", "required": true, "normalize": ["trim", "lowercase"]},
                                        "name": {"type": "string"}}, "match": [["email"]]},
                "order": {"fields": {"number": {"type": "string", "required": true}, "customer": {"type": "ref", "entity": "customer"},
                                     "amount": {"type": "string"}}, "match": [["number"]]},
                "ticket": {"fields": {"code": {"type": "string", "required": true}, "customer": {"type": "ref", "entity": "customer"},
                                      "subject": {"type": "string"}}, "match": [["code"]]}
              },
              "systems": {
                "shop": {"adapter": "sqlite", "connection": {"path": "shop.db"}, "entities": {
                  "customer": {"object": "customers", "id": "id", "fields": {"email": "email", "name": "name"}},
                  "order": {"object": "orders", "id": "id", "fields": {"number": "number", "customer": "customer_id", "amount": "amount"}},
                  "ticket": {"object": "tickets", "id": "id", "fields": {"code": "code", "customer": "customer_id", "subject": "subject"}}}},
                "crm": {"adapter": "sqlite", "connection": {"path": "crm.db"}, "entities": {
                  "customer": {"object": "people", "id": "pid", "fields": {"email": "mail", "name": "full_name"}},
                  "order": {"object": "purchases", "id": "id", "fields": {"number": "no", "customer": "person", "amount": "total"}},
                  "ticket": {"object": "cases", "id": "id", "fields": {"code": "ref", "customer": "person", "subject": "title"}}}}
              }
            }
            """.write(toFile: topology, atomically: true, encoding: .utf8)
        return WorkersWorld(directory: directory, topology: topology, postgres: postgres, schema: String(schema),
                            hubSchema: String(hubSchema), environment: ["HUB_PGPASSWORD": postgres.password])
    }

    /// Every system's customers, orders and tickets, references read as the customer's email:
    /// `order|1001|ann@example.com|10`, `customer|ann@example.com|Ann|`, sorted (a duplicate shows twice).
    func shopContents() async throws -> [String: [String]] {
        func lines(_ file: String, _ sql: String) async throws -> [String] {
            try await SystemTools.must("sqlite3", ["-separator", "|", "-cmd", ".timeout 5000", directory.path + "/" + file, sql])
                .split(separator: "\n").map(String.init).sorted()
        }
        return [
            "shop": try await lines("shop.db", """
                SELECT 'customer', email, name, NULL FROM customers
                UNION ALL SELECT 'order', o.number, c.email, o.amount FROM orders o LEFT JOIN customers c ON c.id = o.customer_id
                UNION ALL SELECT 'ticket', t.code, c.email, t.subject FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id
                """),
            "crm": try await lines("crm.db", """
                SELECT 'customer', mail, full_name, NULL FROM people
                UNION ALL SELECT 'order', o.no, p.mail, o.total FROM purchases o LEFT JOIN people p ON p.pid = o.person
                UNION ALL SELECT 'ticket', t.ref, p.mail, t.title FROM cases t LEFT JOIN people p ON p.pid = t.person
                """),
        ]
    }

    /// The hub's live entities (references as their target's email), links per system and
    /// entity, and open quarantine entries: what two hubs that synced the same systems agree on.
    func shopHubState() async throws -> String {
        try await psql("""
            SELECT string_agg(d, E'\\n' ORDER BY d) FROM (
              SELECT 'customer ' || (data::json->>'email') || ' ' || coalesce(data::json->>'name', '-') AS d
                FROM entity WHERE entity = 'customer' AND deleted_at IS NULL
              UNION ALL SELECT e.entity || ' ' || coalesce(e.data::json->>'number', e.data::json->>'code') || ' of '
                     || coalesce(c.data::json->>'email', '?') || ' ' || coalesce(e.data::json->>'amount', e.data::json->>'subject', '-')
                FROM entity e LEFT JOIN entity c ON c.hub_id = e.data::json->>'customer'
                WHERE e.entity IN ('order', 'ticket') AND e.deleted_at IS NULL
              UNION ALL SELECT 'links ' || system || ' ' || entity || ' ' || count(*) FROM xref WHERE state = 'linked' GROUP BY system, entity
              UNION ALL SELECT 'open quarantine ' || count(*) FROM quarantine WHERE resolved_at IS NULL) s
            """)
    }

    /// In shop: Bob is deleted with his orders and ticket, Eve added with an order and a ticket;
    /// in crm: Dora renamed.
    func editShop() async throws {
        _ = try await sqlite("shop.db", """
            DELETE FROM orders WHERE customer_id = 2; DELETE FROM tickets WHERE customer_id = 2; DELETE FROM customers WHERE id = 2;
            INSERT INTO customers (id, email, name) VALUES (5, 'eve@example.com', 'Eve');
            INSERT INTO orders (number, customer_id, amount) VALUES ('1004', 5, '50');
            INSERT INTO tickets (code, customer_id, subject) VALUES ('T3', 5, 'Question');
            """)
        _ = try await sqlite("crm.db", "UPDATE people SET full_name = 'Dora D.' WHERE mail = 'dora@example.com'")
    }

    /// Both worlds' systems hold `expected`, and their hubs agree.
    static func expectSameShop(_ a: WorkersWorld, _ b: WorkersWorld, _ expected: [String],
                               sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let (seenA, seenB) = (try await a.shopContents(), try await b.shopContents())
        for system in shopSystems {
            #expect(seenA[system] == expected, "workers' \(system)", sourceLocation: sourceLocation)
            #expect(seenB[system] == expected, "sync-all's \(system)", sourceLocation: sourceLocation)
        }
        let (hubA, hubB) = (try await a.shopHubState(), try await b.shopHubState())
        #expect(hubA == hubB, sourceLocation: sourceLocation)
        #expect(hubA.contains("open quarantine 0"), "\(hubA)", sourceLocation: sourceLocation)
    }
}
