#!/usr/bin/env bash
# Throughput of `hubctl run --worker` on one PostgreSQL hub: the benchmark workload
# (hubctl-bench --generate-only: N customers over three SQLite systems, overlapping) synced from
# scratch by one `sync-all`, then by 1, 2 and 4 workers, each on a fresh copy of the systems and a
# fresh hub schema. A worker round is done when every unit (the pull and the push of each system)
# is done for it, which is what one sync-all does.
#
#   bench/workers.sh [N]          # N customers (default 2000); HUBCTL / HUBCTL_BENCH: the binaries
#
# PostgreSQL from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (as for psql), or from
# scripts/with-test-services.sh's HUBCTL_TEST_POSTGRES_* variables. Prints the wall time of each
# run and the hub's runs. Not part of the test suite; numbers go to docs/scale-out.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-2000}"
HUBCTL="${HUBCTL:-$PWD/.build/debug/hubctl}"
BENCH="${HUBCTL_BENCH:-$PWD/.build/debug/hubctl-bench}"
. bench/postgres-env.sh
WORK="${WORKERS_BENCH_DIR:-/tmp/hubctl-workers-bench-$N}"
rm -rf "$WORK" && mkdir -p "$WORK"
"$BENCH" --generate-only --size "$N" --dir "$WORK/gen" > /dev/null
SCHEMAS=()
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for s in "${SCHEMAS[@]}"; do psql -qAtX -c "DROP SCHEMA IF EXISTS $s CASCADE" > /dev/null 2>&1 || true; done
}
trap cleanup EXIT

fresh() {  # name → a copy of the systems with a PostgreSQL hub in schema bench_<name>_<pid>
  local dir="$WORK/$1" schema="bench_$1_$$"
  cp -r "$WORK/gen/sync" "$dir"
  sed -i "s|\"hub\": { \"path\": \"bench.hub.sqlite\" }|\"hub\": { \"url\": \"postgres://$PGUSER:\${HUB_PGPASSWORD}@$PGHOST:$PGPORT/$PGDATABASE?sslmode=disable\", \"schema\": \"$schema\" }|" "$dir/topology.json"
  SCHEMAS+=("$schema")
  echo "$dir $schema"
}

now() { date +%s.%N; }

read -r dir schema < <(fresh sync_all)
start=$(now)
"$HUBCTL" sync-all -t "$dir/topology.json" > "$dir/sync-all.log" 2>&1 || true
end=$(now)
printf "sync-all (one process): %6.1f s\n" "$(echo "$end - $start" | bc)"

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
  until [ "$(psql -qAtX -c "SELECT coalesce(min(done_round), 0) FROM $schema.work_unit" 2>/dev/null || echo 0)" -ge 1 ] \
        && [ "$(psql -qAtX -c "SELECT count(*) FROM $schema.work_unit" 2>/dev/null || echo 0)" -ge 6 ]; do
    sleep 0.2
  done
  end=$(now)
  for pid in "${PIDS[@]}"; do kill -TERM "$pid"; done
  for pid in "${PIDS[@]}"; do wait "$pid" || true; done
  PIDS=()
  printf "%d worker(s):              %6.1f s   units per worker: %s\n" "$W" "$(echo "$end - $start" | bc)" \
    "$(psql -qAtX -c "SELECT string_agg(units_done::text, ' ' ORDER BY units_done DESC) FROM $schema.worker")"
  psql -qAtX -F ' ' -c "SELECT u.unit, round(extract(epoch from (r.finished_at::timestamptz - r.started_at::timestamptz))::numeric, 1) || ' s'
                        FROM $schema.work_unit u JOIN $schema.run r ON r.id = u.run_id ORDER BY u.unit" | sed 's/^/    /'
done
