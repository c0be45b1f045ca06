#!/bin/bash
# Core resources: namespaces, secrets (base64 data, stringData folded into data), configmaps,
# events, serviceaccounts (and tokens for them), coordination.k8s.io/v1 leases; kubectl get -o yaml, describe and
# get events on them.
. "$(dirname "$0")/lib.sh"
e2e_setup

# namespaces (cluster-scoped; the test's own is made by e2e_setup)
ns2=$(uniq_name e2e-core-extra)
expect_ok "create namespace $ns2" kc create namespace "$ns2"
e2e_cleanup_add namespace "$ns2"
expect_eq "namespace is Active" Active "$(kc get namespace "$ns2" -o jsonpath='{.status.phase}' 2>&1)"
expect_ok "kubectl get namespaces lists it" kc get namespaces
expect_match "get namespaces: a row for $ns2, Active" "^$ns2 +Active +" "$OUT"
expect_ok "get ns (short name) by label selector" kc label namespace "$ns2" e2e.bindery.dev/run="$E2E_ID"
expect_eq "namespaces selected by label" "namespace/$ns2" "$(kc get ns -l e2e.bindery.dev/run="$E2E_ID" -o name 2>&1)"
expect_eq "a namespace has no namespace" "" "$(kc get namespace "$ns2" -o jsonpath='{.metadata.namespace}' 2>&1)"

# secrets
expect_ok "create secret generic from literals" kn create secret generic s1 --from-literal=user=admin --from-literal=pass='p@ss w0rd'
expect_eq "secret data is base64" "YWRtaW4=" "$(kn get secret s1 -o jsonpath='{.data.user}' 2>&1)"
expect_eq "secret data round-trips" "p@ss w0rd" "$(kn get secret s1 -o jsonpath='{.data.pass}' 2>/dev/null | base64 -d 2>&1)"
expect_eq "secret type defaults to Opaque" Opaque "$(kn get secret s1 -o jsonpath='{.type}' 2>&1)"
expect_ok "apply a secret with stringData and data" kn apply -f - <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: s2
type: Opaque
data:
  a: YWFh
  b: YmJi
stringData:
  b: from-string-data
  c: "line1\nline2"
YAML
expect_eq "stringData folds into data (new key)" "bGluZTEKbGluZTI=" "$(kn get secret s2 -o jsonpath='{.data.c}' 2>&1)"
expect_eq "stringData wins over data for the same key" "from-string-data" "$(kn get secret s2 -o jsonpath='{.data.b}' 2>/dev/null | base64 -d 2>&1)"
expect_eq "data keys kept" "aaa" "$(kn get secret s2 -o jsonpath='{.data.a}' 2>/dev/null | base64 -d 2>&1)"
expect_eq "stringData is not stored" "" "$(kn get secret s2 -o jsonpath='{.stringData}' 2>&1)"
expect_ok "get secret -o yaml" kn get secret s2 -o yaml
expect_match "secret yaml: kind" '^kind: Secret$' "$OUT"
expect_match "secret yaml: data key c" '^  c: bGluZTEKbGluZTI=$' "$OUT"
expect_no_match "secret yaml: no stringData" '^stringData:' "$OUT"
expect_fail_with "data must be base64" '[Ii]llegal base64|illegal base64|invalid|decode' kn create -f - <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: s3
data:
  x: "not base64!"
YAML
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=e2e.bindery.dev \
  -keyout "$E2E_TMP/tls1.key" -out "$E2E_TMP/tls1.crt" >/dev/null 2>&1
expect_ok "create a kubernetes.io/tls secret" kn create secret tls tls1 --cert="$E2E_TMP/tls1.crt" --key="$E2E_TMP/tls1.key"
expect_eq "tls secret: type" kubernetes.io/tls "$(kn get secret tls1 -o jsonpath='{.type}' 2>&1)"
expect_ok "describe secret" kn describe secret s2
expect_match "describe secret: name" '^Name: +s2$' "$OUT"
expect_match "describe secret: sizes, not values" '^b: +16 bytes$' "$OUT"
expect_no_match "describe secret: no value" 'from-string-data' "$OUT"

# configmaps
expect_ok "create configmap from literals" kn create configmap c1 --from-literal=k1=v1 --from-literal=k2=v2
expect_eq "configmap data" "v1 v2" "$(kn get configmap c1 -o jsonpath='{.data.k1} {.data.k2}' 2>&1)"
printf 'bin\000\001\376\377ary' >"$E2E_TMP/blob"
expect_ok "create configmap with binaryData" kn create configmap c2 --from-file=blob="$E2E_TMP/blob"
expect_eq "binaryData is base64 of the file" "YmluAAH+/2FyeQ==" "$(kn get configmap c2 -o jsonpath='{.binaryData.blob}' 2>&1)"
expect_ok "get configmaps" kn get configmaps
expect_match "get configmaps: c1 row with 2 data items" '^c1 +2 +[0-9]+[smhd]' "$OUT"
expect_ok "get configmap -o yaml" kn get configmap c1 -o yaml
expect_match "configmap yaml: apiVersion" '^apiVersion: v1$' "$OUT"
expect_match "configmap yaml: kind" '^kind: ConfigMap$' "$OUT"
expect_match "configmap yaml: data" '^  k1: v1$' "$OUT"
expect_match "configmap yaml: namespace" "^  namespace: $E2E_NS\$" "$OUT"
expect_ok "get configmap -o json" kn get configmap c1 -o json
expect_eq "configmap json: name" c1 "$(jqr .metadata.name <<<"$OUT" 2>&1)"

# serviceaccounts
expect_ok "create serviceaccount" kn create serviceaccount robot
expect_eq "get sa (short name)" serviceaccount/robot "$(kn get sa robot -o name 2>&1)"
expect_ok "describe serviceaccount" kn describe serviceaccount robot
expect_match "describe sa: name" '^Name: +robot$' "$OUT"
# A token for it (TokenRequest on serviceaccounts/robot/token, kubectl 1.24 and later): it
# authenticates as the ServiceAccount, which no RBAC rule lets list Secrets.
if [ "$(kubectl_minor)" -ge 24 ]; then
  if expect_ok "kubectl create token robot" kn create token robot --duration=15m; then
    e2e_write_kubeconfig "$E2E_TMP/robot.kubeconfig" "$E2E_SERVER" \
      "$([ -s "$E2E_TMP/ca.pem" ] && echo "$E2E_TMP/ca.pem")" "$OUT"
    expect_fail_with "the token is the ServiceAccount's: listing Secrets is Forbidden to it" \
      "User \"system:serviceaccount:$E2E_NS:robot\" cannot list resource \"secrets\"" \
      kn --kubeconfig "$E2E_TMP/robot.kubeconfig" get secrets
  fi
  expect_fail_with "a token for a missing ServiceAccount: NotFound" 'serviceaccounts "nobody" not found' \
    kn create token nobody
  expect_fail_with "a token for under 10 minutes: Invalid" 'may not specify a duration less than 10 minutes' \
    kn create token robot --duration=1m
else
  e2e_skip "kubectl create token robot" "kubectl 1.$(kubectl_minor) has no 'create token'"
fi

# leases
expect_ok "apply a lease" kn apply -f - <<'YAML'
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: leader
spec:
  holderIdentity: e2e-holder
  leaseDurationSeconds: 15
  renewTime: "2024-01-02T03:04:05.000000Z"
YAML
expect_eq "lease fields" "e2e-holder 15" "$(kn get lease leader -o jsonpath='{.spec.holderIdentity} {.spec.leaseDurationSeconds}' 2>&1)"
expect_match "lease renewTime (MicroTime)" '^2024-01-02T03:04:05(\.0+)?Z$' "$(kn get lease leader -o jsonpath='{.spec.renewTime}' 2>&1)"
expect_ok "kubectl get leases" kn get leases
expect_match "get leases: holder column" '^leader +e2e-holder +' "$OUT"
expect_ok "update the lease holder" kn patch lease leader --type=merge -p '{"spec":{"holderIdentity":"other"}}'
expect_eq "lease holder updated" other "$(kn get lease leader -o jsonpath='{.spec.holderIdentity}' 2>&1)"

# events: core v1 Events about an object; get events, describe shows them
uid=$(kn get configmap c1 -o jsonpath='{.metadata.uid}' 2>&1)
expect_ok "create an event about configmap c1" kn create -f - <<YAML
apiVersion: v1
kind: Event
metadata:
  name: c1.e2e1
involvedObject:
  apiVersion: v1
  kind: ConfigMap
  name: c1
  namespace: $E2E_NS
  uid: $uid
reason: E2ETested
message: the e2e harness was here
type: Normal
count: 1
firstTimestamp: "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
lastTimestamp: "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
source:
  component: e2e
YAML
expect_ok "kubectl get events" kn get events
expect_match "get events: the event's row" 'Normal +E2ETested +configmap/c1 +the e2e harness was here' "$OUT"
# (stderr aside: kubectl 1.32 warns that "ev" also names events.events.k8s.io)
expect_eq "get ev (short name)" event/c1.e2e1 "$(kn get ev -o name 2>/dev/null)"
expect_ok "get events with a field selector on the involved object" kn get events --field-selector involvedObject.name=c1 -o name
expect_eq "events for c1" event/c1.e2e1 "$OUT"
expect_eq "events for another object: none" "" "$(kn get events --field-selector involvedObject.name=c2 -o name 2>&1)"
expect_ok "kubectl describe configmap c1" kn describe configmap c1
expect_match "describe configmap: name" '^Name: +c1$' "$OUT"
expect_match "describe configmap: data key" '^k1:?$' "$OUT"
expect_match "describe configmap: its events" 'Normal +E2ETested +.*the e2e harness was here' "$OUT"

# deleting
expect_ok "delete configmap, secret, serviceaccount, lease" kn delete configmap/c1 secret/s1 serviceaccount/robot lease/leader
expect_fail_with "deleted configmap is gone" 'NotFound|not found' kn get configmap c1

e2e_done
