#!/bin/sh
# test/bench/broker/run.sh: osb-broker throughput, latency and memory, measured with wrk.
#
# Usage:  test/bench/broker/run.sh [BROKER]
#   BROKER   the osb-broker binary; default: $BUILDDIR/broker/osb-broker, where BUILDDIR
#            defaults to the current directory.  Nothing is built.
# Environment:
#   DURATION=5         seconds per measurement (catalog, provision, bind; 1, 16, 64 connections)
#   CONNECTIONS="1 16 64"
#   INSTANCES=100000   instances provisioned in the scale step
#   SCALE_TIMEOUT=1800 upper bound, seconds, for the scale step
#   BENCH_TMPDIR       where the databases go (default: a fresh directory under $TMPDIR or
#                      /tmp); put it on the disk you care about: --sync full fsyncs there.
#   WRK=wrk
#   SQLITE_LOOP        the reference program (test/bench/broker/sqlite-loop.c); default:
#                      $BUILDDIR/test/bench/broker/sqlite-loop (`make bench-broker` builds it)
#   BENCH_STORE=sqlite   or postgresql: every broker keeps its state in a fresh database of a
#                      throw-away PostgreSQL server (test/lib/pg-server.sh, on 127.0.0.1, run
#                      with fsync=off) through --store, instead of a SQLite file; step 3 (--sync
#                      full, a SQLite setting) is then left out.
#
# What it does (every broker is started on 127.0.0.1 with --port 0, its own database in a
# temporary directory and --log-level warn; all traffic goes to 127.0.0.1):
#   0. The reference (SQLite stores only): a broker provisions one instance into a fresh file
#      and stops; sqlite-loop then inserts copies of that row (same schema, same bytes, fresh
#      ids), one transaction each, single-threaded, WAL, for DURATION seconds: with
#      synchronous=NORMAL just before step 1, with synchronous=FULL just before step 3. The
#      report gives each provision-only row as a multiple of the loop of its sync mode.
#   1. One broker (--sync normal, the default):
#      a. GET /v2/catalog;
#      b. provision+deprovision on the synchronous plan "small": provision.lua "cycle" mode:
#         every instance id is used exactly once, PUT then DELETE, and the DELETE is sent
#         only after the PUT was answered 201, so both are individually timed;
#      c. bind+unbind on 64 instances provisioned beforehand (bind.lua, same scheme);
#      each at 1, 16 and 64 connections; then d. provision only (fresh ids) at 64 connections.
#   2. Scale: a fresh broker, INSTANCES provisions at 64 connections, as fast as wrk can,
#      then the broker's peak RSS and the database size.
#   2b. PostgreSQL only: a fresh database; provision only (fresh ids) at 64 connections
#      through one replica, then through two brokers on that database at once (a wrk of one
#      thread and 32 connections each); the report gives the sum as a multiple of one.
#   3. A fresh broker with --sync full: provision only at 64 connections.
# Every wrk run must see only 2xx answers and no socket errors; the broker's /metrics
# (requests by status) is checked too.  Any failure: exit status 1 (after the table).
# Output: a Markdown report on stdout; progress on stderr.
# This is not part of `make check`: run it with `make bench` or by hand.

set -u

here=$(cd "$(dirname "$0")" && pwd)
BUILDDIR=${BUILDDIR:-.}
BROKER=${1:-$BUILDDIR/broker/osb-broker}
DURATION=${DURATION:-5}
DURATION=${DURATION%s}
CONNECTIONS=${CONNECTIONS:-1 16 64}
INSTANCES=${INSTANCES:-100000}
SCALE_TIMEOUT=${SCALE_TIMEOUT:-1800}
WRK=${WRK:-wrk}
SQLITE_LOOP=${SQLITE_LOOP:-$BUILDDIR/test/bench/broker/sqlite-loop}
BIND_INSTANCES=64
HOST=127.0.0.1
SERVICE=5e1d0db0-0000-4000-8000-000000000001
PLAN=5e1d0db0-0000-4000-8000-000000000011
BENCH_STORE=${BENCH_STORE:-sqlite}
cmdline="$0${1:+ $1}"

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 2; }

case $DURATION in ''|*[!0-9]*) die "DURATION must be a whole number of seconds";; esac
case $INSTANCES in ''|*[!0-9]*) die "INSTANCES must be a number";; esac
[ -x "$BROKER" ] || die "no broker binary at $BROKER (set BUILDDIR or pass the path)"
command -v "$WRK" >/dev/null 2>&1 || die "wrk not found (Debian package: wrk)"
command -v curl >/dev/null 2>&1 || die "curl not found"
BROKER=$(cd "$(dirname "$BROKER")" && pwd)/$(basename "$BROKER")
case $BENCH_STORE in
sqlite) [ -x "$SQLITE_LOOP" ] || die "no sqlite-loop at $SQLITE_LOOP (make test/bench/broker/sqlite-loop, or set SQLITE_LOOP)" ;;
postgresql) command -v psql >/dev/null 2>&1 || die "psql not found (Debian package: postgresql-client)" ;;
*) die "BENCH_STORE must be sqlite or postgresql" ;;
esac

tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/osb-bench.XXXXXX") || die "mktemp failed"
bpid=
wpid=
failed=0

cleanup() {
	if [ -n "$wpid" ]; then kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null; fi
	if [ -n "$bpid" ]; then kill -KILL "$bpid" 2>/dev/null; wait "$bpid" 2>/dev/null; fi
	if [ "$BENCH_STORE" = postgresql ]; then bash "$here/../../lib/pg-server.sh" stop "$tmp/pg"; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

nproc=$(nproc 2>/dev/null || echo 2)

if [ "$BENCH_STORE" = postgresql ]; then
	bash "$here/../../lib/pg-server.sh" start "$tmp/pg" >/dev/null || die "cannot start PostgreSQL"
	pg_admin=$(cat "$tmp/pg/pg-admin-url")
fi

# store_of NAME: the broker's state option for database NAME (a new PostgreSQL database, or
# $tmp/NAME.db).
store_of() {
	if [ "$BENCH_STORE" = postgresql ]; then
		psql -q "$pg_admin" -c "CREATE DATABASE bench_$1" || die "CREATE DATABASE bench_$1 failed"
		echo "--store ${pg_admin%/postgres}/bench_$1"
	else
		echo "--db $tmp/$1.db"
	fi
}

# start_broker NAME [ARGS...]: starts a broker with database NAME (store_of); sets bpid, url.
start_broker() {
	name=$1; shift
	rm -f "$tmp/port"
	# shellcheck disable=SC2046
	"$BROKER" --listen "$HOST" --port 0 --port-file "$tmp/port" $(store_of "$name") \
		--log-level warn "$@" 2>>"$tmp/broker.log" &
	bpid=$!
	i=0
	while [ $i -lt 100 ]; do
		if [ -s "$tmp/port" ]; then break; fi
		kill -0 "$bpid" 2>/dev/null || { cat "$tmp/broker.log" >&2; die "broker exited at start"; }
		sleep 0.1; i=$((i + 1))
	done
	[ -s "$tmp/port" ] || die "broker wrote no port file within 10 s"
	port=$(cat "$tmp/port")
	url="http://$HOST:$port"
	curl -sf -o /dev/null --max-time 5 "$url/readyz" || die "broker not ready at $url"
	say "broker $name: pid $bpid, $url ($*)"
}

stop_broker() {
	[ -n "$bpid" ] || return 0
	kill -TERM "$bpid" 2>/dev/null
	i=0
	while kill -0 "$bpid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$bpid" 2>/dev/null; then
		say "broker $bpid did not stop within 15 s: SIGKILL"; kill -KILL "$bpid" 2>/dev/null
	fi
	wait "$bpid" 2>/dev/null
	bpid=
}

alive() { kill -0 "$bpid" 2>/dev/null || { cat "$tmp/broker.log" >&2; die "the broker died"; }; }

# status_kb FIELD: VmHWM / VmRSS of the running broker, in kB.
status_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$bpid/status"; }

# broker_non2xx: answers with a status outside 2xx so far, by the broker's own count.
broker_non2xx() {
	curl -sf --max-time 5 "$url/metrics" |
		awk '/^osb_broker_requests_total\{/ && !/status="2/ { n += $NF } END { print n + 0 }'
}

# cpu_ticks: user+system CPU time the broker has used so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$bpid/stat"; }
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)

# broker_hist: the broker's own latency histogram so far (request arrival to answer queued),
# summed over every endpoint but /metrics: one "LE COUNT" line per bucket, cumulative.
broker_hist() {
	curl -sf --max-time 5 "$url/metrics" |
		awk -F'[{}]' '/^osb_broker_request_duration_seconds_bucket\{/ && !/endpoint="metrics"/ {
			split($2, kv, "le=\""); le = kv[2]; sub(/".*/, "", le); split($3, v, " "); n[le] += v[1]
			if (!(le in seen)) { seen[le] = 1; order[++k] = le } }
			END { for (i = 1; i <= k; i++) print order[i], n[order[i]] }'
}

# hist_p99 BEFORE AFTER: the upper bound, in ms, of the histogram bucket holding the 99th
# percentile of the requests between the two broker_hist snapshots ("> 2500" past the last).
hist_p99() {
	printf '%s\n--\n%s\n' "$1" "$2" | awk '
		$0 == "--" { after = 1; next }
		!after { b[$1] = $2; next }
		{ le[++k] = $1; d[k] = $2 - b[$1] }
		END {
			total = d[k]; if (total <= 0) { print "n/a"; exit }
			for (i = 1; i <= k; i++) if (d[i] >= 0.99 * total) {
				if (le[i] == "+Inf") print "> 2500"; else printf "%g\n", le[i] * 1000; exit }
		}'
}

metric() {
	curl -sf --max-time 5 "$url/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# field NAME LINE: the value of NAME=... in a BENCH line.
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f MB", kb / 1024 }'; }

rows=
wrk_cmds=
add_row() { rows="$rows$1
"; }

# measure LABEL CONNS SCRIPT [ARGS...]
measure() {
	label=$1; conns=$2; script=$3; shift 3
	last_rps=0; last_p99=; last_own_p99=
	threads=$conns; [ "$threads" -gt "$nproc" ] && threads=$nproc
	before=$(broker_non2xx)
	hist0=$(broker_hist)
	cpu0=$(cpu_ticks)
	cmd="$WRK -t$threads -c$conns -d${DURATION}s --timeout 10s -s $here/$script $url${*:+ -- $*}"
	wrk_cmds="$wrk_cmds    $cmd
"
	say "  $label, $conns connection(s): $cmd"
	out=$($cmd 2>&1)
	line=$(printf '%s\n' "$out" | grep '^BENCH ' | tail -n 1)
	alive
	if [ -z "$line" ]; then
		say "$out"; say "wrk gave no result"; failed=1
		add_row "| $label | $conns | FAILED | | | | | | |"
		return
	fi
	cpu1=$(cpu_ticks)
	after=$(broker_non2xx)
	own_p99=$(hist_p99 "$hist0" "$(broker_hist)")
	req=$(field requests "$line"); dur=$(field duration_us "$line")
	non2xx=$(field non2xx "$line"); sockerr=$(field sockerr "$line")
	bn=$((after - before))
	rps=$(awk -v r="$req" -v d="$dur" 'BEGIN { printf "%.0f", r / (d / 1e6) }')
	hwm=$(status_kb VmHWM)
	cpu_us=$(awk -v t=$((cpu1 - cpu0)) -v hz="$clk_tck" -v r="$req" 'BEGIN { printf "%.0f", r ? t / hz * 1e6 / r : 0 }')
	note=
	if [ "$non2xx" -ne 0 ] || [ "$sockerr" -ne 0 ] || [ "$bn" -ne 0 ]; then
		failed=1
		note=" (socket errors $sockerr, broker counted $bn non-2xx) FAIL"
		say "$out"
	fi
	last_rps=$rps
	last_p99=$(ms "$(field p99_us "$line")")
	last_own_p99=$own_p99
	add_row "| $label | $conns | $rps | $(ms "$(field p50_us "$line")") | $(ms "$(field p99_us "$line")") | ≤ $own_p99 | $non2xx$note | $cpu_us | $(mb "$hwm") |"
	say "    $rps req/s, p50 $(field p50_us "$line") us, p99 $(field p99_us "$line") us (broker's own: <= $own_p99 ms), non-2xx $non2xx/$bn, VmHWM $hwm kB"
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 0. the reference: a plain SQLite loop inserting the broker's row ----------------------
loop_normal=; loop_full=
# sqlite_loop MODE: rows/s of sqlite-loop on a fresh copy of ref.db (load average noted).
sqlite_loop() {
	cp "$tmp/ref.db" "$tmp/ref-$1.db" || die "cannot copy ref.db"
	out=$("$SQLITE_LOOP" "$tmp/ref-$1.db" "$1" "$DURATION") || die "sqlite-loop $1 failed"
	rm -f "$tmp/ref-$1.db" "$tmp/ref-$1.db-wal" "$tmp/ref-$1.db-shm"
	say "  sqlite-loop $1: $out (load $(cut -d' ' -f1-3 /proc/loadavg))"
	field rows_per_s "$out"
}
if [ "$BENCH_STORE" = sqlite ]; then
	start_broker ref
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X PUT -H 'X-Broker-API-Version: 2.17' \
		-H 'Content-Type: application/json' \
		-d "{\"service_id\":\"$SERVICE\",\"plan_id\":\"$PLAN\",\"organization_guid\":\"bench-org\",\"space_guid\":\"bench-space\"}" \
		"$url/v2/service_instances/bench-ref-1")
	[ "$code" = 201 ] || die "provisioning the reference row: HTTP $code"
	stop_broker
	loop_normal=$(sqlite_loop normal)
	load_loop_normal=$(cut -d' ' -f1-3 /proc/loadavg)
fi

# ---- 1. one broker: catalog, provision+deprovision, bind+unbind --------------------------
start_broker bench
for c in $CONNECTIONS; do measure "GET /v2/catalog" "$c" catalog.lua; done
for c in $CONNECTIONS; do measure "provision+deprovision" "$c" provision.lua cycle "pd$c"; done

say "  provisioning $BIND_INSTANCES instances for the bind runs"
i=1
while [ $i -le $BIND_INSTANCES ]; do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X PUT -H 'X-Broker-API-Version: 2.17' \
		-H 'Content-Type: application/json' \
		-d "{\"service_id\":\"$SERVICE\",\"plan_id\":\"$PLAN\",\"organization_guid\":\"bench-org\",\"space_guid\":\"bench-space\"}" \
		"$url/v2/service_instances/bench-inst-$i")
	[ "$code" = 201 ] || die "provisioning bench-inst-$i: HTTP $code"
	i=$((i + 1))
done
bind64=
for c in $CONNECTIONS; do
	measure "bind+unbind" "$c" bind.lua "b$c" $BIND_INSTANCES
	[ "$c" = 64 ] && bind64=$last_rps
done
measure "provision only" 64 provision.lua create p64
rps_normal=$last_rps; p99_normal=$last_p99; own_p99_normal=$last_own_p99
stop_broker

# ---- 2. scale: INSTANCES provisions on a fresh broker -----------------------------------
start_broker scale
threads=2; [ "$threads" -gt "$nproc" ] && threads=$nproc
quota=$(( (INSTANCES + threads - 1) / threads ))
target=$((quota * threads))
hwm_start=$(status_kb VmHWM)
scale_cmd="$WRK -t$threads -c64 -d${SCALE_TIMEOUT}s --timeout 10s -s $here/provision.lua $url -- create scale $quota $tmp/scale-done"
say "  scale: $target provisions at 64 connections: $scale_cmd"
t0=$(date +%s.%N)
$scale_cmd >"$tmp/scale.out" 2>&1 &
wpid=$!
i=0
limit=$((SCALE_TIMEOUT * 20))
while [ $i -lt $limit ]; do
	n=0
	for f in "$tmp"/scale-done.*; do [ -e "$f" ] && n=$((n + 1)); done
	[ "$n" -ge "$threads" ] && break
	kill -0 "$wpid" 2>/dev/null || break
	sleep 0.05; i=$((i + 1))
done
t1=$(date +%s.%N)
kill -INT "$wpid" 2>/dev/null
wait "$wpid"; wpid=
alive
line=$(grep '^BENCH ' "$tmp/scale.out" | tail -n 1)
count=$(metric osb_broker_instances)
scale_non2xx=$(broker_non2xx)
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
scale_rate=$(awk -v n="$count" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
scale_hwm=$(status_kb VmHWM)
scale_rss=$(status_kb VmRSS)
if [ "$count" != "$target" ] || [ "$scale_non2xx" -ne 0 ] || [ -z "$line" ] || \
   [ "$(field non2xx "$line")" -ne 0 ] || [ "$(field sockerr "$line")" -ne 0 ]; then
	failed=1
	cat "$tmp/scale.out" >&2
	say "scale step: $count instances stored (wanted $target), broker non-2xx $scale_non2xx"
fi
say "    $count instances in $elapsed s ($scale_rate/s), VmHWM $scale_hwm kB, VmRSS $scale_rss kB"
p99_scale=$(ms "$(field p99_us "$line")")
stop_broker
if [ "$BENCH_STORE" = postgresql ]; then
	db_bytes=$(psql -Atq "$pg_admin" -c "SELECT pg_database_size('bench_scale')")
	db_note="PostgreSQL database bench_scale, pg_database_size"
else
	db_bytes=$(wc -c <"$tmp/scale.db")
	wal_bytes=0; [ -f "$tmp/scale.db-wal" ] && wal_bytes=$(wc -c <"$tmp/scale.db-wal")
	db_note="WAL after clean stop: $wal_bytes bytes"
fi

# ---- 2b. PostgreSQL: one replica, then two on one database -------------------------------
# replica_rate URL... : provisions/s of fresh ids sent by one single-threaded wrk per URL at
# once (64 connections in all), summed; non-2xx or socket errors fail the run.
# Also writes $tmp/rep-cpu: where the machine's CPU went during the run, in % of all CPUs: the brokers
# (pids in rep_pids), the PostgreSQL server (every process of its postmaster), the rest (wrk,
# the kernel's network work outside process time), idle.
machine_jiffies() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6 }' /proc/stat; }
pids_jiffies() {
	for p in "$@"; do awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null; done | awk '{ s += $1 } END { print s + 0 }'
}
# pg_jiffies: "pid jiffies" of every process of the PostgreSQL server (the postmaster and its
# children: a backend starts when a broker thread first connects, maybe during a run).
pg_jiffies() {
	pm=$(head -n 1 "$PG_DATA/db/postmaster.pid" 2>/dev/null) || return 0
	for p in $pm $(pgrep -P "$pm"); do
		awk -v p="$p" '{ print p, $14 + $15 }' "/proc/$p/stat" 2>/dev/null
	done
}
# pg_used BEFORE AFTER: jiffies between two pg_jiffies snapshots (a new process from 0).
pg_used() {
	printf '%s\n' "$1" | awk -v after="$2" '
		NF == 2 { before[$1] = $2 }
		END { n = split(after, l, "\n"); for (i = 1; i <= n; i++) { split(l[i], f, " ");
			if (f[1] != "") s += f[2] - (f[1] in before ? before[f[1]] : 0) } print s + 0 }'
}
replica_rate() {
	n=$#; c=$((64 / n)); k=0; pids=
	# shellcheck disable=SC2086
	m0=$(machine_jiffies); b0=$(pids_jiffies $rep_pids); p0=$(pg_jiffies)
	for u in "$@"; do
		k=$((k + 1))
		$WRK -t1 -c$c -d${DURATION}s --timeout 10s -s "$here/provision.lua" "$u" -- create "rep$n-$k" \
			>"$tmp/rep$n-$k.out" 2>&1 &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
	# shellcheck disable=SC2086
	m1=$(machine_jiffies); b1=$(pids_jiffies $rep_pids); p1=$(pg_jiffies)
	awk -v m0="$m0" -v m1="$m1" -v b="$((b1 - b0))" -v p="$(pg_used "$p0" "$p1")" 'BEGIN {
		split(m0, a, " "); split(m1, z, " "); t = z[1] - a[1]; idle = z[2] - a[2]
		if (t <= 0) { print "| | | | |"; exit }
		printf "| %.0f %% | %.0f %% | %.0f %% | %.0f %% |", 100 * b / t, 100 * p / t,
			100 * (t - idle - b - p) / t, 100 * idle / t }' >"$tmp/rep-cpu"
	total=0; k=0
	for u in "$@"; do
		k=$((k + 1))
		line=$(grep '^BENCH ' "$tmp/rep$n-$k.out" | tail -n 1)
		if [ -z "$line" ] || [ "$(field non2xx "$line")" -ne 0 ] || [ "$(field sockerr "$line")" -ne 0 ]; then
			cat "$tmp/rep$n-$k.out" >&2; failed=1
		fi
		total=$(awk -v t="$total" -v r="$(field requests "$line")" -v d="$(field duration_us "$line")" \
			'BEGIN { printf "%.0f", t + (d > 0 ? r / (d / 1e6) : 0) }')
	done
	echo "$total"
}
replicas_report=
if [ "$BENCH_STORE" = postgresql ]; then
	start_broker replicas
	rep_store="--store ${pg_admin%/postgres}/bench_replicas"
	url1=$url; pid1=$bpid
	. "$tmp/pg/pg.env"
	rep_pids=$pid1
	rep1=$(replica_rate "$url1"); load_rep1=$(cut -d' ' -f1-3 /proc/loadavg); cpu_rep1=$(cat "$tmp/rep-cpu")
	say "  one replica: $rep1 provisions/s (load $load_rep1)"
	rm -f "$tmp/port"
	# shellcheck disable=SC2086
	"$BROKER" --listen "$HOST" --port 0 --port-file "$tmp/port" $rep_store --log-level warn 2>>"$tmp/broker.log" &
	pid2=$!
	i=0; while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$tmp/port" ] || die "the second replica wrote no port file"
	url2="http://$HOST:$(cat "$tmp/port")"
	rep_pids="$pid1 $pid2"
	rep2=$(replica_rate "$url1" "$url2"); load_rep2=$(cut -d' ' -f1-3 /proc/loadavg); cpu_rep2=$(cat "$tmp/rep-cpu")
	say "  two replicas: $rep2 provisions/s (load $load_rep2)"
	kill -TERM "$pid2" 2>/dev/null; wait "$pid2" 2>/dev/null
	stop_broker
	replicas_report="### Replicas: provision only (fresh ids), 64 connections in all, one database

| replicas | provisions/s | load average after | vs one replica | CPU: brokers | PostgreSQL server | rest (wrk, kernel) | idle |
|---:|---:|---|---:|---:|---:|---:|---:|
| 1 | $rep1 | $load_rep1 | 1.00× $cpu_rep1
| 2 | $rep2 | $load_rep2 | $(awk -v a="$rep2" -v b="$rep1" 'BEGIN { if (b > 0) printf "%.2f×", a / b }') $cpu_rep2

Each replica gets its own single-threaded wrk with 64/N connections; the rates are summed. The
CPU columns divide the machine's CPU time during the run (all $nproc CPUs, from /proc/stat)
between the broker processes, the PostgreSQL server's processes and the rest; idle near 0 %
means the machine, not a lock, sets the rate.
"
fi

# ---- 3. --sync full ----------------------------------------------------------------------
rows_normal=$rows
rows=
if [ "$BENCH_STORE" = sqlite ]; then
	loop_full=$(sqlite_loop full)
	load_loop_full=$(cut -d' ' -f1-3 /proc/loadavg)
	start_broker syncfull --sync full
	measure "provision only, --sync full" 64 provision.lua create full
	rps_full=$last_rps
	stop_broker
fi
rows_full=$rows

# ---- report ------------------------------------------------------------------------------
fstype=$(df -PT "$tmp" 2>/dev/null | awk 'NR == 2 { print $2 }')
cat <<EOF
## osb-broker benchmark

Command: \`BENCH_STORE=$BENCH_STORE DURATION=$DURATION CONNECTIONS="$CONNECTIONS" INSTANCES=$INSTANCES $cmdline\`
Store: $([ "$BENCH_STORE" = postgresql ] && echo "PostgreSQL $(psql -Atq "$pg_admin" -c 'SHOW server_version' | cut -d' ' -f1) on 127.0.0.1 (--store; fsync=off, synchronous_commit=off)" || echo "SQLite file (--db)")
Broker: \`$BROKER\` ($("$BROKER" --version 2>/dev/null | head -n 1)); wrk: $($WRK -v 2>&1 | head -n 1 | cut -d' ' -f1-2)
Machine: $nproc CPU(s), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r); databases on $fstype
Load average before / after: $load0 / $(cut -d' ' -f1-3 /proc/loadavg) (the load generator runs on the same machine).
Each row: ${DURATION} s of wrk against 127.0.0.1, wrk threads = min(connections, $nproc).
Latency is per request (each PUT and each DELETE timed on its own), as wrk sees it; the broker's
own p99 is the upper bound of the bucket of its \`osb_broker_request_duration_seconds\`
histogram (from the request's headers read to its answer queued) that holds the 99th percentile
of the row's requests: the difference is time a request waited for a thread to read it, or for
wrk to read the answer, on the two shared CPUs. Broker CPU is user+system
time of the broker process over the row, divided by the requests wrk counted.
Peak RSS is the broker's VmHWM after the row (one broker for all --sync normal rows, so it is
cumulative down the table).

| scenario | connections | requests/s | p50 ms | p99 ms | broker's own p99 ms | non-2xx | broker CPU µs/request | broker peak RSS |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
$rows_normal$rows_full
$(if [ "$BENCH_STORE" = sqlite ]; then
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "n/a" }'; }
cat <<REF
### The reference: a plain SQLite loop inserting the broker's row

One thread, one row per transaction, WAL, the broker's pragmas, a copy of the row the broker
stored for a provision (\`test/bench/broker/sqlite-loop\`, $DURATION s each).

| synchronous | loop rows/s | load average after the loop | broker provision only, 64 connections, req/s | broker / loop |
|---|---:|---|---:|---:|
| NORMAL | $loop_normal | $load_loop_normal | ${rps_normal:-} | $(ratio "${rps_normal:-0}" "$loop_normal") |
| FULL | $loop_full | $load_loop_full | ${rps_full:-} | $(ratio "${rps_full:-0}" "$loop_full") |
REF
fi)

$replicas_report
### Scale: $count instances (sync plan, 64 connections, fresh broker and database)

| instances stored | time | provisions/s | p99 ms | broker peak RSS (VmHWM) | RSS at the end | RSS at start | database file |
|---:|---:|---:|---:|---:|---:|---:|---:|
| $count | $elapsed s | $scale_rate | $p99_scale | $(mb "$scale_hwm") | $(mb "$scale_rss") | $(mb "$hwm_start") | $(awk -v b="$db_bytes" 'BEGIN { printf "%.1f MB", b / 1048576 }') ($db_bytes bytes; $db_note) |

### Against the targets

$(verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { if (v == "") print "not measured"; else if ((op == ">=" && v + 0 >= t + 0) || (op == "<=" && v + 0 <= t + 0)) print "met"; else print "missed" }'; }
x() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b }'; }
scale_mb=$(awk -v k="$scale_hwm" 'BEGIN { if (k > 0) printf "%.1f", k / 1024 }')
echo "| target | measured | |"
echo "|---|---:|---|"
if [ "$BENCH_STORE" = sqlite ]; then
	r=$(x "$rps_normal" "$loop_normal"); echo "| provision only, 64 connections, ≥ 1.2× the NORMAL loop | ${r}× | $(verdict "$r" ">=" 1.2) |"
	echo "| p99 of provision only at 64 connections ≤ 10 ms | ${p99_normal} ms (the broker's own: ≤ ${own_p99_normal} ms) | $(verdict "$p99_normal" "<=" 10) |"
	r=$(x "$rps_full" "$loop_full"); echo "| provision only, --sync full, ≥ 2× the FULL loop | ${r}× | $(verdict "$r" ">=" 2) |"
else
	r=$(x "$rep2" "$rep1"); echo "| two replicas ≥ 1.6× one replica | ${r}× | $(verdict "$r" ">=" 1.6) |"
fi
echo "| bind+unbind at 64 connections ≥ 20,000/s | ${bind64:-}/s | $(verdict "$bind64" ">=" 20000) |"
echo "| peak RSS after $count instances ≤ 16 MB | $scale_mb MB | $(verdict "$scale_mb" "<=" 16) |")

Measured on this machine, with the load average above: the targets are docs/benchmarks.md's.

wrk commands (URL port differs per run):

$wrk_cmds    $scale_cmd
EOF

if [ "$failed" -ne 0 ]; then
	# what the brokers logged (warnings and errors: libmicrohttpd's reasons for a closed connection)
	if [ -s "$tmp/broker.log" ]; then
		say "the brokers' log (last 40 lines):"
		tail -n 40 "$tmp/broker.log" >&2
	fi
	say "run.sh: FAILED: some requests were not answered 2xx (see above)"
	exit 1
fi
exit 0
