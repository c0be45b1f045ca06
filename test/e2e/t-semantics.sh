#!/bin/bash
# Object semantics: uid, creationTimestamp, generateName, increasing resourceVersion, PUT with a
# stale resourceVersion (409 Conflict), metadata.generation, status subresource separation,
# finalizers and deletionTimestamp, owner-reference garbage collection, and Status error
# bodies with their reasons (Gone is in t-watch.sh).
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_install_fixture_crds
CM=/api/v1/namespaces/$E2E_NS/configmaps
W=/apis/e2e.bindery.dev/v1alpha1/namespaces/$E2E_NS/widgets

cm() { # cm NAME [k=v ...]: a ConfigMap manifest
  local name=$1; shift
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n' "$name"
  local kv; for kv in "$@"; do printf '  %s: "%s"\n' "${kv%%=*}" "${kv#*=}"; done
  [ $# -gt 0 ] || printf '  k: v\n'
}

# uid, creationTimestamp
expect_ok "create configmap a" kn create configmap a --from-literal=k=1
uid_a=$(kn get cm a -o jsonpath='{.metadata.uid}' 2>&1)
expect_match "uid is a UUID" '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' "$uid_a"
expect_ok "create configmap b" kn create configmap b --from-literal=k=1
expect_match "uids differ between objects" '^[0-9a-f-]{36}$' "$(kn get cm b -o jsonpath='{.metadata.uid}' 2>&1 | grep -v -x -- "$uid_a")"
expect_match "creationTimestamp is RFC 3339 UTC" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' \
  "$(kn get cm a -o jsonpath='{.metadata.creationTimestamp}' 2>&1)"
expect_eq "namespace is set from the request" "$E2E_NS" "$(kn get cm a -o jsonpath='{.metadata.namespace}' 2>&1)"
expect_ok "delete and re-create a" kn delete cm a
kn create configmap a --from-literal=k=1 >/dev/null 2>&1
expect_match "a re-created object has a new uid" '^[0-9a-f-]{36}$' "$(kn get cm a -o jsonpath='{.metadata.uid}' 2>&1 | grep -v -x -- "$uid_a")"

# generateName
expect_ok "create with generateName" kn create -o name -f - <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  generateName: gen-
data:
  k: v
YAML
gen1=$OUT
expect_match "generateName: prefix plus 5 random characters" '^configmap/gen-[a-z0-9]{5}$' "$gen1"
kn create -o name -f - >"$E2E_TMP/gen2" 2>&1 <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  generateName: gen-
YAML
expect_match "generateName twice: two different names" '^configmap/gen-[a-z0-9]{5}$' "$(grep -v -x -- "$gen1" "$E2E_TMP/gen2")"
expect_eq "generateName is kept in metadata" gen- "$(kn get "$gen1" -o jsonpath='{.metadata.generateName}' 2>&1)"

# resourceVersion increases with every write
rv1=$(kn get cm a -o jsonpath='{.metadata.resourceVersion}' 2>&1)
kn patch cm a --type=merge -p '{"data":{"k":"2"}}' >/dev/null 2>&1
rv2=$(kn get cm a -o jsonpath='{.metadata.resourceVersion}' 2>&1)
kn patch cm b --type=merge -p '{"data":{"k":"2"}}' >/dev/null 2>&1
kn patch cm a --type=merge -p '{"data":{"k":"3"}}' >/dev/null 2>&1
rv3=$(kn get cm a -o jsonpath='{.metadata.resourceVersion}' 2>&1)
expect_num_gt "resourceVersion increases on update" "$rv2" "$rv1"
expect_num_gt "resourceVersion increases again" "$rv3" "$rv2"
list_rv=$(kraw "$CM" 2>&1 | jqr .metadata.resourceVersion 2>&1)
if [[ "$list_rv" =~ ^[0-9]+$ ]] && [ "$list_rv" -ge "$rv3" ]; then e2e_ok "a list's resourceVersion is at least its newest item's"
else e2e_not_ok "a list's resourceVersion is at least its newest item's" ">= $rv3" "'$list_rv'"; fi
kn patch cm a --type=merge -p '{"data":{"k":"3"}}' >/dev/null 2>&1
expect_eq "a no-op patch does not bump resourceVersion" "$rv3" "$(kn get cm a -o jsonpath='{.metadata.resourceVersion}' 2>&1)"

# PUT with a stale resourceVersion
kn get cm a -o json >"$E2E_TMP/a-old.json" 2>&1
jq '.data.k = "4"' "$E2E_TMP/a-old.json" >"$E2E_TMP/a-new.json"
jq '.data.k = "5"' "$E2E_TMP/a-old.json" >"$E2E_TMP/a-stale.json"
expect_ok "replace with the current resourceVersion" kn replace -f "$E2E_TMP/a-new.json"
expect_fail_with "replace with a stale resourceVersion: Conflict" \
  'Error from server \(Conflict\).*configmaps "a": the object has been modified; please apply your changes to the latest version and try again' \
  kn replace -f "$E2E_TMP/a-stale.json"
expect_eq "the stale write changed nothing" 4 "$(kn get cm a -o jsonpath='{.data.k}' 2>&1)"
if raw_usable; then
  raw PUT "$CM/a" -H 'Content-Type: application/json' --data-binary @"$E2E_TMP/a-stale.json"
  expect_status "raw PUT with a stale resourceVersion is 409 Conflict" 409 Conflict
  expect_eq "Conflict details" "configmaps a" "$(jqr '.details.kind + " " + .details.name' <<<"$E2E_BODY" 2>&1)"
  expect_match "Conflict message" '^Operation cannot be fulfilled on configmaps "a": the object has been modified' "$(jqr .message <<<"$E2E_BODY" 2>&1)"
  raw PUT "$CM/a" -H 'Content-Type: application/json' --data-binary "$(jq '.metadata.resourceVersion = "1" | .data.k = "6"' "$E2E_TMP/a-old.json")"
  expect_status "raw PUT with resourceVersion 1 is 409 Conflict" 409 Conflict
else
  e2e_skip "raw PUT with a stale resourceVersion is 409 Conflict" "no raw credentials"
fi

# metadata.generation: bumps on spec changes only
expect_ok "create widget g" kn create -f - <<'YAML'
apiVersion: e2e.bindery.dev/v1alpha1
kind: Widget
metadata:
  name: g
spec:
  size: 1
YAML
gen() { kn get widget g -o jsonpath='{.metadata.generation}' 2>&1; }
expect_eq "generation starts at 1" 1 "$(gen)"
kn patch widget g --type=merge -p '{"spec":{"size":2}}' >/dev/null 2>&1
expect_eq "a spec change bumps generation" 2 "$(gen)"
kn label widget g color=yes >/dev/null 2>&1
kn annotate widget g note=yes >/dev/null 2>&1
expect_eq "labels and annotations do not bump generation" 2 "$(gen)"
rv=$(kn get widget g -o jsonpath='{.metadata.resourceVersion}' 2>&1)
expect_ok "status write" patch_status widget/g merge '{"status":{"phase":"Ready","observedGeneration":2}}' "$W/g"
expect_eq "a status write does not bump generation" 2 "$(gen)"
expect_num_gt "a status write bumps resourceVersion" "$(kn get widget g -o jsonpath='{.metadata.resourceVersion}' 2>&1)" "$rv"
kn patch widget g --type=merge -p '{"spec":{"size":2}}' >/dev/null 2>&1
expect_eq "a spec write that changes nothing does not bump generation" 2 "$(gen)"
kn patch widget g --type=merge -p '{"spec":{"size":3}}' >/dev/null 2>&1
expect_eq "the next spec change bumps it again" 3 "$(gen)"

# status subresource separation
expect_ok "write status through the main resource (a merge patch touching spec and status)" \
  kn patch widget g --type=merge -p '{"spec":{"size":4},"status":{"phase":"Hacked"}}'
expect_eq "the main resource ignores status" "4 Ready" "$(kn get widget g -o jsonpath='{.spec.size} {.status.phase}' 2>&1)"
expect_ok "write spec through the status subresource" patch_status widget/g merge '{"spec":{"size":50},"status":{"phase":"Done"}}' "$W/g"
expect_eq "the status subresource ignores spec" "4 Done" "$(kn get widget g -o jsonpath='{.spec.size} {.status.phase}' 2>&1)"
kn get widget g -o json | jq '.status.phase = "Replaced" | .spec.size = 5' >"$E2E_TMP/g.json"
expect_ok "replace the whole widget with a different status" kn replace -f "$E2E_TMP/g.json"
expect_eq "PUT on the main resource keeps the old status" "5 Done" "$(kn get widget g -o jsonpath='{.spec.size} {.status.phase}' 2>&1)"
if raw_usable; then
  kn get widget g -o json | jq '.status.phase = "PutStatus" | .spec.size = 60' >"$E2E_TMP/g2.json"
  raw PUT "$W/g/status" -H 'Content-Type: application/json' --data-binary @"$E2E_TMP/g2.json"
  expect_status "PUT on widgets/g/status" 200
  expect_eq "PUT on status writes status, not spec" "5 PutStatus" "$(kn get widget g -o jsonpath='{.spec.size} {.status.phase}' 2>&1)"
else
  e2e_skip "PUT on widgets/g/status" "no raw credentials"
fi
expect_eq "and still no generation bump from status" 5 "$(gen)"

# finalizers and deletionTimestamp
kn create -f - >/dev/null 2>&1 <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: fin
  finalizers:
  - e2e.bindery.dev/hold
  - e2e.bindery.dev/second
data:
  k: v
YAML
expect_ok "delete an object with finalizers (no wait)" kn delete cm fin --wait=false
expect_match "it is still there, with a deletionTimestamp" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' \
  "$(kn get cm fin -o jsonpath='{.metadata.deletionTimestamp}' 2>&1)"
expect_match "... and deletionGracePeriodSeconds 0" '^0$' "$(kn get cm fin -o jsonpath='{.metadata.deletionGracePeriodSeconds}' 2>&1)"
expect_fail_with "a terminating object takes no new finalizers" 'Forbidden|forbidden|Invalid|invalid' \
  kn patch cm fin --type=json -p '[{"op":"add","path":"/metadata/finalizers/-","value":"e2e.bindery.dev/late"}]'
expect_ok "other updates still work while terminating" kn patch cm fin --type=merge -p '{"data":{"k":"still"}}'
expect_ok "remove one finalizer" kn patch cm fin --type=json -p '[{"op":"remove","path":"/metadata/finalizers/0"}]'
expect_eq "the object stays while a finalizer remains" "e2e.bindery.dev/second" "$(kn get cm fin -o jsonpath='{.metadata.finalizers[*]}' 2>&1)"
expect_ok "remove the last finalizer" kn patch cm fin --type=merge -p '{"metadata":{"finalizers":null}}'
expect_fail_with "the object is gone with its last finalizer" 'NotFound|not found' kn get cm fin
kn create -f - >/dev/null 2>&1 <<'YAML'
apiVersion: e2e.bindery.dev/v1alpha1
kind: Widget
metadata:
  name: wfin
  finalizers:
  - e2e.bindery.dev/hold
spec:
  size: 1
YAML
expect_ok "delete a finalized custom resource (no wait)" kn delete widget wfin --wait=false
expect_match "the custom resource gets a deletionTimestamp" '^[0-9]{4}-' "$(kn get widget wfin -o jsonpath='{.metadata.deletionTimestamp}' 2>&1)"
expect_ok "a status write while terminating" patch_status widget/wfin merge '{"status":{"phase":"Terminating"}}' "$W/wfin"
expect_ok "release the finalizer" kn patch widget wfin --type=merge -p '{"metadata":{"finalizers":[]}}'
expect_fail_with "the custom resource is gone" 'NotFound|not found' kn get widget wfin

# owner-reference garbage collection
gc_child() { # gc_child NAME OWNER-NAME OWNER-UID [extra metadata lines]
  kn create -f - <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: $1
  ownerReferences:
  - apiVersion: v1
    kind: ConfigMap
    name: $2
    uid: $3
${4:-}
YAML
}
kn create configmap parent --from-literal=k=v >/dev/null 2>&1
puid=$(kn get cm parent -o jsonpath='{.metadata.uid}' 2>&1)
expect_ok "create a child owned by parent" gc_child child parent "$puid"
expect_ok "create a custom resource owned by parent" kn create -f - <<YAML
apiVersion: e2e.bindery.dev/v1alpha1
kind: Widget
metadata:
  name: wchild
  ownerReferences:
  - apiVersion: v1
    kind: ConfigMap
    name: parent
    uid: $puid
spec:
  size: 1
YAML
kn create configmap bystander --from-literal=k=v >/dev/null 2>&1
expect_ok "before: parent, child, bystander and the owned widget exist" kn get cm/parent cm/child cm/bystander widget/wchild
expect_ok "delete the parent (background cascade)" kn delete cm parent
gone() { ! kn get "$@" >/dev/null 2>&1; }
if eventually 30 gone cm child; then e2e_ok "the child is garbage-collected"; else e2e_not_ok "the child is garbage-collected" "configmap child gone within 30 s" "$(kn get cm child -o yaml 2>&1)"; fi
if eventually 30 gone widget wchild; then e2e_ok "the owned custom resource is garbage-collected"; else e2e_not_ok "the owned custom resource is garbage-collected" "widget wchild gone within 30 s" "$(kn get widget wchild -o yaml 2>&1)"; fi
expect_ok "an unowned object stays" kn get cm bystander

kn create configmap parent2 --from-literal=k=v >/dev/null 2>&1
p2uid=$(kn get cm parent2 -o jsonpath='{.metadata.uid}' 2>&1)
expect_ok "create a child of parent2" gc_child orphan parent2 "$p2uid"
expect_ok "delete a parent with --cascade=orphan" kn delete cm parent2 --cascade=orphan --timeout=30s
expect_fail_with "the orphaning parent is gone" 'NotFound|not found' kn get cm parent2
expect_ok "the orphan stays" kn get cm orphan
if eventually 30 eval '[ -z "$(kn get cm orphan -o jsonpath="{.metadata.ownerReferences}" 2>&1)" ]'; then
  e2e_ok "the orphan loses its owner reference"
else
  e2e_not_ok "the orphan loses its owner reference" "no ownerReferences within 30 s" "$(kn get cm orphan -o yaml 2>&1)"
fi

kn create configmap parent3 --from-literal=k=v >/dev/null 2>&1
p3uid=$(kn get cm parent3 -o jsonpath='{.metadata.uid}' 2>&1)
expect_ok "create a child of parent3 that blocks its owner's deletion" gc_child fg parent3 "$p3uid" '    blockOwnerDeletion: true'
expect_ok "delete a parent with --cascade=foreground (waits)" kn delete cm parent3 --cascade=foreground --timeout=30s
expect_fail_with "foreground: the child is gone" 'NotFound|not found' kn get cm fg
expect_fail_with "foreground: the parent is gone" 'NotFound|not found' kn get cm parent3

# Status error bodies, with kubectl and raw
expect_fail_with "kubectl get of a missing object: NotFound" '^Error from server \(NotFound\): configmaps "nope" not found$' kn get cm nope
expect_fail_with "kubectl create of an existing object: AlreadyExists" 'Error from server \(AlreadyExists\).*configmaps "b" already exists' kn create -f - < <(cm b)
expect_fail_with "kubectl create with an invalid name: Invalid" 'The ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name"' \
  kn create -f - < <(cm Bad_Name)
expect_fail_with "kubectl delete of a missing object: NotFound" 'Error from server \(NotFound\): configmaps "nope" not found' kn delete cm nope
if raw_usable; then
  raw GET "$CM/nope"
  expect_status "raw GET of a missing object: 404 NotFound" 404 NotFound
  expect_eq "NotFound details and message" 'configmaps nope configmaps "nope" not found' \
    "$(jqr '.details.kind + " " + .details.name + " " + .message' <<<"$E2E_BODY" 2>&1)"
  raw POST "$CM" -H 'Content-Type: application/json' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}'
  expect_status "raw POST of an existing name: 409 AlreadyExists" 409 AlreadyExists
  expect_eq "AlreadyExists message" 'configmaps "b" already exists' "$(jqr .message <<<"$E2E_BODY" 2>&1)"
  raw POST "$CM" -H 'Content-Type: application/json' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}'
  expect_status "raw POST with an invalid name: 422 Invalid" 422 Invalid
  expect_eq "Invalid details: the field" "metadata.name" "$(jqr '.details.causes[0].field' <<<"$E2E_BODY" 2>&1)"
  raw POST "$CM" -H 'Content-Type: application/json' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}'
  expect_status "raw POST with neither name nor generateName: 422 Invalid" 422 Invalid
  expect_match "Invalid message" 'name or generateName is required' "$(jqr .message <<<"$E2E_BODY" 2>&1)"
  raw DELETE "$CM/nope"
  expect_status "raw DELETE of a missing object: 404 NotFound" 404 NotFound
  raw GET "/api/v1/namespaces/$E2E_NS/nosuchthings"
  expect_status "raw GET of an unknown resource: 404" 404
  raw GET "/api/v1/namespaces/$E2E_NS/configmaps/a"
  expect_eq "a single GET is the object with kind and apiVersion" "ConfigMap v1" "$(jqr '.kind + " " + .apiVersion' <<<"$E2E_BODY" 2>&1)"
  expect_match "JSON responses say so" '^[Cc]ontent-[Tt]ype: application/json' "$E2E_HEADERS"
  raw DELETE "$CM/b"
  expect_status "raw DELETE: 200" 200
  expect_match "raw DELETE returns the deleted object or a Success Status" '^(ConfigMap b|Status Success)$' \
    "$(jqr 'if .kind == "Status" then "Status " + .status else .kind + " " + .metadata.name end' <<<"$E2E_BODY" 2>&1)"
else
  e2e_skip "raw Status bodies" "no raw credentials"
fi

e2e_done
