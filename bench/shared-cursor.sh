#!/usr/bin/env bash
# A quiet run over N rows that share one cursor value (a bulk load), before and after keyset
# cursors (issue 15): a SQLite table, and a PostgreSQL one when PGHOST is set (PGPORT, PGUSER,
# PGPASSWORD, PGDATABASE as for psql). Each is pulled into the hub and pushed to nothing else.
#
#   bench/shared-cursor.sh [N]      # N rows (default 100000); HUBCTL=path to the hubctl binary
#   OLD_HUBCTL=1 HUBCTL=/path/to/older/hubctl bench/shared-cursor.sh [N]   # before
#
# Runs: the first sync; a quiet sync right after it (inside the lookback window); a quiet sync
# once the window has passed (the window is set to 2 s here so that the script need not wait
# the default 5 minutes). Prints rows read, wall time, CPU time and peak RSS of each run
# (/usr/bin/time). Not part of the test suite; numbers go to docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
HUBCTL="${HUBCTL:-$PWD/.build/release/hubctl}"
WORK="${SHARED_CURSOR_DIR:-/tmp/hubctl-shared-cursor-$N}"
rm -rf "$WORK" && mkdir -p "$WORK"
sqlite3 "$WORK/app.db" <<SQL
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT, city TEXT, modified_at TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO users SELECT i, 'person' || i || '@example.com', 'Name ' || (i % 977), 'City ' || (i % 89),
  '2024-01-01 00:00:00' FROM n;
SQL
SYSTEMS='"app": { "adapter": "sqlite", "connection": { "path": "app.db" }, "direction": "pull",
      "entities": { "person": { "object": "users", "cursor": CURSOR,
        "fields": { "email": "email", "name": "name", "city": "city" } } } }'
if [ -n "${PGHOST:-}" ]; then
  SCHEMA="shared_cursor_$$"
  psql -v ON_ERROR_STOP=1 -qAtX <<SQL
CREATE SCHEMA $SCHEMA;
CREATE TABLE $SCHEMA.customers (id int PRIMARY KEY, email text, name text, city text, updated_at timestamptz);
INSERT INTO $SCHEMA.customers SELECT i, 'pg' || i || '@example.com', 'Name ' || (i % 977), 'City ' || (i % 89),
  '2024-01-01T00:00:00Z' FROM generate_series(1, $N) AS i;
SQL
  trap 'psql -qAtX -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null' EXIT
  SYSTEMS="$SYSTEMS"',
    "billing": { "adapter": "postgres", "direction": "pull",
      "connection": { "host": "${PGHOST}", "port": "${PGPORT:-5432}", "database": "${PGDATABASE}", "user": "${PGUSER}",
                      "password": "${PGPASSWORD}", "schema": "'"$SCHEMA"'", "sslmode": "disable" },
      "entities": { "person": { "object": "customers", "cursor": PGCURSOR,
        "fields": { "email": "email", "name": "name", "city": "city" } } } }'
fi
topology() {  # the SQLite cursor, the PostgreSQL cursor
  local systems="${SYSTEMS//PGCURSOR/$2}"
  cat > "$WORK/topology.json" <<JSON
{ "version": 1, "name": "shared-cursor", "hub": { "path": "hub.sqlite" },
  "entities": { "person": { "fields": { "email": { "type": "string", "required": true },
      "name": { "type": "string" }, "city": { "type": "string" } }, "match": [["email"]] } },
  "systems": { ${systems//CURSOR/$1} } }
JSON
}
run() {  # label
  (cd "$WORK" && /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" "$HUBCTL" sync-all -t topology.json --json \
    >"$WORK/out.json" 2>"$WORK/err.txt") || { cat "$WORK/out.json" "$WORK/err.txt"; exit 1; }
  read -r wall user sys rss < "$WORK/time.txt"
  read_rows=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["result"]["systems"]
print(" ".join("%s=%d" % (s, r[s]["entities"]["person"]["pull"]["read"]) for s in sorted(r)))' "$WORK/out.json")
  printf "%-40s %-24s %7.2f s wall %7.2f s cpu %7.1f MB peak RSS\n" "$1" "$read_rows" "$wall" \
    "$(echo "$user + $sys" | bc)" "$(echo "$rss / 1024" | bc -l)"
}
echo "shared-cursor: $N rows sharing one cursor value ($HUBCTL)"
# A window of 2 s, so that "after the window" needs no 5-minute wait. A hubctl from before
# keyset cursors (OLD_HUBCTL=1) knows only a cursor's name.
if [ "${OLD_HUBCTL:-0}" = 1 ]; then
  topology '"modified_at"' '"updated_at"'
else
  topology '{ "field": "modified_at", "lookback": "2s" }' '{ "field": "updated_at", "lookback": "2s" }'
fi
run "first sync"
run "second sync (quiet)"
sleep 3
run "third sync (quiet, 3 s later)"
sleep 3
run "fourth sync (quiet, 3 s later)"
run "fifth sync (quiet)"
