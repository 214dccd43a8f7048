#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster in a folder of its own. scripts/with-test-services.sh makes the
# shared test cluster with it; a test that must stop, restart or crash its server makes its own:
#
#   PG_PASSWORD=… scripts/pg-cluster.sh init DIR        # initdb into DIR/pg as `postgres`, scram auth
#   PG_PASSWORD=… scripts/pg-cluster.sh start DIR PORT ['-c name=value …']
#                                    # (init if needed,) start on 127.0.0.1:PORT, socket in DIR,
#                                    # role `hubctl` (that password) owning the database hubctl_test;
#                                    # fsync and synchronous_commit off for speed: a test that
#                                    # crashes the server passes '-c synchronous_commit=on', or the
#                                    # crash forgets the last commits
#   scripts/pg-cluster.sh restart DIR [fast|immediate]  # immediate = a crash, then recovery
#   scripts/pg-cluster.sh stop DIR                      # stop (immediate) and remove DIR
#
# Runs as root or a sudoer.
set -euo pipefail
PG_BIN=/usr/lib/postgresql/15/bin
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { as_root runuser -u postgres -- "$@"; }
usage() { echo "usage: $0 init DIR | start DIR PORT [OPTIONS] | restart DIR [fast|immediate] | stop DIR" >&2; exit 64; }

[ $# -ge 2 ] || usage
# The server outlives this script: it must not inherit the caller's descriptors beyond 0-2 (a
# caller waiting for those to close, as Foundation's Process does, would wait for the server).
for fd in /proc/$$/fd/*; do
  n="${fd##*/}"
  if [ "$n" -gt 2 ] 2>/dev/null; then eval "exec $n>&-" 2>/dev/null || true; fi
done
command="$1" dir="$2"
init() {
  [ -n "${PG_PASSWORD:-}" ] || { echo "pg-cluster: set PG_PASSWORD" >&2; exit 64; }
  [ -x "$PG_BIN/initdb" ] || { echo "pg-cluster: no PostgreSQL 15 in $PG_BIN (apt-get install postgresql-15)" >&2; exit 69; }
  mkdir -p "$dir/pg"
  chmod 755 "$dir"
  chown postgres "$dir" "$dir/pg"
  printf '%s\n' "$PG_PASSWORD" > "$dir/pwfile"
  chown postgres "$dir/pwfile"
  as_postgres "$PG_BIN/initdb" -D "$dir/pg" --auth-local=trust --auth-host=scram-sha-256 --username=postgres \
    --pwfile="$dir/pwfile" --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { rm -f "$dir/pwfile"; cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/pwfile"
}
case "$command" in
init)
  [ $# -eq 2 ] || usage
  init
  ;;
start)
  [ $# -ge 3 ] && [ $# -le 4 ] || usage
  port="$3" options="${4:-}"
  [ -n "${PG_PASSWORD:-}" ] || { echo "pg-cluster: set PG_PASSWORD" >&2; exit 64; }
  [ -f "$dir/pg/PG_VERSION" ] || init
  as_postgres "$PG_BIN/pg_ctl" -D "$dir/pg" -w -l "$dir/pg.log" start \
    -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 $options" \
    >/dev/null || { cat "$dir/pg.log" >&2; exit 1; }
  as_postgres psql -q -h "$dir" -p "$port" -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE hubctl LOGIN CREATEDB CREATEROLE PASSWORD '$PG_PASSWORD'" -c "CREATE DATABASE hubctl_test OWNER hubctl" >/dev/null
  ;;
restart)
  mode="${3:-fast}"
  case "$mode" in fast|immediate) ;; *) usage ;; esac
  # pg_ctl restart starts the server again with the options it was started with (postmaster.opts).
  as_postgres "$PG_BIN/pg_ctl" -D "$dir/pg" -w -m "$mode" -l "$dir/pg.log" restart >/dev/null \
    || { tail -20 "$dir/pg.log" >&2; exit 1; }
  ;;
stop)
  if [ -f "$dir/pg/postmaster.pid" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$dir/pg" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*) usage ;;
esac
