#!/bin/bash
# catalog-controller stops promptly on SIGTERM in every phase of its start-up, not only once it
# runs: (1) while it asks for the cluster ID from an API server that never answers (a socket
# that accepts and stays silent), (2) while its caches cannot sync because the servicecatalog
# CRDs are not installed (the lists fail with 404 and are retried), (3) once it runs. Each time
# it must exit 0 within 5 s of SIGTERM (it takes about 0.1 s: a "# figure:" line; the bound is one
# a loaded machine cannot break, and far below the 30 s and more it took), and its log at the default level
# (info) holds no debug line. Against a real cluster that has the CRDs, (2) finds them and is phase (3). (~10 s)
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller

now_ms() { date +%s%3N; }
# run_ctl PREFIX KUBECONFIG [options...]: the controller in the background, at its default log
# level, its output in $E2E_TMP/PREFIX/log, its exit code in .../rc once it ends. (Not
# e2e_start_controller: that waits for the port file, which the controller writes only once its
# caches have synced.)
run_ctl() {
  local p=$1 cfg=$2 dir="$E2E_TMP/$1"; shift 2
  mkdir -p "$dir"
  ( "$CATALOG_CONTROLLER" --kubeconfig "$cfg" --listen 127.0.0.1 --port 0 --port-file "$dir/port" "$@" \
      </dev/null >"$dir/log" 2>&1 & echo $! >"$dir/pid"; wait $!; echo $? >"$dir/rc.tmp"; mv -f "$dir/rc.tmp" "$dir/rc" ) \
    </dev/null >/dev/null 2>&1 &
  eventually 10 test -s "$dir/pid"
}
# term_within PREFIX WHAT MAX_MS: SIGTERM, then it exits 0 within MAX_MS (asserted, with the
# time it took as a "# figure:" line); killed if it is still there after 10 s.
term_within() {
  local p=$1 what=$2 max=$3 dir="$E2E_TMP/$1" t0 ms i
  t0=$(now_ms)
  kill -TERM "$(cat "$dir/pid")" 2>/dev/null
  for i in $(seq 1 200); do [ -e "$dir/rc" ] && break; sleep 0.05; done
  ms=$(( $(now_ms) - t0 ))
  if [ ! -e "$dir/rc" ]; then
    kill -KILL "$(cat "$dir/pid")" 2>/dev/null
    e2e_not_ok "$what: exits on SIGTERM" "exit 0 within $max ms" "still running after 10 s; killed"
    tail -n 20 "$dir/log" | _e2e_indent
    return
  fi
  echo "# figure: $what: exited $ms ms after SIGTERM"
  expect_eq "$what: exit code 0 after SIGTERM" 0 "$(cat "$dir/rc")"
  if [ "$ms" -lt "$max" ]; then e2e_ok "$what: exits within $max ms of SIGTERM"
  else e2e_not_ok "$what: exits within $max ms of SIGTERM" "< $max ms" "$ms ms"; fi
  expect_match "$what: logs the shutdown" 'msg="shutting down" signal=SIGTERM' "$(cat "$dir/log")"
  expect_no_match "$what: no debug line at the default log level" 'level=debug' "$(cat "$dir/log")"
}

# --- (1) the cluster ID, from a server that never answers ---------------------------------------
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True); time.sleep(120)' >"$E2E_TMP/silent.port" 2>/dev/null &
SILENT_PID=$!
eventually 10 test -s "$E2E_TMP/silent.port"
e2e_write_kubeconfig "$E2E_TMP/silent.kubeconfig" "http://127.0.0.1:$(cat "$E2E_TMP/silent.port")"
run_ctl silent "$E2E_TMP/silent.kubeconfig"
sleep 1
expect_ok "silent server: still starting after 1 s (waiting for an answer)" test ! -e "$E2E_TMP/silent/rc"
term_within silent "waiting for the cluster ID" 5000
kill "$SILENT_PID" 2>/dev/null; wait "$SILENT_PID" 2>/dev/null

# ... and without a signal, a server that refuses the connection is a failure (exit 1)
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
e2e_write_kubeconfig "$E2E_TMP/closed.kubeconfig" "http://127.0.0.1:$closed"
run_ctl closed "$E2E_TMP/closed.kubeconfig"
eventually 15 test -e "$E2E_TMP/closed/rc"
expect_eq "no API server (connection refused): exit 1, not a clean stop" "1 cannot learn the cluster ID" \
  "$(cat "$E2E_TMP/closed/rc" 2>&1) $(grep -o 'cannot learn the cluster ID' "$E2E_TMP/closed/log" | head -n 1)"

# --- (2) caches that cannot sync: no servicecatalog CRDs ----------------------------------------
# (the controller makes its cluster-info ConfigMap in default when there is none: removed at the
# end, as in t-leader)
kc get configmap cluster-info -n default -o name >/dev/null 2>&1 || e2e_cleanup_add "configmap cluster-info -n default"
kcfg=$KUBECONFIG
if [[ "$kcfg" == *:* ]]; then kcfg="$E2E_TMP/controller.kubeconfig"; "$KUBECTL" config view --raw --flatten --minify >"$kcfg"; fi
if kc get crd clusterservicebrokers.servicecatalog.k8s.io >/dev/null 2>&1; then
  e2e_skip "no CRDs: the lists fail and the caches do not sync" "this cluster has the servicecatalog CRDs"
else
  run_ctl nocrds "$kcfg"
  wait_for_file_match 20 "$E2E_TMP/nocrds/log" 'msg="list/watch failed".*404'
  expect_match "no CRDs: the controller's lists fail (404) and are retried" 'msg="list/watch failed".*404' "$(cat "$E2E_TMP/nocrds/log")"
  expect_ok "no CRDs: not serving yet (no port file: the caches have not synced)" test ! -s "$E2E_TMP/nocrds/port"
fi
[ -e "$E2E_TMP/nocrds/pid" ] && term_within nocrds "caches not synced" 5000

# --- (3) running -------------------------------------------------------------------------------
e2e_install_crds "$top_srcdir/deploy/crds"
run_ctl running "$kcfg"
expect_ok "running: the controller serves (its caches synced: port file)" eventually 30 test -s "$E2E_TMP/running/port"
term_within running "running" 5000

e2e_done
