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

# HUBCTL_BIN_DIR: a folder holding release builds of hubctl and hubctl-bench (built elsewhere,
# with --scratch-path say); without it both are built here.
BIN="${HUBCTL_BIN_DIR:-.build/release}"
if [ -z "${HUBCTL_BIN_DIR:-}" ]; then
    swift build -c release --product hubctl >/dev/null
    swift build -c release --product hubctl-bench >/dev/null
fi
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/python" -c "import sqlite_utils" 2>/dev/null || "$VENV/bin/pip" install -q sqlite-utils
"$VENV/bin/python" -c "import dlt, sqlalchemy, duckdb" 2>/dev/null || "$VENV/bin/pip" install -q "dlt[sqlalchemy,duckdb]" || true

fresh() {  # fresh copy of the generated systems in $WORK/$1
    rm -rf "$WORK/$1" && cp -r "$WORK/base" "$WORK/$1"
}
now() { date +%s.%N; }
elapsed() { echo "$(echo "$(now) - $1" | bc)"; }

rm -rf "$WORK" && mkdir -p "$WORK"
"$BIN/hubctl-bench" --size "$SIZE" --generate-only --dir "$WORK/gen" 2>/dev/null
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

# PEER_LOOKBACK (say 1s): the cursors' lookback window instead of the default 5 minutes, so that
# the timed runs, seconds apart, are past the window of the runs before them (the steady state of
# runs minutes apart); the script sleeps PEER_SETTLE seconds (default 2, more than the window)
# between runs.
if [ -n "${PEER_LOOKBACK:-}" ]; then
    sed -i "s/\"cursor\": \"modified_at\"/\"cursor\": {\"field\": \"modified_at\", \"lookback\": \"$PEER_LOOKBACK\"}/g" "$WORK/base/oneway.json"
fi
settle() { if [ -n "${PEER_LOOKBACK:-}" ]; then sleep "${PEER_SETTLE:-2}"; fi; }

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
    local t; t=$(now); "$BIN/hubctl" sync-all -t "$1/oneway.json" >/dev/null || true; elapsed "$t"
}
accounts() {  # billing's rows and distinct emails after a merge (equal when nothing was duplicated)
    sqlite3 "$1/billing.db" "SELECT count(*) || ' rows, ' || count(DISTINCT lower(email)) || ' emails' FROM accounts"
}

echo "peer comparison: one-way merge of crm.contacts into billing.accounts, $SIZE customers (CRM holds half of them)"
printf "%-14s %12s %14s\n" "tool" "merge s" "after 1 % s"
# hubctl's run after the merge reads back the accounts it created in billing (their cursor
# moved): timed apart, as "read back", so that "after 1 %" is a run in the steady state.
fresh hubctl; a=$(run_hubctl "$WORK/hubctl"); settle; r=$(run_hubctl "$WORK/hubctl"); settle
edit_crm "$WORK/hubctl"; b=$(run_hubctl "$WORK/hubctl")
printf "%-14s %12.2f %14.2f   billing: %s; read back: %.2f s\n" hubctl "$a" "$b" "$(accounts "$WORK/hubctl")" "$r"
for tool in ${PEER_TOOLS:-sqlite-utils dlt dlt-duckdb}; do
    if [ "$tool" != sqlite-utils ] && ! "$VENV/bin/python" -c "import dlt" 2>/dev/null; then echo "$tool: not installed"; continue; fi
    fresh "$tool"
    a=$("$VENV/bin/python" "$PEER_PY" "$tool" "$WORK/$tool" 2>/dev/null | tail -1)
    edit_crm "$WORK/$tool"
    b=$("$VENV/bin/python" "$PEER_PY" "$tool" "$WORK/$tool" 2>/dev/null | tail -1)
    where=$(if [ "$tool" = sqlite-utils ]; then accounts "$WORK/$tool"; else echo "its own database"; fi)
    printf "%-14s %12.2f %14.2f   billing: %s\n" "$tool" "$a" "$b" "$where"
done
