#!/usr/bin/env bash
# Times `hubctl sync-all` pulling one record of N MB from an exec connector (one answer line of
# N MB), to show that reading a connector's answer is linear in its size.
#
#   bench/exec-large-answers.sh [MB…]          # default: 2 8 50
#   HUBCTL=/path/to/hubctl bench/exec-large-answers.sh 2 8
#
# HUBCTL defaults to .build/release/hubctl (built when missing). Not part of the test suite;
# numbers go to docs/exec-protocol.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${HUBCTL:-}" ]; then
    swift build -c release --product hubctl >/dev/null
    HUBCTL="$PWD/.build/release/hubctl"
fi
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(2 8 50)
WORK=$(mktemp -d /tmp/hubctl-exec-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

cat > "$WORK/big.py" <<'PY'
import json, sys
size = int(sys.argv[1]) * 1024 * 1024
for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "open": out = {"protocol": 1}
    elif req["op"] == "read": out = {"records": [{"id": "big", "fields": {"email": "big@example.com", "blob": "x" * size}}],
                                     "next": None, "last": True}
    elif req["op"] == "scan_ids": out = {"ids": ["big"], "next": None, "last": True}
    else: out = {"unsupported": True}
    out["id"] = req["id"]
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
PY

printf '%-8s %-10s %s\n' "MB" "seconds" "exit"
for mb in "${SIZES[@]}"; do
    rm -f "$WORK"/*.sqlite*
    cat > "$WORK/topology.json" <<JSON
{"version": 1, "name": "bench",
 "entities": {"record": {"fields": {"email": {"type": "string", "required": true}, "blob": {"type": "string"}},
                         "match": [["email"]]}},
 "systems": {"big": {"adapter": "exec", "direction": "pull",
                     "connection": {"command": ["python3", "big.py", "$mb"], "timeout": 900},
                     "entities": {"record": {"object": "records", "fields": {"email": "email", "blob": "blob"}}}}}}
JSON
    start=$(date +%s.%N)
    set +e
    "$HUBCTL" sync-all -t "$WORK/topology.json" >"$WORK/out.txt" 2>&1
    status=$?
    set -e
    printf '%-8s %-10.2f %s\n' "$mb" "$(echo "$(date +%s.%N) - $start" | bc)" "$status"
done
