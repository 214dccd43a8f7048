#!/usr/bin/env bash
# Workers on one system of several entities: N customers, 2N orders and N tickets (orders and
# tickets refer to customers) in a SQLite system `shop`, synced from scratch into an empty SQLite
# system `crm` through a fresh PostgreSQL hub, once with one `sync-all` and then with 1, 2 and 4
# `hubctl run --worker`, each on a fresh copy. A worker round is done when every unit of the hub
# is done for it. Shows what units per entity let run side by side within one system (orders and
# tickets), next to what stays in a row (customers before them, hub writes one at a time). Then
# three quiet rounds (nothing changed), each started at once: what a round of units costs.
#
#   bench/entity-units.sh [N]     # N customers (default 1000); HUBCTL: the binary
#
# PostgreSQL as for bench/workers.sh (PG* or scripts/with-test-services.sh's variables). Not part
# of the test suite; numbers go to docs/scale-out.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000}"
HUBCTL="${HUBCTL:-$PWD/.build/debug/hubctl}"
. bench/postgres-env.sh
WORK="${ENTITY_BENCH_DIR:-/tmp/hubctl-entity-bench-$N}"
rm -rf "$WORK" && mkdir -p "$WORK/gen"
sqlite3 "$WORK/gen/shop.db" <<SQL
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, name TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, number TEXT, customer_id INTEGER REFERENCES customers(id), amount TEXT);
CREATE TABLE tickets (id INTEGER PRIMARY KEY, code TEXT, customer_id INTEGER REFERENCES customers(id), subject TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO customers (id, email, name) SELECT i, 'c' || i || '@example.com', 'Customer ' || i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2 * $N)
INSERT INTO orders (number, customer_id, amount) SELECT 'O' || i, (i - 1) % $N + 1, i % 97 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO tickets (code, customer_id, subject) SELECT 'T' || i, i, 'Ticket ' || i FROM n;
SQL
sqlite3 "$WORK/gen/crm.db" <<SQL
CREATE TABLE people (pid INTEGER PRIMARY KEY, mail TEXT, full_name TEXT);
CREATE TABLE purchases (id INTEGER PRIMARY KEY, no TEXT, person INTEGER REFERENCES people(pid), total TEXT);
CREATE TABLE cases (id INTEGER PRIMARY KEY, ref TEXT, person INTEGER REFERENCES people(pid), title TEXT);
SQL
SCHEMAS=()
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for s in "${SCHEMAS[@]}"; do psql -qAtX -c "DROP SCHEMA IF EXISTS $s CASCADE" > /dev/null 2>&1 || true; done
}
trap cleanup EXIT

fresh() {  # name → a copy of both systems with a PostgreSQL hub in schema ebench_<name>_<pid>
  local dir="$WORK/$1" schema="ebench_$1_$$"
  mkdir -p "$dir" && cp "$WORK/gen/"*.db "$dir/"
  cat > "$dir/topology.json" <<JSON
{
  "version": 1, "name": "shop",
  "hub": {"url": "postgres://$PGUSER:\${HUB_PGPASSWORD}@$PGHOST:$PGPORT/$PGDATABASE?sslmode=disable", "schema": "$schema"},
  "entities": {
    "customer": {"fields": {"email": {"type": "string", "required": true}, "name": {"type": "string"}}, "match": [["email"]]},
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
JSON
  SCHEMAS+=("$schema")
  echo "$dir $schema"
}

now() { date +%s.%N; }

read -r dir schema < <(fresh sync_all)
start=$(now)
"$HUBCTL" sync-all -t "$dir/topology.json" > "$dir/sync-all.log" 2>&1 || true
end=$(now)
printf "sync-all (one process): %6.1f s   crm rows: %s\n" "$(echo "$end - $start" | bc)" \
  "$(sqlite3 "$dir/crm.db" "SELECT (SELECT count(*) FROM people) || ' ' || (SELECT count(*) FROM purchases) || ' ' || (SELECT count(*) FROM cases)")"

for W in 1 2 4; do
  read -r dir schema < <(fresh "w$W")
  # Create the hub's tables once, so the workers' start is not timed for migrations.
  "$HUBCTL" status -t "$dir/topology.json" > /dev/null 2>&1 || true
  start=$(now)
  PIDS=()
  for i in $(seq 1 "$W"); do
    "$HUBCTL" run --worker --every 1h --lease 30s -t "$dir/topology.json" > "$dir/worker$i.log" 2>&1 &
    PIDS+=($!)
  done
  # The first worker registers every unit in one transaction: done when there are units and all are done.
  until [ "$(psql -qAtX -c "SELECT count(*) > 0 AND min(done_round) >= 1 FROM $schema.work_unit" 2>/dev/null || echo f)" = "t" ]; do
    sleep 0.2
  done
  end=$(now)
  # Each unit's run of the initial sync: when it started and ended, from the first unit's start.
  units=$(psql -qAtX -F ' ' -c "WITH r AS (SELECT u.unit, r.started_at::timestamptz AS s, r.finished_at::timestamptz AS f
                                   FROM $schema.work_unit u JOIN $schema.run r ON r.id = u.run_id)
                        SELECT unit, round(extract(epoch from (s - (SELECT min(s) FROM r)))::numeric, 1) || ' → '
                                     || round(extract(epoch from (f - (SELECT min(s) FROM r)))::numeric, 1) || ' s'
                        FROM r ORDER BY s" | sed 's/^/    /')
  # Quiet rounds (nothing changed): three more, each started at once (as a webhook would), timed together.
  quiet_start=$(now)
  for r in 2 3 4; do
    psql -qAtX -c "UPDATE $schema.work_round SET wake = 1" > /dev/null
    until [ "$(psql -qAtX -c "SELECT min(done_round) >= $r FROM $schema.work_unit" 2>/dev/null || echo f)" = "t" ]; do sleep 0.05; done
  done
  quiet=$(echo "($(now) - $quiet_start) / 3" | bc -l)
  for pid in "${PIDS[@]}"; do kill -TERM "$pid"; done
  for pid in "${PIDS[@]}"; do wait "$pid" || true; done
  PIDS=()
  printf "%d worker(s):              %6.1f s   quiet round: %4.2f s   crm rows: %s   units per worker: %s\n" "$W" \
    "$(echo "$end - $start" | bc)" "$quiet" \
    "$(sqlite3 "$dir/crm.db" "SELECT (SELECT count(*) FROM people) || ' ' || (SELECT count(*) FROM purchases) || ' ' || (SELECT count(*) FROM cases)")" \
    "$(psql -qAtX -c "SELECT string_agg(units_done::text, ' ' ORDER BY units_done DESC) FROM $schema.worker")"
  echo "$units"
done
