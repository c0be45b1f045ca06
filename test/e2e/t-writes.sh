#!/bin/bash
# Writes with kubectl: create, apply twice, patch (merge, json, strategic), replace, edit,
# label/annotate, delete (waiting for finalizers), wait --for=condition=Ready on a status the
# test sets through the status subresource; get -o yaml, describe, get events.
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_install_fixture_crds
W=/apis/e2e.bindery.dev/v1alpha1/namespaces/$E2E_NS/widgets

# create
cat >"$E2E_TMP/cm1.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm1
  labels:
    app: writes
data:
  a: "1"
  b: "2"
YAML
expect_ok "kubectl create -f" kn create -f "$E2E_TMP/cm1.yaml"
expect_eq "create says created" 'configmap/cm1 created' "$OUT"
expect_fail_with "create again: AlreadyExists" 'AlreadyExists' kn create -f "$E2E_TMP/cm1.yaml"

# apply twice
cat >"$E2E_TMP/ap.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: ap
data:
  keep: "1"
  drop: "2"
YAML
expect_ok "kubectl apply (first)" kn apply -f "$E2E_TMP/ap.yaml"
expect_eq "apply creates" 'configmap/ap created' "$OUT"
expect_match "apply records last-applied-configuration" '"drop":"2"' \
  "$(kn get cm ap -o jsonpath='{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}' 2>&1)"
kn patch cm ap --type=merge -p '{"data":{"foreign":"x"}}' >/dev/null 2>&1
sed -e 's/keep: "1"/keep: "10"/' -e '/drop:/d' "$E2E_TMP/ap.yaml" >"$E2E_TMP/ap2.yaml"
expect_ok "kubectl apply (changed file)" kn apply -f "$E2E_TMP/ap2.yaml"
expect_eq "apply again configures" 'configmap/ap configured' "$OUT"
expect_eq "apply: changed key updated" 10 "$(kn get cm ap -o jsonpath='{.data.keep}' 2>&1)"
expect_eq "apply: key dropped from the file is removed" "" "$(kn get cm ap -o jsonpath='{.data.drop}' 2>&1)"
expect_eq "apply: a key someone else added is kept" x "$(kn get cm ap -o jsonpath='{.data.foreign}' 2>&1)"
expect_ok "kubectl apply (same file)" kn apply -f "$E2E_TMP/ap2.yaml"
expect_eq "apply a third time: unchanged" 'configmap/ap unchanged' "$OUT"
cat >"$E2E_TMP/wa.yaml" <<'YAML'
apiVersion: e2e.bindery.dev/v1alpha1
kind: Widget
metadata:
  name: wa
spec:
  size: 1
  config:
    mode: slow
YAML
expect_ok "apply a custom resource" kn apply -f "$E2E_TMP/wa.yaml"
sed -e 's/size: 1/size: 2/' -e '/config:/d' -e '/mode: slow/d' "$E2E_TMP/wa.yaml" >"$E2E_TMP/wa2.yaml"
expect_ok "apply the custom resource again, changed" kn apply -f "$E2E_TMP/wa2.yaml"
expect_eq "apply again configures it" 'widget.e2e.bindery.dev/wa configured' "$OUT"
expect_eq "custom resource applied: size changed, dropped field gone, defaults back" "2 <> 3" \
  "$(kn get widget wa -o jsonpath='{.spec.size} <{.spec.config.mode}> {.spec.config.retries}' 2>&1)"

# patch
expect_ok "patch --type=merge" kn patch cm cm1 --type=merge -p '{"data":{"a":"m","b":null}}'
expect_eq "patch output" 'configmap/cm1 patched' "$OUT"
expect_eq "merge patch: set and removed" "m <>" "$(kn get cm cm1 -o jsonpath='{.data.a} <{.data.b}>' 2>&1)"
expect_ok "patch --type=json (add, replace, remove)" kn patch cm cm1 --type=json \
  -p '[{"op":"add","path":"/data/c","value":"added"},{"op":"replace","path":"/data/a","value":"j"},{"op":"remove","path":"/metadata/labels/app"}]'
expect_eq "json patch applied" "j added <>" "$(kn get cm cm1 -o jsonpath='{.data.a} {.data.c} <{.metadata.labels.app}>' 2>&1)"
expect_fail_with "json patch with a failing test op is refused" 'test|Invalid|invalid|failed' kn patch cm cm1 --type=json \
  -p '[{"op":"test","path":"/data/a","value":"other"},{"op":"replace","path":"/data/a","value":"never"}]'
expect_eq "the refused json patch changed nothing" j "$(kn get cm cm1 -o jsonpath='{.data.a}' 2>&1)"
expect_fail_with "json patch removing a missing path is refused" '.' kn patch cm cm1 --type=json -p '[{"op":"remove","path":"/data/nothere"}]'
expect_ok "patch --type=strategic on a map" kn patch cm cm1 --type=strategic -p '{"data":{"s":"strategic"}}'
expect_eq "strategic patch on a map" "j strategic" "$(kn get cm cm1 -o jsonpath='{.data.a} {.data.s}' 2>&1)"
expect_ok "patch (strategic is kubectl's default)" kn patch cm cm1 -p '{"data":{"d":"default"}}'
expect_eq "default patch applied" default "$(kn get cm cm1 -o jsonpath='{.data.d}' 2>&1)"
kn create serviceaccount sa1 >/dev/null 2>&1
kn patch sa sa1 --type=merge -p '{"secrets":[{"name":"one"}]}' >/dev/null 2>&1
expect_ok "strategic patch of a list with a merge key (serviceaccount secrets, key name)" \
  kn patch sa sa1 --type=strategic -p '{"secrets":[{"name":"two"}]}'
expect_eq "strategic patch merged the list by name" "one two" \
  "$(kn get sa sa1 -o jsonpath='{.secrets[*].name}' 2>&1 | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
expect_ok "strategic patch with \$patch: delete on a list element" \
  kn patch sa sa1 --type=strategic -p '{"secrets":[{"name":"one","$patch":"delete"}]}'
expect_eq "the element is gone" two "$(kn get sa sa1 -o jsonpath='{.secrets[*].name}' 2>&1)"
expect_ok "merge patch of the same list replaces it" kn patch sa sa1 --type=merge -p '{"secrets":[{"name":"three"}]}'
expect_eq "merge patch replaced the list" three "$(kn get sa sa1 -o jsonpath='{.secrets[*].name}' 2>&1)"
expect_fail_with "strategic patch of a custom resource: UnsupportedMediaType" 'UnsupportedMediaType|415|is not supported by e2e\.bindery\.dev/v1alpha1, Kind=Widget' \
  kn patch widget wa --type=strategic -p '{"spec":{"size":3}}'
expect_ok "merge patch of a custom resource" kn patch widget wa --type=merge -p '{"spec":{"size":3}}'
expect_ok "json patch of a custom resource" kn patch widget wa --type=json -p '[{"op":"replace","path":"/spec/size","value":4}]'
expect_eq "custom resource patched" 4 "$(kn get widget wa -o jsonpath='{.spec.size}' 2>&1)"

# replace
kn get cm cm1 -o json | jq 'del(.metadata.resourceVersion) | .data = {"only":"this"}' >"$E2E_TMP/cm1-replace.json"
expect_ok "kubectl replace (no resourceVersion: unconditional)" kn replace -f "$E2E_TMP/cm1-replace.json"
expect_eq "replace output" 'configmap/cm1 replaced' "$OUT"
expect_eq "replace swaps the whole data" '{"only":"this"}' "$(kn get cm cm1 -o jsonpath='{.data}' 2>&1 | jq -c . 2>&1)"
uid=$(kn get cm cm1 -o jsonpath='{.metadata.uid}' 2>&1)
expect_ok "kubectl replace --force (delete and re-create)" kn replace --force -f "$E2E_TMP/cm1.yaml"
expect_match "replace --force makes a new object" '^[0-9a-f-]{36}$' "$(kn get cm cm1 -o jsonpath='{.metadata.uid}' 2>&1 | grep -v -x -- "$uid")"
expect_fail_with "replace of a missing object: NotFound" 'NotFound|not found' kn replace -f - <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: never-created
YAML

# edit, label, annotate
printf '#!/bin/sh\nsed -i '"'"'s/^  a: "1"$/  a: edited/'"'"' "$1"\n' >"$E2E_TMP/editor.sh"
chmod +x "$E2E_TMP/editor.sh"
expect_ok "kubectl edit (an editor that changes a value)" env KUBE_EDITOR="$E2E_TMP/editor.sh" \
  timeout 30 "$KUBECTL" --cache-dir "$E2E_TMP/kube-cache" -n "$E2E_NS" edit cm cm1
expect_eq "edit applied" edited "$(kn get cm cm1 -o jsonpath='{.data.a}' 2>&1)"
expect_ok "kubectl label" kn label cm cm1 color=red
expect_fail_with "kubectl label without --overwrite refuses to change a label" "already has a value" kn label cm cm1 color=blue
expect_ok "kubectl label --overwrite" kn label cm cm1 color=blue --overwrite
expect_eq "label overwritten" blue "$(kn get cm cm1 -o jsonpath='{.metadata.labels.color}' 2>&1)"
expect_ok "kubectl label key- removes it" kn label cm cm1 color-
expect_eq "label removed" "" "$(kn get cm cm1 -o jsonpath='{.metadata.labels.color}' 2>&1)"
expect_ok "kubectl annotate" kn annotate cm cm1 note='hello world'
expect_eq "annotation set" 'hello world' "$(kn get cm cm1 -o jsonpath='{.metadata.annotations.note}' 2>&1)"

# get -o yaml, describe, get events
expect_ok "kubectl get widget -o yaml" kn get widget wa -o yaml
expect_match "yaml: apiVersion" '^apiVersion: e2e\.bindery\.dev/v1alpha1$' "$OUT"
expect_match "yaml: kind" '^kind: Widget$' "$OUT"
expect_match "yaml: spec.size" '^  size: 4$' "$OUT"
expect_match "yaml: metadata.uid" '^  uid: [0-9a-f-]{36}$' "$OUT"
expect_ok "kubectl get widgets -o yaml (a list)" kn get widgets -o yaml
expect_match "list yaml: kind List" '^kind: List$' "$OUT"
expect_match "list yaml: the item" '^    name: wa$' "$OUT"
expect_ok "kubectl get widget -o jsonpath" kn get widget wa -o 'jsonpath={.metadata.name}/{.spec.size}'
expect_eq "jsonpath output" wa/4 "$OUT"
expect_ok "kubectl get widget -o custom-columns" kn get widget wa -o custom-columns=N:.metadata.name,S:.spec.size
expect_match "custom-columns output" '^wa +4$' "$OUT"
expect_ok "kubectl describe widget" kn describe widget wa
expect_match "describe: Name" '^Name: +wa$' "$OUT"
expect_match "describe: Namespace" "^Namespace: +$E2E_NS\$" "$OUT"
expect_match "describe: API Version" '^API Version: +e2e\.bindery\.dev/v1alpha1$' "$OUT"
expect_match "describe: Kind" '^Kind: +Widget$' "$OUT"
expect_match "describe: a spec field" '^  Size: +4$' "$OUT"
wuid=$(kn get widget wa -o jsonpath='{.metadata.uid}' 2>&1)
kn create -f - >/dev/null 2>&1 <<YAML
apiVersion: v1
kind: Event
metadata:
  name: wa.e2e
involvedObject:
  apiVersion: e2e.bindery.dev/v1alpha1
  kind: Widget
  name: wa
  namespace: $E2E_NS
  uid: $wuid
reason: Polished
message: widget wa polished
type: Warning
count: 1
firstTimestamp: "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
lastTimestamp: "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
source:
  component: e2e
YAML
expect_ok "kubectl describe widget shows its events" kn describe widget wa
expect_match "describe: the event" 'Warning +Polished +.*widget wa polished' "$OUT"
expect_ok "kubectl get events" kn get events
expect_match "get events: the widget's event" 'Warning +Polished +widget/wa +widget wa polished' "$OUT"
expect_ok "kubectl get events --field-selector type=Warning" kn get events --field-selector type=Warning -o name
expect_eq "the warning event only" event/wa.e2e "$OUT"

# wait --for=condition=Ready, with the status set through the status subresource
kn create -f - >/dev/null 2>&1 <<'YAML'
apiVersion: e2e.bindery.dev/v1alpha1
kind: Widget
metadata:
  name: wt
spec:
  size: 1
YAML
expect_fail_with "kubectl wait times out while the condition is absent" 'timed out waiting for the condition' \
  kn wait --for=condition=Ready widget/wt --timeout=2s
kc_bg "$E2E_TMP/wait.out" -n "$E2E_NS" wait --for=condition=Ready widget/wt --timeout=30s
waiter=$BG_PID
sleep 1
patch_status widget/wt merge '{"status":{"conditions":[{"type":"Ready","status":"False","reason":"Starting"}]}}' "$W/wt" >/dev/null 2>&1
sleep 1
if kill -0 "$waiter" 2>/dev/null; then e2e_ok "kubectl wait keeps waiting while Ready is False"
else e2e_not_ok "kubectl wait keeps waiting while Ready is False" "still waiting" "ended: $(cat "$E2E_TMP/wait.out")"; fi
expect_ok "set Ready=True through the status subresource" patch_status widget/wt merge \
  '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Done"}]}}' "$W/wt"
wait_pid "$waiter" 20; rc=$?
expect_eq "kubectl wait --for=condition=Ready ends with success" 0 "$rc"
expect_eq "kubectl wait says condition met" "widget.e2e.bindery.dev/wt condition met" "$(cat "$E2E_TMP/wait.out")"
expect_ok "kubectl wait on a condition already met returns at once" kn wait --for=condition=Ready widget/wt --timeout=5s
kc_bg "$E2E_TMP/waitdel.out" -n "$E2E_NS" wait --for=delete widget/wt --timeout=30s
waiter=$BG_PID
sleep 1
kn delete widget wt --wait=false >/dev/null 2>&1
wait_pid "$waiter" 20; rc=$?
expect_eq "kubectl wait --for=delete ends when the object goes" 0 "$rc"

# delete
expect_ok "kubectl delete" kn delete cm ap
expect_eq "delete output" 'configmap "ap" deleted' "$OUT"
expect_fail_with "deleted" 'NotFound' kn get cm ap
expect_ok "kubectl delete -f" kn delete -f "$E2E_TMP/wa.yaml"
expect_fail_with "deleted by file" 'NotFound' kn get widget wa
kn create configmap l1 >/dev/null 2>&1; kn create configmap l2 >/dev/null 2>&1
kn label cm l1 l2 group=del >/dev/null 2>&1
expect_ok "kubectl delete -l" kn delete cm -l group=del
expect_eq "both deleted by label" "" "$(kn get cm -l group=del -o name 2>&1)"
expect_ok "kubectl delete --ignore-not-found of a missing object" kn delete cm nothing --ignore-not-found

# delete waiting for finalizers
fin_cm() { kn create -f - <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: $1
  finalizers:
  - e2e.bindery.dev/hold
YAML
}
fin_cm f1 >/dev/null 2>&1
expect_fail_with "kubectl delete waits for finalizers (and times out)" 'timed out waiting for the condition' kn delete cm f1 --timeout=2s
expect_match "meanwhile the object is terminating" '^[0-9]{4}-' "$(kn get cm f1 -o jsonpath='{.metadata.deletionTimestamp}' 2>&1)"
kc_bg "$E2E_TMP/del.out" -n "$E2E_NS" delete cm f1 --timeout=30s
deleter=$BG_PID
sleep 1
if kill -0 "$deleter" 2>/dev/null; then e2e_ok "kubectl delete is still waiting for the finalizer"
else e2e_not_ok "kubectl delete is still waiting for the finalizer" "still waiting" "ended: $(cat "$E2E_TMP/del.out")"; fi
kn patch cm f1 --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]' >/dev/null 2>&1
wait_pid "$deleter" 20; rc=$?
expect_eq "kubectl delete returns once the finalizer is removed" 0 "$rc"
expect_match "... saying deleted" 'configmap "f1" deleted' "$(cat "$E2E_TMP/del.out")"

e2e_done
