#!/bin/bash
# Issue 21, from the archived Kubernetes Service Catalog to Bindery with `kubectl svcat migrate`,
# re-provisioning nothing. A service-catalog v0.3 installation in CRD mode is recreated: its
# CRDs as it shipped them (fixtures/service-catalog-v0.3/crds.yaml: apiextensions v1, since API
# servers since 1.22 refuse v1beta1; the same definitions, every field kept), its
# controller-manager Deployment, and a broker, class, plan, instance, binding and Secret as its
# Go controller left them (status, labels, finalizer kubernetes-incubator/service-catalog,
# the Secret owned by the binding), for an instance and binding that a real osb-broker really
# provisioned and bound. Then: plan refuses an operation in progress and an unknown spec field,
# and accepts once they are settled; run refuses while the old controller runs; run stopped
# after step 4 and run again carries on (an interrupted run resumed); a third run changes
# nothing; Bindery's controller then takes the objects over; verify passes (Ready stays Ready,
# externalIDs and the Secret byte for byte unchanged); and the broker's request log shows no
# provision, bind, update or deprovision from the moment the migration started.
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$OSB_BROKER" osb-broker
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller
if [ ! -x "$top_builddir/plugins/kubectl-svcat" ]; then
  e2e_not_ok "setup: kubectl-svcat is built" "an executable $top_builddir/plugins/kubectl-svcat (make)" "missing"
  exit 1
fi
export PATH="$top_builddir/plugins:$PATH"
ID=$E2E_ID
FIN=kubernetes-incubator/service-catalog
MDIR=$E2E_TMP/migration
e2e_sc_teardown   # instances and bindings deleted while Bindery's controller runs (lib.sh)

# --- the broker, and what service-catalog had made at it ------------------------------------------
SVC=e2e-$ID-m-db; CLS=e2e-mdb-$ID; PLAN=e2e-$ID-m-small
CREDS='{"uri":"postgres://app@db.e2e.invalid:5432/{instance_id}","password":"pw-{binding_id}","port":5432}'
cat >"$E2E_TMP/m1.json" <<JSON
{"services":[{"id":"$SVC","name":"$CLS","description":"E2E migration","bindable":true,"instances_retrievable":true,
  "bindings_retrievable":true,"plans":[
  {"id":"$PLAN","name":"small","description":"synchronous","x-bindery-backend":{"type":"static","credentials":$CREDS}}]}]}
JSON
PW=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
e2e_start_broker m1 --catalog "$E2E_TMP/m1.json" --username admin --password "$PW" || exit 1
osb() {
  curl -sS --max-time 10 -u "admin:$PW" -H 'X-Broker-API-Version: 2.14' -H 'Content-Type: application/json' \
    -X "$1" -o "$E2E_TMP/osb.body" -w '%{http_code}' "$m1_URL$2" ${3:+--data-binary "$3"} 2>/dev/null
}
# the broker's log from line $MARK on: every provision, update, deprovision, bind and unbind
changes_since() { tail -n +"$1" "$E2E_TMP/m1/log" | grep -cE ' method=(PUT|PATCH|DELETE) path=/v2/service_instances/' || true; }
IID=$(cat /proc/sys/kernel/random/uuid); BID=$(cat /proc/sys/kernel/random/uuid)
expect_eq "service-catalog's provision at the broker (PUT, 201)" 201 \
  "$(osb PUT "/v2/service_instances/$IID?accepts_incomplete=true" "{\"service_id\":\"$SVC\",\"plan_id\":\"$PLAN\",\"organization_guid\":\"o\",\"space_guid\":\"s\",\"context\":{\"platform\":\"kubernetes\",\"namespace\":\"$E2E_NS\"}}")"
expect_eq "service-catalog's bind (PUT, 201)" 201 \
  "$(osb PUT "/v2/service_instances/$IID/service_bindings/$BID" "{\"service_id\":\"$SVC\",\"plan_id\":\"$PLAN\",\"bind_resource\":{\"app_guid\":\"s\"}}")"
BIND_CREDS=$(jq -c .credentials "$E2E_TMP/osb.body")
# a second pair, standing for objects of service-catalog's aggregated API server: exported to a
# file, then gone with that server's etcd, and created again by run from the export
IID2=$(cat /proc/sys/kernel/random/uuid); BID2=$(cat /proc/sys/kernel/random/uuid)
expect_eq "service-catalog's provision and bind of the second pair (201 201)" "201 201" \
  "$(osb PUT "/v2/service_instances/$IID2?accepts_incomplete=true" "{\"service_id\":\"$SVC\",\"plan_id\":\"$PLAN\",\"organization_guid\":\"o\",\"space_guid\":\"s\"}") $(osb PUT "/v2/service_instances/$IID2/service_bindings/$BID2" "{\"service_id\":\"$SVC\",\"plan_id\":\"$PLAN\",\"bind_resource\":{\"app_guid\":\"s\"}}")"
BIND_CREDS2=$(jq -c .credentials "$E2E_TMP/osb.body")

# --- service-catalog v0.3, CRD mode ---------------------------------------------------------------
# on a cluster that has the servicecatalog.k8s.io CRDs already (Bindery's), they are replaced by
# service-catalog's and then by Bindery's again by the migration, and left installed
HAD_CRDS=0
kc get crd serviceinstances.servicecatalog.k8s.io -o name >/dev/null 2>&1 && HAD_CRDS=1
expect_ok "install service-catalog v0.3's CRDs" kc apply -f "$E2E_DIR/fixtures/service-catalog-v0.3/crds.yaml"
for n in $(kc get -f "$E2E_DIR/fixtures/service-catalog-v0.3/crds.yaml" -o name); do
  [ $HAD_CRDS = 1 ] || e2e_cleanup_add "$n --timeout=60s"
  kc wait --for=condition=Established "$n" --timeout=30s >/dev/null
done
expect_ok "its controller-manager Deployment, running" kc -n "$E2E_NS" apply -f - <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: catalog-catalog-controller-manager, labels: {app: catalog-catalog-controller-manager}}
spec:
  replicas: 1
  selector: {matchLabels: {app: catalog-catalog-controller-manager}}
  template:
    metadata: {labels: {app: catalog-catalog-controller-manager}}
    spec: {containers: [{name: controller-manager, image: quay.io/kubernetes-service-catalog/service-catalog:v0.3.1}]}
YAML
# its webhook, where the API server serves admissionregistration (a real one, and the test server,
# which stores it but calls no webhook): failurePolicy Ignore here, since no webhook server runs
# (v0.3's is Fail)
HOOK=e2e-$ID-catalog-catalog-webhook
HAVE_HOOKS=0
if kc api-resources --api-group=admissionregistration.k8s.io -o name 2>/dev/null | grep -q '^mutatingwebhookconfigurations'; then
  HAVE_HOOKS=1
  e2e_cleanup_add "mutatingwebhookconfiguration $HOOK --ignore-not-found"
  expect_ok "its MutatingWebhookConfiguration" kc apply -f - <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: $HOOK}
webhooks:
- name: mutating.serviceinstances.servicecatalog.k8s.io
  clientConfig: {service: {name: catalog-catalog-webhook, namespace: $E2E_NS, path: /mutating-serviceinstances}}
  failurePolicy: Ignore
  sideEffects: None
  admissionReviewVersions: [v1beta1]
  rules: [{operations: [CREATE, UPDATE], apiGroups: [servicecatalog.k8s.io], apiVersions: [v1beta1], resources: [serviceinstances]}]
YAML
fi
B1=e2e-migrate-$ID
e2e_cleanup_finalized "clusterservicebroker/$B1"
sha() { printf '%s' "$1" | sha224sum | cut -d' ' -f1; }
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
pair_yaml() { # INSTANCE BINDING IID BID
  cat <<YAML
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: $1, finalizers: [$FIN], labels: {servicecatalog.k8s.io/spec.clusterServiceClassRef.name: $(sha "$SVC"),
  servicecatalog.k8s.io/spec.clusterServicePlanRef.name: $(sha "$PLAN")}}
spec: {clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: small, externalID: $3,
       clusterServiceClassRef: {name: $SVC}, clusterServicePlanRef: {name: $PLAN}, updateRequests: 0,
       userInfo: {username: admin, uid: "", groups: [system:masters]}}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBinding
metadata: {name: $2, finalizers: [$FIN]}
spec: {instanceRef: {name: $1}, externalID: $4, secretName: $2, userInfo: {username: admin, uid: "", groups: [system:masters]}}
YAML
}
secret_yaml() { # BINDING CREDENTIALS-JSON
  local uid; uid=$(kc -n "$E2E_NS" get servicebinding "$1" -o jsonpath='{.metadata.uid}')
  printf '{"apiVersion":"v1","kind":"Secret","type":"Opaque","metadata":{"name":"%s","ownerReferences":[{"apiVersion":"servicecatalog.k8s.io/v1beta1","kind":"ServiceBinding","name":"%s","uid":"%s","controller":true,"blockOwnerDeletion":true}]},"data":%s}' \
    "$1" "$1" "$uid" "$(jq -c 'with_entries(.value |= (if type == "string" then . else tojson end | @base64))' <<<"$2")"
}
expect_ok "the objects as service-catalog made them" kc -n "$E2E_NS" apply -f - <<YAML
apiVersion: v1
kind: Secret
metadata: {name: broker-auth}
stringData: {username: admin, password: "$PW"}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServiceBroker
metadata: {name: $B1, finalizers: [$FIN]}
spec: {url: "$m1_URL", relistBehavior: Duration, relistDuration: 15m0s, relistRequests: 0,
       authInfo: {basic: {secretRef: {namespace: $E2E_NS, name: broker-auth}}}}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServiceClass
metadata: {name: $SVC, labels: {servicecatalog.k8s.io/spec.clusterServiceBrokerName: $(sha "$B1"),
  servicecatalog.k8s.io/spec.externalID: $(sha "$SVC"), servicecatalog.k8s.io/spec.externalName: $(sha "$CLS")}}
spec: {clusterServiceBrokerName: $B1, externalName: $CLS, externalID: $SVC, description: E2E migration, bindable: true,
       bindingRetrievable: true, instancesRetrievable: true, planUpdatable: false}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServicePlan
metadata: {name: $PLAN, labels: {servicecatalog.k8s.io/spec.clusterServiceBrokerName: $(sha "$B1"),
  servicecatalog.k8s.io/spec.clusterServiceClassRef.name: $(sha "$SVC"), servicecatalog.k8s.io/spec.externalID: $(sha "$PLAN"),
  servicecatalog.k8s.io/spec.externalName: $(sha small)}}
spec: {clusterServiceBrokerName: $B1, externalName: small, externalID: $PLAN, description: synchronous, free: true,
       clusterServiceClassRef: {name: $SVC}}
$(pair_yaml db db-creds "$IID" "$BID")
$(pair_yaml agg agg-creds "$IID2" "$BID2")
YAML
expect_ok "the bindings' Secrets, owned by them" kc -n "$E2E_NS" apply -f - <<JSON
$(secret_yaml db-creds "$BIND_CREDS")
$(secret_yaml agg-creds "$BIND_CREDS2")
JSON
api=/apis/servicecatalog.k8s.io/v1beta1
status_of() { # the status service-catalog's Go controller writes (pkg/controller)
  case $1 in
    broker) echo "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"$NOW\",\"reason\":\"FetchedCatalog\",\"message\":\"Successfully fetched catalog entries from broker.\"}],\"reconciledGeneration\":1,\"observedGeneration\":1,\"lastCatalogRetrievalTime\":\"$NOW\",\"lastConditionState\":\"Ready\"}}" ;;
    instance) echo "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"$NOW\",\"reason\":\"ProvisionedSuccessfully\",\"message\":\"The instance was provisioned successfully\"}],\"asyncOpInProgress\":false,\"orphanMitigationInProgress\":false,\"lastConditionState\":\"Ready\",\"userSpecifiedClassName\":\"ClusterServiceClass/$CLS\",\"userSpecifiedPlanName\":\"small\",\"reconciledGeneration\":1,\"observedGeneration\":1,\"provisionStatus\":\"Provisioned\",\"deprovisionStatus\":\"Required\",\"externalProperties\":{\"clusterServicePlanExternalName\":\"small\",\"clusterServicePlanExternalID\":\"$PLAN\",\"userInfo\":{\"username\":\"admin\",\"uid\":\"\",\"groups\":[\"system:masters\"]}}}}" ;;
    busy) echo "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\",\"lastTransitionTime\":\"$NOW\",\"reason\":\"Provisioning\",\"message\":\"The instance is being provisioned asynchronously\"}],\"asyncOpInProgress\":true,\"currentOperation\":\"Provision\",\"operationStartTime\":\"$NOW\",\"orphanMitigationInProgress\":false,\"lastConditionState\":\"Provisioning\",\"reconciledGeneration\":0,\"observedGeneration\":1,\"provisionStatus\":\"\",\"deprovisionStatus\":\"Required\"}}" ;;
    binding) echo "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"$NOW\",\"reason\":\"InjectedBindResult\",\"message\":\"Injected bind result\"}],\"asyncOpInProgress\":false,\"orphanMitigationInProgress\":false,\"lastConditionState\":\"Ready\",\"reconciledGeneration\":1,\"externalProperties\":{\"userInfo\":{\"username\":\"admin\",\"uid\":\"\",\"groups\":[\"system:masters\"]}},\"unbindStatus\":\"Required\"}}" ;;
  esac
}
expect_ok "the broker's status" patch_status "clusterservicebroker/$B1" merge "$(status_of broker)" "$api/clusterservicebrokers/$B1"
expect_ok "the instance's status" patch_status serviceinstance/db merge "$(status_of instance)" "$api/namespaces/$E2E_NS/serviceinstances/db"
expect_ok "the binding's status" patch_status servicebinding/db-creds merge "$(status_of binding)" "$api/namespaces/$E2E_NS/servicebindings/db-creds"
expect_ok "the second pair's status" patch_status serviceinstance/agg merge "$(status_of instance)" "$api/namespaces/$E2E_NS/serviceinstances/agg"
expect_ok "... and its binding's" patch_status servicebinding/agg-creds merge "$(status_of binding)" "$api/namespaces/$E2E_NS/servicebindings/agg-creds"
secret_json() { kc -n "$E2E_NS" get secret "$1" -o json 2>/dev/null | jq -cS '{type, data}'; }
SECRET_BEFORE=$(secret_json db-creds)
SECRET2_BEFORE=$(secret_json agg-creds)
expect_match "the Secret holds the broker's credentials" '"password"' "$SECRET_BEFORE"

# two objects that make the migration unsafe: a provision in progress, a field Bindery lacks
expect_ok "an instance mid-provision, one with an unknown spec field, a binding without its Secret" kc -n "$E2E_NS" apply -f - <<YAML
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: busy}
spec: {clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: small, externalID: busy-$ID}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: odd}
spec: {clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: small, externalID: odd-$ID, frobnicate: true}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBinding
metadata: {name: nosecret}
spec: {instanceRef: {name: db}, externalID: nosecret-$ID, secretName: nosecret}
YAML
expect_ok "a Ready binding whose Secret is gone" patch_status servicebinding/nosecret merge "$(status_of binding)" "$api/namespaces/$E2E_NS/servicebindings/nosecret"
expect_ok "busy's status" patch_status serviceinstance/busy merge "$(status_of busy)" "$api/namespaces/$E2E_NS/serviceinstances/busy"

# --- plan -------------------------------------------------------------------------------------------
MARK=$(($(wc -l <"$E2E_TMP/m1/log") + 1))   # the migration starts here
# mig ARGS...: kubectl svcat migrate ARGS; MIG_OUT, MIG_ERR, MIG_RC. E2E_MIGRATE_TRANSCRIPT=FILE
# appends each command and its output to FILE (docs/migration.md's examples).
mig() {
  MIG_OUT=$(timeout -k 5 60 "$KUBECTL" svcat migrate "$@" 2>"$E2E_TMP/mig.err"); MIG_RC=$?
  MIG_ERR=$(cat "$E2E_TMP/mig.err")
  if [ -n "${E2E_MIGRATE_TRANSCRIPT:-}" ]; then
    { printf '$ kubectl svcat migrate %s\n' "$*"; [ -n "$MIG_OUT" ] && printf '%s\n' "$MIG_OUT"
      [ -n "$MIG_ERR" ] && printf '%s\n' "$MIG_ERR"; [ "$MIG_RC" = 0 ] || echo "(exit $MIG_RC)"; echo; } >>"$E2E_MIGRATE_TRANSCRIPT"
  fi
}
CRDS=$top_srcdir/deploy/crds
mig plan --crds "$CRDS"
expect_eq "plan refuses: exit 1" 1 "$MIG_RC"
expect_match "... the instance mid-provision, saying why" "ServiceInstance +$E2E_NS +busy +REFUSED: an operation is in progress \(Provision\)" "$MIG_OUT"
expect_match "... the unknown field, naming it" "ServiceInstance +$E2E_NS +odd +REFUSED: unknown field spec.frobnicate" "$MIG_OUT"
expect_match "... the binding without its Secret" "Secret +$E2E_NS +nosecret +REFUSED: the Ready binding's Secret is missing" "$MIG_OUT"
expect_match "... and says it is not safe" "not safe to migrate now: 3 objects refused" "$MIG_ERR"
expect_match "plan: the Ready instance is kept" "ServiceInstance +$E2E_NS +db +kept, Ready: status and externalID unchanged, nothing sent to the broker" "$MIG_OUT"
expect_match "plan: the binding's Secret is kept byte for byte" "Secret +$E2E_NS +db-creds +kept byte for byte" "$MIG_OUT"
expect_match "plan: the broker refetches its catalog only" "ClusterServiceBroker +- +$B1 +kept: Bindery fetches its catalog again" "$MIG_OUT"
expect_match "plan: the CRDs are replaced keeping the objects" "CustomResourceDefinition serviceinstances.servicecatalog.k8s.io: replaced by run with Bindery's, keeping the stored objects" "$MIG_OUT"
mig run --dir "$MDIR" --crds "$CRDS" --old-namespace "$E2E_NS"
expect_eq "run refuses too, and writes no snapshot" "1 no" "$MIG_RC $([ -e "$MDIR/objects.json" ] && echo yes || echo no)"
expect_ok "settle them: the provision ended (as service-catalog would record it), the odd one deleted" \
  patch_status serviceinstance/busy merge "$(status_of instance)" "$api/namespaces/$E2E_NS/serviceinstances/busy"
expect_ok "delete odd and nosecret (they have no finalizer)" kc -n "$E2E_NS" delete serviceinstance/odd servicebinding/nosecret --timeout=30s
expect_ok "... busy is not the broker's: let it go too" kc -n "$E2E_NS" delete serviceinstance busy --timeout=30s
mig plan --crds "$CRDS"
expect_eq "plan now: safe (exit 0)" "0" "$MIG_RC"
expect_match "... and says how to go on" "Safe to migrate: kubectl svcat migrate run" "$MIG_OUT"
mig export --dir "$MDIR"
expect_eq "export: exit 0" 0 "$MIG_RC"
expect_match "... the objects and the Secrets' digests" "Exported [0-9]+ objects and [0-9]+ Secret digests to $MDIR/objects.json" "$MIG_OUT"
expect_no_match "... never a Secret's data" "$(jq -r '.password' <<<"$BIND_CREDS2")" "$(cat "$MDIR/objects.json")"
# what the end of an aggregated API server looks like: export (on such a cluster) takes the
# Secret's owner reference away, then the objects go with that server's etcd
expect_ok "agg-creds's Secret loses its owner reference (what export does in aggregated mode)" \
  kc -n "$E2E_NS" patch secret agg-creds --type=json -p '[{"op":"remove","path":"/metadata/ownerReferences"}]'
for o in servicebinding/agg-creds serviceinstance/agg; do
  kc -n "$E2E_NS" patch "$o" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
  kc -n "$E2E_NS" delete "$o" --timeout=30s >/dev/null
done
expect_ok "the second pair is gone from the cluster" eval '! kc -n "$E2E_NS" get serviceinstance agg 2>/dev/null'

# --- run ---------------------------------------------------------------------------------------------
mig run --dir "$MDIR" --crds "$CRDS" --old-namespace "$E2E_NS"
expect_eq "run refuses while service-catalog's controller runs (exit 1)" 1 "$MIG_RC"
expect_match "... naming the Deployment and the command" "Deployment $E2E_NS/catalog-catalog-controller-manager still runs 1 replica: stop it first: kubectl scale deployment catalog-catalog-controller-manager -n $E2E_NS --replicas=0" "$MIG_ERR"
expect_ok "scale it to zero (the user's step)" kc -n "$E2E_NS" scale deployment catalog-catalog-controller-manager --replicas=0
# and wait until its Pods are gone (on a cluster with a deployment controller status.replicas
# follows; run checks both)
stopped() { [ "$(kc -n "$E2E_NS" get deployment catalog-catalog-controller-manager -o jsonpath='{.status.replicas}')" -eq 0 ] 2>/dev/null ||
            [ -z "$(kc -n "$E2E_NS" get deployment catalog-catalog-controller-manager -o jsonpath='{.status.replicas}')" ]; }
eventually 60 stopped
mig run --dir "$MDIR" --crds "$CRDS" --old-namespace "$E2E_NS" --stop-after 4
expect_eq "run, interrupted after step 4 (--stop-after): exit 0" 0 "$MIG_RC"
expect_match "... it kept the exported snapshot" "objects.json taken earlier: kept \([0-9]+ objects\)" "$MIG_OUT"
expect_match "... replaced the CRDs" "replaced serviceinstances.servicecatalog.k8s.io \(the stored objects are kept\)" "$MIG_OUT"
expect_match "... and stopped there" "Stopped after step 4" "$MIG_OUT"
if [ $HAVE_HOOKS = 1 ]; then
  expect_match "... deleted service-catalog's webhook configuration" "deleted MutatingWebhookConfiguration $HOOK" "$MIG_OUT"
  expect_fail_with "... it is gone" 'NotFound|not found' kc get mutatingwebhookconfiguration "$HOOK"
else
  e2e_skip "run deletes service-catalog's webhook configurations" "this API server does not serve admissionregistration.k8s.io"
fi
expect_eq "the stored objects are still there under Bindery's CRDs" "db db-creds" \
  "$(kc -n "$E2E_NS" get serviceinstance db -o jsonpath='{.metadata.name}') $(kc -n "$E2E_NS" get servicebinding db-creds -o jsonpath='{.metadata.name}')"
expect_eq "Bindery's schema is installed (deletionPolicy is known)" "Orphan" \
  "$(kc get crd serviceinstances.servicecatalog.k8s.io -o json | jq -r '.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.deletionPolicy.enum[1]')"
mig run --dir "$MDIR" --crds "$CRDS" --old-namespace "$E2E_NS"
expect_eq "run again: it carries on to the end (exit 0)" 0 "$MIG_RC"
expect_match "... keeping the snapshot it took" "taken earlier: kept" "$MIG_OUT"
expect_match "... the CRDs are done" "serviceinstances.servicecatalog.k8s.io: Bindery's already" "$MIG_OUT"
expect_match "... it created the exported pair with its status, and the Secret's owner" \
  "2 objects created, 2 statuses restored, [0-9]+ already as in the snapshot; 1 Secret given to its binding again" "$MIG_OUT"
expect_eq "agg is back, Ready as service-catalog left it, with its externalID" "True ProvisionedSuccessfully Provisioned $IID2" \
  "$(kc -n "$E2E_NS" get serviceinstance agg -o json | jq -r '"\(.status.conditions[0].status) \(.status.conditions[0].reason) \(.status.provisionStatus) \(.spec.externalID)"')"
expect_eq "agg-creds's Secret is owned by the binding as created again" \
  "$(kc -n "$E2E_NS" get servicebinding agg-creds -o jsonpath='{.metadata.uid}')" \
  "$(kc -n "$E2E_NS" get secret agg-creds -o jsonpath='{.metadata.ownerReferences[0].uid}')"
expect_match "... the finalizer step" "6. \[run\] give every instance and binding the finalizer" "$MIG_OUT"
expect_match "... and says what is left to the user" "7. \[you\] start Bindery's controller" "$MIG_OUT"
mig run --dir "$MDIR" --crds "$CRDS" --old-namespace "$E2E_NS"
expect_eq "a third run changes nothing" "0 Done: 0 changes made in the cluster." "$MIG_RC $(tail -n 1 <<<"$MIG_OUT")"
expect_eq "the instance keeps its status and finalizer" "True ProvisionedSuccessfully Provisioned $FIN" \
  "$(kc -n "$E2E_NS" get serviceinstance db -o json | jq -r '"\(.status.conditions[0].status) \(.status.conditions[0].reason) \(.status.provisionStatus) \(.metadata.finalizers | join(","))"')"

# --- Bindery takes over ------------------------------------------------------------------------------
kc get configmap cluster-info -n default -o name >/dev/null 2>&1 || e2e_cleanup_add "configmap cluster-info -n default"
e2e_start_controller ctl || exit 1
eventually 15 curl -sf --max-time 2 -o /dev/null "$ctl_URL/readyz"
expect_ok "the broker is Ready under Bindery" kc wait --for=condition=Ready "clusterservicebroker/$B1" --timeout=30s
reconciled() { # KIND: the controller reconciled at least one object of KIND
  local n; n=$(metric_sum ctl catalog_controller_reconcile_duration_seconds_count "kind=\"$1\"")
  [ "$n" != none ] && [ "$n" != error ] && [ "$n" -ge 1 ]
}
eventually 20 reconciled ServiceInstance
eventually 20 reconciled ServiceBinding
expect_ok "Bindery reconciled the instance and the binding" reconciled ServiceBinding
mig verify --dir "$MDIR"
expect_eq "verify: exit 0" 0 "$MIG_RC"
expect_match "... the instance: Ready, same externalID" "ServiceInstance +$E2E_NS +db +ok: Ready, externalID $IID" "$MIG_OUT"
expect_match "... the binding: Ready, same externalID" "ServiceBinding +$E2E_NS +db-creds +ok: Ready, externalID $BID" "$MIG_OUT"
expect_match "... the Secret: byte for byte" "Secret +$E2E_NS +db-creds +ok: byte for byte unchanged" "$MIG_OUT"
expect_eq "the Secret, read here too, is unchanged" "$SECRET_BEFORE" "$(secret_json db-creds)"
expect_match "... the re-created binding too" "ServiceBinding +$E2E_NS +agg-creds +ok: Ready, externalID $BID2" "$MIG_OUT"
expect_eq "agg-creds's Secret is unchanged" "$SECRET2_BEFORE" "$(secret_json agg-creds)"
expect_eq "the broker got no provision, bind, update, deprovision or unbind since the migration started" 0 \
  "$(changes_since "$MARK")"
expect_eq "Ready stays Ready" "True True True" \
  "$(kc -n "$E2E_NS" get serviceinstance db -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') $(kc -n "$E2E_NS" get servicebinding db-creds -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') $(kc -n "$E2E_NS" get servicebinding agg-creds -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')"
expect_eq "the broker still holds both (GET 200)" "200 200" \
  "$(osb GET "/v2/service_instances/$IID") $(osb GET "/v2/service_instances/$IID/service_bindings/$BID")"
if [ -n "${E2E_MIGRATE_TRANSCRIPT:-}" ]; then
  { echo "# the broker's request log from the start of the migration:"; tail -n +"$MARK" "$E2E_TMP/m1/log"; } >>"$E2E_MIGRATE_TRANSCRIPT"
fi
# now the objects are Bindery's: deleting the binding unbinds at the broker
expect_ok "delete the binding: Bindery unbinds it" kc -n "$E2E_NS" delete servicebinding db-creds --timeout=30s
expect_eq "one unbind (DELETE) at the broker" 1 \
  "$(tail -n +"$MARK" "$E2E_TMP/m1/log" | grep -cF " method=DELETE path=/v2/service_instances/$IID/service_bindings/$BID " || true)"
expect_ok "the controller is still healthy" curl -sf --max-time 5 "$ctl_URL/healthz"
e2e_done
