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
N="${1:-80000}"
HUBCTL="${HUBCTL:-$PWD/.build/release/hubctl}"
WORK="${FILE_PUSH_DIR:-/tmp/hubctl-file-push-$N}"
rm -rf "$WORK" && mkdir -p "$WORK/files"
sqlite3 "$WORK/crm.db" <<SQL
CREATE TABLE contacts (contact_id INTEGER PRIMARY KEY, email TEXT, first TEXT, last TEXT, city TEXT, modified_at TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO contacts SELECT i, 'person' || i || '@example.com', 'First' || (i % 977), 'Last' || (i % 1013),
  'City ' || (i % 89), printf('2024-01-01T00:00:%09d', i) FROM n;
SQL
cat > "$WORK/topology.json" <<'JSON'
{
  "version": 1, "name": "file-push", "hub": { "path": "hub.sqlite" },
  "entities": { "person": { "fields": {
      "email": { "type": "string", "required": true }, "first": { "type": "string" },
      "last": { "type": "string" }, "city": { "type": "string" } },
    "match": [["email"]] } },
  "systems": {
    "crm": { "adapter": "sqlite", "connection": { "path": "crm.db" }, "direction": "pull",
      "entities": { "person": { "object": "contacts", "id": "contact_id", "cursor": "modified_at",
        "fields": { "email": "email", "first": "first", "last": "last", "city": "city" } } } },
    "sheet": { "adapter": "csv", "connection": { "path": "files" },
      "entities": { "person": { "object": "people.csv", "id": "id",
        "fields": { "email": "Email", "first": "First", "last": "Last", "city": "City" } } } },
    "feed": { "adapter": "jsonl", "connection": { "path": "files" },
      "entities": { "person": { "object": "people.jsonl", "id": "id",
        "fields": { "email": "email", "first": "name.first", "last": "name.last", "city": "city" } } } }
  }
}
JSON
run() {  # label, then the hubctl arguments
    local label="$1"; shift
    (cd "$WORK" && /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" "$HUBCTL" "$@" >"$WORK/out.txt" 2>&1) || {
        cat "$WORK/out.txt"; exit 1; }
    read -r wall user sys rss < "$WORK/time.txt"
    printf "%-34s %8.2f s wall %8.2f s cpu %7.1f MB peak RSS\n" "$label" "$wall" "$(echo "$user + $sys" | bc)" "$(echo "$rss / 1024" | bc -l)"
}
echo "file-push: $N rows from SQLite to a CSV and a JSON Lines file"
run "initial sync (2 × $N creates)" sync-all -t topology.json
run "sync, nothing changed" sync-all -t topology.json
printf "rows: csv %s, jsonl %s (expected %s each)\n" "$(($(wc -l < "$WORK/files/people.csv") - 1))" \
    "$(wc -l < "$WORK/files/people.jsonl")" "$N"
