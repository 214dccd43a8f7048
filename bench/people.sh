# Shared by bench/file-push.sh and bench/quiet-scan.sh (sourced, not run): the people source
# table, the topology around it, and a timed hubctl run.

# people_source DB N: a SQLite table of N people with a change cursor (one millisecond apart).
people_source() {
    sqlite3 "$1" <<SQL
CREATE TABLE contacts (contact_id INTEGER PRIMARY KEY, email TEXT, first TEXT, last TEXT, city TEXT, modified_at TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
INSERT INTO contacts SELECT i, 'person' || i || '@example.com', 'First' || (i % 977), 'Last' || (i % 1013),
  'City ' || (i % 89), printf('2024-01-01T00:00:%09d', i) FROM n;
SQL
}

# people_topology NAME [EXTRA]: the topology JSON: the people source (crm, pull only), a CSV file
# (sheet) and a JSON Lines file (feed) in files/; EXTRA is appended to the systems (",\n  \"x\": …").
people_topology() {
    cat <<JSON
{
  "version": 1, "name": "$1", "hub": { "path": "hub.sqlite" },
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
        "fields": { "email": "email", "first": "name.first", "last": "name.last", "city": "city" } } } }${2:-}
  }
}
JSON
}

# timed_run LABEL ROWS ARGS…: runs "$HUBCTL" ARGS… in "$WORK" under /usr/bin/time and prints its
# wall time, CPU time (user + system), peak RSS and, when ROWS > 0, CPU µs per row; ROWS "read"
# takes the rows the run's report says it read (the READ column of its pull lines).
timed_run() {
    local label="$1" rows="$2"; shift 2
    (cd "$WORK" && /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" "$HUBCTL" "$@" >"$WORK/out.txt" 2>&1) || {
        cat "$WORK/out.txt"; exit 1; }
    local wall user sys rss cpu per=""
    read -r wall user sys rss < "$WORK/time.txt"
    if [ "$rows" = read ]; then
        rows="$(awk '$3 == "pull" && $4 ~ /^[0-9]+$/ { n += $4 } END { print n + 0 }' "$WORK/out.txt")"
        label="$label ($rows rows read)"
    fi
    cpu="$(echo "$user + $sys" | bc)"
    [ "$rows" -gt 0 ] && per="$(printf "%6.2f µs/row" "$(echo "$cpu * 1000000 / $rows" | bc -l)")"
    printf "%-36s %8.2f s wall %8.2f s cpu %7.1f MB peak RSS  %s\n" "$label" "$wall" "$cpu" \
        "$(echo "$rss / 1024" | bc -l)" "$per"
}
