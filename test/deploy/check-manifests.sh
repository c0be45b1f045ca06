#!/bin/bash
# test/deploy/check-manifests.sh: the manifests of deploy/ install, for real, on the test API
# server (test/apiserver/kube-testserver, always a fresh one: make check never touches the
# cluster of $KUBECONFIG): `kubectl apply -k deploy/`, `kubectl apply -k deploy/broker`, and the
# Helm chart deploy/helm/bindery rendered by test/deploy/helm-render.go (a stand-in for
# `helm template`: Helm cannot be installed here) through `kubectl apply --dry-run=server` and a
# real apply; every object is then read back with kubectl get. Objects of kinds the test server
# does not serve (Deployment, Service, RBAC, ... until it learns them) are reported as skipped,
# naming the kind, and the rest is applied. Static checks cover what the server cannot: the
# Deployments' probes, securityContext and resources, their flags against the daemons' --help,
# the chart against the kustomize base (same objects, same RBAC rules, same controller
# container), and the daemons really start with the Deployments' arguments and configuration.
# Uses test/e2e/lib.sh (server, kubeconfig, assertions). Last line: "N passed, M failed".
set -u
if [ "${1:-}" != --inner ]; then
  log=$(mktemp "${TMPDIR:-/tmp}/check-manifests.XXXXXX")
  bash "$0" --inner 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '^# check-manifests: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  rm -f "$log"
  if [ -n "$line" ]; then
    printf '%s\n' "$line" | sed -E 's/^# [^:]*: ([0-9]+) passed, ([0-9]+) failed.*/\1 passed, \2 failed/'
  else
    echo "0 passed, 1 failed"; rc=1
  fi
  exit "$rc"
fi

unset KUBECONFIG   # always the test server
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../e2e/lib.sh"
E2E_NAME=check-manifests
: "${top_srcdir:=$(cd "$HERE/../.." && pwd)}"
DEPLOY=$top_srcdir/deploy
CHART=$DEPLOY/helm/bindery
M() { python3 "$HERE/manifests.py" "$@"; }

e2e_setup
command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null ||
  { e2e_not_ok "setup: python3 with PyYAML" "python3 -c 'import yaml' works (apt-get install python3-yaml)" "missing"; exit 1; }
T=$E2E_TMP

# served: "apiVersion Kind" of every kind the server serves, from discovery.
served() {
  { kraw /api/v1 | jq -r '.resources[] | select(.name | contains("/") | not) | "v1 " + .kind'
    for gv in $(kraw /apis | jq -r '.groups[].versions[].groupVersion'); do
      kraw "/apis/$gv" | jq -r --arg gv "$gv" '.resources[] | select(.name | contains("/") | not) | $gv + " " + .kind'
    done; } | sort -u
}

# apply_served WHAT FILE [kubectl apply options...]: applies the documents of FILE whose kind the
# server serves (all of them: the file itself), reports each other one as skipped; then checks
# every applied object exists.
apply_served() {
  local what=$1 file=$2; shift 2
  served >"$T/served"
  M filter "$file" "$T/served" "$T/apply.yaml" "$T/skipped"
  while read -r av kind name; do
    [ -n "$kind" ] && e2e_skip "$what: $kind $name" "the test API server does not serve $av $kind"
  done <"$T/skipped"
  local src=$T/apply.yaml
  [ -s "$T/skipped" ] || src=$file
  expect_ok "$what: kubectl apply ${*:-}" kc apply "$@" -f "$src" || { echo "$OUT" | _e2e_indent; return 1; }
  case " $* " in *" --dry-run=server "*) return 0 ;; esac
  M kinds "$T/apply.yaml" | while read -r av kind ns name; do
    local nsarg=(); [ "$ns" != - ] && nsarg=(-n "$ns")
    local plural
    plural=$(kind_resource "$av" "$kind")
    if kc get "$plural" "$name" "${nsarg[@]}" -o name >/dev/null 2>&1; then
      e2e_ok "$what: $kind $ns/$name exists"
    else
      e2e_not_ok "$what: $kind $ns/$name exists" "kubectl get $plural $name finds it" "$(kc get "$plural" "$name" "${nsarg[@]}" 2>&1)"
    fi
  done
}
# kind_resource APIVERSION KIND: the resource (plural.group) for kubectl get.
kind_resource() {
  local path=/apis/$1 group=${1%/*}
  [ "$1" = v1 ] && { path=/api/v1; group=; }
  kraw "$path" | jq -r --arg k "$2" --arg g "$group" \
    '[.resources[] | select(.kind == $k and (.name | contains("/") | not))][0].name + (if $g == "" then "" else "." + $g end)'
}

# check_container WHAT JSON: the controller's (or broker's) container as the manifests promise.
check_pod_spec() {
  local what=$1 dep=$2 c
  c=$(printf '%s' "$dep" | jq -c '.spec.template.spec.containers[0]')
  expect_eq "$what: readinessProbe GET /readyz" "/readyz" "$(jq -r '.readinessProbe.httpGet.path' <<<"$c")"
  expect_eq "$what: livenessProbe GET /healthz" "/healthz" "$(jq -r '.livenessProbe.httpGet.path' <<<"$c")"
  expect_eq "$what: securityContext" 'true true false ["ALL"] RuntimeDefault' \
    "$(jq -r '.securityContext | "\(.runAsNonRoot) \(.readOnlyRootFilesystem) \(.allowPrivilegeEscalation) \(.capabilities.drop | tojson) \(.seccompProfile.type)"' <<<"$c")"
  expect_eq "$what: pod runs as 65532, non-root, RuntimeDefault seccomp" 'true 65532 RuntimeDefault' \
    "$(printf '%s' "$dep" | jq -r '.spec.template.spec.securityContext | "\(.runAsNonRoot) \(.runAsUser) \(.seccompProfile.type)"')"
  expect_match "$what: resources: requests cpu and memory, a memory limit" '^[0-9]+m [0-9]+Mi [0-9]+Mi$' \
    "$(jq -r '.resources | "\(.requests.cpu) \(.requests.memory) \(.limits.memory)"' <<<"$c")"
}

# check_flags WHAT BINARY JSON-ARGS: every --flag in the args is one BINARY --help lists.
check_flags() {
  local what=$1 bin=$2 args=$3 help flag bad=
  help=$("$bin" --help 2>&1)
  for flag in $(jq -r '.[]' <<<"$args" | sed -n 's/^\(--[a-z0-9-]*\).*/\1/p'); do
    grep -Eq -- "^ +(-., )?$flag([ =[]|$)" <<<"$help" || bad="$bad $flag"
  done
  expect_eq "$what: every flag in args is one $(basename "$bin") --help lists" "" "${bad# }"
}

# ---------------------------------------------------------------------------------------------
# the kustomize base
expect_ok "kubectl kustomize deploy/" kc kustomize "$DEPLOY" && printf '%s\n' "$OUT" >"$T/base.yaml"
# Every YAML file under deploy/ (the Helm templates are templates, not YAML) reads with no key
# given twice: kustomize and PyYAML keep the last silently, kubectl svcat migrate (Bindery's YAML
# reader) and strict decoders refuse the file.
dups=
for f in $(find "$DEPLOY" -name '*.yaml' ! -path '*/templates/*' | sort); do
  M check "$f" 2>"$T/yaml.err" || dups="$dups ${f#"$DEPLOY"/}: $(tail -n 2 "$T/yaml.err" | tr '\n' ' ')"
done
expect_eq "every YAML file of deploy/ has no duplicate mapping key" "" "$dups"
expect_eq "deploy/ holds the 8 CRDs of deploy/crds" 8 "$(M kinds "$T/base.yaml" | grep -c ' CustomResourceDefinition ')"
expect_eq "deploy/ holds the controller's objects" \
  "ClusterRole ClusterRole ClusterRoleBinding Deployment Namespace Role RoleBinding Service ServiceAccount" \
  "$(M kinds "$T/base.yaml" | awk '$2 != "CustomResourceDefinition" {print $2}' | sort | tr '\n' ' ' | sed 's/ $//')"
dep=$(M get "$T/base.yaml" Deployment catalog-controller)
check_pod_spec "deploy/ Deployment catalog-controller" "$dep"
expect_eq "deploy/ Deployment catalog-controller: image" "ghcr.io/bindery/catalog-controller:0.1.0" \
  "$(jq -r '.spec.template.spec.containers[0].image' <<<"$dep")"
expect_eq "deploy/ Deployment catalog-controller: resources 50m/16Mi requested, 64Mi limit" "50m 16Mi 64Mi" \
  "$(jq -r '.spec.template.spec.containers[0].resources | "\(.requests.cpu) \(.requests.memory) \(.limits.memory)"' <<<"$dep")"
ctl_args=$(jq -c '.spec.template.spec.containers[0].args' <<<"$dep")
expect_match "deploy/ Deployment catalog-controller: --leader-elect" '^--leader-elect$' "$(jq -r '.[]' <<<"$ctl_args")"
check_flags "deploy/ Deployment catalog-controller" "$CATALOG_CONTROLLER" "$ctl_args"

# What a real kube-apiserver asks of them beyond the test server's checks: servicecatalog.k8s.io
# is under k8s.io, so the approval annotation (a URL or "unapproved...": see deploy/crds); a
# description for every field (kubectl explain).
expect_eq "deploy/crds: every CRD has the api-approved.kubernetes.io annotation, starting with \"unapproved\"" "" \
  "$(for crd in $(M kinds "$T/base.yaml" | awk '$2 == "CustomResourceDefinition" {print $4}'); do
       M get "$T/base.yaml" CustomResourceDefinition "$crd" | jq -r --arg n "$crd" \
         '.metadata.annotations["api-approved.kubernetes.io"] // "" | select(startswith("unapproved") | not) | $n'
     done)"
expect_eq "deploy/crds: every schema field has a description" "" "$(M undocumented "$T/base.yaml")"
apply_served "kubectl apply -k deploy/" "$T/base.yaml"
for crd in $(M kinds "$T/base.yaml" | awk '$2 == "CustomResourceDefinition" {print $4}'); do
  expect_ok "CRD $crd is Established" kc wait --for=condition=Established "crd/$crd" --timeout=30s
done
if grep -qx 'apps/v1 Deployment' "$T/served"; then
  check_pod_spec "the server's Deployment catalog-controller" \
    "$(kc get deployment catalog-controller -n bindery-system -o json)"
fi

# The controller starts with the Deployment's arguments (here on loopback, with the harness's
# kubeconfig instead of the ServiceAccount) and becomes ready.
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller
mapfile -t cargs < <(jq -r '.[] | select(startswith("--listen") or startswith("--port") | not)' <<<"$ctl_args")
if e2e_start_controller ctl "${cargs[@]}"; then
  expect_ok "catalog-controller with the Deployment's args becomes ready (/readyz)" \
    eventually 20 curl -sf "$ctl_URL/readyz"
  if grep -qx -- --leader-elect <<<"$(jq -r '.[]' <<<"$ctl_args")"; then
    expect_ok "it holds the Lease in bindery-system" eventually 20 kc get leases.coordination.k8s.io -n bindery-system catalog-controller
  fi
  expect_ok "it made the cluster-info ConfigMap in bindery-system (--cluster-id-namespace)" \
    eventually 20 kc get configmap cluster-info -n bindery-system
fi

# ---------------------------------------------------------------------------------------------
# the broker (deploy/broker)
expect_ok "kubectl kustomize deploy/broker" kc kustomize "$DEPLOY/broker" && printf '%s\n' "$OUT" >"$T/broker.yaml"
expect_eq "deploy/broker holds the broker's objects" \
  "ClusterServiceBroker ConfigMap Deployment PersistentVolumeClaim Secret Service" \
  "$(M kinds "$T/broker.yaml" | awk '{print $2}' | sort | tr '\n' ' ' | sed 's/ $//')"
bdep=$(M get "$T/broker.yaml" Deployment osb-broker)
check_pod_spec "deploy/broker Deployment osb-broker" "$bdep"
expect_eq "deploy/broker Deployment osb-broker: 1 replica, strategy Recreate (SQLite)" "1 Recreate" \
  "$(jq -r '"\(.spec.replicas) \(.spec.strategy.type)"' <<<"$bdep")"
check_flags "deploy/broker Deployment osb-broker" "$OSB_BROKER" "$(jq -c '.spec.template.spec.containers[0].args' <<<"$bdep")"
expect_eq "the ClusterServiceBroker's Secret is the one deploy/broker makes" "osb-broker-auth bindery-system" \
  "$(M get "$T/broker.yaml" ClusterServiceBroker bindery | jq -r '.spec.authInfo.basic.secretRef | "\(.name) \(.namespace)"')"
apply_served "kubectl apply -k deploy/broker" "$T/broker.yaml"

# run_broker WHAT MANIFESTS: osb-broker with the Deployment's args and environment, its
# volumes (ConfigMap catalog, Secret password, data) as directories under $T; checks /readyz
# and that the catalog answers with the Secret's credentials.
run_broker() {
  local what=$1 file=$2 dir=$T/$3 d cm sec user pass
  d=$(M get "$file" Deployment osb-broker)
  mkdir -p "$dir/data" "$dir/catalog" "$dir/auth"
  cm=$(M kinds "$file" | awk '$2 == "ConfigMap" {print $4}')
  M get "$file" ConfigMap "$cm" | jq -r '.data | to_entries[0] | .key' >"$dir/catalog.name"
  M get "$file" ConfigMap "$cm" | jq -r '.data | to_entries[0] | .value' >"$dir/catalog/$(cat "$dir/catalog.name")"
  sec=$(M get "$file" Secret osb-broker-auth)
  user=$(jq -r '.stringData.username // (.data.username | @base64d)' <<<"$sec")
  pass=$(jq -r '.stringData.password // (.data.password | @base64d)' <<<"$sec")
  printf '%s' "$pass" >"$dir/auth/password"
  mapfile -t bargs < <(jq -r '.spec.template.spec.containers[0].args[] | select(startswith("--listen") or startswith("--port") or startswith("--health-port") | not)' <<<"$d" |
    sed -e "s#/var/lib/osb-broker#$dir/data#" -e "s#/etc/osb-broker/catalog#$dir/catalog#")
  # The probes go to the health listener (--health-port), the port they name.
  local hport probe
  hport=$(jq -r '.spec.template.spec.containers[0].args[] | select(startswith("--health-port=")) | sub("^--health-port="; "")' <<<"$d")
  probe=$(jq -r '.spec.template.spec.containers[0] as $c | [$c.readinessProbe.httpGet.port, $c.livenessProbe.httpGet.port]
    | map(. as $p | [$c.ports[] | select(.name == $p or .containerPort == $p) | .containerPort][0] // "none") | join(" ")' <<<"$d")
  expect_eq "$what: the readiness and liveness probes use the broker's --health-port" "$hport $hport" "$probe"
  if OSB_BROKER_USERNAME=$user OSB_BROKER_PASSWORD_FILE=$dir/auth/password \
       _e2e_start_daemon "$3" broker "$OSB_BROKER" --listen 127.0.0.1 --port 0 "${bargs[@]}" \
       --health-port 0 --health-port-file "$dir/health.port"; then
    local u="${3}_URL"
    expect_ok "$what: osb-broker with the Deployment's args and the ConfigMap's catalog is ready" eventually 10 curl -sf "${!u}/readyz"
    expect_ok "$what: its health listener answers the probes' /readyz and /healthz" \
      curl -sf "http://127.0.0.1:$(cat "$dir/health.port")/readyz" -o /dev/null "http://127.0.0.1:$(cat "$dir/health.port")/healthz" -o /dev/null
    expect_eq "$what: its catalog answers with the Secret's credentials" 200 \
      "$(curl -s -o /dev/null -w '%{http_code}' -u "$user:$pass" -H 'X-Broker-API-Version: 2.17' "${!u}/v2/catalog")"
  else
    e2e_not_ok "$what: osb-broker starts with the Deployment's args" "a running broker" "$E2E_DAEMON_ERR"
  fi
}
e2e_require_daemon "$OSB_BROKER" osb-broker
run_broker "deploy/broker" "$T/broker.yaml" kbroker

# ---------------------------------------------------------------------------------------------
# the Helm chart, rendered by the stand-in renderer
if ! command -v go >/dev/null 2>&1; then
  e2e_not_ok "go is installed (test/deploy/helm-render.go renders the Helm chart)" "go on the PATH (apt-get install golang-go)" "not found"
  e2e_done
fi
export GOCACHE=${GOCACHE:-$T/go-cache} GOFLAGS=-mod=mod GO111MODULE=off
expect_ok "go build test/deploy/helm-render.go" go build -o "$T/helm-render" "$HERE/helm-render.go"
render() {   # render OUT [JSON-OVERRIDES] [renderer options]
  local out=$1 over=${2:-}; shift 2
  M chartdata "$CHART" "$CHART/values.yaml" "$T/values.json" ${over:+"$over"} &&
    "$T/helm-render" -chart "$CHART" -data "$T/values.json" "$@" >"$out"
}
expect_ok "the chart renders with its default values" render "$T/chart.yaml" "" -namespace bindery-system
expect_eq "the default chart installs what deploy/ does (without the Namespace, which helm --create-namespace makes)" \
  "$(M kinds "$T/base.yaml" | awk '$2 != "CustomResourceDefinition" && $2 != "Namespace" {print $2, $3}' | sort)" \
  "$(M kinds "$T/chart.yaml" | awk '{print $2, $3}' | sort)"
expect_eq "the chart's RBAC rules are those of deploy/controller/rbac.yaml" \
  "$(M rbac "$DEPLOY/controller/rbac.yaml")" "$(M rbac "$T/chart.yaml")"
hdep=$(M get "$T/chart.yaml" Deployment catalog-controller)
expect_eq "the chart's controller container is the one of deploy/ (args as a set)" \
  "$(jq -S '.spec.template.spec.containers[0] | .args |= sort' <<<"$dep")" \
  "$(jq -S '.spec.template.spec.containers[0] | .args |= sort' <<<"$hdep")"
check_pod_spec "chart Deployment catalog-controller" "$hdep"
expect_fail_with "broker.enabled without broker.password fails to render (required)" 'broker.password is required' \
  render "$T/x.yaml" '{"broker": {"enabled": true}}'
expect_ok "the chart renders with broker.enabled, namespaces, leaderElect false, replicas 2" render "$T/chart-broker.yaml" \
  '{"broker": {"enabled": true, "password": "pw", "clusterServiceBrokerName": "bindery-helm"}, "namespaces": ["bindery-helm-a", "bindery-helm-b"], "leaderElect": false, "replicas": 2}' \
  -namespace bindery-helm -release helmtest
hb=$(M get "$T/chart-broker.yaml" Deployment catalog-controller)
expect_eq "values: replicas, namespaces, leaderElect reach the controller" '2 ["--namespaces=bindery-helm-a,bindery-helm-b"] []' \
  "$(jq -c '"\(.spec.replicas) \([.spec.template.spec.containers[0].args[] | select(startswith("--namespaces"))] | tojson) \([.spec.template.spec.containers[0].args[] | select(startswith("--leader-elect"))] | tojson)"' -r <<<"$hb")"
expect_eq "the chart with broker.enabled adds what deploy/broker does (besides the Roles of namespaces and for Events in default)" \
  "$(M kinds "$T/broker.yaml" | awk '{print $2}' | sort)" \
  "$(comm -13 <(M kinds "$T/chart.yaml" | awk '{print $2, $4}' | sort) <(M kinds "$T/chart-broker.yaml" | sed 's/helmtest-/bindery-/' | awk '$3 !~ /^(bindery-helm-[ab]|default)$/ {print $2, $4}' | sort) | awk '{print $1}' | sort)"
# with namespaces: the namespaced kinds move from the ClusterRole to a Role in each namespace
M rbac "$T/chart.yaml" >"$T/rbac-all.json"
M rbac "$T/chart-broker.yaml" >"$T/rbac-ns.json"
nsrules='[.[] | select(.[0] == "ClusterRole" and (.[3] | test("^cluster|^namespaces$") | not)) | .[2:]] | sort'
expect_eq "namespaces: the ClusterRole grants nothing on namespaced kinds" "[]" \
  "$(jq -c "$nsrules" "$T/rbac-ns.json")"
for ns in bindery-helm-a bindery-helm-b; do
  expect_eq "namespaces: the Role in $ns grants what the ClusterRole grants on namespaced kinds without namespaces" \
    "$(jq -c "$nsrules" "$T/rbac-all.json")" \
    "$(jq -c --arg ns "$ns" '[.[] | select(.[0] == "Role" and .[1] == $ns) | .[2:]] | sort' "$T/rbac-ns.json")"
done
expect_eq "namespaces: authInfo Secrets (get) in the release namespace" '[["","secrets","get",""]]' \
  "$(jq -c '[.[] | select(.[0] == "Role" and .[1] == "bindery-helm" and (.[3] == "events" or .[3] == "secrets")) | .[2:]] | sort' "$T/rbac-ns.json")"
expect_eq "namespaces: Events about cluster-scoped objects in default (the only namespace kube-apiserver takes them in)" \
  '[["","events","create",""]]' "$(jq -c '[.[] | select(.[0] == "Role" and .[1] == "default") | .[2:]] | sort' "$T/rbac-ns.json")"
expect_eq "leaderElect false: no Lease rules" "[]" "$(jq -c '[.[] | select(.[3] == "leases")]' "$T/rbac-ns.json")"
check_flags "chart Deployment osb-broker" "$OSB_BROKER" "$(M get "$T/chart-broker.yaml" Deployment osb-broker | jq -c '.spec.template.spec.containers[0].args')"
check_pod_spec "chart Deployment osb-broker" "$(M get "$T/chart-broker.yaml" Deployment osb-broker)"
expect_eq "values.yaml broker.catalog is deploy/broker/catalog.yaml" "$(M yaml2json "$DEPLOY/broker/catalog.yaml" | jq -S .)" \
  "$(M yaml2json "$CHART/values.yaml" | jq -S .broker.catalog)"
run_broker "chart" "$T/chart-broker.yaml" hbroker
# crds/: links to deploy/crds (Helm follows them), the same files
bad=
for f in "$DEPLOY"/crds/*.yaml; do
  cmp -s "$f" "$CHART/crds/$(basename "$f")" || bad="$bad $(basename "$f")"
done
expect_eq "the chart's crds/ are deploy/crds/ (same files)" "$(ls "$DEPLOY/crds")" "$(ls "$CHART/crds")"
expect_eq "each chart crds/ file has deploy/crds/'s content" "" "${bad# }"
expect_ok "the chart renders its CRDs with -include-crds" render "$T/chart-crds.yaml" "" -include-crds
expect_eq "-include-crds adds the 8 CRDs" 8 "$(M kinds "$T/chart-crds.yaml" | grep -c ' CustomResourceDefinition ')"

for ns in bindery-helm bindery-helm-a bindery-helm-b; do expect_ok "create namespace $ns" kc create namespace "$ns"; done
apply_served "chart (dry run)" "$T/chart-broker.yaml" --dry-run=server
expect_eq "the dry run created nothing" "" "$(kc get secrets,configmaps -n bindery-helm -l app.kubernetes.io/instance=helmtest -o name 2>&1)"
apply_served "chart" "$T/chart-broker.yaml"

e2e_done
