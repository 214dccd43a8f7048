#!/usr/bin/env bash
# What reading a large table without a cursor in parts buys: one SQLite table of N rows (no
# cursor column, so every round reads it whole) synced into a PostgreSQL hub once by `sync-all`,
# then quiet rounds (nothing changed) done by W workers with the table's mapping split into P
# parts ("partitions": P), for W in 1 2 and P in 1 2 4. A round's time is taken from the hub's
# runs: from the first unit's start to the last unit's end.
#
#   bench/partitions.sh [N] [ROUNDS]   # N rows (default 100000), ROUNDS quiet rounds per setting (default 3)
#
# HUBCTL: the binary (default .build/debug/hubctl). PostgreSQL from PGHOST, PGPORT, PGUSER,
# PGPASSWORD, PGDATABASE, or from scripts/with-test-services.sh's HUBCTL_TEST_POSTGRES_* variables.
# Not part of the test suite; numbers go to docs/scale-out.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
ROUNDS="${2:-3}"
HUBCTL="${HUBCTL:-$PWD/.build/debug/hubctl}"
. bench/postgres-env.sh
WORK="${PARTITIONS_BENCH_DIR:-/tmp/hubctl-partitions-bench-$N}"
# PARTITIONS_BENCH_KEEP=1 keeps the table and the hub (schema bench_parts_N) for the next run,
# which then skips the initial sync.
KEEP="${PARTITIONS_BENCH_KEEP:-}"
SCHEMA="bench_parts_$N"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  [ -n "$KEEP" ] || psql -qAtX -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" > /dev/null 2>&1 || true
}
trap cleanup EXIT
REUSE=""
if [ -n "$KEEP" ] && [ -f "$WORK/big.db" ] && psql -qAtX -c "SELECT 1 FROM $SCHEMA.run LIMIT 1" > /dev/null 2>&1; then
  REUSE=1
else
  psql -qAtX -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" > /dev/null 2>&1 || true
  rm -rf "$WORK" && mkdir -p "$WORK"
fi

[ -n "$REUSE" ] || sqlite3 "$WORK/big.db" "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, name TEXT, city TEXT);
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
  INSERT INTO customers SELECT i, 'user' || i || '@example.com', 'Name ' || i, 'City ' || (i % 97) FROM n;"

topology() {  # P → topology.json with the table read in P parts
  cat > "$WORK/topology.json" <<JSON
{ "version": 1, "name": "parts",
  "hub": { "url": "postgres://$PGUSER:\${HUB_PGPASSWORD}@$PGHOST:$PGPORT/$PGDATABASE?sslmode=disable", "schema": "$SCHEMA" },
  "entities": { "customer": { "fields": { "email": { "type": "string" }, "name": { "type": "string" }, "city": { "type": "string" } },
                              "match": [["email"]] } },
  "systems": { "big": { "adapter": "sqlite", "connection": { "path": "big.db" },
    "entities": { "customer": { "object": "customers", "fields": { "email": "email", "name": "name", "city": "city" },
                                "partitions": $1 } } } } }
JSON
}

topology 1
if [ -z "$REUSE" ]; then
  start=$(date +%s.%N)
  "$HUBCTL" sync-all -t "$WORK/topology.json" > "$WORK/sync-all.log" 2>&1
  printf "initial sync-all of %d rows: %.1f s\n" "$N" "$(echo "$(date +%s.%N) - $start" | bc)"
fi

q() { psql -qAtX -c "SET search_path TO $SCHEMA" -c "$1"; }

for W in ${PARTITIONS_BENCH_WORKERS:-1 2}; do
  for P in ${PARTITIONS_BENCH_PARTS:-1 2 4}; do
    topology "$P"
    q "DELETE FROM work_unit; DELETE FROM partition_read" > /dev/null
    # Round 1 after (re)registering is the first; time rounds 2 … ROUNDS+1 (workers warmed up).
    first=$(( $(q "SELECT round FROM work_round") + 1 ))
    last=$(( first + ROUNDS ))
    PIDS=()
    for i in $(seq 1 "$W"); do
      "$HUBCTL" run --worker --every 1s --lease 30s --log-format json -t "$WORK/topology.json" > "$WORK/w$W-p$P-$i.log" 2>&1 &
      PIDS+=($!)
    done
    until [ "$(q "SELECT coalesce(min(done_round), 0) FROM work_unit")" -ge "$last" ] 2>/dev/null; do sleep 0.2; done
    for pid in "${PIDS[@]}"; do kill -TERM "$pid"; done
    for pid in "${PIDS[@]}"; do wait "$pid" || true; done
    PIDS=()
    printf "%d worker(s), %d part(s): " "$W" "$P"
    # A round's span: from its first unit's claim to its last unit's end, from the workers' logs
    # (each worker does one unit at a time, so a claim's end is the worker's next unit.done).
    python3 - "$WORK" "$W" "$P" "$first" "$last" <<'PY'
import datetime, glob, json, sys
work, W, P, first, last = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def t(s): return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
starts, ends = {}, {}
for path in glob.glob(f"{work}/w{W}-p{P}-*.log"):
    current = None
    for line in open(path):
        try: e = json.loads(line)
        except ValueError: continue
        if e.get("event") == "unit.claimed":
            current = int(e["round"]); starts.setdefault(current, []).append(t(e["ts"]))
        elif e.get("event") in ("unit.done", "unit.failed") and current is not None:
            ends.setdefault(current, []).append(t(e["ts"]))
spans = [max(ends[r]) - min(starts[r]) for r in range(first + 1, last + 1) if r in starts and r in ends]
print("quiet rounds: " + ", ".join(f"{s:.2f}" for s in spans) + (f" s  (least {min(spans):.2f} s)" if spans else "none"))
PY
  done
done
