#!/bin/bash
# test/lib/pg-server.sh: a throw-away PostgreSQL server for the tests, from Debian's postgresql
# package, listening on 127.0.0.1 only, on a free port, with its data in a new temporary
# directory. Usage:
#   pg-server.sh start STATE_DIR   starts one; writes STATE_DIR/pg.env (PG_URL, PG_PORT,
#                                  PG_DATA, PG_BINDIR) and STATE_DIR/pg-admin-url (the
#                                  superuser's connection URL, what a postgresql plan's
#                                  url_file names); prints the URL
#   pg-server.sh stop STATE_DIR    stops it (fast shutdown) and removes its data directory
# Run as root, the server runs as the 'postgres' user (initdb refuses root). Exits non-zero with
# a message naming what is missing when PostgreSQL is not installed: a test that needs it fails
# rather than skips.
set -eu

die() { echo "pg-server: $*" >&2; exit 1; }

bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] && [ -x "$d/initdb" ] || die "no PostgreSQL server found (install the Debian package 'postgresql', or set PG_BINDIR)"
  echo "$d"
}

# Runs a command as the server's owner.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  # A port nobody listens on, from the dynamic range, picked at random.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    p=$(( ($(od -An -N2 -tu2 /dev/urandom) % 20000) + 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done 2>/dev/null
  die "no free port found"
}

start() {
  state=$1
  mkdir -p "$state"
  bin=$(bindir)
  data=$(mktemp -d "${TMPDIR:-/tmp}/bindery-pg.XXXXXX")
  if [ "$(id -u)" = 0 ]; then
    getent passwd postgres >/dev/null || die "run as root, but there is no 'postgres' user to run the server"
    chown postgres "$data"
  fi
  password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  printf '%s\n' "$password" >"$data/pwfile"
  [ "$(id -u)" = 0 ] && chown postgres "$data/pwfile"
  as_owner "$bin/initdb" -D "$data/db" -U bindery_admin --pwfile="$data/pwfile" -A scram-sha-256 \
    --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$data/initdb.log" 2>&1 ||
    { cat "$data/initdb.log" >&2; die "initdb failed"; }
  rm -f "$data/pwfile"
  tries=0
  while :; do
    port=$(free_port)
    if as_owner "$bin/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$data -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB -c max_connections=200" \
      start >"$data/pg_ctl.log" 2>&1; then
      break
    fi
    tries=$((tries + 1))
    [ $tries -lt 3 ] || { cat "$data/server.log" >&2 2>/dev/null; die "the server did not start (see above)"; }
  done
  url="postgresql://bindery_admin:$password@127.0.0.1:$port/postgres"
  printf '%s\n' "$url" >"$state/pg-admin-url"
  chmod 600 "$state/pg-admin-url"
  cat >"$state/pg.env" <<EOF
PG_URL='$url'
PG_PORT=$port
PG_DATA='$data'
PG_BINDIR='$bin'
EOF
  echo "$url"
}

stop() {
  state=$1
  [ -f "$state/pg.env" ] || return 0
  . "$state/pg.env"
  as_owner "$PG_BINDIR/pg_ctl" -D "$PG_DATA/db" -m fast -w -t 30 stop >/dev/null 2>&1 ||
    as_owner "$PG_BINDIR/pg_ctl" -D "$PG_DATA/db" -m immediate -w stop >/dev/null 2>&1 || true
  case "$PG_DATA" in */bindery-pg.*) rm -rf "$PG_DATA" ;; esac
  rm -f "$state/pg.env"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || die "usage: pg-server.sh start STATE_DIR"; start "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: pg-server.sh stop STATE_DIR"; stop "$2" ;;
  *) echo "usage: pg-server.sh start|stop STATE_DIR" >&2; exit 2 ;;
esac
