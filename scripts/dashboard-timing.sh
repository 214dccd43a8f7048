#!/usr/bin/env bash
# Measures how long the dashboard takes to serve each page (curl's total time: request to last
# byte), the median of N loads after one warm-up. A benchmark, not a test.
# Usage: scripts/dashboard-timing.sh URL [N] [ENTITY_QUERY]
set -euo pipefail
URL=$1; N=${2:-7}; Q=${3:-ann.lee@example.com}
run_link=$(curl -s "$URL/runs" | grep -o 'href="/runs/[^"]*"' | head -1 | cut -d'"' -f2 || true)
hub_link=$(curl -s "$URL/entity?q=$Q" | grep -o 'href="/entity/[^"]*"' | head -1 | cut -d'"' -f2 || true)
printf '%-34s %8s %8s %8s\n' page median min max
for path in / /issues /runs "$run_link" "/entity?q=$Q" "$hub_link" /topology /topology.svg; do
    [ -n "$path" ] || continue
    curl -s -o /dev/null "$URL$path"
    times=$(for _ in $(seq 1 "$N"); do curl -s -o /dev/null -w '%{time_total}\n' "$URL$path"; done | sort -n)
    median=$(sed -n "$(( (N + 1) / 2 ))p" <<<"$times"); min=$(head -1 <<<"$times"); max=$(tail -1 <<<"$times")
    label=$(sed -E 's#/runs/[^/]{13}[^/]*#/runs/RUN_ID#; s#/entity/([a-z_]+)/.*#/entity/\1/HUB_ID#' <<<"$path")
    awk -v l="$label" -v a="$median" -v b="$min" -v c="$max" 'BEGIN { printf "%-34s %6.0f ms %5.0f ms %5.0f ms\n", l, a * 1000, b * 1000, c * 1000 }'
done
