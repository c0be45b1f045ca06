#!/bin/sh
# test/bench/controller/run.sh: catalog-controller time-to-Ready, memory, CPU and API traffic for
# N ServiceInstances and N ServiceBindings, against a real osb-broker and a fresh test API server.
#
# Usage:  test/bench/controller/run.sh [N...]
#   N        how many instances (and as many bindings) per mode; default "$N" from the
#            environment, else "100 1000".  Each N gets fresh servers.  Nothing is built.
# Environment:
#   BUILDDIR=.          where the binaries are: $BUILDDIR/test/apiserver/kube-testserver,
#                       $BUILDDIR/broker/osb-broker, $BUILDDIR/catalog-controller/catalog-controller
#                       (or set KUBE_TESTSERVER, OSB_BROKER, CATALOG_CONTROLLER)
#   MODES="sync async"  which plans to run (sync: the broker answers 201 at once; async: 202,
#                       done after 1 s, polled with last_operation)
#   NAMESPACES=4        the instances and bindings are spread over this many namespaces per mode
#   PARALLEL=16         concurrent create/delete requests (one curl --parallel)
#   TIMEOUT             seconds each wait may take (all Ready, all Secrets, all gone);
#                       default 120 + N/2
#   POLL=0.1            seconds between two polls (one curl of three lists, one jq)
#   WATCH_HISTORY=1000000  the test server's --watch-history (its default, 100 events for all
#                       kinds together, would send the controller's watches 410 Gone during
#                       the bulk creates; a real API server keeps a history per resource)
#   RESULTS=FILE        also append the machine-readable lines to FILE
#   BENCH_TMPDIR        where the temporary directory goes (default $TMPDIR or /tmp)
#   CONTROLLER_ARGS     extra catalog-controller options (default: none = default settings)
#   BROKER_LOG_LEVEL=warn   osb-broker's --log-level (info: one line per request, in the log)
#   BENCH_KEEP=1        keep the temporary directory (daemon logs, /metrics snapshots m0 m1 m2,
#                       per-step deltas of every request counter: delta-N-MODE-STEP)
#
# What it does, for every N (all processes on 127.0.0.1, ports from --port 0 and port files,
# every wait bounded, an EXIT trap stops whatever it started and removes its temporary
# directory):
#   1. kube-testserver with TLS (a throw-away self-signed certificate) and a bearer token,
#      the CRDs of deploy/crds applied with kubectl and Established;
#      osb-broker --sync off with basic auth and a catalog of one service (bindable,
#      bindings_retrievable false: binds are synchronous) with two static plans, "sync" and
#      "async" (async optional, delay 1s);
#      catalog-controller with default settings (--workers etc.), log level info, to a file;
#      a ClusterServiceBroker (basic auth from a Secret), waited for until Ready and its class
#      and both plans exist.
#   2. For MODE in $MODES: N ServiceInstances (plan MODE) and N ServiceBindings, one per
#      instance, spread over $NAMESPACES namespaces bench-MODE-K, all POSTed to the API server
#      by one `curl --parallel` ($PARALLEL at a time; instances first). Then every $POLL s one
#      curl lists instances, bindings and secrets (cluster-wide, as Tables without objects:
#      names and printer columns) until all instances and bindings show Ready and all Secrets
#      exist; "all Ready" is then confirmed on the full objects (condition Ready=True) before
#      it counts. Then the controller is let settle (its write counter still for 2 s, at most
#      30 s), and every binding and instance is DELETEd the same way, polled until all
#      instances, bindings and Secrets are gone. Times are from the first request sent, taken
#      when the poll that saw the state returned (so within one poll, ~0.15 s, of the event).
#   Figures per mode: the times (and the latest of all Ready and all Secrets); the controller's
#   peak RSS during the mode (VmHWM, reset at the start of the mode through
#   /proc/PID/clear_refs) and CPU time (utime+stime; also in ms per object, ÷ N), the 1-minute
#   load average at the start and end of the mode, and the
#   CPU time of the test server, the broker and this script's curl/jq; the API requests the
#   controller made (catalog_controller_kube_requests_total of its /metrics, snapshot before
#   the creates, after settling, and after the deletes and settling), writes by resource and
#   reads, divided by N, its OSB requests (catalog_controller_osb_requests_total) and
#   reconciles; the Events in the mode's namespaces by reason.
# Nothing is asserted about speed: figures are reported. Exit status 1 if something did not
# become Ready (or go away) within TIMEOUT (the stuck objects and their conditions are shown),
# or a daemon died or a create/delete was refused; 2 if it could not run at all.
# Output: a Markdown report on stdout, then one "BENCH controller ..." line per figure;
# progress on stderr. Not part of `make check`: `make bench-controller N=100`, `make bench`.

set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../../.." && pwd)
BUILDDIR=${BUILDDIR:-.}
KUBE_TESTSERVER=${KUBE_TESTSERVER:-$BUILDDIR/test/apiserver/kube-testserver}
OSB_BROKER=${OSB_BROKER:-$BUILDDIR/broker/osb-broker}
CATALOG_CONTROLLER=${CATALOG_CONTROLLER:-$BUILDDIR/catalog-controller/catalog-controller}
KUBECTL=${KUBECTL:-kubectl}
MODES=${MODES:-sync async}
NAMESPACES=${NAMESPACES:-4}
PARALLEL=${PARALLEL:-16}
POLL=${POLL:-0.1}
WATCH_HISTORY=${WATCH_HISTORY:-1000000}
RESULTS=${RESULTS:-}
CONTROLLER_ARGS=${CONTROLLER_ARGS:-}
BROKER_LOG_LEVEL=${BROKER_LOG_LEVEL:-warn}
SIZES=${*:-${N:-100 1000}}
HOST=127.0.0.1
G=servicecatalog.k8s.io
V=v1beta1
BROKER_NAME=bench-broker
cmdline="$0${*:+ $*}"

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 2; }

for n in $SIZES; do case $n in ''|*[!0-9]*|0) die "N must be a positive number, not '$n'";; esac; done
case $NAMESPACES in ''|*[!0-9]*|0) die "NAMESPACES must be a positive number";; esac
case $PARALLEL in ''|*[!0-9]*|0) die "PARALLEL must be a positive number";; esac
for m in $MODES; do case $m in sync|async) ;; *) die "MODES: sync and/or async, not '$m'";; esac; done
for b in "$KUBE_TESTSERVER" "$OSB_BROKER" "$CATALOG_CONTROLLER"; do
	[ -x "$b" ] || die "no binary at $b (set BUILDDIR, or build it: make test/apiserver/kube-testserver broker/osb-broker catalog-controller/catalog-controller)"
done
for t in curl jq openssl "$KUBECTL"; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (Debian packages: curl jq openssl kubernetes-client)"
done
curl --help all 2>/dev/null | grep -q -- '--parallel-max' || die "curl is too old: it has no --parallel (7.66 or later needed)"
abspath() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd)" "$(basename "$1")"); }
KUBE_TESTSERVER=$(abspath "$KUBE_TESTSERVER")
OSB_BROKER=$(abspath "$OSB_BROKER")
CATALOG_CONTROLLER=$(abspath "$CATALOG_CONTROLLER")

tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/ctl-bench.XXXXXX") || die "mktemp failed"
spid=   # kube-testserver
bpid=   # osb-broker
cpid=   # catalog-controller
failed=0

# stop PID NAME: SIGTERM, then SIGKILL after 15 s. Only processes this script started.
stop() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$1" 2>/dev/null; then say "$2 ($1) did not stop within 15 s: SIGKILL"; kill -KILL "$1" 2>/dev/null; fi
	wait "$1" 2>/dev/null
	rc=$?
	[ $rc -eq 0 ] || say "$2 ($1) exited $rc on SIGTERM"
	return 0
}

stop_all() {
	stop "$cpid" catalog-controller; cpid=
	stop "$bpid" osb-broker; bpid=
	stop "$spid" kube-testserver; spid=
}

# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
	for p in $cpid $bpid $spid; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
# client_cpu: sets client: user+system seconds of this script's finished children (curl, jq,
# awk) so far. (times runs in this shell: in a subshell it would count the subshell's children.)
client_cpu() {
	times >"$tmp/times"
	client=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } printf "%.2f\n", s }' "$tmp/times")
}

# wait_port FILE PID NAME LOG: until FILE holds a port (15 s); prints it.
wait_port() {
	i=0
	while [ $i -lt 150 ]; do
		[ -s "$1" ] && { head -n 1 "$1"; return 0; }
		kill -0 "$2" 2>/dev/null || { tail -n 20 "$4" >&2; die "$3 exited at start"; }
		sleep 0.1; i=$((i + 1))
	done
	tail -n 20 "$4" >&2
	die "$3 wrote no port file within 15 s"
}

# ---- API access: curl with the CA and the token (curl -K), kubectl with the kubeconfig ---------
kc() { timeout -k 5 120 "$KUBECTL" --kubeconfig "$tmp/kubeconfig" --cache-dir "$tmp/kube-cache" "$@"; }
# api METHOD PATH [curl args]: one request, body on stdout; fails on HTTP errors.
api() {
	m=$1; p=$2; shift 2
	curl -sS -f --max-time 30 -K "$tmp/curl.cfg" -X "$m" "$@" "$server$p"
}

ready_cond='(.status.conditions // [] | map(select(.type == "Ready")) | .[0])'

# ---- daemons ----------------------------------------------------------------------------------
start_server() {
	rm -f "$tmp/server.port"
	"$KUBE_TESTSERVER" --listen "$HOST" --port 0 --port-file "$tmp/server.port" --log-level warn \
		--watch-history "$WATCH_HISTORY" \
		--tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" --token-file "$tmp/tokens.csv" \
		</dev/null >>"$tmp/server.log" 2>&1 &
	spid=$!
	port=$(wait_port "$tmp/server.port" "$spid" kube-testserver "$tmp/server.log") || exit 2
	server="https://$HOST:$port"
	{
		printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: bench\n  cluster:\n    server: %s\n' "$server"
		printf '    certificate-authority-data: %s\n' "$(base64 -w0 <"$tmp/cert.pem")"
		printf 'users:\n- name: bench\n  user:\n    token: %s\n' "$token"
		printf 'contexts:\n- name: bench\n  context:\n    cluster: bench\n    user: bench\ncurrent-context: bench\n'
	} >"$tmp/kubeconfig"
	say "kube-testserver: pid $spid, $server"
	kc apply -f "$srcdir/deploy/crds/" >"$tmp/crds.log" 2>&1 || { cat "$tmp/crds.log" >&2; die "kubectl apply -f deploy/crds/ failed"; }
	kc wait --for=condition=Established --timeout=30s -f "$srcdir/deploy/crds/" >>"$tmp/crds.log" 2>&1 ||
		{ cat "$tmp/crds.log" >&2; die "the CRDs did not become Established"; }
}

start_broker() {
	rm -f "$tmp/broker.port" "$tmp/broker.db"*
	"$OSB_BROKER" --listen "$HOST" --port 0 --port-file "$tmp/broker.port" --db "$tmp/broker.db" --sync off \
		--catalog "$here/catalog.json" --username bench --password "$broker_pw" --log-level "$BROKER_LOG_LEVEL" \
		</dev/null >>"$tmp/broker.log" 2>&1 &
	bpid=$!
	port=$(wait_port "$tmp/broker.port" "$bpid" osb-broker "$tmp/broker.log") || exit 2
	broker_url="http://$HOST:$port"
	curl -sf -o /dev/null --max-time 5 "$broker_url/readyz" || die "osb-broker not ready at $broker_url"
	say "osb-broker: pid $bpid, $broker_url"
}

start_controller() {
	rm -f "$tmp/controller.port"
	# shellcheck disable=SC2086
	"$CATALOG_CONTROLLER" --kubeconfig "$tmp/kubeconfig" --listen "$HOST" --port 0 \
		--port-file "$tmp/controller.port" $CONTROLLER_ARGS </dev/null >>"$tmp/controller.log" 2>&1 &
	cpid=$!
	port=$(wait_port "$tmp/controller.port" "$cpid" catalog-controller "$tmp/controller.log") || exit 2
	ctl_url="http://$HOST:$port"
	i=0
	until curl -sf -o /dev/null --max-time 2 "$ctl_url/readyz"; do
		i=$((i + 1)); [ $i -lt 300 ] || die "catalog-controller not ready (/readyz) within 30 s"
		alive; sleep 0.1
	done
	say "catalog-controller: pid $cpid, $ctl_url${CONTROLLER_ARGS:+ ($CONTROLLER_ARGS)}"
}

# alive: every daemon still runs (else: its log, and exit 1).
alive() {
	for x in "$spid:kube-testserver:server" "$bpid:osb-broker:broker" "$cpid:catalog-controller:controller"; do
		p=${x%%:*}; r=${x#*:}; name=${r%%:*}; log=${r#*:}
		[ -n "$p" ] || continue
		if ! kill -0 "$p" 2>/dev/null; then
			wait "$p" 2>/dev/null; rc=$?
			say "run.sh: $name (pid $p) died (exit status $rc); its log ends:"
			tail -n 30 "$tmp/$log.log" >&2
			fail "$name died (exit status $rc) during N=$n${mode:+ $mode}"
		fi
	done
}

register_broker() {
	kc apply -f - >"$tmp/register.log" 2>&1 <<YAML || { cat "$tmp/register.log" >&2; die "cannot create the ClusterServiceBroker"; }
apiVersion: v1
kind: Secret
metadata:
  name: bench-broker-auth
  namespace: default
type: Opaque
stringData:
  username: bench
  password: $broker_pw
---
apiVersion: $G/$V
kind: ClusterServiceBroker
metadata:
  name: $BROKER_NAME
spec:
  url: $broker_url
  authInfo:
    basic:
      secretRef:
        namespace: default
        name: bench-broker-auth
YAML
	t=$(now)
	kc wait --for=condition=Ready "clusterservicebroker/$BROKER_NAME" --timeout=60s >>"$tmp/register.log" 2>&1 || {
		kc get "clusterservicebroker/$BROKER_NAME" -o jsonpath='{.status.conditions}' >&2
		die "the ClusterServiceBroker did not become Ready within 60 s"
	}
	i=0
	until api GET "/apis/$G/$V/clusterserviceplans/bench-plan-async" -o /dev/null 2>/dev/null &&
	      api GET "/apis/$G/$V/clusterserviceplans/bench-plan-sync" -o /dev/null 2>/dev/null &&
	      api GET "/apis/$G/$V/clusterserviceclasses/bench-svc" -o /dev/null 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 300 ] || die "class bench-svc and plans bench-plan-sync/async did not appear within 30 s"
		alive; sleep 0.1
	done
	say "ClusterServiceBroker $BROKER_NAME Ready, class and plans listed after $(since "$t") s"
}

# ---- the controller's figures -----------------------------------------------------------------
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/${1:-$cpid}/stat"; }
ticks_s() { awk -v t="$1" -v hz="$clk_tck" 'BEGIN { printf "%.2f", t / hz }'; }
status_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$cpid/status"; }
snapshot() { curl -sS -f --max-time 10 "$ctl_url/metrics" >"$1" || { say "cannot read $ctl_url/metrics"; : >"$1"; }; }

# mdelta BEFORE AFTER METRIC [LABEL-REGEX]: the sum over the samples of METRIC whose labels
# match LABEL-REGEX, AFTER minus BEFORE.
mdelta() {
	awk -v name="$3" -v re="${4:-}" '
		/^#/ { next }
		{ n = $1; sub(/\{.*/, "", n); if (n != name) next
		  l = ""; if (match($0, /\{.*\}/)) l = substr($0, RSTART, RLENGTH)
		  if (re != "" && l !~ re) next
		  if (FILENAME == ARGV[1]) s -= $NF; else s += $NF }
		END { printf "%.0f\n", s }' "$1" "$2"
}

# writes_now: the controller's write requests so far.
writes_now() {
	curl -sS -f --max-time 10 "$ctl_url/metrics" 2>/dev/null | awk '
		/^catalog_controller_kube_requests_total\{/ && /verb="(create|update|patch|delete)"/ { s += $NF }
		END { printf "%.0f\n", s }'
}

# settle: until the controller's write counter stays still for 2 s (at most 30 s); sets settle_s
# and settled (yes/no).
settle() {
	t=$(now); w=$(writes_now); still=0; settled=no
	i=0
	while [ $i -lt 60 ]; do
		sleep 0.5; i=$((i + 1))
		w2=$(writes_now)
		if [ "$w2" = "$w" ]; then still=$((still + 1)); else still=0; w=$w2; fi
		[ $still -ge 4 ] && { settled=yes; break; }
	done
	settle_s=$(since "$t")
}

# ---- bulk requests ----------------------------------------------------------------------------
# bulk FILE: runs the curl config FILE (one block per request) with --parallel; every answer's
# status and object go to $tmp/bulk.out; returns 1 unless all were 2xx.
bulk() {
	curl -sS -Z --parallel-max "$PARALLEL" -K "$1" >"$tmp/bulk.out" 2>"$tmp/bulk.err"
	bad=$(awk '$1 !~ /^2/' "$tmp/bulk.out" | wc -l)
	total=$(wc -l <"$tmp/bulk.out")
	if [ "$bad" -ne 0 ] || [ "$total" -ne "$2" ]; then
		say "run.sh: $bad of $total requests were not answered 2xx (wanted $2 answers):"
		awk '$1 !~ /^2/' "$tmp/bulk.out" | sort | uniq -c | sort -rn | head -n 10 >&2
		head -n 5 "$tmp/bulk.err" >&2
		return 1
	fi
	return 0
}

# gen_requests MODE: writes $tmp/create.cfg (N instances, then N bindings) and $tmp/delete.cfg
# (N bindings, then N instances), curl config blocks separated by "next"; names
# i-MODE-00001, b-MODE-00001 (Secret s-MODE-00001) in namespace bench-MODE-(i mod NAMESPACES).
gen_requests() {
	awk -v n="$n" -v mode="$1" -v nns="$NAMESPACES" -v server="$server" -v ca="$tmp/cert.pem" \
	    -v token="$token" -v gv="$G/$V" -v cfile="$tmp/create.cfg" -v dfile="$tmp/delete.cfg" '
	function block(f, method, path, body) {
		if (started[f]++) print "next" > f
		printf "url = \"%s%s\"\nrequest = \"%s\"\ncacert = \"%s\"\n", server, path, method, ca > f
		printf "header = \"Authorization: Bearer %s\"\noutput = \"/dev/null\"\nmax-time = 60\n", token > f
		printf "write-out = \"%%{http_code} %s %s\\n\"\n", method, path > f
		if (body != "") printf "header = \"Content-Type: application/json\"\ndata = %s\n", body > f
	}
	BEGIN {
		for (i = 1; i <= n; i++) {
			ns[i] = "bench-" mode "-" (i % nns); nm[i] = sprintf("%s-%05d", mode, i)
		}
		for (i = 1; i <= n; i++)
			block(cfile, "POST", "/apis/" gv "/namespaces/" ns[i] "/serviceinstances",
			      "{\"apiVersion\":\"" gv "\",\"kind\":\"ServiceInstance\",\"metadata\":{\"name\":\"i-" nm[i] "\",\"namespace\":\"" ns[i] "\"}," \
			      "\"spec\":{\"clusterServiceClassExternalName\":\"bench-db\",\"clusterServicePlanExternalName\":\"" mode "\"}}")
		for (i = 1; i <= n; i++) {
			block(cfile, "POST", "/apis/" gv "/namespaces/" ns[i] "/servicebindings",
			      "{\"apiVersion\":\"" gv "\",\"kind\":\"ServiceBinding\",\"metadata\":{\"name\":\"b-" nm[i] "\",\"namespace\":\"" ns[i] "\"}," \
			      "\"spec\":{\"instanceRef\":{\"name\":\"i-" nm[i] "\"},\"secretName\":\"s-" nm[i] "\"}}")
			block(dfile, "DELETE", "/apis/" gv "/namespaces/" ns[i] "/servicebindings/b-" nm[i], "")
		}
		for (i = 1; i <= n; i++)
			block(dfile, "DELETE", "/apis/" gv "/namespaces/" ns[i] "/serviceinstances/i-" nm[i], "")
	}'
}

# ---- polling ----------------------------------------------------------------------------------
# poll MODE: one look at the cluster, cheap enough to repeat every $POLL s at N=1000: the three
# lists as Tables without objects (name and printer columns only), so neither the server nor jq
# handles whole objects. Sets n_si n_si_ready n_sb n_sb_ready n_sec: the instances, bindings
# and Secrets of MODE (named i-MODE-*, b-MODE-*, s-MODE-*), and how many instances and bindings
# the Status column (.status.lastConditionState) shows Ready; ready_exact confirms those.
poll() {
	if ! curl -sS -f --max-time 30 -K "$tmp/curl.cfg" -H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io' \
		"$server/apis/$G/$V/serviceinstances?includeObject=None" -o "$tmp/si.json" \
		"$server/apis/$G/$V/servicebindings?includeObject=None" -o "$tmp/sb.json" \
		"$server/api/v1/secrets?includeObject=None" -o "$tmp/sec.json" 2>"$tmp/poll.err"; then
		say "poll: $(head -n 1 "$tmp/poll.err")"; return 1
	fi
	# shellcheck disable=SC2046 # four numbers, split on purpose
	set -- $(jq -r -n --arg m "$1" '
		def mine($p): (.rows // []) | map(select(.cells[0] | startswith($p)));
		def ready: (.columnDefinitions | map(.name) | index("Status")) as $c | .rows = ((.rows // []) | map(select(.cells[$c] == "Ready")));
		input as $si | input as $sb | input as $sec |
		[($si | mine("i-\($m)-") | length), ($si | ready | mine("i-\($m)-") | length),
		 ($sb | mine("b-\($m)-") | length), ($sb | ready | mine("b-\($m)-") | length),
		 ($sec | mine("s-\($m)-") | length)] | @sh' "$tmp/si.json" "$tmp/sb.json" "$tmp/sec.json") || return 1
	n_si=$1; n_si_ready=$2; n_sb=$3; n_sb_ready=$4; n_sec=$5
}

# ready_exact MODE KIND: all N objects of KIND in bench-MODE-* have the condition Ready=True
# (one full list; run once the Table says they are all Ready).
ready_exact() {
	c=$(api GET "/apis/$G/$V/$2" | jq -r --arg p "bench-$1-" \
		"[.items[] | select(.metadata.namespace | startswith(\$p)) | select($ready_cond.status == \"True\")] | length") || return 1
	[ -n "$c" ] && [ "$c" -ge "$n" ] && return 0
	say "  the Status column shows all $2 Ready but only $c have Ready=True: polling on"
	return 1
}

# stuck MODE KIND: the objects of KIND (serviceinstances, servicebindings) in bench-MODE-*
# that are not Ready (or still there, when deleting), with their Ready/Failed conditions.
stuck() {
	api GET "/apis/$G/$V/$2" 2>/dev/null | jq -r --arg p "bench-$1-" '
		[.items[] | select(.metadata.namespace | startswith($p))
		 | select(.metadata.deletionTimestamp != null or
		          ((.status.conditions // []) | map(select(.type == "Ready" and .status == "True")) | length) == 0)] as $s
		| if ($s | length) == 0 then empty else
		  "\($s | length) \($ARGS.named.k) stuck; by Ready reason:",
		  ($s | group_by((.status.conditions // []) | map(select(.type == "Ready")) | .[0].reason // "(no Ready condition)")
		      | map("  \(length) \((.[0].status.conditions // []) | map(select(.type == "Ready")) | .[0].reason // "(no Ready condition)")")[]),
		  "the first 10:",
		  ($s[:10][] | "  \(.metadata.namespace)/\(.metadata.name)\(if .metadata.deletionTimestamp then " (deleting since \(.metadata.deletionTimestamp), finalizers \(.metadata.finalizers // [] | join(",")))" else "" end): " +
		     ((.status.conditions // []) | if length == 0 then "no conditions" else map("\(.type)=\(.status) \(.reason // ""): \(.message // "")") | join("; ") end) +
		     " [lastConditionState=\(.status.lastConditionState // "-"), asyncOpInProgress=\(.status.asyncOpInProgress // false), currentOperation=\(.status.currentOperation // "-"), observedGeneration=\(.status.observedGeneration // "-")/generation=\(.metadata.generation)]") end' \
		--arg k "$2" >&2
}

# tick: sets el (seconds since t0, now), show (1 when 2 s have passed since the progress line at
# $last), over (1 past $timeout_s). One date and one awk: this runs after every poll.
tick() {
	# shellcheck disable=SC2046 # three numbers, split on purpose
	set -- $(awk -v a="$t0" -v b="$(date +%s.%N)" -v l="$last" -v t="$timeout_s" \
		'BEGIN { e = b - a; printf "%.2f %d %d\n", e, (e - l >= 2), (e > t) }')
	el=$1; show=$2; over=$3
}

# ---- one mode ---------------------------------------------------------------------------------
figures=
mode=
rows=
rows_api=
target_data=
events=
fig() { figures="${figures}BENCH controller n=$n mode=$mode $1=$2
"; }

run_mode() {
	mode=$1
	timeout_s=${TIMEOUT:-$((120 + n / 2))}
	say "== N=$n, mode $mode (timeout $timeout_s s per wait)"
	ns_list=
	k=0
	while [ $k -lt "$NAMESPACES" ]; do
		ns_list="$ns_list bench-$mode-$k"
		api POST /api/v1/namespaces -H 'Content-Type: application/json' -o /dev/null \
			-d "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"bench-$mode-$k\"}}" ||
			die "cannot create namespace bench-$mode-$k"
		k=$((k + 1))
	done
	gen_requests "$mode" || die "cannot write the request files"

	echo 5 >"/proc/$cpid/clear_refs" 2>/dev/null || say "cannot reset VmHWM (clear_refs): the peak is since the start"
	rss0=$(status_kb VmRSS)
	snapshot "$tmp/m0"
	cpu0=$(cpu_ticks); scpu0=$(cpu_ticks "$spid"); bcpu0=$(cpu_ticks "$bpid")
	client_cpu; client0=$client; npoll=0
	mload0=$(cut -d' ' -f1 /proc/loadavg)

	# ---- create
	t0=$(now)
	bulk "$tmp/create.cfg" $((2 * n)) || fail "N=$n $mode: creates refused (see above)"
	t_sent=$(since "$t0")
	say "  $((2 * n)) creates answered 201 after $t_sent s"
	t_ready=; t_bready=; t_sec=; last=0
	while :; do
		alive
		npoll=$((npoll + 1))
		if poll "$mode"; then
			tick
			[ -z "$t_ready" ] && [ "$n_si_ready" -ge "$n" ] && ready_exact "$mode" serviceinstances && t_ready=$el
			[ -z "$t_bready" ] && [ "$n_sb_ready" -ge "$n" ] && ready_exact "$mode" servicebindings && t_bready=$el
			[ -z "$t_sec" ] && [ "$n_sec" -ge "$n" ] && t_sec=$el
			[ -n "$t_ready" ] && [ -n "$t_bready" ] && [ -n "$t_sec" ] && break
			if [ "$show" = 1 ]; then
				last=$el
				say "  $el s: instances Ready $n_si_ready/$n, bindings Ready $n_sb_ready/$n, Secrets $n_sec/$n"
			fi
			if [ "$over" = 1 ]; then
				say "run.sh: N=$n $mode: not everything Ready after $timeout_s s: instances Ready $n_si_ready/$n, bindings Ready $n_sb_ready/$n, Secrets $n_sec/$n"
				stuck "$mode" serviceinstances; stuck "$mode" servicebindings
				fail "N=$n $mode: after $timeout_s s only $n_si_ready/$n instances Ready, $n_sb_ready/$n bindings Ready, $n_sec/$n Secrets (stuck objects: see above)"
			fi
		else
			tick; [ "$over" = 1 ] && fail "N=$n $mode: the API server did not answer the polls for $timeout_s s"
		fi
		sleep "$POLL"
	done
	say "  all $n instances Ready after $t_ready s, bindings Ready after $t_bready s, Secrets after $t_sec s"
	settle
	settle_create=$settle_s; settled_create=$settled
	snapshot "$tmp/m1"
	cpu_mid=$(cpu_ticks); scpu_mid=$(cpu_ticks "$spid")
	say "  controller settled: $settled_create (after $settle_create s)"

	# ---- delete
	t0=$(now)
	bulk "$tmp/delete.cfg" $((2 * n)) || fail "N=$n $mode: deletes refused (see above)"
	t_dsent=$(since "$t0")
	say "  $((2 * n)) deletes answered after $t_dsent s"
	t_gone=; last=0
	while :; do
		alive
		npoll=$((npoll + 1))
		if poll "$mode"; then
			tick
			[ "$n_si" -eq 0 ] && [ "$n_sb" -eq 0 ] && [ "$n_sec" -eq 0 ] && { t_gone=$el; break; }
			if [ "$show" = 1 ]; then
				last=$el
				say "  $el s: left: instances $n_si, bindings $n_sb, Secrets $n_sec"
			fi
			if [ "$over" = 1 ]; then
				say "run.sh: N=$n $mode: not all gone after $timeout_s s: instances $n_si, bindings $n_sb, Secrets $n_sec left"
				stuck "$mode" serviceinstances; stuck "$mode" servicebindings
				fail "N=$n $mode: after $timeout_s s of deleting still $n_si instances, $n_sb bindings, $n_sec Secrets (stuck objects: see above)"
			fi
		else
			tick; [ "$over" = 1 ] && fail "N=$n $mode: the API server did not answer the polls for $timeout_s s"
		fi
		sleep "$POLL"
	done
	say "  all gone after $t_gone s"
	settle
	settle_delete=$settle_s; settled_delete=$settled
	snapshot "$tmp/m2"
	cpu1=$(cpu_ticks); scpu1=$(cpu_ticks "$spid"); scpu_s=$(ticks_s $((scpu1 - scpu0))); bcpu_s=$(ticks_s $(($(cpu_ticks "$bpid") - bcpu0)))
	client_cpu; client_s=$(awk -v a="$client0" -v b="$client" 'BEGIN { printf "%.2f", b - a }')
	hwm=$(status_kb VmHWM)
	rss1=$(status_kb VmRSS)
	cpu_s=$(ticks_s $((cpu1 - cpu0)))
	hwm_mb=$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')
	say "  controller: peak RSS $hwm_mb MB (RSS $rss0 kB before, $rss1 kB after), CPU $cpu_s s; CPU of the test server $scpu_s s, the broker $bcpu_s s, this script's curl and jq $client_s s"

	fig create_requests_s "$t_sent"
	fig instances_ready_s "$t_ready"
	fig bindings_ready_s "$t_bready"
	fig secrets_s "$t_sec"
	fig delete_requests_s "$t_dsent"
	fig all_deleted_s "$t_gone"
	fig controller_peak_rss_mb "$hwm_mb"
	fig controller_rss_before_mb "$(awk -v k="$rss0" 'BEGIN { printf "%.1f", k / 1024 }')"
	fig controller_rss_after_mb "$(awk -v k="$rss1" 'BEGIN { printf "%.1f", k / 1024 }')"
	fig controller_cpu_s "$cpu_s"
	# per object = per instance with its binding (N of them): create, Ready, delete and settling
	cpu_ms=$(awk -v t="$((cpu1 - cpu0))" -v hz="$clk_tck" -v n="$n" 'BEGIN { printf "%.2f", t * 1000 / hz / n }')
	t_all=$(awk -v a="$t_ready" -v b="$t_bready" -v c="$t_sec" 'BEGIN { m = a; if (b > m) m = b; if (c > m) m = c; printf "%.2f", m }')
	mload1=$(cut -d' ' -f1 /proc/loadavg)
	fig controller_cpu_ms_per_object "$cpu_ms"
	fig all_ready_and_secrets_s "$t_all"
	fig load_before "$mload0"
	fig load_after "$mload1"
	fig controller_cpu_create_s "$(ticks_s $((cpu_mid - cpu0)))"
	fig controller_cpu_delete_s "$(ticks_s $((cpu1 - cpu_mid)))"
	fig apiserver_cpu_create_s "$(ticks_s $((scpu_mid - scpu0)))"
	fig apiserver_cpu_s "$scpu_s"
	fig apiserver_cpu_delete_s "$(ticks_s $((scpu1 - scpu_mid)))"
	fig broker_cpu_s "$bcpu_s"
	fig client_cpu_s "$client_s"
	fig polls "$npoll"
	fig settled_after_create "$settled_create"
	fig settled_after_delete "$settled_delete"
	fig settle_after_create_s "$settle_create"
	fig settle_after_delete_s "$settle_delete"
	rows="$rows| $n | $mode | $t_sent | $t_ready | $t_bready | $t_sec | $t_all | $t_gone | $hwm_mb MB | $cpu_s | $cpu_ms | $mload0 / $mload1 |
"
	target_data="$target_data$n $mode $t_all $t_gone $hwm_mb $cpu_ms
"
	api_step create "$tmp/m0" "$tmp/m1" "$settled_create"
	api_step delete "$tmp/m1" "$tmp/m2" "$settled_delete"

	# the Events the controller wrote about this mode's objects, by type and reason
	ev=$(api GET /api/v1/events | jq -r --arg p "bench-$mode-" '
		[.items[] | select(.metadata.namespace | startswith($p))] | group_by(.type + " " + .reason)
		| map("\(.[0].type) \(.[0].reason) \(length)") | join(", ")') || ev="(cannot list events)"
	say "  Events in bench-$mode-*: $ev"
	events="$events| $n | $mode | $ev |
"
	for ns in $ns_list; do api DELETE "/api/v1/namespaces/$ns" -o /dev/null 2>/dev/null; done
	# the next mode starts once they are gone (the server deletes what is in them meanwhile)
	i=0
	for ns in $ns_list; do
		while api GET "/api/v1/namespaces/$ns" -o /dev/null 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	done
	[ $i -lt 600 ] || say "  the namespaces bench-$mode-* were not gone after 60 s; going on"
}

W='verb="(create|update|patch|delete)"'
# api_step STEP BEFORE AFTER SETTLED: the API and OSB requests of one step, per object.
api_step() {
	step=$1; a=$2; b=$3
	w_si=$(mdelta "$a" "$b" catalog_controller_kube_requests_total "$W,resource=\"serviceinstances(/status)?\"")
	w_sb=$(mdelta "$a" "$b" catalog_controller_kube_requests_total "$W,resource=\"servicebindings(/status)?\"")
	w_sec=$(mdelta "$a" "$b" catalog_controller_kube_requests_total "$W,resource=\"secrets\"")
	w_ev=$(mdelta "$a" "$b" catalog_controller_kube_requests_total "$W,resource=\"events\"")
	w_all=$(mdelta "$a" "$b" catalog_controller_kube_requests_total "$W")
	w_other=$((w_all - w_si - w_sb - w_sec - w_ev))
	r_get=$(mdelta "$a" "$b" catalog_controller_kube_requests_total 'verb="get"')
	r_get_sec=$(mdelta "$a" "$b" catalog_controller_kube_requests_total 'verb="get",resource="secrets"')
	r_list=$(mdelta "$a" "$b" catalog_controller_kube_requests_total 'verb="list"')
	r_watch=$(mdelta "$a" "$b" catalog_controller_kube_requests_total 'verb="watch"')
	c409=$(mdelta "$a" "$b" catalog_controller_kube_requests_total 'code="409"')
	errs=$(mdelta "$a" "$b" catalog_controller_kube_requests_total 'code="([0-9]+|error)"')
	osb=$(mdelta "$a" "$b" catalog_controller_osb_requests_total)
	osb_poll=$(mdelta "$a" "$b" catalog_controller_osb_requests_total 'method="[A-Za-z]*LastOperation"')
	rec_si=$(mdelta "$a" "$b" catalog_controller_reconcile_duration_seconds_count 'kind="ServiceInstance"')
	rec_sb=$(mdelta "$a" "$b" catalog_controller_reconcile_duration_seconds_count 'kind="ServiceBinding"')
	for kv in "serviceinstances=$w_si" "servicebindings=$w_sb" "secrets=$w_sec" "events=$w_ev"; do
		fig "${step}_writes_${kv%%=*}_per_object" "$(div "${kv#*=}" "$n")"
	done
	fig "${step}_writes_other" "$w_other"
	fig "${step}_reads_get_per_object" "$(div "$r_get" "$n")"
	fig "${step}_reads_get_secrets_per_object" "$(div "$r_get_sec" "$n")"
	fig "${step}_reads_list" "$r_list"
	fig "${step}_reads_watch" "$r_watch"
	fig "${step}_kube_conflicts_409" "$c409"
	fig "${step}_kube_non2xx" "$errs"
	fig "${step}_osb_requests_per_object" "$(div "$osb" "$n")"
	fig "${step}_osb_last_operation_per_object" "$(div "$osb_poll" "$n")"
	fig "${step}_reconciles_serviceinstance_per_object" "$(div "$rec_si" "$n")"
	fig "${step}_reconciles_servicebinding_per_object" "$(div "$rec_sb" "$n")"
	rows_api="$rows_api| $n | $mode | $step | $(div "$w_si" "$n") | $(div "$w_sb" "$n") | $(div "$w_sec" "$n") | $(div "$w_ev" "$n") | $w_other | $(div "$r_get" "$n") ($(div "$r_get_sec" "$n")) | $r_list / $r_watch | $c409 / $errs | $(div "$osb" "$n") ($(div "$osb_poll" "$n")) | $(div "$rec_si" "$n") / $(div "$rec_sb" "$n") | $4 |
"
	# every series that moved, for the record
	awk '
		/^#/ { next }
		/^catalog_controller_(kube|osb)_requests_total\{/ {
		  if (FILENAME == ARGV[1]) d[$1] -= $NF; else d[$1] += $NF }
		END { for (k in d) if (d[k] != 0) printf "%s %.0f\n", k, d[k] }' "$a" "$b" | sort >"$tmp/delta-$n-$mode-$step"
}

# fail WHY: the report so far, WHY, exit 1.
fail_note=
fail() {
	failed=1; fail_note="**FAILED**: $1"
	report
	say "run.sh: FAILED: $1"
	exit 1
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
report() {
	cat <<EOF
## catalog-controller benchmark

Command: \`$cmdline\` (MODES="$MODES" NAMESPACES=$NAMESPACES PARALLEL=$PARALLEL POLL=$POLL${CONTROLLER_ARGS:+ CONTROLLER_ARGS="$CONTROLLER_ARGS"})
Controller: \`$CATALOG_CONTROLLER\` ($("$CATALOG_CONTROLLER" --version 2>/dev/null | head -n 1)), default settings
Machine: $(nproc) CPU(s), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r); load average before / after: $load0 / $(cut -d' ' -f1-3 /proc/loadavg)
The test API server, the broker, curl and jq run on the same machine.

Seconds from the first create request (or delete request) sent; N instances and N bindings
(one per instance) created in one go with curl --parallel ($PARALLEL at a time). Peak RSS:
the controller's VmHWM, reset at the start of the mode. CPU: its user+system time over the
mode (create, Ready, delete, and the settling after each); per object: ÷ N (an instance
with its binding). Load: the 1-minute load average at the start and the end of the mode.

| N | plan | creates sent | instances Ready | bindings Ready | Secrets | all Ready + Secrets | all deleted | controller peak RSS | controller CPU s | CPU ms per object | load |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
$rows
API requests the controller made (its /metrics), per object (÷ N) unless a count; writes =
create+update+patch+delete, instance and binding writes include /status; the "create" step
runs from before the creates until the controller's writes stopped (2 s still) after all was
Ready, "delete" from there until its writes stopped after all was gone.

| N | plan | step | instance writes | binding writes | Secret writes | Event writes | other writes (count) | GETs (of Secrets) | LISTs / WATCHes (count) | 409 / non-2xx (count) | OSB requests (of which last_operation) | reconciles instance / binding | settled |
|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
$rows_api
Events in the namespaces of the mode after both steps (type, reason, count):

| N | plan | Events |
|---:|---|---|
$events
### Against the targets (N = 10,000; CPU per object against N = 1,000 of the same plan)

| plan | all Ready + Secrets ≤ 60 s | all deleted ≤ 60 s | controller peak RSS ≤ 48 MB | CPU per object ≤ 1.2× N = 1,000 |
|---|---|---|---|---|
$(printf '%s' "$target_data" | awk '
	function v(x, op, t) { return x == "" ? "not measured" : ((op == "<=" ? x + 0 <= t : x + 0 >= t) ? x " met" : x " missed") }
	{ all[$1 " " $2] = $3; gone[$1 " " $2] = $4; rss[$1 " " $2] = $5; cpu[$1 " " $2] = $6; modes[$2] = 1 }
	END {
		for (m in modes) {
			k = "10000 " m; b = "1000 " m
			if (!(k in all)) { printf "| %s | N = 10,000 not run | | | |\n", m; continue }
			r = (b in cpu && cpu[b] > 0) ? sprintf("%.2f", cpu[k] / cpu[b]) : ""
			printf "| %s | %s | %s | %s | %s |\n", m, v(all[k] " s", "<=", 60), v(gone[k] " s", "<=", 60),
				v(rss[k] " MB", "<=", 48), r == "" ? "not measured (N = 1,000 not run)" : v(r "×", "<=", 1.2)
		}
	}')
$fail_note
EOF
	printf '%s' "$figures"
	[ -n "$RESULTS" ] && printf '%s' "$figures" >>"$RESULTS"
	return 0
}

# ---- main -------------------------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1,DNS:localhost \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" >"$tmp/openssl.log" 2>&1 || { cat "$tmp/openssl.log" >&2; die "openssl failed"; }
token=bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
broker_pw=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
echo "$token,bench-admin,bench-admin-uid,\"system:masters\"" >"$tmp/tokens.csv"

for n in $SIZES; do
	start_server
	printf 'cacert = "%s"\nheader = "Authorization: Bearer %s"\n' "$tmp/cert.pem" "$token" >"$tmp/curl.cfg"
	start_broker
	start_controller
	register_broker
	for mode in $MODES; do
		run_mode "$mode"
		cp "$tmp"/delta-* "$tmp/controller.log" "${BENCH_KEEP_DIR:-$tmp}/" 2>/dev/null
	done
	stop_all
done

report
exit $failed
