#!/usr/bin/env bash
# Compares hubctl with the loaders a data engineer would otherwise use, on the same data:
# a one-way merge of the CRM's customers into the billing database (matched by email), then the
# same merge after 1 % of the CRM changed.
#
#   bench/peer-compare.sh [SIZE]        # SIZE: 10k (default), 100k, 1m
#
# Peers: sqlite-utils (upsert by primary key) and dlt (merge write disposition, into SQLite
# through SQLAlchemy and into DuckDB), installed from PyPI into .build/peer-venv when missing.
# PEER_TOOLS limits the peers (default "sqlite-utils dlt dlt-duckdb").
# Not part of the test suite; numbers go to docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${1:-10k}"
WORK="${PEER_DIR:-/tmp/hubctl-peer-$SIZE}"
VENV="${PEER_VENV:-.build/peer-venv}"

swift build -c release --product hubctl >/dev/null
swift build -c release --product hubctl-bench >/dev/null
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/python" -c "import sqlite_utils" 2>/dev/null || "$VENV/bin/pip" install -q sqlite-utils
"$VENV/bin/python" -c "import dlt, sqlalchemy, duckdb" 2>/dev/null || "$VENV/bin/pip" install -q "dlt[sqlalchemy,duckdb]" || true

fresh() {  # fresh copy of the generated systems in $WORK/$1
    rm -rf "$WORK/$1" && cp -r "$WORK/base" "$WORK/$1"
}
now() { date +%s.%N; }
elapsed() { echo "$(echo "$(now) - $1" | bc)"; }

rm -rf "$WORK" && mkdir -p "$WORK"
.build/release/hubctl-bench --size "$SIZE" --generate-only --dir "$WORK/gen" 2>/dev/null
mv "$WORK/gen/sync" "$WORK/base"

# The one-way topology: the CRM's customers merged into billing. Billing is read too, so that
# hubctl matches the accounts it already has by email (as the peers' upserts do); push-only, it
# could not, and would create a second account for each of them.
cat > "$WORK/base/oneway.json" <<'JSON'
{
  "version": 1, "name": "oneway", "hub": { "path": "oneway.hub.sqlite" },
  "entities": { "customer": { "fields": {
      "email": { "type": "string", "required": true, "normalize": "lowercase" },
      "first_name": { "type": "string" }, "last_name": { "type": "string" }, "country": { "type": "string" } },
    "match": [["email"]] } },
  "systems": {
    "crm": { "adapter": "sqlite", "connection": { "path": "crm.db" }, "direction": "pull",
      "entities": { "customer": { "object": "contacts", "id": "contact_id", "cursor": "modified_at",
        "fields": { "email": "email_address", "first_name": "given_name", "last_name": "family_name",
                    "country": { "field": "country_code", "values": { "Germany": "DE", "France": "FR", "Brazil": "BR", "Japan": "JP" } } } } } },
    "billing": { "adapter": "sqlite", "connection": { "path": "billing.db" }, "direction": "both",
      "entities": { "customer": { "object": "accounts", "id": "account_id", "cursor": "modified_at",
        "fields": { "email": "email", "first_name": { "field": "full_name", "parts": ["first_name", "last_name"] },
                    "country": "country" } } } }
  }
}
JSON

edit_crm() {  # 1 % of the CRM's rows change
    sqlite3 "$1/crm.db" "UPDATE contacts SET given_name = given_name || 'x' WHERE contact_id % 100 = 7"
}

PEER_PY="$WORK/peer.py"
cat > "$PEER_PY" <<'PY'
"""One-way merge of crm.contacts into billing.accounts by email, with a peer tool."""
import sqlite3, sys, time
tool, folder = sys.argv[1], sys.argv[2]
COUNTRY = {"DE": "Germany", "FR": "France", "BR": "Brazil", "JP": "Japan"}

def rows():
    src = sqlite3.connect(f"{folder}/crm.db")
    for email, first, last, code in src.execute("SELECT email_address, given_name, family_name, country_code FROM contacts"):
        yield {"email": email.lower(), "full_name": f"{first} {last}", "country": COUNTRY.get(code, code)}

start = time.time()
if tool == "sqlite-utils":
    import sqlite_utils
    db = sqlite_utils.Database(f"{folder}/billing.db")
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS peer_email ON accounts(email)")
    db.execute("UPDATE accounts SET email = lower(email)")
    db["accounts"].upsert_all(rows(), pk="email", batch_size=1000)
elif tool in ("dlt", "dlt-duckdb"):
    import dlt
    @dlt.resource(primary_key="email", write_disposition="merge", name="accounts")
    def accounts():
        yield from rows()
    destination = (dlt.destinations.duckdb(f"{folder}/dlt.duckdb") if tool == "dlt-duckdb"
                   else dlt.destinations.sqlalchemy(f"sqlite:///{folder}/dlt.db"))
    pipeline = dlt.pipeline(pipeline_name="peer", destination=destination, dataset_name="main", pipelines_dir=f"{folder}/.dlt")
    pipeline.run(accounts())
print(f"{time.time() - start:.2f}")
PY

run_hubctl() {
    local t; t=$(now); .build/release/hubctl sync-all -t "$1/oneway.json" >/dev/null || true; elapsed "$t"
}
accounts() {  # billing's rows and distinct emails after a merge (equal when nothing was duplicated)
    sqlite3 "$1/billing.db" "SELECT count(*) || ' rows, ' || count(DISTINCT lower(email)) || ' emails' FROM accounts"
}

echo "peer comparison: one-way merge of crm.contacts into billing.accounts, $SIZE customers (CRM holds half of them)"
printf "%-14s %12s %14s\n" "tool" "merge s" "after 1 % s"
fresh hubctl; a=$(run_hubctl "$WORK/hubctl"); edit_crm "$WORK/hubctl"; b=$(run_hubctl "$WORK/hubctl")
printf "%-14s %12.2f %14.2f   billing: %s\n" hubctl "$a" "$b" "$(accounts "$WORK/hubctl")"
for tool in ${PEER_TOOLS:-sqlite-utils dlt dlt-duckdb}; do
    if [ "$tool" != sqlite-utils ] && ! "$VENV/bin/python" -c "import dlt" 2>/dev/null; then echo "$tool: not installed"; continue; fi
    fresh "$tool"
    a=$("$VENV/bin/python" "$PEER_PY" "$tool" "$WORK/$tool" 2>/dev/null | tail -1)
    edit_crm "$WORK/$tool"
    b=$("$VENV/bin/python" "$PEER_PY" "$tool" "$WORK/$tool" 2>/dev/null | tail -1)
    where=$(if [ "$tool" = sqlite-utils ]; then accounts "$WORK/$tool"; else echo "its own database"; fi)
    printf "%-14s %12.2f %14.2f   billing: %s\n" "$tool" "$a" "$b" "$where"
done
