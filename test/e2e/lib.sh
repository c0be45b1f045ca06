# test/e2e/lib.sh: sourced by every end-to-end test (bash). Sets up a cluster to talk to (the
# one $KUBECONFIG names, unchanged, or a fresh $KUBE_TESTSERVER on a random loopback port with
# TLS and bearer tokens), a namespace of the test's own, the helpers kc/kn/kraw/raw, and
# assertions that count passes and failures; and Bindery's daemons (osb-broker,
# catalog-controller) as local processes on loopback. See test/e2e/README.md.
#
# A test is:   . "$(dirname "$0")/lib.sh"; e2e_setup; ...assertions...; e2e_done
# Output: one line per assertion, "ok - what" or "not ok - what" followed by "#   " lines with
# what was expected and what came out; "skip - what: skipped (why)" for a check this cluster
# cannot make (never counted as a pass); and last "# NAME: P passed, F failed, S skipped".

set -u
set -o pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_NAME=$(basename "$0" .sh)
KUBECTL=${KUBECTL:-kubectl}
: "${top_srcdir:=$(cd "$E2E_DIR/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${KUBE_TESTSERVER:=$top_builddir/test/apiserver/kube-testserver}"
# Every single command a test runs is bounded by this many seconds (waits have their own,
# shorter, bounds).
E2E_CMD_TIMEOUT=${E2E_CMD_TIMEOUT:-45}

e2e_passed=0
e2e_failed=0
e2e_skipped=0
e2e_done_called=0
e2e_bg_pids=()       # background jobs a test started (watches, waits): killed at teardown
e2e_cleanup=()       # "kubectl delete" argument lists run at teardown, last first
e2e_servers=()       # prefixes of servers this harness started (see e2e_start_server)
E2E_REAL=0           # 1 when running against $KUBECONFIG
E2E_TMP=
OUT=                 # output of the last expect_ok / expect_fail_with

# ---------------------------------------------------------------------------------------------
# assertions

_e2e_indent() { sed -e 's/^/#     /' | head -n 40; }

e2e_ok() { e2e_passed=$((e2e_passed + 1)); echo "ok - $1"; }

# e2e_not_ok WHAT EXPECTED GOT: returns 1, so "expect_... || exit 1" and "if ! expect_..." work.
e2e_not_ok() {
  e2e_failed=$((e2e_failed + 1))
  echo "not ok - $1"
  echo "#   expected: $2"
  echo "#   got:"
  printf '%s\n' "$3" | _e2e_indent
  return 1
}

# e2e_skip WHAT WHY: a check this cluster cannot make; visible, and never a pass.
e2e_skip() { e2e_skipped=$((e2e_skipped + 1)); echo "skip - $1: skipped ($2)"; }

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
  if [ "$2" = "$3" ]; then e2e_ok "$1"; else e2e_not_ok "$1" "'$2'" "'$3'"; fi
}

# The regex checks read ACTUAL from a here-string, never from a pipe: under pipefail, grep -q
# exiting at its first match would kill the writer with SIGPIPE and fail the pipeline, so a
# match could read as no match (and the reverse in expect_no_match).

# expect_match WHAT EXTENDED-REGEX ACTUAL: some line of ACTUAL matches.
expect_match() {
  if grep -Eq -- "$2" <<<"$3"; then e2e_ok "$1"; else e2e_not_ok "$1" "a line matching /$2/" "$3"; fi
}

# expect_no_match WHAT EXTENDED-REGEX ACTUAL: no line of ACTUAL matches.
expect_no_match() {
  if grep -Eq -- "$2" <<<"$3"; then e2e_not_ok "$1" "no line matching /$2/" "$3"; else e2e_ok "$1"; fi
}

# expect_ok WHAT CMD...: CMD exits 0; its output (stdout and stderr) is left in $OUT.
expect_ok() {
  local what=$1 rc; shift
  OUT=$("$@" 2>&1); rc=$?
  if [ $rc -eq 0 ]; then e2e_ok "$what"; return 0; fi
  e2e_not_ok "$what" "exit 0 from: $*" "exit $rc: $OUT"
  return 1
}

# expect_fail_with WHAT EXTENDED-REGEX CMD...: CMD exits non-zero and its output matches.
expect_fail_with() {
  local what=$1 re=$2 rc; shift 2
  OUT=$("$@" 2>&1); rc=$?
  if [ $rc -ne 0 ] && grep -Eq -- "$re" <<<"$OUT"; then e2e_ok "$what"; return 0; fi
  e2e_not_ok "$what" "failure with output matching /$re/ from: $*" "exit $rc: $OUT"
  return 1
}

# expect_num_gt WHAT A B: integers, A > B.
expect_num_gt() {
  if [[ "$2" =~ ^[0-9]+$ && "$3" =~ ^[0-9]+$ ]] && [ "$2" -gt "$3" ]; then e2e_ok "$1"
  else e2e_not_ok "$1" "an integer greater than '$3'" "'$2'"; fi
}

# eventually SECONDS CMD...: runs CMD every 0.2 s until it succeeds; fails after SECONDS.
eventually() {
  local limit=$1 start=$SECONDS; shift
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ $((SECONDS - start)) -ge "$limit" ] && return 1
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------------------------
# talking to the cluster

# kc ARGS...: kubectl against the cluster under test, bounded in time.
kc() { timeout -k 5 "$E2E_CMD_TIMEOUT" "$KUBECTL" --cache-dir "$E2E_TMP/kube-cache" "$@"; }
# kn ARGS...: kc in the test's own namespace.
kn() { kc -n "$E2E_NS" "$@"; }
# kraw PATH: GET PATH through kubectl (works against any cluster kubectl can reach).
kraw() { kc get --raw "$1"; }
# jqr FILTER: jq -r over stdin.
jqr() { jq -r "$@"; }

# raw METHOD PATH [curl args...]: one HTTP request with the kubeconfig's server, CA and
# credentials. Sets E2E_STATUS (the HTTP status, 000 when there was none), E2E_BODY (the body)
# and E2E_HEADERS (the response headers). Returns 0 when a response came back.
# E2E_RAW_AUTH=none sends no credentials; E2E_RAW_AUTH="Bearer x" sends that header instead.
raw() {
  local method=$1 path=$2 rc; shift 2
  local args=(-sS -X "$method" --max-time 20 -o "$E2E_TMP/raw.body" -D "$E2E_TMP/raw.headers"
              -w '%{http_code}')
  args+=("${E2E_RAW_TLS[@]}")
  case "${E2E_RAW_AUTH-default}" in
    default) args+=("${E2E_RAW_CRED[@]}") ;;
    none) ;;
    *) args+=(-H "Authorization: $E2E_RAW_AUTH") ;;
  esac
  : >"$E2E_TMP/raw.body"; : >"$E2E_TMP/raw.headers"
  E2E_STATUS=$(curl "${args[@]}" "$@" "$E2E_SERVER$path" 2>"$E2E_TMP/raw.err"); rc=$?
  E2E_BODY=$(cat "$E2E_TMP/raw.body")
  E2E_HEADERS=$(tr -d '\r' <"$E2E_TMP/raw.headers")
  [ $rc -eq 0 ] || E2E_BODY="curl exit $rc: $(cat "$E2E_TMP/raw.err") $E2E_BODY"
  return $rc
}

# raw_usable: whether raw() can speak to this cluster (false for kubeconfigs whose
# credentials come from exec plugins or auth providers).
raw_usable() { [ "$E2E_RAW_OK" = 1 ]; }

# expect_status WHAT CODE [REASON]: the last raw() response had HTTP status CODE and, when
# REASON is given, a Status body with that code and reason.
expect_status() {
  local what=$1 code=$2 reason=${3:-}
  if [ "$E2E_STATUS" != "$code" ]; then
    e2e_not_ok "$what" "HTTP $code${reason:+ with a Status of reason $reason}" "HTTP $E2E_STATUS: $E2E_BODY"
    return 1
  fi
  if [ -n "$reason" ]; then
    local got
    got=$(printf '%s' "$E2E_BODY" | jq -r '[.kind, .apiVersion, .status, (.code|tostring), .reason] | join(" ")' 2>&1)
    if [ "$got" != "Status v1 Failure $code $reason" ]; then
      e2e_not_ok "$what" "a body with kind Status, apiVersion v1, status Failure, code $code, reason $reason" "HTTP $E2E_STATUS: $E2E_BODY"
      return 1
    fi
  fi
  e2e_ok "$what"
}

# kubectl_minor: the client's minor version (20 for 1.20).
kubectl_minor() {
  "$KUBECTL" version --client -o json 2>/dev/null | jq -r '.clientVersion.minor' | tr -dc 0-9
}

# patch_status KIND/NAME TYPE PATCH: patches the status subresource of an object in the
# test's namespace: with kubectl where it can (1.24 and later), else with raw().
# API_PATH must name the object's URL path (for the raw route).
patch_status() {
  local obj=$1 type=$2 patch=$3 api_path=$4
  if [ "$E2E_KUBECTL_MINOR" -ge 24 ]; then
    kn patch "$obj" --subresource=status --type="$type" -p "$patch"
  else
    local ct=application/merge-patch+json
    [ "$type" = json ] && ct=application/json-patch+json
    raw PATCH "$api_path/status" -H "Content-Type: $ct" --data-binary "$patch"
    if [ "$E2E_STATUS" != 200 ]; then echo "HTTP $E2E_STATUS: $E2E_BODY"; return 1; fi
  fi
}

# kc_bg OUTFILE ARGS...: kubectl ARGS in the background, output to OUTFILE; sets BG_PID. Killed
# at teardown if still running (SIGTERM to timeout(1), which passes it on to kubectl).
kc_bg() {
  local out=$1; shift
  ( exec timeout -k 5 "$E2E_CMD_TIMEOUT" "$KUBECTL" --cache-dir "$E2E_TMP/kube-cache" "$@" >"$out" 2>&1 ) &
  BG_PID=$!; e2e_bg_pids+=("$BG_PID")
}

# raw_bg OUTFILE METHOD PATH [curl args...]: raw() in the background (for watches): the body
# goes to OUTFILE as it streams, curl's exit code to OUTFILE.rc. Sets BG_PID.
raw_bg() {
  local out=$1 method=$2 path=$3; shift 3
  local args=(-sS -N -X "$method" --max-time 30 "${E2E_RAW_TLS[@]}" "${E2E_RAW_CRED[@]}")
  (
    trap 'kill "$cpid" 2>/dev/null; exit 143' TERM
    curl "${args[@]}" "$@" "$E2E_SERVER$path" >"$out" 2>"$out.err" & cpid=$!
    wait "$cpid"; echo $? >"$out.rc"
  ) &
  BG_PID=$!; e2e_bg_pids+=("$BG_PID")
}

# wait_for_file_match SECONDS FILE REGEX: until a line of FILE matches.
wait_for_file_match() { eventually "$1" grep -Eq -- "$3" "$2"; }

# wait_pid PID SECONDS: waits for a background job; its exit code, or 124 when it is still
# running after SECONDS (it is then killed).
wait_pid() {
  local pid=$1 limit=$2 start=$SECONDS
  while kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
    if [ $((SECONDS - start)) -ge "$limit" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; return 124; fi
    sleep 0.1
  done
  wait "$pid"
}

# e2e_cleanup_add ARGS...: "kubectl delete ARGS" at teardown (for cluster-scoped objects).
e2e_cleanup_add() { e2e_cleanup+=("$*"); }

# uniq_name PREFIX: a name no other run uses: PREFIX-<run id>.
uniq_name() { echo "$1-$E2E_ID"; }

# ---------------------------------------------------------------------------------------------
# servers this harness starts

# e2e_start_server PREFIX [tls]: starts $KUBE_TESTSERVER in $E2E_TMP/PREFIX, on a random
# loopback port; with "tls", with the harness's certificate and token file. Sets PREFIX_URL.
e2e_start_server() {
  local p=$1 mode=${2:-plain} dir="$E2E_TMP/$1" i
  mkdir -p "$dir"
  local args=(--listen 127.0.0.1 --port 0 --port-file "$dir/port")
  [ "$mode" = tls ] && args+=(--tls-cert "$E2E_TMP/tls/cert.pem" --tls-key "$E2E_TMP/tls/key.pem"
                                --token-file "$E2E_TMP/tokens.csv")
  # The subshell records the server's exit code, so teardown can check it.
  ( "$KUBE_TESTSERVER" "${args[@]}" </dev/null >"$dir/server.log" 2>&1 & echo $! >"$dir/pid"; wait $!; echo $? >"$dir/rc.tmp"; mv -f "$dir/rc.tmp" "$dir/rc" ) &
  e2e_servers+=("$p")   # from now on teardown stops it and checks its exit code
  for i in $(seq 1 100); do
    [ -s "$dir/port" ] && break
    [ -e "$dir/rc" ] && break
    sleep 0.1
  done
  local port
  port=$(cat "$dir/port" 2>/dev/null)
  if ! [[ "$port" =~ ^[0-9]+$ ]] || [ -e "$dir/rc" ]; then
    e2e_not_ok "setup: $KUBE_TESTSERVER starts and writes its port file" "a port number in $dir/port within 10 s" \
      "port file: '$port'; exit code: $(cat "$dir/rc" 2>/dev/null || echo 'still running'); log:
$(tail -n 20 "$dir/server.log")"
    return 1
  fi
  local scheme=http
  [ "$mode" = tls ] && scheme=https
  printf -v "${p}_URL" '%s://127.0.0.1:%s' "$scheme" "$port"
}

# e2e_stop_server PREFIX: SIGTERM; the server must exit 0 within 10 s.
e2e_stop_server() {
  local dir="$E2E_TMP/$1" pid i
  pid=$(cat "$dir/pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 100); do [ -e "$dir/rc" ] && break; sleep 0.1; done
  if [ ! -e "$dir/rc" ]; then
    kill -KILL "$pid" 2>/dev/null
    e2e_not_ok "teardown: test server ($1) exits on SIGTERM" "exit within 10 s" "still running; killed"
  else
    expect_eq "teardown: test server ($1) exits 0 on SIGTERM" 0 "$(cat "$dir/rc")"
  fi
  [ "$(cat "$dir/rc" 2>/dev/null)" = 0 ] || { echo "# server log ($1), last lines:"; tail -n 30 "$dir/server.log" | _e2e_indent; }
}

# ---------------------------------------------------------------------------------------------
# Bindery's daemons as local processes on loopback: osb-broker and catalog-controller. The same
# in both modes: against a real cluster the controller runs here with the kubeconfig of
# $KUBECONFIG, and reaches the brokers on 127.0.0.1 like it does against the test server.

: "${OSB_BROKER:=$top_builddir/broker/osb-broker}"
: "${CATALOG_CONTROLLER:=$top_builddir/catalog-controller/catalog-controller}"
e2e_daemons=()       # prefixes of daemons this test started, in start order
e2e_sc_cleanup=()    # "kubectl delete" argument lists for objects with the controller's finalizer

# e2e_require_daemon BINARY WHAT: fails (and ends) the test when BINARY is not built.
e2e_require_daemon() {
  [ -x "$1" ] && return 0
  e2e_not_ok "setup: $2 is built" "an executable $1 (make; or set the environment variable)" "missing"
  exit 1
}

# _e2e_start_daemon PREFIX KIND BINARY ARGS...: BINARY ARGS --port-file DIR/port in DIR =
# $E2E_TMP/PREFIX, its output appended to DIR/log; waits up to 15 s for the port file. Sets
# PREFIX_PORT, PREFIX_PID and PREFIX_URL (http://127.0.0.1:PORT). KIND is broker or controller.
# On failure returns 1 with what happened in E2E_DAEMON_ERR (the caller reports it).
_e2e_start_daemon() {
  local p=$1 kind=$2 bin=$3 dir="$E2E_TMP/$1" i port pid; shift 3
  mkdir -p "$dir"
  rm -f "$dir/port" "$dir/pid" "$dir/rc" "$dir/stopped"
  echo "$kind" >"$dir/kind"
  printf '=== %s %s\n' "$(date -u +%H:%M:%S)" "$bin $*" >>"$dir/log"
  ( "$bin" "$@" --port-file "$dir/port" </dev/null >>"$dir/log" 2>&1 & echo $! >"$dir/pid"; wait $!; echo $? >"$dir/rc.tmp"; mv -f "$dir/rc.tmp" "$dir/rc" ) \
    </dev/null >/dev/null 2>&1 &
  case " ${e2e_daemons[*]-} " in *" $p "*) ;; *) e2e_daemons+=("$p") ;; esac
  for i in $(seq 1 150); do
    [ -s "$dir/port" ] && [ -s "$dir/pid" ] && break
    [ -e "$dir/rc" ] && break
    sleep 0.1
  done
  port=$(head -n 1 "$dir/port" 2>/dev/null)
  pid=$(cat "$dir/pid" 2>/dev/null)
  if ! [[ "$port" =~ ^[0-9]+$ ]] || [ -e "$dir/rc" ]; then
    E2E_DAEMON_ERR="port file: '$port'; exit code: $(cat "$dir/rc" 2>/dev/null || echo 'still running'); log:
$(tail -n 20 "$dir/log")"
    : >"$dir/stopped"
    [ -e "$dir/rc" ] || { kill -KILL "$pid" 2>/dev/null; }
    return 1
  fi
  # a watchdog: should this test die without its teardown (killed by run.sh's timeout, say),
  # the daemon gets SIGTERM within a second rather than living on
  ( while kill -0 "$E2E_PID" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done
    kill -TERM "$pid" 2>/dev/null ) </dev/null >/dev/null 2>&1 &
  printf -v "${p}_PORT" '%s' "$port"
  printf -v "${p}_PID" '%s' "$pid"
  printf -v "${p}_URL" 'http://127.0.0.1:%s' "$port"
  return 0
}

# e2e_stop_daemon PREFIX: SIGTERM; it must exit 0 within 15 s (asserted). Its log's last lines
# are shown when it does not.
e2e_stop_daemon() {
  local p=$1 dir="$E2E_TMP/$1" pid i what
  [ -e "$dir/pid" ] && [ ! -e "$dir/stopped" ] || return 0
  : >"$dir/stopped"
  pid=$(cat "$dir/pid")
  what="$p ($(cat "$dir/kind" 2>/dev/null))"
  if [ -e "$dir/rc" ]; then
    e2e_not_ok "$what is still running when stopped" "a running process" "it had exited already, with code $(cat "$dir/rc")"
  else
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 150); do [ -e "$dir/rc" ] && break; sleep 0.1; done
    if [ ! -e "$dir/rc" ]; then
      kill -KILL "$pid" 2>/dev/null
      for i in $(seq 1 20); do [ -e "$dir/rc" ] && break; sleep 0.1; done
      e2e_not_ok "$what exits on SIGTERM" "exit within 15 s" "still running; killed"
    else
      expect_eq "$what exits 0 on SIGTERM" 0 "$(cat "$dir/rc")"
    fi
  fi
  if [ "$(cat "$dir/rc" 2>/dev/null)" != 0 ]; then
    echo "# $what log, last lines:"; tail -n 30 "$dir/log" | _e2e_indent
  fi
}

# e2e_start_broker PREFIX [osb-broker options...]: an osb-broker on 127.0.0.1 with its own
# database in $E2E_TMP/PREFIX (demo catalog unless --catalog FILE; auth as given, e.g.
# --username U --password P or --token T). Started again under the same PREFIX (after
# e2e_stop_daemon, see e2e_restart_broker) it keeps its port, so its URL stays the same.
e2e_start_broker() {
  local p=$1 port_var="${1}_PORT" port=0; shift
  [ -n "${!port_var:-}" ] && port=${!port_var}
  # the same port again: it may still be held for a moment; try for a few seconds
  for _ in 1 2 3 4 5; do
    _e2e_start_daemon "$p" broker "$OSB_BROKER" --listen 127.0.0.1 --port "$port" \
      --db "$E2E_TMP/$p/broker.db" --sync off --log-level info "$@" && return 0
    [ "$port" != 0 ] && grep -qi 'in use' <<<"$E2E_DAEMON_ERR" || break
    sleep 1
  done
  e2e_not_ok "$p: osb-broker starts and writes its port file" "a port number within 15 s" "$E2E_DAEMON_ERR"
  return 1
}

# e2e_restart_broker PREFIX [osb-broker options...]: stops it (exit 0 asserted) and starts it
# again on the same port with these options (a new catalog, say) and the same database.
e2e_restart_broker() {
  local p=$1; shift
  e2e_stop_daemon "$p"
  e2e_start_broker "$p" "$@"
}

# e2e_start_controller PREFIX [catalog-controller options...]: a catalog-controller with the
# harness's kubeconfig, serving /healthz, /readyz and /metrics on 127.0.0.1.
e2e_start_controller() {
  local p=$1 kcfg=$KUBECONFIG; shift
  if [[ "$kcfg" == *:* ]]; then   # a list of files: the controller takes one
    kcfg="$E2E_TMP/controller.kubeconfig"
    "$KUBECTL" config view --raw --flatten --minify >"$kcfg"
  fi
  _e2e_start_daemon "$p" controller "$CATALOG_CONTROLLER" --kubeconfig "$kcfg" \
    --listen 127.0.0.1 --port 0 --log-level info "$@" && return 0
  e2e_not_ok "$p: catalog-controller starts and writes its port file" "a port number within 15 s" "$E2E_DAEMON_ERR"
  return 1
}

# daemon_alive PREFIX: the daemon is still running.
daemon_alive() { [ -s "$E2E_TMP/$1/pid" ] && [ ! -e "$E2E_TMP/$1/rc" ]; }

# metrics PREFIX: the daemon's /metrics (Prometheus text).
metrics() { local u="${1}_URL"; curl -sS --max-time 10 "${!u}/metrics"; }

# metric_sum PREFIX NAME [LABEL-REGEX]: the sum of the samples of metric NAME whose labels
# match LABEL-REGEX (extended; e.g. 'verb="(create|update|patch|delete)"'); "none" when no
# series matches, "error" when /metrics cannot be read.
metric_sum() {
  local text
  text=$(metrics "$1") || { echo error; return 1; }
  printf '%s\n' "$text" | awk -v name="$2" -v re="${3:-}" '
    $0 ~ /^#/ { next }
    { n = $1; sub(/\{.*/, "", n); if (n != name) next
      l = ""; if (match($0, /\{.*\}/)) l = substr($0, RSTART, RLENGTH)
      if (re != "" && l !~ re) next
      s += $NF; c++ }
    END { if (!c) print "none"; else printf "%.0f\n", s }'
}

# controller_writes PREFIX: the number of write requests (create, update, patch, delete) the
# controller says it has made to the API server.
controller_writes() {
  metric_sum "$1" catalog_controller_kube_requests_total 'verb="(create|update|patch|delete)"'
}

# proc_status_kb PID FIELD: a figure from /proc/PID/status (VmHWM, VmRSS), in kB.
proc_status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }

# server_rv: the API server's current resourceVersion (of a namespace list: one counter for
# everything on the test server).
server_rv() { kraw '/api/v1/namespaces?limit=1' | jq -r .metadata.resourceVersion; }

# sha224 STRING: hex SHA-224, the value of servicecatalog.k8s.io/... labels.
sha224() { printf '%s' "$1" | sha224sum | cut -d' ' -f1; }

# osb_k8s_name OSB-ID: the Kubernetes name of a class or plan with this OSB id (service-catalog's
# GenerateEscapedName): a-y, 0-9 kept; '.' and '-' kept unless first, last, or (for '.')
# after '.' or '-', (for '-') after '.'; anything else z<hex>z; over 63 characters: the
# first 30 (a trailing '.' trimmed), '-', the MD5 of the id. ASCII ids only.
osb_k8s_name() {
  local id=$1 out="" i ch n=${#1} prev=""
  for ((i = 0; i < n; i++)); do
    ch=${id:i:1}
    if [[ "$ch" == [a-y0-9] ]]; then out+=$ch; prev=
    elif [ "$ch" = . ] && [ $i -ne 0 ] && [ $i -ne $((n - 1)) ] && [ -z "$prev" ]; then out+=$ch; prev="dot"
    elif [ "$ch" = - ] && [ $i -ne 0 ] && [ $i -ne $((n - 1)) ] && [ "$prev" != dot ]; then out+=$ch; prev="dash"
    else out+=$(printf 'z%xz' "'$ch"); prev=
    fi
  done
  if [ ${#out} -gt 63 ]; then
    out=${out:0:30}; out=${out%.}
    out="$out-$(printf '%s' "$id" | md5sum | cut -d' ' -f1)"
  fi
  printf '%s\n' "$out"
}

# e2e_cleanup_finalized ARGS...: at teardown, while the controller still runs, "kubectl delete
# ARGS" for an object with the controller's finalizer (a broker); if it is still there after
# 20 s its finalizers are removed, so no cluster is left with it.
e2e_cleanup_finalized() { e2e_sc_cleanup+=("$*"); }

# e2e_register_broker NAME URL PASSWORD: a ClusterServiceBroker NAME at URL with Basic
# credentials admin/PASSWORD (the Secret broker-auth in $E2E_NS), deleted at teardown, and a wait
# until it is Ready (30 s): two assertions. Fails when it does not become Ready.
e2e_register_broker() {
  local name=$1 url=$2 pw=$3
  e2e_cleanup_finalized "clusterservicebroker/$name"
  expect_ok "apply the broker's Secret and a ClusterServiceBroker $name" kc apply -f - <<YAML
apiVersion: v1
kind: Secret
metadata: {name: broker-auth, namespace: $E2E_NS}
stringData: {username: admin, password: "$pw"}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServiceBroker
metadata: {name: $name}
spec: {url: "$url", authInfo: {basic: {secretRef: {namespace: $E2E_NS, name: broker-auth}}}}
YAML
  expect_ok "the broker $name becomes Ready (kubectl wait, 30 s)" \
    kc wait --for=condition=Ready "clusterservicebroker/$name" --timeout=30s
}

# e2e_sc_teardown: installs the teardown of a test whose controller is the daemon "ctl": before
# the harness's own (which deletes the brokers and stops the daemons), the ServiceBindings and
# ServiceInstances in the namespaces of E2E_SC_NAMESPACES (the test's own; add more with
# E2E_SC_NAMESPACES+=(NS)) are deleted while the controller still runs; any still there after
# 30 s loses its finalizers, and that is a failure, so no namespace stays stuck.
E2E_SC_NAMESPACES=()
e2e_sc_teardown() {
  E2E_SC_NAMESPACES=("$E2E_NS")
  trap _e2e_sc_teardown EXIT
}

_e2e_sc_teardown() {
  local rc=$? ns kind left o
  for ns in "${E2E_SC_NAMESPACES[@]}"; do
    kc get namespace "$ns" -o name >/dev/null 2>&1 || continue
    for kind in servicebindings serviceinstances; do
      # without a running controller nothing can release them: do not wait
      if daemon_alive ctl; then kc delete "$kind" --all -n "$ns" --timeout=30s >/dev/null 2>&1 && continue
      else kc delete "$kind" --all -n "$ns" --wait=false >/dev/null 2>&1; fi
      left=$(kc get "$kind" -n "$ns" -o name 2>/dev/null)
      [ -n "$left" ] || continue
      for o in $left; do kc patch "$o" -n "$ns" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1; done
      e2e_not_ok "teardown: delete the $kind in $ns" "deleted (the controller releases its finalizer)" "$left"
    done
  done
  (exit $rc); e2e_teardown
}

_e2e_teardown_daemons() {
  local i p args
  for ((i = ${#e2e_sc_cleanup[@]} - 1; i >= 0; i--)); do
    args=${e2e_sc_cleanup[i]}
    # shellcheck disable=SC2086
    if ! kc delete --ignore-not-found --timeout=20s $args >/dev/null 2>&1; then
      # shellcheck disable=SC2086
      kc patch $args --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1
      e2e_not_ok "teardown: delete $args" "deleted within 20 s (the controller releases its finalizer)" \
        "$(kc get $args -o jsonpath='{.metadata.finalizers} {.status.conditions}' 2>&1)"
    fi
  done
  # controllers first, then brokers
  for p in "${e2e_daemons[@]}"; do [ "$(cat "$E2E_TMP/$p/kind")" = controller ] && e2e_stop_daemon "$p"; done
  for p in "${e2e_daemons[@]}"; do [ "$(cat "$E2E_TMP/$p/kind")" = controller ] || e2e_stop_daemon "$p"; done
  if [ "$e2e_failed" -gt 0 ] && [ ${#e2e_daemons[@]} -gt 0 ]; then
    local keep="${E2E_LOG_DIR:-${TMPDIR:-/tmp}}/bindery-e2e-logs-$E2E_NAME-$E2E_ID"
    mkdir -p "$keep"
    for p in "${e2e_daemons[@]}"; do cp "$E2E_TMP/$p/log" "$keep/$p.log" 2>/dev/null; done
    echo "# daemon logs kept in $keep"
  fi
}

# ---------------------------------------------------------------------------------------------
# setup and teardown

_e2e_require() {
  local what=$1 pkg=$2
  command -v "$what" >/dev/null 2>&1 && return 0
  e2e_not_ok "setup: $what is installed" "$what on the PATH (apt-get install $pkg)" "not found"
  return 1
}

# e2e_setup: the cluster, the credentials for raw(), and the test's namespace. On any failure
# the test ends here (failed).
e2e_setup() {
  trap e2e_teardown EXIT
  trap 'exit 130' INT TERM
  E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/bindery-e2e.XXXXXX")
  E2E_PID=$$
  E2E_ID=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
  E2E_NS=e2e-${E2E_NAME#t-}-$E2E_ID
  if ! command -v "$KUBECTL" >/dev/null 2>&1; then
    e2e_not_ok "setup: kubectl is installed" "'$KUBECTL' on the PATH: apt-get install kubernetes-client (or set KUBECTL)" "not found"
    exit 1
  fi
  _e2e_require curl curl && _e2e_require jq jq && _e2e_require openssl openssl && _e2e_require timeout coreutils || exit 1
  E2E_KUBECTL_MINOR=$(kubectl_minor)
  [ -n "$E2E_KUBECTL_MINOR" ] || E2E_KUBECTL_MINOR=0
  echo "# $E2E_NAME: kubectl $("$KUBECTL" version --client -o json 2>/dev/null | jq -r .clientVersion.gitVersion)"

  if [ -n "${KUBECONFIG:-}" ]; then
    E2E_REAL=1
    echo "# $E2E_NAME: against the cluster of KUBECONFIG=$KUBECONFIG"
  else
    if [ ! -x "$KUBE_TESTSERVER" ]; then
      e2e_not_ok "setup: the test API server is built" "an executable $KUBE_TESTSERVER (make test/apiserver/kube-testserver)" "missing"
      exit 1
    fi
    mkdir -p "$E2E_TMP/tls"
    if ! e2e_make_cert "$E2E_TMP/tls"; then
      e2e_not_ok "setup: openssl makes a self-signed certificate" "exit 0" "$(cat "$E2E_TMP/tls/openssl.log")"
      exit 1
    fi
    E2E_TOKEN=e2e-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    E2E_TOKEN2=e2e-viewer-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    {
      echo "$E2E_TOKEN,e2e-admin,e2e-admin-uid,\"system:masters,e2e:admins\""
      echo "$E2E_TOKEN2,e2e-viewer,e2e-viewer-uid"
    } >"$E2E_TMP/tokens.csv"
    e2e_start_server main tls || exit 1
    export KUBECONFIG="$E2E_TMP/kubeconfig"
    e2e_write_kubeconfig "$KUBECONFIG" "$main_URL" "$E2E_TMP/tls/cert.pem" "$E2E_TOKEN"
    echo "# $E2E_NAME: against $KUBE_TESTSERVER at $main_URL (TLS, bearer token)"
  fi
  _e2e_raw_credentials
  if ! expect_ok "setup: create namespace $E2E_NS" kc create namespace "$E2E_NS"; then exit 1; fi
  E2E_NS_CREATED=1
}

# The kubeconfig's server, CA and credentials, for curl.
_e2e_raw_credentials() {
  local view=("$KUBECTL" config view --raw --minify --flatten -o)
  E2E_SERVER=$("${view[@]}" 'jsonpath={.clusters[0].cluster.server}')
  E2E_SERVER=${E2E_SERVER%/}
  E2E_RAW_TLS=()
  E2E_RAW_CRED=()
  E2E_RAW_OK=1
  local ca insecure token cert key
  ca=$("${view[@]}" 'jsonpath={.clusters[0].cluster.certificate-authority-data}')
  insecure=$("${view[@]}" 'jsonpath={.clusters[0].cluster.insecure-skip-tls-verify}')
  token=$("${view[@]}" 'jsonpath={.users[0].user.token}')
  cert=$("${view[@]}" 'jsonpath={.users[0].user.client-certificate-data}')
  key=$("${view[@]}" 'jsonpath={.users[0].user.client-key-data}')
  E2E_RAW_CFG=   # the same, as lines of a curl config file (curl -K)
  if [ -n "$ca" ]; then
    printf '%s' "$ca" | base64 -d >"$E2E_TMP/ca.pem"
    E2E_RAW_TLS+=(--cacert "$E2E_TMP/ca.pem")
    E2E_RAW_CFG+="cacert = \"$E2E_TMP/ca.pem\""$'\n'
  fi
  if [ "$insecure" = true ]; then E2E_RAW_TLS+=(-k); E2E_RAW_CFG+=insecure$'\n'; fi
  if [ -n "$token" ]; then
    E2E_RAW_CRED+=(-H "Authorization: Bearer $token")
    E2E_RAW_CFG+="header = \"Authorization: Bearer $token\""$'\n'
  elif [ -n "$cert" ] && [ -n "$key" ]; then
    printf '%s' "$cert" | base64 -d >"$E2E_TMP/client.pem"
    printf '%s' "$key" | base64 -d >"$E2E_TMP/client-key.pem"
    E2E_RAW_CRED+=(--cert "$E2E_TMP/client.pem" --key "$E2E_TMP/client-key.pem")
    E2E_RAW_CFG+="cert = \"$E2E_TMP/client.pem\""$'\n'"key = \"$E2E_TMP/client-key.pem\""$'\n'
  elif [ "$E2E_REAL" = 1 ]; then
    E2E_RAW_OK=0
    echo "# $E2E_NAME: the kubeconfig has neither a token nor a client certificate: raw HTTP checks are skipped"
  fi
}

# e2e_make_cert DIR: a throw-away self-signed certificate for 127.0.0.1 and localhost, for a
# test API server: DIR/cert.pem and DIR/key.pem (what openssl said in DIR/openssl.log).
e2e_make_cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
    -keyout "$1/key.pem" -out "$1/cert.pem" >"$1/openssl.log" 2>&1
}

# e2e_write_kubeconfig FILE SERVER [CA-FILE [TOKEN]]: a kubeconfig for SERVER, trusting CA-FILE
# (none: the system's CAs), authenticating with TOKEN (none: no credentials).
e2e_write_kubeconfig() {
  local file=$1 server=$2 ca=${3:-} token=${4:-}
  {
    printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: e2e\n  cluster:\n    server: %s\n' "$server"
    [ -n "$ca" ] && printf '    certificate-authority-data: %s\n' "$(base64 -w0 <"$ca")"
    printf 'users:\n- name: e2e-user\n  user:\n'
    if [ -n "$token" ]; then printf '    token: %s\n' "$token"; else printf '    {}\n'; fi
    printf 'contexts:\n- name: e2e\n  context:\n    cluster: e2e\n    user: e2e-user\ncurrent-context: e2e\n'
  } >"$file"
}

# e2e_install_crds DIR: applies every YAML file in DIR and waits for its CRDs to be
# Established; they are deleted at teardown. A file whose CRDs the cluster already has is left
# alone, neither applied nor deleted: on a real cluster they may be someone's, in use.
e2e_install_crds() {
  local dir=$1 f n names
  [ -d "$dir" ] || { echo "# no CRDs in $dir"; return 0; }
  for f in "$dir"/*.yaml; do
    [ -e "$f" ] || continue
    if names=$(kc get -f "$f" -o name 2>/dev/null); then
      echo "# already installed, left as is: $names"
    elif expect_ok "install CRDs from $(basename "$f")" kc apply -f "$f"; then
      names=$(kc get -f "$f" -o name 2>/dev/null)
      for n in $names; do e2e_cleanup_add "$n --timeout=60s"; done
    else
      continue
    fi
    for n in $names; do
      expect_ok "$n is Established" kc wait --for=condition=Established "$n" --timeout=30s
    done
  done
}

# e2e_install_fixture_crds: the harness's own test CRDs (test/e2e/fixtures/crds).
e2e_install_fixture_crds() { e2e_install_crds "$E2E_DIR/fixtures/crds"; }

# e2e_done: the last line of every test.
e2e_done() { e2e_done_called=1; exit 0; }

e2e_teardown() {
  local rc=$? pid i
  trap - EXIT INT TERM
  if [ "$e2e_done_called" != 1 ]; then
    e2e_not_ok "$E2E_NAME runs to its end" "e2e_done" "the script stopped early (exit $rc)"
  fi
  for pid in "${e2e_bg_pids[@]}"; do kill "$pid" 2>/dev/null; done
  _e2e_teardown_daemons
  if [ "${E2E_NS_CREATED:-0}" = 1 ]; then
    expect_ok "teardown: delete namespace $E2E_NS" kc delete namespace "$E2E_NS" --wait=false
  fi
  for ((i = ${#e2e_cleanup[@]} - 1; i >= 0; i--)); do
    # shellcheck disable=SC2086
    expect_ok "teardown: delete ${e2e_cleanup[i]}" kc delete --ignore-not-found ${e2e_cleanup[i]}
  done
  for ((i = ${#e2e_servers[@]} - 1; i >= 0; i--)); do e2e_stop_server "${e2e_servers[i]}"; done
  if [ -n "$E2E_TMP" ]; then
    if [ "${E2E_KEEP:-0}" = 1 ]; then echo "# kept $E2E_TMP"; else rm -rf "$E2E_TMP"; fi
  fi
  echo "# $E2E_NAME: $e2e_passed passed, $e2e_failed failed, $e2e_skipped skipped"
  [ "$e2e_failed" -eq 0 ] && exit 0
  exit 1
}
