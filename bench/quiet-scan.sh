#!/usr/bin/env bash
# The quiet run over systems without a usable cursor: N people from a SQLite source (with a
# cursor) are pushed to a CSV file, a JSON Lines file and a SQLite table without a cursor (and a
# PostgreSQL table without one when PG_URL is set, e.g. postgres://postgres@127.0.0.1:5432/postgres);
# then each of those systems is synced alone with nothing changed, so every one of its rows is
# read and compared, and then all of them together.
#
#   bench/quiet-scan.sh [N]        # N rows (default 100000); HUBCTL=path to the hubctl binary
#
# Prints wall time, CPU time, peak RSS and CPU µs per row read of each run (/usr/bin/time). Not
# part of the test suite; numbers go to docs/performance.md. QUIET_SCAN_REUSE=1 keeps the systems
# of an earlier run of the same N (skips the initial sync); set PG_URL again for it when those
# systems include PostgreSQL (its password reaches hubctl only from there). hubctl connects with
# TLS when the server offers it (sslmode prefer, the default); PG_URL=…?sslmode=disable measures
# the same table without it (in a new directory: a reused one keeps the topology it was built with).
set -euo pipefail
# A password in PG_URL reaches hubctl through the environment, never through the topology.
QUIET_SCAN_PG_PASSWORD="$(echo "${PG_URL:-}" | sed -nE 's#^postgres(ql)?://[^:/@]+:([^@]*)@.*#\2#p')"
export QUIET_SCAN_PG_PASSWORD
cd "$(dirname "$0")/.."
. bench/people.sh
N="${1:-100000}"
HUBCTL="${HUBCTL:-$PWD/.build/release/hubctl}"
WORK="${QUIET_SCAN_DIR:-/tmp/hubctl-quiet-scan-$N}"
PG_TABLE="quiet_scan_people_$N"

if [ "${QUIET_SCAN_REUSE:-0}" != 1 ] || [ ! -f "$WORK/hub.sqlite" ]; then
    rm -rf "$WORK" && mkdir -p "$WORK/files"
    people_source "$WORK/crm.db" "$N"
    sqlite3 "$WORK/mirror.db" "CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first TEXT, last TEXT, city TEXT);"
    EXTRA=",
    \"mirror\": { \"adapter\": \"sqlite\", \"connection\": { \"path\": \"mirror.db\" },
      \"entities\": { \"person\": { \"object\": \"people\", \"id\": \"id\",
        \"fields\": { \"email\": \"email\", \"first\": \"first\", \"last\": \"last\", \"city\": \"city\" } } } }"
    if [ -n "${PG_URL:-}" ]; then
        psql "$PG_URL" -q -c "DROP TABLE IF EXISTS $PG_TABLE; CREATE TABLE $PG_TABLE (id bigserial PRIMARY KEY, email text, first text, last text, city text);"
        # A topology never holds a password: it names the environment variable it comes from.
        TOPOLOGY_URL="$(echo "$PG_URL" | sed -E 's#^(postgres(ql)?://[^:/@]+):[^@]*@#\1:${QUIET_SCAN_PG_PASSWORD}@#')"
        EXTRA="$EXTRA,
    \"warehouse\": { \"adapter\": \"postgres\", \"connection\": { \"url\": \"$TOPOLOGY_URL\" },
      \"entities\": { \"person\": { \"object\": \"$PG_TABLE\", \"id\": \"id\",
        \"fields\": { \"email\": \"email\", \"first\": \"first\", \"last\": \"last\", \"city\": \"city\" } } } }"
    fi
    people_topology quiet-scan "$EXTRA" > "$WORK/topology.json"
    echo "quiet-scan: $N people from SQLite to CSV, JSON Lines, SQLite without a cursor${PG_URL:+ and PostgreSQL without one}"
    timed_run "initial sync" 0 sync-all -t topology.json
    timed_run "sync, nothing changed (warm-up)" 0 sync-all -t topology.json
fi
SYSTEMS="sheet feed mirror"
if grep -q '"warehouse"' "$WORK/topology.json"; then
    if [ -z "${PG_URL:-}" ]; then
        echo "quiet-scan: $WORK includes a PostgreSQL table; set PG_URL (as for the run that built it) to reuse it" >&2
        exit 2
    fi
    SYSTEMS="$SYSTEMS warehouse"
fi
for system in $SYSTEMS; do
    timed_run "quiet, $system alone ($N rows)" "$N" sync-all -t topology.json --only "$system"
done
# The source (crm) has a cursor: within its lookback window after the initial sync (5 minutes)
# it is read again too, so the rows are counted from the run's report.
timed_run "quiet, all systems" read sync-all -t topology.json
