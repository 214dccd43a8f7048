#!/usr/bin/env bash
# Starts the real servers the tests talk to, runs a command with their addresses in the
# environment, and stops them afterwards (also on failure or Ctrl-C):
#
#   scripts/with-test-services.sh swift test
#
# - PostgreSQL 15: a throwaway cluster (initdb as the `postgres` user into a temporary folder,
#   127.0.0.1 on a free port, password authentication) with a role `hubctl` that may create
#   databases and owns the database hubctl_test; TLS on with a self-signed certificate when openssl
#   is there (then HUBCTL_TEST_POSTGRES_TLS=1). Exports HUBCTL_TEST_POSTGRES_HOST, _PORT, _USER,
#   _PASSWORD, _DATABASE.
# - Kinto (PyPI `kinto`, memory backends, accounts plugin) in a virtual environment kept in
#   .build/kinto-venv, on 127.0.0.1 and a free port. Exports HUBCTL_TEST_KINTO_URL.
# - PyPI's prometheus-client in .build/prom-venv, for the metrics test.
#
# Installs what is missing (Debian's postgresql-15, python3-venv; kinto from PyPI). Runs as root
# or a sudoer. Set HUBCTL_TEST_SERVICES=none to run the command without starting anything.
# To keep the services up while you iterate, write their environment to a file and keep a
# shell waiting:  HUBCTL_TEST_ENV_FILE=/tmp/hubctl-test.env scripts/with-test-services.sh sleep infinity &
# then:           set -a; . /tmp/hubctl-test.env; set +a; swift test --skip-build
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
log() { echo "services: $*" >&2; }

if [ "${HUBCTL_TEST_SERVICES:-}" = none ]; then exec "$@"; fi

WORK="$(mktemp -d /tmp/hubctl-services.XXXXXX)"
chmod 755 "$WORK"
PG_BIN=/usr/lib/postgresql/15/bin
PG_DATA="$WORK/pg"
KINTO_PID=""

cleanup() {
  status=$?
  if [ -n "$KINTO_PID" ]; then kill "$KINTO_PID" 2>/dev/null || true; wait "$KINTO_PID" 2>/dev/null || true; fi
  if [ -f "$PG_DATA/postmaster.pid" ]; then
    as_root runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT INT TERM

# ---- PostgreSQL ----------------------------------------------------------------------------------
if [ ! -x "$PG_BIN/initdb" ]; then
  log "installing postgresql-15"
  as_root apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q postgresql-15 >/dev/null
fi
PG_PORT="$(free_port)"
PG_PASSWORD="pw-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
PG_PASSWORD="$PG_PASSWORD" scripts/pg-cluster.sh init "$WORK"
# TLS with a throwaway self-signed certificate, so sslmode require and verify-full can be tested.
SSL_OPTS=""
if command -v openssl >/dev/null 2>&1 && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
     -keyout "$PG_DATA/server.key" -out "$PG_DATA/server.crt" >/dev/null 2>&1; then
  chown postgres "$PG_DATA/server.key" "$PG_DATA/server.crt"
  chmod 600 "$PG_DATA/server.key"
  SSL_OPTS="-c ssl=on"
  export HUBCTL_TEST_POSTGRES_TLS=1
fi
PG_PASSWORD="$PG_PASSWORD" scripts/pg-cluster.sh start "$WORK" "$PG_PORT" "-c max_connections=300 $SSL_OPTS"
export HUBCTL_TEST_POSTGRES_HOST=127.0.0.1 HUBCTL_TEST_POSTGRES_PORT="$PG_PORT" HUBCTL_TEST_POSTGRES_USER=hubctl \
  HUBCTL_TEST_POSTGRES_PASSWORD="$PG_PASSWORD" HUBCTL_TEST_POSTGRES_DATABASE=hubctl_test
log "PostgreSQL 15 on 127.0.0.1:$PG_PORT"

# ---- Kinto ---------------------------------------------------------------------------------------
VENV="$ROOT/.build/kinto-venv"
if [ ! -x "$VENV/bin/kinto" ]; then
  python3 -m venv "$VENV" 2>/dev/null || {
    as_root apt-get install -y -q python3-venv >/dev/null
    rm -rf "$VENV"; python3 -m venv "$VENV"
  }
  log "installing kinto into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check kinto >"$WORK/pip.log" 2>&1 || { cat "$WORK/pip.log" >&2; exit 1; }
fi
# PyPI's prometheus_client parses /metrics in the `hubctl run` test, beside its own parser.
PROM_VENV="$ROOT/.build/prom-venv"
if [ ! -x "$PROM_VENV/bin/python" ] || ! "$PROM_VENV/bin/python" -c 'import prometheus_client' 2>/dev/null; then
  log "installing prometheus-client into $PROM_VENV"
  python3 -m venv "$PROM_VENV" && "$PROM_VENV/bin/pip" install --quiet --disable-pip-version-check prometheus-client \
    >"$WORK/pip-prom.log" 2>&1 || { cat "$WORK/pip-prom.log" >&2; exit 1; }
fi
KINTO_PORT="$(free_port)"
cat > "$WORK/kinto.ini" <<INI
[app:main]
use = egg:kinto
kinto.storage_backend = kinto.core.storage.memory
kinto.storage_url =
kinto.cache_backend = kinto.core.cache.memory
kinto.cache_url =
kinto.permission_backend = kinto.core.permission.memory
kinto.permission_url =
kinto.includes = kinto.plugins.accounts
multiauth.policies = account
multiauth.policy.account.use = kinto.plugins.accounts.AccountsPolicy
kinto.userid_hmac_secret = $(python3 -c 'import secrets; print(secrets.token_hex(16))')
kinto.account_create_principals = system.Everyone
kinto.bucket_create_principals = system.Authenticated
kinto.paginate_by = 1000

[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = $KINTO_PORT

[loggers]
keys = root
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARN
handlers = console
[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = WARN
formatter = generic
[formatter_generic]
format = %(message)s
INI
"$VENV/bin/kinto" start --ini "$WORK/kinto.ini" --port "$KINTO_PORT" >"$WORK/kinto.log" 2>&1 &
KINTO_PID=$!
for _ in $(seq 1 150); do
  if curl -fsS "http://127.0.0.1:$KINTO_PORT/v1/__heartbeat__" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$KINTO_PID" 2>/dev/null; then cat "$WORK/kinto.log" >&2; exit 1; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$KINTO_PORT/v1/__heartbeat__" >/dev/null || { cat "$WORK/kinto.log" >&2; exit 1; }
export HUBCTL_TEST_KINTO_URL="http://127.0.0.1:$KINTO_PORT/v1"
log "Kinto on 127.0.0.1:$KINTO_PORT"

if [ -n "${HUBCTL_TEST_ENV_FILE:-}" ]; then
  env | grep '^HUBCTL_TEST_' > "$HUBCTL_TEST_ENV_FILE"
fi

set +e
"$@"
