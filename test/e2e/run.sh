#!/bin/bash
# test/e2e/run.sh: runs the end-to-end tests (all t-*.sh here, or those named: t-core or
# t-core.sh), each in its own process and, unless $KUBECONFIG is set, against a fresh
# $KUBE_TESTSERVER. Prints "PASS t-x" or "FAIL t-x" with the failing assertions per test, then
# "N passed, M failed" counting single assertions. Exit 0 only when nothing failed.
# E2E_VERBOSE=1 prints every assertion; E2E_KEEP=1 keeps the temporary directories.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
here=$(cd "$(dirname "$0")" && pwd)
KUBECTL=${KUBECTL:-kubectl}
export KUBECTL
# The limit only ends a test that hangs: it is far above what any test takes on a loaded
# machine or a real cluster (t-instance: 45 s here, up to 150 s on a real kube-apiserver).
# The test then gets SIGTERM and E2E_TEARDOWN_GRACE seconds to tear down (delete what it made,
# stop its daemons) before SIGKILL.
test_timeout=${E2E_TEST_TIMEOUT:-600}
teardown_grace=${E2E_TEARDOWN_GRACE:-120}

if ! command -v "$KUBECTL" >/dev/null 2>&1; then
  echo "FAIL e2e: kubectl ('$KUBECTL') not found: apt-get install kubernetes-client (or set KUBECTL)"
  echo "0 passed, 1 failed"
  exit 1
fi

# --shard 1|2: make check runs the suite as two halves side by side (run-shard-1.sh and
# run-shard-2.sh), which halves its time: the tests mostly wait. Shard 1 is the list below (about
# half of the time); shard 2 is every other test, so a new t-*.sh always runs.
shard=
if [ "${1:-}" = --shard ]; then shard=${2:-}; shift 2; fi
shard1=" t-broker-idle t-binding t-broker t-postgresql t-semantics t-discovery t-core t-svcat t-rotation "

tests=()
if [ -n "$shard" ]; then
  for f in "$here"/t-*.sh; do
    t=${f##*/}; t=${t%.sh}
    case "$shard1" in *" $t "*) in1=1 ;; *) in1=2 ;; esac
    [ "$in1" = "$shard" ] && tests+=("$t")
  done
elif [ $# -gt 0 ]; then
  for t in "$@"; do t=${t##*/}; tests+=("${t%.sh}"); done
else
  for f in "$here"/t-*.sh; do t=${f##*/}; tests+=("${t%.sh}"); done
fi

# Against one real cluster ($KUBECONFIG) the two shards run one after the other: every test's
# catalog-controller watches the cluster-scoped brokers and, unless told otherwise, every
# namespace, so a test running beside another would act on its objects (and a test that
# installed the CRDs deletes them at its end). Each shard holds an exclusive lock on one file for
# its whole run. (Against the test API server every test has a server of its own: nothing to
# share, and the shards run side by side.)
if [ -n "$shard" ] && [ -n "${KUBECONFIG:-}" ]; then
  cluster_lock=${E2E_CLUSTER_LOCK:-${TMPDIR:-/tmp}/bindery-e2e-cluster-$(id -u).lock}
  exec 9>>"$cluster_lock"
  flock -x 9
fi

passed=0
failed=0
start=$SECONDS
for t in "${tests[@]}"; do
  if [ ! -f "$here/$t.sh" ]; then
    echo "FAIL $t: no such test ($here/$t.sh)"
    failed=$((failed + 1))
    continue
  fi
  t0=$SECONDS
  out=$(timeout -k "$teardown_grace" "$test_timeout" bash "$here/$t.sh" 2>&1)
  rc=$?
  took="$((SECONDS - t0)) s"
  summary=$(grep -E "^# $t: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$" <<<"$out" | tail -n 1)
  read -r p f s < <(sed -E 's/^# [^:]*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/' <<<"$summary")
  p=${p:-0} f=${f:-0} s=${s:-0}
  if [ -z "$summary" ] || { [ $rc -ne 0 ] && [ "$f" -eq 0 ]; }; then
    # The test died without its summary (timeout, crash): count that as one more failure.
    f=$((f + 1))
    [ $rc -eq 124 ] && out="$out
not ok - $t finished within ${test_timeout} s"
  fi
  passed=$((passed + p)); failed=$((failed + f))
  skipinfo=
  [ "$s" -gt 0 ] && skipinfo=", $s skipped"
  if [ "$f" -eq 0 ]; then
    echo "PASS $t ($p passed$skipinfo; $took)"
    if [ "${E2E_VERBOSE:-0}" = 1 ]; then sed 's/^/    /' <<<"$out"; else grep -E '^(skip - |# .*skipped|# figure:)' <<<"$out" | grep -v "^# $t: " | sed 's/^/    /'; fi
  else
    echo "FAIL $t ($p passed, $f failed$skipinfo, exit $rc; $took)"
    if [ "${E2E_VERBOSE:-0}" = 1 ]; then sed 's/^/    /' <<<"$out"; else grep -v -E '^ok - ' <<<"$out" | sed 's/^/    /'; fi
  fi
done
echo "# e2e: $((SECONDS - start)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
