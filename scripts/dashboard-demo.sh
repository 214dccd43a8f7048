#!/usr/bin/env bash
# Builds a demo hub with something for every dashboard page: `hubctl demo`, then the customer
# entity's conflicts parked for a person, Ann's country changed in the CRM and in the app (an
# open conflict), a spreadsheet row without an email (quarantined) and a customer whose first
# name is `<script>alert(1)</script>` (shown as text).
# Usage: scripts/dashboard-demo.sh HUBCTL DIR   (DIR is created; prints the topology's path)
set -euo pipefail
HUBCTL=$1
DIR=$2
"$HUBCTL" demo "$DIR" --reset >/dev/null
T="$DIR/topology.json"
python3 - "$T" <<'PY'
import json, sys
p = sys.argv[1]
t = json.load(open(p))
t["entities"]["customer"]["conflicts"] = {"resolve": "manual"}
json.dump(t, open(p, "w"), indent=2)
PY
sqlite3 "$DIR/crm.db" "UPDATE contacts SET country_code = 'FR' WHERE email_address = 'ann.lee@example.com'"
sqlite3 "$DIR/app.db" "UPDATE users SET country = 'Japan' WHERE email = 'ann.lee@example.com'"
printf '%s\n' 'r9,,Nomail,Person,Spain' 'r10,xss@example.com,<script>alert(1)</script>,Tester,France' >> "$DIR/sheet/customers.csv"
"$HUBCTL" sync-all -t "$T" >/dev/null 2>&1 || [ $? -eq 3 ]   # records the schedule state too; 3: partial (the conflict and the quarantined row)
echo "$T"
