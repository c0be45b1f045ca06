#!/bin/sh
# test/integration/run-on-postgresql.sh: make check's run of the integration suite against the
# broker's PostgreSQL store: starts one throw-away server (test/lib/pg-server.sh), then runs
# the check programs below side by side with BINDERY_TEST_STORE=postgresql, so that every
# broker they start gets --store with a new database of its own (test/lib/broker_proc.h), plus
# check_replicas (two brokers on one database). Their "Checks:" lines end up in this test's log.
# Exits 99 (hard error) when the server cannot start: a missing PostgreSQL fails, not skips.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
checks="check_persistence check_crash check_concurrency check_http check_exec check_replicas"
for t in $checks; do
        if [ ! -x "$top_builddir/test/integration/$t" ]; then
                echo "run-on-postgresql.sh: $top_builddir/test/integration/$t is not built" >&2
                exit 99
        fi
done
state=$(mktemp -d "${TMPDIR:-/tmp}/bindery-pgstore.XXXXXX") || exit 99
trap 'bash "$top_srcdir/test/lib/pg-server.sh" stop "$state"; rm -rf "$state"' EXIT
# Its stdout is the admin URL, a secret: not for the log.
bash "$top_srcdir/test/lib/pg-server.sh" start "$state" >/dev/null || exit 99
BINDERY_TEST_STORE=postgresql
BINDERY_TEST_PG_URL=$(cat "$state/pg-admin-url")
export BINDERY_TEST_STORE BINDERY_TEST_PG_URL

for t in $checks; do
        ( "$top_builddir/test/integration/$t" >"$state/$t.out" 2>&1; echo $? >"$state/$t.rc" ) &
done
wait
status=0
for t in $checks; do
        echo "== $t on a PostgreSQL store"
        cat "$state/$t.out"
        [ "$(cat "$state/$t.rc")" = 0 ] || status=1
done
exit $status
