#!/usr/bin/env bash
# Checks the topology JSON Schema and every example topology in topologies/:
#   1. the schema itself is valid JSON Schema (draft 2020-12);
#   2. every topologies/*.json validates against docs/topology.schema.json;
#   3. a sample of the broken fixtures is rejected by the schema (so it is not too lax);
#   4. `hubctl validate` accepts every example (when a hubctl binary is available).
# Run from anywhere: .ci/check-topologies.sh. Needs python3 (installs check-jsonschema if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMA=docs/topology.schema.json
INVALID=Tests/HubTopologyTests/Fixtures/invalid

if command -v check-jsonschema >/dev/null 2>&1; then
  cjs() { check-jsonschema "$@"; }
else
  if ! python3 -c 'import check_jsonschema' >/dev/null 2>&1; then
    echo "installing check-jsonschema from PyPI…"
    python3 -m pip install --quiet check-jsonschema
  fi
  cjs() { python3 -m check_jsonschema "$@"; }
fi

echo "== the schema is valid JSON Schema"
cjs --check-metaschema "$SCHEMA"

shopt -s nullglob
examples=(topologies/*.json)
if [ ${#examples[@]} -eq 0 ]; then
  echo "no example topologies in topologies/" >&2
  exit 1
fi

echo "== ${#examples[@]} example topologies validate against the schema"
cjs --schemafile "$SCHEMA" "${examples[@]}"

echo "== broken fixtures are rejected by the schema"
rejected=0
for name in unknown-top-level-key missing-version unsupported-version entity-unknown-key field-unknown-key \
            unknown-field-type system-unknown-key unknown-adapter sqlite-without-connection csv-connection-unknown-key \
            mapping-unknown-key field-mapping-unknown-key composite-one-part separator-without-parts \
            filter-unknown-operator deletes-unknown-push default-null; do
  files=("$INVALID"/[0-9][0-9][0-9]-"$name".json)
  if [ ${#files[@]} -ne 1 ]; then
    echo "fixture *-$name.json not found in $INVALID" >&2
    exit 1
  fi
  if cjs --schemafile "$SCHEMA" "${files[0]}" >/dev/null 2>&1; then
    echo "the schema accepts ${files[0]}, which hubctl rejects" >&2
    exit 1
  fi
  rejected=$((rejected + 1))
done
echo "ok -- $rejected broken fixtures rejected"

# ---- hubctl validate --------------------------------------------------------------------------
# Set HUBCTL to the binary (default: the debug build). Examples must validate with their
# defaults (${NAME:-default}); secrets have no default (${NAME}) and get a stand-in value here.
HUBCTL="${HUBCTL:-.build/debug/hubctl}"
if [ -x "$HUBCTL" ]; then
  echo "== hubctl validate accepts every example"
  for f in "${examples[@]}"; do
    stand_ins=()
    for name in $(grep -o '\${[A-Za-z_][A-Za-z0-9_]*}' "$f" | sort -u | tr -d '${}'); do
      stand_ins+=("$name=stand-in-value")
    done
    env "${stand_ins[@]}" "$HUBCTL" validate -t "$f"
  done
else
  echo "== skipped hubctl validate: no binary at $HUBCTL (build it, or set HUBCTL)"
fi
