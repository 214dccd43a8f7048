#!/usr/bin/env bash
# Pushes N new records from a SQLite table to a CSV file and a JSON Lines file (one-way), then
# syncs again with nothing changed (each file is read and compared whole: files have no cursor).
#
#   bench/file-push.sh [N]        # N rows (default 80000); HUBCTL=path to the hubctl binary
#
# Prints wall time, CPU time and peak RSS of each run (/usr/bin/time). Not part of the test
# suite; numbers go to docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/people.sh
N="${1:-80000}"
HUBCTL="${HUBCTL:-$PWD/.build/release/hubctl}"
WORK="${FILE_PUSH_DIR:-/tmp/hubctl-file-push-$N}"
rm -rf "$WORK" && mkdir -p "$WORK/files"
people_source "$WORK/crm.db" "$N"
people_topology file-push > "$WORK/topology.json"
echo "file-push: $N rows from SQLite to a CSV and a JSON Lines file"
timed_run "initial sync (2 × $N creates)" 0 sync-all -t topology.json
timed_run "sync, nothing changed" 0 sync-all -t topology.json
printf "rows: csv %s, jsonl %s (expected %s each)\n" "$(($(wc -l < "$WORK/files/people.csv") - 1))" \
    "$(wc -l < "$WORK/files/people.jsonl")" "$N"
