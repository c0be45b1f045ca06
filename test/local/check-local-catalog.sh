#!/bin/bash
# test/local/check-local-catalog.sh: the README's first command as a user runs it. Starts
# build-aux/local-catalog.sh (what ./run.sh starts after building) on free loopback ports with
# its own state directory, runs the commands it prints under "In another terminal:" exactly as
# printed (kubectl of this machine: Debian's 1.20 works), checks what a user sees (the class
# and plan in the marketplace, Ready instance and binding, credentials in the Secret), stops it
# with SIGINT as Ctrl-C would, and starts it again on the same state: the broker still knows the
# instance. Last line: "N passed, M failed".
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
KUBECTL=${KUBECTL:-kubectl}
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected '$2', got '$3'"; fi; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bindery-local.XXXXXX")
lc_pid=
cleanup() {
  [ -n "$lc_pid" ] && kill -TERM "$lc_pid" 2>/dev/null && wait "$lc_pid" 2>/dev/null
  pkill -KILL -f "$tmp/state" 2>/dev/null   # daemons of a run that failed to stop them
  if [ "$failed" -gt 0 ]; then
    for f in "$tmp"/state/*.log "$tmp"/out*; do [ -f "$f" ] && { echo "# $f, last lines:"; tail -n 20 "$f" | sed 's/^/#   /'; }; done
  fi
  rm -rf "$tmp"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
trap 'cleanup; exit $?' EXIT

# start N: local-catalog.sh in the background, output in $tmp/outN; waits for its last line. It
# runs in a process group of its own with SIGINT at its default, as a terminal's foreground job
# (a background job of a script starts with SIGINT ignored, and bash cannot trap a signal ignored
# at its start); perl (perl-base, on every Debian) sets both up, whatever this shell can do.
start() {
  BINDERY_STATE_DIR=$tmp/state BINDERY_BROKER_PORT=0 BINDERY_API_PORT=0 BINDERY_CONTROLLER_PORT=0 \
    perl -e '$SIG{INT} = "DEFAULT"; setpgrp(0, 0); exec @ARGV or die "exec: $!"' \
    bash "$top_srcdir/build-aux/local-catalog.sh" "$top_builddir" >"$tmp/out$1" 2>&1 &
  lc_pid=$!
  for _ in $(seq 1 600); do
    grep -q '^Ctrl-C here stops everything' "$tmp/out$1" && return 0
    kill -0 "$lc_pid" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}
# stop: SIGINT to its process group, as Ctrl-C in a terminal sends; STOPPED is the exit status,
# or "hung".
stop() {
  kill -INT -- "-$lc_pid"
  for _ in $(seq 1 300); do kill -0 "$lc_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$lc_pid" 2>/dev/null; then STOPPED=hung; kill -KILL -- "-$lc_pid"; wait "$lc_pid" 2>/dev/null
  else wait "$lc_pid"; STOPPED=$?; fi
  lc_pid=
}

if start 1; then ok "the local catalog starts and prints what to type next"
else not_ok "the local catalog starts and prints what to type next" "$(cat "$tmp/out1")"; exit 1; fi

# The commands it prints, run as printed, one after another in one shell.
sed -n '/^In another terminal:/,/^(With kubectl/p' "$tmp/out1" | sed -n 's/^  \(.\)/\1/p' >"$tmp/commands"
check "it prints six commands" 6 "$(wc -l <"$tmp/commands")"
n=0
while IFS= read -r cmd; do
  n=$((n + 1))
  printf '%s\n' "$cmd" >>"$tmp/script"
  printf 'echo "=== rc $?"\n' >>"$tmp/script"
done <"$tmp/commands"
out=$(KUBECTL="$KUBECTL" bash "$tmp/script" 2>&1 </dev/null)
printf '%s\n' "$out" >"$tmp/out-commands"
check "every printed command exits 0" "$(printf 'rc 0\n%.0s' $(seq 1 "$n"))" "$(grep -o '^=== rc [0-9]*' <<<"$out" | sed 's/^=== //')"
grep -Eq '^bindery-demo-db +small +yes ' <<<"$out" && ok "the marketplace lists class bindery-demo-db, plan small" ||
  not_ok "the marketplace lists class bindery-demo-db, plan small" "$out"
grep -q '^serviceinstance my-db is Ready' <<<"$out" && ok "the instance becomes Ready" || not_ok "the instance becomes Ready" "$out"
grep -q '^servicebinding my-db-creds is Ready' <<<"$out" && ok "the binding becomes Ready" || not_ok "the binding becomes Ready" "$out"
grep -Eq '^postgres://demo@db\.demo\.bindery\.invalid:5432/[0-9a-f-]{36}$' <<<"$out" &&
  ok "the Secret holds the instance's uri" || not_ok "the Secret holds the instance's uri" "$out"
extid=$(sed -n 's/^External ID: *//p' <<<"$out")
grep -Eq '^Status: +Ready$' <<<"$out" && ok "svcat describe shows the instance Ready" || not_ok "svcat describe shows the instance Ready" "$out"

stop
check "Ctrl-C (SIGINT) stops everything, exit 0" 0 "$STOPPED"
grep -q '^local-catalog: stopped' "$tmp/out1" && ok "... saying so" || not_ok "... saying so" "$(tail -n 5 "$tmp/out1")"
left=$(pgrep -f "$tmp/state" || true)
check "... and no daemon is left running" "" "$left"

if start 2; then ok "started again on the same state directory"
else not_ok "started again on the same state directory" "$(cat "$tmp/out2")"; exit 1; fi
port=$(head -n 1 "$tmp/state/broker.port")
st=$(curl -s -o "$tmp/body" -w '%{http_code}' --max-time 10 -u "bindery:$(cat "$tmp/state/broker-password")" \
  -H 'X-Broker-API-Version: 2.17' "http://127.0.0.1:$port/v2/service_instances/$extid")
check "the broker's database kept the instance (GET it: 200)" 200 "$st"
stop
check "... and stops again with exit 0" 0 "$STOPPED"
