#!/bin/bash
# test/e2e/run-shared-cluster.sh: the end-to-end tests as they run against a real cluster, all of
# them one after the other against ONE test API server started here and named by $KUBECONFIG
# (HTTPS, a bearer token of system:masters). Each test then takes its real-cluster branches
# (E2E_REAL=1: what it skips, how it gets tokens, what it leaves installed) and finds what the
# tests before it left behind, as on a cluster the tests share; the normal run gives every test
# a fresh server instead. Arguments and output are run.sh's; so is the exit status.
# Needs: $KUBE_TESTSERVER (default: the build's test/apiserver/kube-testserver), openssl.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
here=$(cd "$(dirname "$0")" && pwd)
# lib.sh for $KUBE_TESTSERVER's default, e2e_make_cert and e2e_write_kubeconfig (sourcing it
# only sets variables and defines functions)
. "$here/lib.sh"
if [ ! -x "$KUBE_TESTSERVER" ]; then
  echo "FAIL e2e: no test API server at $KUBE_TESTSERVER (make test/apiserver/kube-testserver)"
  echo "0 passed, 1 failed"; exit 1
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/bindery-e2e-shared.XXXXXX") || exit 1
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! e2e_make_cert "$dir"; then
  echo "FAIL e2e: openssl could not make a certificate:"; sed 's/^/    /' "$dir/openssl.log"
  echo "0 passed, 1 failed"; exit 1
fi
token=e2e-shared-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
echo "$token,e2e-admin,e2e-admin-uid,\"system:masters\"" >"$dir/tokens.csv"
"$KUBE_TESTSERVER" --port 0 --port-file "$dir/port" --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" \
  --token-file "$dir/tokens.csv" --log-level warn 2>"$dir/server.log" &
server=$!
for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
if [ ! -s "$dir/port" ]; then
  echo "FAIL e2e: the test API server did not start:"; sed 's/^/    /' "$dir/server.log"
  echo "0 passed, 1 failed"; exit 1
fi
e2e_write_kubeconfig "$dir/kubeconfig" "https://127.0.0.1:$(cat "$dir/port")" "$dir/cert.pem" "$token"
echo "# every test against one test API server, as against a real cluster (KUBECONFIG=$dir/kubeconfig)"
KUBECONFIG=$dir/kubeconfig bash "$here/run.sh" "$@"
