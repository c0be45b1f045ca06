#!/bin/sh
# Sets everything up (Debian packages when run as root, build) and starts the whole service
# catalog on this machine, on loopback: an in-memory Kubernetes API server, osb-broker with the
# built-in demo catalog (state in .bindery/osb-broker.db), the ClusterServiceBroker for it and
# catalog-controller (build-aux/local-catalog.sh). It prints what to export and type next.
# Stop it with Ctrl-C.
#   ./run.sh [osb-broker options...]      the whole catalog; options go to osb-broker
#   ./run.sh --broker-only [options...]   osb-broker alone on http://127.0.0.1:8080
#   ./run.sh --help                       this, and osb-broker's options
set -eu
top=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in
  -h|--help)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    echo
    "$top/build-aux/setup.sh" plain --enable-werror >/dev/null && exec "$top/_build/plain/broker/osb-broker" --help ;;
esac
"$top/build-aux/setup.sh" plain --enable-werror
if [ "${1:-}" = --broker-only ]; then
  shift
  mkdir -p "$top/.bindery"
  export OSB_BROKER_ANNOUNCE=1
  exec "$top/_build/plain/broker/osb-broker" --db "$top/.bindery/osb-broker.db" "$@"
fi
# The in-memory API server is a test program, which `make` alone does not build.
echo "setup: building the in-memory API server (test/apiserver/kube-testserver)"
make -C "$top/_build/plain" -j"$(nproc)" test/apiserver/kube-testserver >"$top/_build/plain/make-kts.out" 2>&1 ||
  { tail -30 "$top/_build/plain/make-kts.out"; exit 1; }
exec "$top/build-aux/local-catalog.sh" "$top/_build/plain" "$@"
