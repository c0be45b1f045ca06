#!/bin/bash
# build-aux/local-catalog.sh: the whole service catalog on this machine, on loopback, for trying
# Bindery out (what ./run.sh starts after building): an in-memory Kubernetes API server (the
# project's test API server: kubectl works against it; nothing runs Pods), the CRDs of
# deploy/crds, osb-broker with the built-in demo catalog (state in a SQLite file), a
# ClusterServiceBroker "bindery-demo" for it, and catalog-controller. Prints what to export and
# what to type next; Ctrl-C (or SIGTERM) stops everything.
#
#   build-aux/local-catalog.sh BUILD_DIR [osb-broker options...]
#
# Environment (all optional):
#   BINDERY_STATE_DIR        where the state, logs, kubeconfig and plugin links go (default .bindery
#                            in the source tree). The broker's database there survives a restart;
#                            the API server keeps everything in memory, so its objects do not
#                            (they are made again: CRDs, the broker's registration).
#   BINDERY_BROKER_PORT      osb-broker's port (default 8080)
#   BINDERY_API_PORT         the API server's port (default 8001)
#   BINDERY_CONTROLLER_PORT  catalog-controller's /healthz, /readyz, /metrics port (default 8444)
# Port 0 picks a free one (the tests do); the chosen ports are printed and written to
# $BINDERY_STATE_DIR/*.port.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [osb-broker options...]" >&2; exit 2; }
build=$(cd "$1" && pwd) || exit 2
shift
state=${BINDERY_STATE_DIR:-$top/.bindery}
KUBECTL=${KUBECTL:-kubectl}
mkdir -p "$state" || exit 1
state=$(cd "$state" && pwd)

say() { printf 'local-catalog: %s\n' "$*"; }
die() { printf 'local-catalog: %s\n' "$*" >&2; stop_all; exit 1; }

pids=()      # started daemons, in start order
names=()
stop_all() {
  local i pid
  trap - INT TERM HUP EXIT
  # last started first: the controller, then the broker, then the API server
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; say "${names[i]} did not stop within 15 s: killed"; fi
    wait "$pid" 2>/dev/null
  done
  pids=()
}
trap 'echo; say "stopping"; stop_all; say "stopped"; exit 0' INT TERM HUP
trap 'stop_all' EXIT

command -v "$KUBECTL" >/dev/null 2>&1 || die "kubectl is not installed (apt-get install kubernetes-client)"
for b in test/apiserver/kube-testserver broker/osb-broker catalog-controller/catalog-controller \
         plugins/kubectl-svcat plugins/kubectl-create-serviceinstance plugins/kubectl-create-servicebinding; do
  [ -x "$build/$b" ] || die "$build/$b is not built (make -C $build $b)"
done

# start NAME PORTFILE BINARY ARGS...: a daemon with its log in $state/NAME.log; waits for the port
# file it writes once it listens.
start() {
  local name=$1 portfile=$2 pid; shift 2
  rm -f "$portfile"
  printf '=== %s %s\n' "$(date -u +%FT%TZ)" "$*" >>"$state/$name.log"
  # A session of its own: Ctrl-C in the terminal reaches this script only, which then stops the
  # daemons in order (otherwise each would take the SIGINT itself, in any order).
  setsid "$@" </dev/null >>"$state/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid"); names+=("$name")
  for _ in $(seq 1 150); do
    [ -s "$portfile" ] && return 0
    kill -0 "$pid" 2>/dev/null || { tail -n 15 "$state/$name.log" >&2; die "$name exited at start (log: $state/$name.log)"; }
    sleep 0.1
  done
  die "$name did not start listening within 15 s (log: $state/$name.log)"
}

# The plugins, alone in a directory for the PATH (the build directory also holds object files,
# which `kubectl plugin list` would warn about).
mkdir -p "$state/bin"
for p in kubectl-svcat kubectl-create-serviceinstance kubectl-create-servicebinding; do
  ln -sf "$build/plugins/$p" "$state/bin/$p"
done
[ -f "$build/plugins/kubectl_complete-svcat" ] && ln -sf "$build/plugins/kubectl_complete-svcat" "$state/bin/kubectl_complete-svcat"

say "starting the API server (in memory)"
start kube-testserver "$state/api.port" "$build/test/apiserver/kube-testserver" --listen 127.0.0.1 \
  --port "${BINDERY_API_PORT:-8001}" --port-file "$state/api.port" --log-level warn
api_port=$(cat "$state/api.port")
export KUBECONFIG=$state/kubeconfig
cat >"$KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: bindery-local
  cluster:
    server: http://127.0.0.1:$api_port
users:
- name: bindery-local
  user: {}
contexts:
- name: bindery-local
  context:
    cluster: bindery-local
    user: bindery-local
    namespace: default
current-context: bindery-local
EOF

say "installing the CRDs (deploy/crds)"
"$KUBECTL" apply -f "$top/deploy/crds" >"$state/kubectl.log" 2>&1 || { cat "$state/kubectl.log" >&2; die "kubectl apply -f deploy/crds failed"; }
"$KUBECTL" wait --for=condition=Established crd --all --timeout=30s >>"$state/kubectl.log" 2>&1 ||
  { cat "$state/kubectl.log" >&2; die "the CRDs did not become Established"; }

# The broker's password: made once, kept with its database.
if [ ! -s "$state/broker-password" ]; then
  (umask 077; od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$state/broker-password")
fi
say "starting osb-broker (demo catalog unless --catalog; state in $state/osb-broker.db)"
start osb-broker "$state/broker.port" "$build/broker/osb-broker" --listen 127.0.0.1 \
  --port "${BINDERY_BROKER_PORT:-8080}" --port-file "$state/broker.port" --db "$state/osb-broker.db" \
  --username bindery --password-file "$state/broker-password" "$@"
broker_port=$(head -n 1 "$state/broker.port")

say "starting catalog-controller"
start catalog-controller "$state/controller.port" "$build/catalog-controller/catalog-controller" \
  --kubeconfig "$KUBECONFIG" --listen 127.0.0.1 --port "${BINDERY_CONTROLLER_PORT:-8444}" \
  --port-file "$state/controller.port" --max-retry-interval 30s
controller_port=$(head -n 1 "$state/controller.port")

say "registering the broker as ClusterServiceBroker bindery-demo"
"$KUBECTL" apply -f - >>"$state/kubectl.log" 2>&1 <<EOF || { cat "$state/kubectl.log" >&2; die "cannot register the broker"; }
apiVersion: v1
kind: Secret
metadata: {name: bindery-demo-broker-auth, namespace: default}
stringData: {username: bindery, password: "$(cat "$state/broker-password")"}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServiceBroker
metadata: {name: bindery-demo}
spec:
  url: http://127.0.0.1:$broker_port
  authInfo: {basic: {secretRef: {namespace: default, name: bindery-demo-broker-auth}}}
EOF
if ! "$KUBECTL" wait --for=condition=Ready clusterservicebroker/bindery-demo --timeout=60s >>"$state/kubectl.log" 2>&1; then
  "$KUBECTL" get clusterservicebroker bindery-demo -o jsonpath='{.status.conditions}' >&2; echo >&2
  die "the broker did not become Ready (logs in $state)"
fi

cat <<EOF

Bindery is running on this machine (loopback only):
  osb-broker          http://127.0.0.1:$broker_port   user bindery, password in $state/broker-password
                      state: $state/osb-broker.db (kept across restarts)
  API server          http://127.0.0.1:$api_port   in memory: its objects are gone when this stops
  catalog-controller  http://127.0.0.1:$controller_port/metrics
  logs                $state/*.log

In another terminal:

  export KUBECONFIG=$KUBECONFIG PATH=$state/bin:\$PATH
  kubectl svcat marketplace
  kubectl-create-serviceinstance my-db --class bindery-demo-db --plan small --wait
  kubectl-create-servicebinding my-db-creds --instance my-db --wait
  kubectl get secret my-db-creds -o jsonpath='{.data.uri}' | base64 -d; echo
  kubectl svcat describe instance my-db

(With kubectl 1.30 or later, "kubectl create serviceinstance ..." runs the same plugin.)
Ctrl-C here stops everything.
EOF

# Runs until Ctrl-C or SIGTERM, or until a daemon dies (then everything stops, non-zero).
while :; do
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[i]}" 2>/dev/null; then
      wait "${pids[i]}"; rc=$?
      say "${names[i]} exited with status $rc (log: $state/${names[i]}.log); stopping the rest"
      unset 'pids[i]' 'names[i]'; pids=("${pids[@]}"); names=("${names[@]}")
      stop_all
      exit 1
    fi
  done
  sleep 1 &
  wait $! 2>/dev/null
done
