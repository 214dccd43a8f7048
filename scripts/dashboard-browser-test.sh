#!/usr/bin/env bash
# Drives the dashboard in headless Chromium against a demo hub with an open conflict and a
# quarantined record (scripts/dashboard-demo.sh):
#   - every page's DOM (--dump-dom) shows the demo's systems, counts, the conflict and the record;
#   - a record value `<script>alert(1)</script>` is text, never an element;
#   - actions: refused without a token, without CSRF, with a wrong token; resolving the conflict
#     through the issues page's form (sign-in cookie + the form's CSRF token) changes what the
#     next sync-all writes; dismissing through the bearer API is recorded with who and why;
#   - screenshots of every page at 1280x900 and 390x844 are not blank (scripts/png-check.py) and
#     are kept in $DASHBOARD_SCREENSHOTS (default .build/dashboard-screenshots) as CI artifacts;
#   - `hubctl report --html` and `hubctl graph` render the same hub.
# Installs Debian's chromium when missing (as root). Without chromium it exits 77 (skip), except
# on CI (CI=true), where that is a failure.
# Usage: scripts/dashboard-browser-test.sh HUBCTL
set -euo pipefail
HUBCTL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHOTS=${DASHBOARD_SCREENSHOTS:-$ROOT/.build/dashboard-screenshots}
WORK=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass=0
check() { pass=$((pass + 1)); echo "ok - $*"; }

if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing Debian's chromium"
        apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
    fi
fi
if ! command -v chromium >/dev/null 2>&1; then
    [ "${CI:-}" = true ] && fail "chromium is missing and could not be installed"
    echo "SKIP: chromium is missing (apt-get install chromium as root)"; exit 77
fi
browser() { timeout 90 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$WORK/profile" "$@" 2>/dev/null; }
dom() { browser --dump-dom "$1"; }
has() { grep -qF -- "$2" <<<"$1" || fail "$3: the page lacks '$2'"; }

T=$("$ROOT/scripts/dashboard-demo.sh" "$HUBCTL" "$WORK/demo")
TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
HUBCTL_DASHBOARD_TOKEN=$TOKEN "$HUBCTL" dashboard -t "$T" --listen 127.0.0.1:0 > "$WORK/serve.out" 2>&1 &
PID=$!
for _ in $(seq 1 100); do grep -q 'http://' "$WORK/serve.out" && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/serve.out" | head -1)
[ -n "$URL" ] || fail "the dashboard did not start: $(cat "$WORK/serve.out")"
echo "dashboard at $URL"

# --- every page, as the browser builds it
page=$(dom "$URL/")
for s in crm app sheet customer employee "on time" "Next run" "open conflicts" "quarantined" '<svg class="activity"'; do has "$page" "$s" overview; done
grep -qE '<span class="badge ok">on time</span>.*>in [0-9]+m' <<<"$page" || fail "overview: no system × entity shows its next run under the schedule"
grep -qE '<td>6</td>' <<<"$page" || fail "overview: no system × entity shows the demo's 6 linked customers"
check "overview shows every system × entity, its schedule state and next run, the counts and the activity chart"

page=$(dom "$URL/issues")
for s in "Open conflicts (1)" country Japan France "Quarantined records (1)" missing_required "customers.csv id r9" "Sign in"; do has "$page" "$s" issues; done
grep -q 'name="csrf"' <<<"$page" && fail "issues: forms are shown to a visitor who is not signed in"
check "issues shows the open conflict and the quarantined record, read-only without a session"

page=$(dom "$URL/runs")
has "$page" 'id="runs-table"' runs
[ "$(grep -o '<tr>' <<<"$page" | wc -l)" -ge 3 ] || fail "runs: fewer than 2 runs listed"
run_link=$(grep -o 'href="/runs/[^"]*"' <<<"$page" | head -1 | cut -d'"' -f2)
page=$(dom "$URL$run_link")
for s in "Conflicts recorded by this run" "Quarantined by this run" missing_required; do has "$page" "$s" "run page"; done
check "runs lists the runs and a run's page shows its counts, quarantine and conflicts"

page=$(dom "$URL/entity?q=ann.lee@example.com")
for s in "u-100" "ann.lee@example.com" "Values and where they came from" "ID in every system" "History"; do has "$page" "$s" entity; done
page=$(dom "$URL/entity?q=app:u-100")
has "$page" "ann.lee@example.com" "entity by system ID"
check "entity search by email and by a system's ID shows the record, its IDs, lineage and history"

page=$(dom "$URL/entity?q=xss@example.com")
has "$page" '&lt;script&gt;alert(1)&lt;/script&gt;' "entity (hostile value)"
grep -qi '<script' <<<"$page" && fail "a record value became a <script> element"
check "a record value <script>alert(1)</script> shows as text"

page=$(dom "$URL/topology")
for s in '<svg class="topology"' crm app sheet "hub" "linked"; do has "$page" "$s" topology; done
check "topology draws the hub and its systems"

# --- screenshots at desktop and phone widths
mkdir -p "$SHOTS"
for p in overview:/ issues:/issues runs:/runs entity:/entity?q=ann.lee@example.com topology:/topology; do
    name=${p%%:*}; path=${p#*:}
    browser --screenshot="$SHOTS/$name-desktop.png" --window-size=1280,900 "$URL$path" >/dev/null
    browser --screenshot="$SHOTS/$name-phone.png" --window-size=390,844 "$URL$path" >/dev/null
done
python3 "$ROOT/scripts/png-check.py" "$SHOTS"/*-desktop.png "$SHOTS"/*-phone.png || fail "a screenshot is blank"
check "10 screenshots (5 pages × 2 widths) are not blank, kept in $SHOTS"

# --- actions: refused without the right credentials
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d take=app "$URL/actions/conflicts/1/resolve")
[ "$code" = 401 ] || fail "an action without a token answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer wrong' -d take=app "$URL/actions/conflicts/1/resolve")
[ "$code" = 401 ] || fail "an action with a wrong token answered $code"
JAR="$WORK/cookies"
form_csrf() { grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//; s/"//'; }
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-urlencode "token=$TOKEN" -d "name=x" "$URL/login")
[ "$code" = 403 ] || fail "signing in without the sign-in form's CSRF token answered $code"
login_csrf=$(curl -s -c "$JAR" "$URL/login" | form_csrf)
[ -n "$login_csrf" ] || fail "the sign-in form has no CSRF token"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" -X POST -d "csrf=$login_csrf&token=wrong&name=x" "$URL/login")
[ "$code" = 401 ] || fail "signing in with a wrong token answered $code"
login_csrf=$(curl -s -b "$JAR" -c "$JAR" "$URL/login" | form_csrf)
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" -c "$JAR" -X POST -d "csrf=$login_csrf" --data-urlencode "token=$TOKEN" --data-urlencode "name=Ops Person" "$URL/login")
[ "$code" = 303 ] || fail "signing in answered $code"
grep -q hubctl_session "$JAR" || fail "no session cookie"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" -X POST -d take=app "$URL/actions/conflicts/1/resolve")
[ "$code" = 403 ] || fail "a form without its CSRF token answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: rebound.example' "$URL/")
[ "$code" = 421 ] || fail "a request for another host name (DNS rebinding) answered $code"
check "actions are refused without a token, with a wrong one, and without the form's CSRF token; other host names are refused"

# --- resolving the conflict through the form changes the next sync
issues=$(curl -s -b "$JAR" "$URL/issues")
csrf=$(form_csrf <<<"$issues")
action=$(grep -o 'action="/actions/conflicts/[0-9]*/resolve"' <<<"$issues" | head -1 | cut -d'"' -f2)
[ -n "$csrf" ] && [ -n "$action" ] || fail "the signed-in issues page has no resolve form"
grep -qF 'value="app">Take app' <<<"$issues" || fail "no 'Take app' button"
before=$(sqlite3 "$WORK/demo/crm.db" "SELECT country_code FROM contacts WHERE email_address = 'ann.lee@example.com'")
[ "$before" = FR ] || fail "the CRM should hold FR before the resolution, holds $before"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" -X POST --data-urlencode "csrf=$csrf" -d take=app "$URL$action")
[ "$code" = 303 ] || fail "resolving answered $code"
issues=$(curl -s -b "$JAR" "$URL/issues")
has "$issues" "resolved by Ops Person (dashboard)" "issues after resolving"
has "$issues" "Open conflicts (0)" "issues after resolving"
out=$("$HUBCTL" sync-all -t "$T" 2>&1) || [ $? -eq 3 ]
after=$(sqlite3 "$WORK/demo/crm.db" "SELECT country_code FROM contacts WHERE email_address = 'ann.lee@example.com'")
[ "$after" = JP ] || fail "after resolving with the app's value and syncing, the CRM holds $after, not JP"
grep -qE 'crm +customer +push +- +0 +1' <<<"$out" || fail "the sync did not report the CRM update: $out"
"$HUBCTL" conflicts list -t "$T" --json | grep -q '"resolved_by" *: *"Ops Person (dashboard)"' || fail "the resolution is not recorded with who did it"
check "resolving the conflict through the form (cookie + CSRF) makes the next sync write Japan to the CRM"

# --- retrying through the form after fixing the row at its source syncs it
sed -i 's/^r9,,Nomail,/r9,nomail@example.com,Nomail,/' "$WORK/demo/sheet/customers.csv"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" -X POST --data-urlencode "csrf=$csrf" "$URL/actions/quarantine/1/retry")
[ "$code" = 303 ] || fail "retrying answered $code"
issues=$(curl -s -b "$JAR" "$URL/issues")
has "$issues" "Retried 1: 1 synced, 0 still quarantined." "issues after retrying"
has "$issues" "Quarantined records (0)" "issues after retrying"
"$HUBCTL" explain customer sheet:r9 -t "$T" | grep -q 'nomail@example.com' || fail "the retried row is not in the hub"
"$HUBCTL" sync-all -t "$T" >/dev/null
[ "$(sqlite3 "$WORK/demo/app.db" "SELECT count(*) FROM users WHERE email = 'nomail@example.com'")" = 1 ] \
    || fail "the retried record did not reach the app with the next sync"
check "retrying a quarantined row through the form, once fixed at its source, brings it into the hub and the next sync to the app"

# --- dismissing through the bearer API is recorded with who and why
printf '%s\n' 'r11,,Second,Nomail,Chile' >> "$WORK/demo/sheet/customers.csv"
"$HUBCTL" sync-all -t "$T" >/dev/null || [ $? -eq 3 ]
entry=$("$HUBCTL" quarantine list -t "$T" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["entries"][0]["id"])')
msg=$(curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'X-Hubctl-User: ci-bot' --data-urlencode 'reason=row has no email; asked sales' "$URL/actions/quarantine/$entry/dismiss")
grep -q "Dismissed #$entry" <<<"$msg" || fail "dismiss answered: $msg"
"$HUBCTL" history -t "$T" | grep -q 'ci-bot (dashboard)' || fail "the dismissal is not in the history"
head -c 100000 /dev/zero | tr '\0' a > "$WORK/big"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" --data-binary @"$WORK/big" "$URL/actions/quarantine/$entry/dismiss")
[ "$code" = 413 ] || fail "a 100 KB form answered $code"
check "dismissing a quarantine entry with the bearer token is recorded with who and why; an oversized form is refused"

# --- the static report and the graph
"$HUBCTL" report -t "$T" --html "$SHOTS/report.html" >/dev/null
page=$(dom "file://$SHOTS/report.html")
for s in 'id="overview"' 'id="issues"' 'id="runs"' 'id="entity"' 'id="topology"' crm sheet '<svg class="topology"'; do has "$page" "$s" report; done
grep -q '<form' <<<"$page" && fail "the static report has a form"
browser --screenshot="$SHOTS/report-desktop.png" --window-size=1280,900 "file://$SHOTS/report.html" >/dev/null
python3 "$ROOT/scripts/png-check.py" "$SHOTS/report-desktop.png" >/dev/null || fail "the report's screenshot is blank"
"$HUBCTL" graph -t "$T" --format dot | grep -q '"system:crm" -> hub' || fail "graph --format dot"
"$HUBCTL" graph -t "$T" --format mermaid | grep -q 'flowchart LR' || fail "graph --format mermaid"
"$HUBCTL" graph -t "$T" --format svg -o "$WORK/t.svg" && grep -q '<svg xmlns' "$WORK/t.svg" || fail "graph --format svg"
check "report --html holds every page without forms; graph prints SVG, DOT and Mermaid"

echo "$pass passed, 0 failed"
