#!/bin/bash
# J3/J5, an app developer provisions, updates and deletes ServiceInstances (issue 5): real
# osb-broker processes on loopback and a catalog-controller pointed at the cluster. Provisioning
# by class/plan external name, external ID and Kubernetes name, and with the plan left out of a
# one-plan class; kubectl's printer columns; the status fields; spec.userInfo sent as the
# originating identity; parameters and parametersFrom (redacted in status, checksummed); bad
# references and bad parametersFrom with their reasons; an asynchronous provision that is Ready
# within ~2 s of the broker finishing; updates by plan, parameters, updateRequests and by editing
# a Secret named in parametersFrom; orphan mitigation after an asynchronous failure, a
# synchronous 500 (retried, with status.nextRetryTime), a time-out (a broker slower than
# --osb-timeout) and a polling horizon (maximum_polling_duration), and none with the opt-out
# annotation; a broker stopped in the middle of a provision and of a deprovision; a controller
# killed with SIGKILL in the middle of a provision; delete, abandon, and deleting a namespace
# that holds instances and bindings. Cluster facts come from kubectl; broker facts from the OSB
# API (curl on loopback), the broker's request log and its SQLite file (sqlite3, when installed).
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$OSB_BROKER" osb-broker
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller
e2e_install_crds "$top_srcdir/deploy/crds"

ID=$E2E_ID
L=servicecatalog.k8s.io
FIN=kubernetes-incubator/service-catalog
T0=$SECONDS
HAVE_SQLITE=0
command -v sqlite3 >/dev/null 2>&1 && HAVE_SQLITE=1
[ $HAVE_SQLITE = 1 ] || echo "# sqlite3 is not installed: the checks of the brokers' databases are skipped (apt-get install sqlite3)"

# --- catalogs ----------------------------------------------------------------------------------
# b1: the main broker. b2: stopped and started again mid-journey. b3: slower than --osb-timeout.
SVC=e2e-$ID-i-db;        CLS=e2e-idb-$ID
P_SMALL=e2e-$ID-i-small; P_LARGE=e2e-$ID-i-large; P_ASYNC=e2e-$ID-i-async; P_ASLOW=e2e-$ID-i-aslow
P_AFAIL=e2e-$ID-i-afail; P_SFAIL=e2e-$ID-i-sfail; P_POLL=e2e-$ID-i-poll
SVC1=e2e-$ID-i-one;      CLS1=e2e-ione-$ID;      P_ONLY=e2e-$ID-i-only
SVCF=e2e-$ID-f-svc;      CLSF=e2e-iflaky-$ID;    P_PLAIN=e2e-$ID-f-plain; P_ASYNC5=e2e-$ID-f-async
SVCS=e2e-$ID-s-svc;      CLSS=e2e-islow-$ID;     P_SLOW=e2e-$ID-s-slow
AFAIL_MSG="e2e async provision fails on purpose"
SFAIL_MSG="e2e sync provision fails on purpose"
cat >"$E2E_TMP/b1.json" <<JSON
{"services":[
 {"id":"$SVC","name":"$CLS","description":"E2E instances","bindable":true,"instances_retrievable":true,
  "bindings_retrievable":true,"plan_updateable":true,"plans":[
  {"id":"$P_SMALL","name":"small","description":"synchronous",
   "x-bindery-backend":{"type":"static","dashboard_url":"https://dash.e2e.invalid/{instance_id}"}},
  {"id":"$P_LARGE","name":"large","description":"synchronous, the other plan","x-bindery-backend":{"type":"static"}},
  {"id":"$P_ASYNC","name":"async","description":"asynchronous, 1 s",
   "x-bindery-backend":{"type":"static","async":"optional","delay":"1s"}},
  {"id":"$P_ASLOW","name":"async-slow","description":"asynchronous, 4 s",
   "x-bindery-backend":{"type":"static","async":"optional","delay":"4s"}},
  {"id":"$P_AFAIL","name":"async-fail","description":"asynchronous provisions fail",
   "x-bindery-backend":{"type":"static","async":"optional","delay":"500ms","fail":["provision"],"fail_message":"$AFAIL_MSG"}},
  {"id":"$P_SFAIL","name":"sync-fail","description":"synchronous provisions fail (500)",
   "x-bindery-backend":{"type":"static","fail":["provision"],"fail_message":"$SFAIL_MSG"}},
  {"id":"$P_POLL","name":"poll-limit","description":"asynchronous, 60 s, but polled for 2 s at most",
   "maximum_polling_duration":2,"x-bindery-backend":{"type":"static","async":"optional","delay":"60s","retry_after":1}}]},
 {"id":"$SVC1","name":"$CLS1","description":"one plan","bindable":true,"instances_retrievable":true,"plans":[
  {"id":"$P_ONLY","name":"only","description":"the only plan"}]}]}
JSON
cat >"$E2E_TMP/b2.json" <<JSON
{"services":[{"id":"$SVCF","name":"$CLSF","description":"a broker that goes away","bindable":true,
 "instances_retrievable":true,"plans":[
  {"id":"$P_PLAIN","name":"plain","description":"synchronous"},
  {"id":"$P_ASYNC5","name":"async5","description":"asynchronous, 5 s, polled every second",
   "x-bindery-backend":{"type":"static","async":"optional","delay":"5s","retry_after":1}}]}]}
JSON
slow_catalog() { # SYNC-DELAY
  printf '{"services":[{"id":"%s","name":"%s","description":"a slow broker","bindable":true,"instances_retrievable":true,"plans":[{"id":"%s","name":"slow","description":"answers late","x-bindery-backend":{"type":"static","sync_delay":"%s"}}]}]}\n' \
    "$SVCS" "$CLSS" "$P_SLOW" "$1"
}
slow_catalog 2s >"$E2E_TMP/b3-slow.json"
slow_catalog 0s >"$E2E_TMP/b3-fast.json"
for f in b1 b2 b3-slow b3-fast; do jq -e . "$E2E_TMP/$f.json" >/dev/null || { echo "# bad catalog $f"; exit 1; }; done
N_DB=$(osb_k8s_name "$SVC"); N_SMALL=$(osb_k8s_name "$P_SMALL"); N_LARGE=$(osb_k8s_name "$P_LARGE")
N_ONE=$(osb_k8s_name "$SVC1"); N_ONLY=$(osb_k8s_name "$P_ONLY")

# --- daemons and brokers -------------------------------------------------------------------------
PW=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
BARGS=(--username admin --password "$PW")
e2e_start_broker b1 --catalog "$E2E_TMP/b1.json" "${BARGS[@]}" || exit 1
e2e_start_broker b2 --catalog "$E2E_TMP/b2.json" "${BARGS[@]}" || exit 1
e2e_start_broker b3 --catalog "$E2E_TMP/b3-slow.json" "${BARGS[@]}" || exit 1
# The cluster id the controller keeps in ConfigMap default/cluster-info: removed at the end
# when this test's controller made it.
kc get configmap cluster-info -n default -o name >/dev/null 2>&1 || e2e_cleanup_add "configmap cluster-info -n default"
# --osb-timeout 1s: b3 answers after 2 s. --max-retry-interval 2s: retries stay within CI's time.
CTL_ARGS=(--osb-timeout 1s --max-retry-interval 2s)
e2e_start_controller ctl "${CTL_ARGS[@]}" || exit 1
eventually 15 curl -sf --max-time 2 -o /dev/null "$ctl_URL/readyz"

B1=e2e-inst-$ID; B2=e2e-iflaky-$ID; B3=e2e-islow-$ID
for b in "$B1" "$B2" "$B3"; do e2e_cleanup_finalized "clusterservicebroker/$b"; done
expect_ok "apply the brokers' Secret and three ClusterServiceBrokers" kc apply -f - <<YAML
apiVersion: v1
kind: Secret
metadata: {name: broker-auth, namespace: $E2E_NS}
stringData: {username: admin, password: "$PW"}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServiceBroker
metadata: {name: $B1}
spec: {url: "$b1_URL", authInfo: {basic: {secretRef: {namespace: $E2E_NS, name: broker-auth}}}}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServiceBroker
metadata: {name: $B2}
spec: {url: "$b2_URL", authInfo: {basic: {secretRef: {namespace: $E2E_NS, name: broker-auth}}}}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServiceBroker
metadata: {name: $B3}
spec: {url: "$b3_URL", authInfo: {basic: {secretRef: {namespace: $E2E_NS, name: broker-auth}}}}
YAML
if ! expect_ok "the brokers become Ready (kubectl wait, 30 s)" kc wait --for=condition=Ready \
     "clusterservicebroker/$B1" "clusterservicebroker/$B2" "clusterservicebroker/$B3" --timeout=30s; then
  echo "# the rest of this test needs Ready brokers: it ends here"; exit 1
fi
n_plans() { kc get clusterserviceplans -l "$L/spec.clusterServiceBrokerName=$(sha224 "$1")" -o name 2>/dev/null | wc -l; }
plans_listed() { [ "$(n_plans "$B1")" -ge 8 ] && [ "$(n_plans "$B2")" -ge 2 ] && [ "$(n_plans "$B3")" -ge 1 ]; }
eventually 15 plans_listed
expect_eq "the brokers' plans are listed (8, 2, 1)" "8 2 1" "$(n_plans "$B1") $(n_plans "$B2") $(n_plans "$B3")"

# --- helpers -------------------------------------------------------------------------------------
tick() { echo "# t+$((SECONDS - T0)) s: $1"; }   # where the time goes (shown with E2E_VERBOSE=1)
sij() { kn get serviceinstance "$1" -o json 2>/dev/null; }
# sif NAME JQ-FILTER: one field of the instance
sif() { sij "$1" | jq -r "$2" 2>/dev/null; }
# cond NAME TYPE: "Status Reason" of that condition ("" when absent); cmsg: its message
cond() { sij "$1" | jq -r --arg t "$2" '.status.conditions[]? | select(.type == $t) | "\(.status) \(.reason)"' 2>/dev/null; }
cmsg() { sij "$1" | jq -r --arg t "$2" '.status.conditions[]? | select(.type == $t) | .message' 2>/dev/null; }
cond_is() { [ "$(cond "$1" "$2")" = "$3" ]; }
extid() { sif "$1" '.spec.externalID // ""'; }
# gone NAME: kubectl says NotFound (the output is captured first: set -o pipefail)
gone() { local out; out=$(kn get serviceinstance "$1" 2>&1); grep -Eq 'NotFound|not found' <<<"$out"; }
# ev NAMESPACE NAME: the Events about that ServiceInstance, "Type Reason: message" per line
ev() { kc get events -n "$1" --field-selector "involvedObject.name=$2" -o json 2>/dev/null |
         jq -r '.items[] | select(.involvedObject.kind == "ServiceInstance") | "\(.type) \(.reason): \(.message)"'; }
has_ev() { grep -Eq -- "$2" <<<"$(ev "$E2E_NS" "$1")"; }
# osb PREFIX METHOD PATH: one OSB request to a broker; prints the status, the body in $E2E_TMP/osb.body
osb() {
  local u="${1}_URL"
  curl -sS --max-time 10 -u "admin:$PW" -H 'X-Broker-API-Version: 2.17' -X "$2" -o "$E2E_TMP/osb.body" \
    -w '%{http_code}' "${!u}$3" 2>/dev/null
}
osb_body() { cat "$E2E_TMP/osb.body"; }
# blog PREFIX METHOD PATH [STATUS]: how many such requests the broker's log shows (all its runs)
blog() { grep -cF -- " method=$2 path=$3 ${4:+status=$4 }" "$E2E_TMP/$1/log" 2>/dev/null || true; }
blog_ge() { [ "$(blog "$1" "$2" "$3")" -ge "$4" ]; }
# bsql PREFIX SQL: a query on the broker's SQLite file
bsql() { sqlite3 -cmd '.timeout 3000' "$E2E_TMP/$1/broker.db" "$2" 2>&1; }
now_ms() { date +%s%3N; }
RFC3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'
UUID='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
e2e_sc_teardown   # bindings and instances deleted before the harness's teardown (lib.sh)

# --- the instances, all at once ------------------------------------------------------------------
tick "the instances, all at once"
PARAMS_FROM='{"password":"s3cret","region":"eu"}'
expect_ok "create the Secrets that parametersFrom names" kn apply -f - <<YAML
apiVersion: v1
kind: Secret
metadata: {name: inst-params}
stringData:
  creds: '$PARAMS_FROM'
---
apiVersion: v1
kind: Secret
metadata: {name: inst-bad}
stringData:
  notjson: 'region=eu'
YAML
si_yaml() { # NAME SPEC-FLOW-MAPPING [ANNOTATIONS-FLOW-MAPPING]
  printf -- '---\napiVersion: servicecatalog.k8s.io/v1beta1\nkind: ServiceInstance\nmetadata: {name: %s%s}\nspec: %s\n' \
    "$1" "${3:+, annotations: $3}" "$2"
}
T_CREATE=$(now_ms)
expect_ok "create 20 ServiceInstances (one kubectl apply)" kn apply -f - <<YAML
$(si_yaml ext "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: small}")
$(si_yaml byid "{clusterServiceClassExternalID: $SVC, clusterServicePlanExternalID: $P_SMALL}")
$(si_yaml byname "{clusterServiceClassName: $N_DB, clusterServicePlanName: $N_LARGE}")
$(si_yaml oneplan "{clusterServiceClassExternalName: $CLS1}")
$(si_yaml params "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: small, parameters: {size: 3, tier: gold, nested: {a: [1, 2]}}, parametersFrom: [{secretKeyRef: {name: inst-params, key: creds}}]}")
$(si_yaml noclass "{clusterServiceClassExternalName: e2e-nope-$ID, clusterServicePlanExternalName: small}")
$(si_yaml noplan "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: nope-$ID}")
$(si_yaml nosecret "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: small, parametersFrom: [{secretKeyRef: {name: late-secret-$ID, key: creds}}]}")
$(si_yaml nokey "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: small, parametersFrom: [{secretKeyRef: {name: inst-params, key: nokey-$ID}}]}")
$(si_yaml notjson "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: small, parametersFrom: [{secretKeyRef: {name: inst-bad, key: notjson}}]}")
$(si_yaml dupkey "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: small, parameters: {region: us}, parametersFrom: [{secretKeyRef: {name: inst-params, key: creds}}]}")
$(si_yaml async "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: async}")
$(si_yaml afail "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: async-fail}")
$(si_yaml sfail "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: sync-fail}")
$(si_yaml optout "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: sync-fail}" "{bindery.dev/orphan-mitigation: disabled}")
$(si_yaml poll "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: poll-limit}")
$(si_yaml timeout "{clusterServiceClassExternalName: $CLSS, clusterServicePlanExternalName: slow}")
$(si_yaml plain "{clusterServiceClassExternalName: $CLSF, clusterServicePlanExternalName: plain}")
$(si_yaml abandon "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: small}")
$(si_yaml ident "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: small, userInfo: {username: alice-$ID, uid: uid-$ID, groups: [e2e-devs]}}")
YAML

# --- asynchronous provision: Ready within ~2 s of the broker finishing ---------------------------
tick "asynchronous provision: Ready within ~2 s of the broker finishing"
eventually 20 cond_is async Ready "True ProvisionedSuccessfully"
T_READY=$(now_ms)
expect_eq "async (delay 1s): Ready True, ProvisionedSuccessfully" "True ProvisionedSuccessfully" "$(cond async Ready)"
echo "# async: Ready $((T_READY - T_CREATE)) ms after kubectl apply"
X_ASYNC=$(extid async)
if [ $HAVE_SQLITE = 1 ]; then
  fin=$(bsql b1 "SELECT finished_at FROM operations WHERE instance_id = '$X_ASYNC' AND kind = 'provision' AND state = 'succeeded'")
  if [[ "$fin" =~ ^[0-9]+$ ]]; then
    lag=$((T_READY - fin))
    echo "# figure: async provision: Ready seen $lag ms after the broker finished"
    # Expected about 2 s (the figure above, and docs/benchmarks.md); asserted is only a bound a
    # loaded machine cannot break, well under the controller's back-off after a first poll.
    if [ $lag -le 10000 ]; then e2e_ok "async: Ready seen within 10 s of the broker finishing (${lag} ms)"
    else e2e_not_ok "async: Ready seen within 10 s of the broker finishing" "<= 10000 ms" "$lag ms"; fi
  else
    e2e_not_ok "async: the broker's database holds a succeeded provision operation" "a finished_at time" "$fin"
  fi
  expect_eq "async: the broker ran it as an asynchronous operation (one provision operation)" 1 \
    "$(bsql b1 "SELECT count(*) FROM operations WHERE instance_id = '$X_ASYNC' AND kind = 'provision'")"
else
  e2e_skip "async: Ready within 10 s of the broker finishing" "no sqlite3"
  expect_eq "async (delay 1s): Ready within 11 s of kubectl apply" yes "$([ $((T_READY - T_CREATE)) -le 11000 ] && echo yes || echo "no: $((T_READY - T_CREATE)) ms")"
fi
expect_eq "async: the broker's instance_last_operation endpoint was polled" yes \
  "$([ "$(blog b1 GET "/v2/service_instances/$X_ASYNC/last_operation")" -ge 1 ] && echo yes || echo no)"

# --- synchronous provisions, by external name, external ID, k8s name, and plan left out ----------
tick "synchronous provisions, by external name, external ID, k8s name, and plan left out"
if ! expect_ok "ext, byid, byname, oneplan, params become Ready (kubectl wait, 30 s)" kn wait --for=condition=Ready \
     serviceinstance/ext serviceinstance/byid serviceinstance/byname serviceinstance/oneplan serviceinstance/params --timeout=30s; then
  kn get serviceinstances -o yaml 2>&1 | grep -E '^  name:|reason|message' | sed 's/^/#   /' | head -40
fi
expect_ok "kubectl get serviceinstances" kn get serviceinstances ext byid byname oneplan params
printf '%s\n' "$OUT" | sed 's/^/#   /'
expect_match "printer columns: NAME CLASS PLAN STATUS AGE" '^NAME +CLASS +PLAN +STATUS +AGE$' "$OUT"
expect_match "by external name: Class ClusterServiceClass/<external name>, Plan small, Status Ready" \
  "^ext +ClusterServiceClass/$CLS +small +Ready +" "$OUT"
expect_match "by external ID: the class and plan as written" "^byid +ClusterServiceClass/$SVC +$P_SMALL +Ready +" "$OUT"
expect_match "by Kubernetes name: the class and plan as written" "^byname +ClusterServiceClass/$N_DB +$N_LARGE +Ready +" "$OUT"
expect_match "plan left out of a one-plan class: Class as written, Plan the only plan, Ready" \
  "^oneplan +ClusterServiceClass/$CLS1 +only +Ready +" "$OUT"

J=$(sij ext); X_EXT=$(jq -r '.spec.externalID // ""' <<<"$J")
expect_match "spec.externalID is set to a UUID" "$UUID" "$X_EXT"
expect_eq "spec.clusterServiceClassRef / clusterServicePlanRef are resolved" "$N_DB $N_SMALL" \
  "$(jq -r '"\(.spec.clusterServiceClassRef.name) \(.spec.clusterServicePlanRef.name)"' <<<"$J")"
expect_eq "labels .../spec.clusterServiceClassRef.name and ...PlanRef.name = SHA-224 of the names" \
  "$(sha224 "$N_DB") $(sha224 "$N_SMALL")" \
  "$(jq -r --arg l "$L" '"\(.metadata.labels[$l+"/spec.clusterServiceClassRef.name"]) \(.metadata.labels[$l+"/spec.clusterServicePlanRef.name"])"' <<<"$J")"
expect_match "the finalizer $FIN" "\"$FIN\"" "$(jq -c '.metadata.finalizers' <<<"$J")"
expect_eq "status: Ready True ProvisionedSuccessfully, no Failed or OrphanMitigation condition" "Ready True ProvisionedSuccessfully" \
  "$(jq -r '[.status.conditions[]? | "\(.type) \(.status) \(.reason)"] | join(";")' <<<"$J")"
expect_eq "status: provisionStatus Provisioned, deprovisionStatus Required, lastConditionState Ready" "Provisioned Required Ready" \
  "$(jq -r '.status | "\(.provisionStatus) \(.deprovisionStatus) \(.lastConditionState)"' <<<"$J")"
expect_eq "status: asyncOpInProgress false, no currentOperation, no operationStartTime, no lastOperation" "false   " \
  "$(jq -r '.status | "\(.asyncOpInProgress) \(.currentOperation // "") \(.operationStartTime // "") \(.lastOperation // "")"' <<<"$J")"
expect_eq "status: observedGeneration = reconciledGeneration = metadata.generation" \
  "$(jq -r '.metadata.generation' <<<"$J") $(jq -r '.metadata.generation' <<<"$J")" \
  "$(jq -r '"\(.status.observedGeneration) \(.status.reconciledGeneration)"' <<<"$J")"
expect_eq "status.externalProperties: the plan's external name and ID" "small $P_SMALL" \
  "$(jq -r '.status.externalProperties | "\(.clusterServicePlanExternalName) \(.clusterServicePlanExternalID)"' <<<"$J")"
expect_eq "status.userSpecifiedClassName / userSpecifiedPlanName" "ClusterServiceClass/$CLS small" \
  "$(jq -r '"\(.status.userSpecifiedClassName) \(.status.userSpecifiedPlanName)"' <<<"$J")"
expect_eq "status.dashboardURL from the broker" "https://dash.e2e.invalid/$X_EXT" "$(jq -r '.status.dashboardURL' <<<"$J")"
eventually 10 has_ev ext '^Normal ProvisionedSuccessfully'
expect_match "an Event Normal ProvisionedSuccessfully" '^Normal ProvisionedSuccessfully' "$(ev "$E2E_NS" ext)"
expect_ok "kubectl describe serviceinstance ext" kn describe serviceinstance ext
expect_match "describe shows the Event" 'ProvisionedSuccessfully' "$OUT"
expect_eq "broker: GET /v2/service_instances/<externalID> is 200 with the service and plan" "200 $SVC $P_SMALL" \
  "$(osb b1 GET "/v2/service_instances/$X_EXT") $(osb_body | jq -r '"\(.service_id) \(.plan_id)"')"
expect_eq "broker: exactly one provision request for it (PUT, 201)" "1 1" \
  "$(blog b1 PUT "/v2/service_instances/$X_EXT") $(blog b1 PUT "/v2/service_instances/$X_EXT" 201)"
NS_UID=$(kc get namespace "$E2E_NS" -o jsonpath='{.metadata.uid}')
CLUSTER_ID=$(kc get configmap cluster-info -n default -o jsonpath='{.data.id}' 2>&1)
expect_match "the controller keeps a cluster id in ConfigMap default/cluster-info" '^[^ ]+$' "$CLUSTER_ID"
if [ $HAVE_SQLITE = 1 ]; then
  expect_eq "broker DB: organization_guid = cluster id, space_guid = namespace uid" "$CLUSTER_ID|$NS_UID" \
    "$(bsql b1 "SELECT organization_guid, space_guid FROM instances WHERE id = '$X_EXT'")"
  expect_eq "broker DB: context platform, namespace, namespace_uid, clusterid, instance_name" \
    "kubernetes $E2E_NS $NS_UID $CLUSTER_ID ext" \
    "$(bsql b1 "SELECT context FROM instances WHERE id = '$X_EXT'" | jq -r '"\(.platform) \(.namespace) \(.namespace_uid) \(.clusterid) \(.instance_name)"' 2>&1)"
else
  e2e_skip "broker DB: organization_guid, space_guid, context" "no sqlite3"
fi
expect_eq "byid: resolved to the same class and plan" "$N_DB $N_SMALL" \
  "$(sif byid '"\(.spec.clusterServiceClassRef.name) \(.spec.clusterServicePlanRef.name)"')"
expect_eq "byname: plan large, externalProperties say so" "$N_LARGE large $P_LARGE" \
  "$(sif byname '"\(.spec.clusterServicePlanRef.name) \(.status.externalProperties.clusterServicePlanExternalName) \(.status.externalProperties.clusterServicePlanExternalID)"')"
expect_eq "oneplan: the class's only plan is resolved" "$N_ONE $N_ONLY only" \
  "$(sif oneplan '"\(.spec.clusterServiceClassRef.name) \(.spec.clusterServicePlanRef.name) \(.status.externalProperties.clusterServicePlanExternalName)"')"
expect_eq "broker: byname is on plan large, oneplan on the only plan" "200 $P_LARGE 200 $P_ONLY" \
  "$(osb b1 GET "/v2/service_instances/$(extid byname)") $(osb_body | jq -r .plan_id) $(osb b1 GET "/v2/service_instances/$(extid oneplan)") $(osb_body | jq -r .plan_id)"

# spec.userInfo: sent as X-Broker-API-Originating-Identity (the broker logs its platform and user)
eventually 15 cond_is ident Ready "True ProvisionedSuccessfully"
X_IDENT=$(extid ident)
expect_match "spec.userInfo: the broker saw the originating identity (platform kubernetes, the user)" \
  " method=PUT path=/v2/service_instances/$X_IDENT status=201 .* platform=kubernetes user=\"?alice-$ID\"?( |\$)" \
  "$(grep -F " path=/v2/service_instances/$X_IDENT " "$E2E_TMP/b1/log")"
expect_eq "... and status.externalProperties.userInfo records it" "alice-$ID uid-$ID e2e-devs" \
  "$(sif ident '.status.externalProperties.userInfo | "\(.username) \(.uid) \(.groups | join(","))"')"

# --- parameters and parametersFrom -----------------------------------------------------------------
tick "parameters and parametersFrom"
FULL='{"nested":{"a":[1,2]},"password":"s3cret","region":"eu","size":3,"tier":"gold"}'
checksum() { printf '%s' "$1" | jq -cS . | tr -d '\n' | sha256sum | cut -d' ' -f1; }
expect_eq "params: externalProperties.parameters with the Secret's values redacted" \
  '{"nested":{"a":[1,2]},"password":"<redacted>","region":"<redacted>","size":3,"tier":"gold"}' \
  "$(sij params | jq -cS '.status.externalProperties.parameters' 2>&1)"
expect_eq "params: parameterChecksum = SHA-256 of the full parameters (compact, sorted keys)" "$(checksum "$FULL")" \
  "$(sif params '.status.externalProperties.parameterChecksum')"
expect_no_match "params: the Secret's values appear nowhere in the instance" 's3cret' "$(kn get serviceinstance params -o yaml 2>&1)"
X_PARAMS=$(extid params)
expect_eq "broker: the instance holds the full parameters (Secret values included)" "200 $FULL" \
  "$(osb b1 GET "/v2/service_instances/$X_PARAMS") $(osb_body | jq -cS .parameters)"

# --- bad references, bad parametersFrom ------------------------------------------------------------
tick "bad references, bad parametersFrom"
eventually 15 cond_is noclass Ready "False ReferencesNonexistentServiceClass"
expect_eq "a class that does not exist: Ready False ReferencesNonexistentServiceClass" "False ReferencesNonexistentServiceClass" "$(cond noclass Ready)"
expect_match "... the message names the class looked up" "e2e-nope-$ID" "$(cmsg noclass Ready)"
eventually 10 cond_is noplan Ready "False ReferencesNonexistentServicePlan"
expect_eq "a plan that does not exist: Ready False ReferencesNonexistentServicePlan" "False ReferencesNonexistentServicePlan" "$(cond noplan Ready)"
expect_match "... the message names the plan looked up" "nope-$ID" "$(cmsg noplan Ready)"
expect_match "kubectl get shows Status ReferencesNonexistentServicePlan" "^noplan +[^ ]* *[^ ]* *ReferencesNonexistentServicePlan +" \
  "$(kn get serviceinstance noplan 2>&1)"
for n in nosecret nokey notjson dupkey; do eventually 10 cond_is "$n" Ready "False ErrorWithParameters"; done
expect_eq "parametersFrom a missing Secret: Ready False ErrorWithParameters" "False ErrorWithParameters" "$(cond nosecret Ready)"
expect_match "... the message names the Secret" "late-secret-$ID" "$(cmsg nosecret Ready)"
expect_eq "parametersFrom a missing key: ErrorWithParameters" "False ErrorWithParameters" "$(cond nokey Ready)"
expect_match "... the message names the Secret and the key" "inst-params.*nokey-$ID|nokey-$ID.*inst-params" "$(cmsg nokey Ready)"
expect_eq "parametersFrom a value that is not a JSON object: ErrorWithParameters" "False ErrorWithParameters" "$(cond notjson Ready)"
expect_match "... the message names the Secret and the key" "inst-bad.*notjson|notjson.*inst-bad" "$(cmsg notjson Ready)"
expect_eq "a key set both in parameters and parametersFrom: ErrorWithParameters" "False ErrorWithParameters" "$(cond dupkey Ready)"
expect_match "... the message names the key" "region" "$(cmsg dupkey Ready)"
for n in nosecret nokey notjson dupkey; do
  expect_eq "$n: nothing was sent to the broker" "0" "$(x=$(extid "$n"); [ -n "$x" ] && blog b1 PUT "/v2/service_instances/$x" || echo "no spec.externalID")"
done
expect_ok "create the missing Secret" kn create secret generic "late-secret-$ID" --from-literal=creds='{"late":true}'
eventually 15 cond_is nosecret Ready "True ProvisionedSuccessfully"
expect_eq "once the Secret exists the instance is provisioned" "True ProvisionedSuccessfully" "$(cond nosecret Ready)"
expect_eq "broker: with the Secret's parameters" '{"late":true}' \
  "$(osb b1 GET "/v2/service_instances/$(extid nosecret)" >/dev/null; osb_body | jq -c .parameters)"

# --- failures and orphan mitigation ----------------------------------------------------------------
tick "failures and orphan mitigation"
# async failure: terminal Failed, and the broker is told to delete what it may have left
eventually 15 cond_is afail Failed "True ProvisionCallFailed"
expect_eq "async provision that fails: Failed True ProvisionCallFailed" "True ProvisionCallFailed" "$(cond afail Failed)"
expect_match "... the message carries the broker's description" "$AFAIL_MSG" "$(cmsg afail Failed)"
X_AFAIL=$(extid afail)
eventually 10 has_ev afail '^Warning StartingInstanceOrphanMitigation'
expect_match "... an Event Warning StartingInstanceOrphanMitigation" '^Warning StartingInstanceOrphanMitigation' "$(ev "$E2E_NS" afail)"
eventually 15 blog_ge b1 DELETE "/v2/service_instances/$X_AFAIL" 1
expect_match "... the broker got a DELETE for it (orphan mitigation)" '^[1-9]' "$(blog b1 DELETE "/v2/service_instances/$X_AFAIL")"
om_done() { [ -z "$(cond "$1" OrphanMitigation)" ] && [ "$(sif "$1" '.status.orphanMitigationInProgress // false')" = false ] && cond_is "$1" Ready "False OrphanMitigationSuccessful"; }
eventually 15 om_done afail
expect_eq "... afterwards: no OrphanMitigation condition, Ready False OrphanMitigationSuccessful, Failed stays" \
  "|False OrphanMitigationSuccessful|True ProvisionCallFailed|false" \
  "$(cond afail OrphanMitigation)|$(cond afail Ready)|$(cond afail Failed)|$(sif afail '.status.orphanMitigationInProgress // false')"
expect_eq "... the broker holds no such instance" 404 "$(osb b1 GET "/v2/service_instances/$X_AFAIL")"

# synchronous 500: orphan mitigation, then provisioning is retried, with the time in status
X_SFAIL=$(extid sfail)
eventually 10 has_ev sfail '^Warning StartingInstanceOrphanMitigation'
expect_match "sync provision answered 500: an Event Warning StartingInstanceOrphanMitigation" '^Warning StartingInstanceOrphanMitigation' "$(ev "$E2E_NS" sfail)"
eventually 10 blog_ge b1 DELETE "/v2/service_instances/$X_SFAIL" 1
expect_match "... the broker got a DELETE for it" '^[1-9]' "$(blog b1 DELETE "/v2/service_instances/$X_SFAIL")"
# The time and the message are read from one copy of the object: the instance keeps being
# retried, and each retry moves nextRetryTime on.
retry_shown() {
  local o t m
  o=$(sij "$1"); t=$(jq -r '.status.nextRetryTime // ""' <<<"$o" 2>/dev/null)
  m=$(jq -r '.status.conditions[]? | select(.type == "Ready") | .message' <<<"$o" 2>/dev/null)
  [ -n "$t" ] && [[ "$m" == *"will retry at $t"* ]]
}
eventually 15 retry_shown sfail
SF=$(sij sfail)
NRT=$(jq -r '.status.nextRetryTime // ""' <<<"$SF" 2>/dev/null)
expect_match "... status.nextRetryTime is an RFC 3339 time" "$RFC3339" "$NRT"
expect_match "... the Ready message says when: 'will retry at <nextRetryTime>'" "will retry at ${NRT//./\\.}" \
  "$(jq -r '.status.conditions[]? | select(.type == "Ready") | .message' <<<"$SF" 2>/dev/null)"
expect_eq "... Ready is False (not Failed: the error is temporary)" "False|" "$(cond sfail Ready | cut -d' ' -f1)|$(cond sfail Failed)"
eventually 15 blog_ge b1 PUT "/v2/service_instances/$X_SFAIL" 2
expect_match "... the provision is retried (the broker got it again)" '^([2-9]|[1-9][0-9])' "$(blog b1 PUT "/v2/service_instances/$X_SFAIL")"
expect_ok "move it to a plan that works (small)" kn patch serviceinstance sfail --type=merge -p '{"spec":{"clusterServicePlanExternalName":"small"}}'
eventually 20 cond_is sfail Ready "True ProvisionedSuccessfully"
expect_eq "... then it is provisioned, and nextRetryTime is gone" "True ProvisionedSuccessfully|" "$(cond sfail Ready)|$(sif sfail '.status.nextRetryTime // ""')"
expect_eq "broker: on plan small" "200 $P_SMALL" "$(osb b1 GET "/v2/service_instances/$X_SFAIL") $(osb_body | jq -r .plan_id)"

# the opt-out annotation: the same failure, retried, but never a DELETE
X_OPTOUT=$(extid optout)
eventually 15 blog_ge b1 PUT "/v2/service_instances/$X_OPTOUT" 2
expect_match "opt-out annotation: provisioning is still retried" '^([2-9]|[1-9][0-9])' "$(blog b1 PUT "/v2/service_instances/$X_OPTOUT")"
expect_eq "... but the broker never got a DELETE for it" 0 "$(blog b1 DELETE "/v2/service_instances/$X_OPTOUT")"
expect_no_match "... no StartingInstanceOrphanMitigation Event" 'StartingInstanceOrphanMitigation' "$(ev "$E2E_NS" optout)"
expect_eq "... no OrphanMitigation condition" "" "$(cond optout OrphanMitigation)"

# polling horizon: maximum_polling_duration 2 s on a 60 s operation
eventually 20 cond_is poll Failed "True ErrorReconciliationRetryTimeout"
expect_eq "maximum_polling_duration exceeded: Failed True ErrorReconciliationRetryTimeout" "True ErrorReconciliationRetryTimeout" "$(cond poll Failed)"
X_POLL=$(extid poll)
eventually 10 has_ev poll '^Warning StartingInstanceOrphanMitigation'
expect_match "... an Event Warning StartingInstanceOrphanMitigation" '^Warning StartingInstanceOrphanMitigation' "$(ev "$E2E_NS" poll)"
eventually 10 blog_ge b1 DELETE "/v2/service_instances/$X_POLL" 1
expect_match "... the broker got a DELETE for it" '^[1-9]' "$(blog b1 DELETE "/v2/service_instances/$X_POLL")"
# (the plan's deprovision takes 60 s too, past the same horizon: poll is abandoned at the end)
if [ $HAVE_SQLITE = 1 ]; then
  expect_eq "... which cancelled the broker's provision operation" "failed|provisioning was cancelled by a deprovision request" \
    "$(bsql b1 "SELECT state, description FROM operations WHERE instance_id = '$X_POLL' AND kind = 'provision'")"
else
  e2e_skip "... which cancelled the broker's provision operation" "no sqlite3"
fi

# time-out: b3 answers after 2 s, the controller waits 1 s
X_TO=$(extid timeout)
eventually 15 has_ev timeout '^Warning StartingInstanceOrphanMitigation'
expect_match "a provision that times out: an Event Warning StartingInstanceOrphanMitigation" '^Warning StartingInstanceOrphanMitigation' "$(ev "$E2E_NS" timeout)"
expect_match "... the Event says it timed out" '[Tt]ime[d ]?.?out' "$(ev "$E2E_NS" timeout | grep StartingInstanceOrphanMitigation)"
eventually 15 blog_ge b3 DELETE "/v2/service_instances/$X_TO" 1
expect_match "... the broker got a DELETE for it" '^[1-9]' "$(blog b3 DELETE "/v2/service_instances/$X_TO")"
expect_eq "... it is not Ready" no "$(cond_is timeout Ready 'True ProvisionedSuccessfully' && echo yes || echo no)"
e2e_restart_broker b3 --catalog "$E2E_TMP/b3-fast.json" "${BARGS[@]}" || exit 1
eventually 20 cond_is timeout Ready "True ProvisionedSuccessfully"
expect_eq "... the broker fast again: it is provisioned" "True ProvisionedSuccessfully" "$(cond timeout Ready)"
expect_eq "... and the broker holds it" 200 "$(osb b3 GET "/v2/service_instances/$X_TO")"

# --- updates ---------------------------------------------------------------------------------------
tick "updates"
expect_ok "ext: change the plan to large" kn patch serviceinstance ext --type=merge -p '{"spec":{"clusterServicePlanExternalName":"large"}}'
expect_ok "params: change a parameter (size 5)" kn patch serviceinstance params --type=merge -p '{"spec":{"parameters":{"size":5}}}'
expect_ok "byid: bump updateRequests" kn patch serviceinstance byid --type=merge -p '{"spec":{"updateRequests":1}}'
expect_ok "async: change a parameter (asynchronous update)" kn patch serviceinstance async --type=merge -p '{"spec":{"parameters":{"v":2}}}'
updated() { # NAME: Ready True InstanceUpdatedSuccessfully for the current generation
  cond_is "$1" Ready "True InstanceUpdatedSuccessfully" &&
    [ "$(sif "$1" '"\(.metadata.generation)=\(.status.observedGeneration)=\(.status.reconciledGeneration)"')" = \
      "$(sif "$1" '"\(.metadata.generation)=\(.metadata.generation)=\(.metadata.generation)"')" ]
}
for n in ext params byid async; do eventually 15 updated "$n"; done
expect_eq "plan change: Ready True InstanceUpdatedSuccessfully, generation reconciled" yes "$(updated ext && echo yes || echo "no: $(cond ext Ready) $(sif ext '.metadata.generation, .status.observedGeneration' | tr '\n' ' ')")"
expect_eq "... externalProperties, the plan reference and its label follow" "large $P_LARGE $N_LARGE $(sha224 "$N_LARGE")" \
  "$(sij ext | jq -r --arg l "$L" '"\(.status.externalProperties.clusterServicePlanExternalName) \(.status.externalProperties.clusterServicePlanExternalID) \(.spec.clusterServicePlanRef.name) \(.metadata.labels[$l+"/spec.clusterServicePlanRef.name"])"')"
expect_match "... kubectl get shows Plan large" "^ext +ClusterServiceClass/$CLS +large +Ready +" "$(kn get serviceinstance ext 2>&1)"
expect_eq "... broker: the instance is on plan large, after one PATCH" "200 $P_LARGE 1" \
  "$(osb b1 GET "/v2/service_instances/$X_EXT") $(osb_body | jq -r .plan_id) $(blog b1 PATCH "/v2/service_instances/$X_EXT" 200)"
eventually 10 has_ev ext '^Normal InstanceUpdatedSuccessfully'
expect_match "... an Event Normal InstanceUpdatedSuccessfully" '^Normal InstanceUpdatedSuccessfully' "$(ev "$E2E_NS" ext)"
FULL5='{"nested":{"a":[1,2]},"password":"s3cret","region":"eu","size":5,"tier":"gold"}'
expect_eq "parameter change: Ready True InstanceUpdatedSuccessfully" "True InstanceUpdatedSuccessfully" "$(cond params Ready)"
expect_eq "... broker: the new parameters" "$FULL5" \
  "$(osb b1 GET "/v2/service_instances/$X_PARAMS" >/dev/null; osb_body | jq -cS .parameters)"
expect_eq "... the checksum follows" "$(checksum "$FULL5")" "$(sif params '.status.externalProperties.parameterChecksum')"
X_BYID=$(extid byid)
expect_eq "updateRequests bump: Ready True InstanceUpdatedSuccessfully" "True InstanceUpdatedSuccessfully" "$(cond byid Ready)"
expect_eq "... the broker got one update (PATCH)" 1 "$(blog b1 PATCH "/v2/service_instances/$X_BYID" 200)"
expect_eq "asynchronous update: Ready True InstanceUpdatedSuccessfully" "True InstanceUpdatedSuccessfully" "$(cond async Ready)"
expect_eq "... broker: the new parameter" "200 2" "$(osb b1 GET "/v2/service_instances/$X_ASYNC") $(osb_body | jq -r .parameters.v)"
if [ $HAVE_SQLITE = 1 ]; then
  expect_eq "... it ran as an asynchronous update operation" "1 succeeded" \
    "$(bsql b1 "SELECT count(*), max(state) FROM operations WHERE instance_id = '$X_ASYNC' AND kind = 'update'" | tr '|' ' ')"
else
  e2e_skip "... it ran as an asynchronous update operation" "no sqlite3"
fi
# a Secret named in parametersFrom changes: the broker gets the new parameters, no bump needed
gen_before=$(sif params '.metadata.generation')
expect_ok "edit the Secret named in parametersFrom" kn patch secret inst-params --type=merge \
  -p '{"stringData":{"creds":"{\"password\":\"n3w-pass\",\"region\":\"eu\"}"}}'
FULLN='{"nested":{"a":[1,2]},"password":"n3w-pass","region":"eu","size":5,"tier":"gold"}'
broker_params_are() { [ "$(osb b1 GET "/v2/service_instances/$1" >/dev/null; osb_body | jq -cS .parameters)" = "$2" ]; }
eventually 15 broker_params_are "$X_PARAMS" "$FULLN"
expect_eq "... broker: the instance has the Secret's new value" "$FULLN" \
  "$(osb b1 GET "/v2/service_instances/$X_PARAMS" >/dev/null; osb_body | jq -cS .parameters)"
chk_is() { [ "$(sif params '.status.externalProperties.parameterChecksum')" = "$1" ]; }
eventually 10 chk_is "$(checksum "$FULLN")"
expect_eq "... the checksum in status follows; the spec's generation does not change" "$(checksum "$FULLN") $gen_before" \
  "$(sif params '"\(.status.externalProperties.parameterChecksum) \(.metadata.generation)"')"
expect_eq "... Ready True InstanceUpdatedSuccessfully" "True InstanceUpdatedSuccessfully" "$(cond params Ready)"

# --- a broker stopped in the middle of a provision and of a deprovision ---------------------------
tick "a broker stopped in the middle of a provision and of a deprovision"
expect_eq "plain (on the broker that goes away) is Ready" "True ProvisionedSuccessfully" "$(cond plain Ready)"
X_PLAIN=$(extid plain)
expect_ok "create flaky (asynchronous, 5 s)" kn apply -f - <<YAML
$(si_yaml flaky "{clusterServiceClassExternalName: $CLSF, clusterServicePlanExternalName: async5}")
YAML
in_async() { [ "$(sif "$1" '"\(.status.asyncOpInProgress) \(.status.lastOperation // "" | length > 0)"')" = "true true" ]; }
eventually 15 in_async flaky
expect_eq "flaky: asyncOpInProgress with a lastOperation" yes "$(in_async flaky && echo yes || echo no)"
X_FLAKY=$(extid flaky); OP_FLAKY=$(sif flaky '.status.lastOperation')
e2e_stop_daemon b2
expect_ok "delete plain while its broker is down (no wait)" kn delete serviceinstance plain --wait=false
eventually 15 cond_is plain Ready "Unknown DeprovisionCallFailed"
expect_eq "plain: Ready Unknown DeprovisionCallFailed" "Unknown DeprovisionCallFailed" "$(cond plain Ready)"
expect_match "... the object stays, being deleted, with its finalizer" "^[0-9]{4}-.* .*$FIN" \
  "$(sif plain '"\(.metadata.deletionTimestamp) \(.metadata.finalizers | tojson)"')"
eventually 15 cond_is flaky Ready "False ErrorPollingLastOperation"
expect_eq "flaky: Ready False ErrorPollingLastOperation while the broker is down" "False ErrorPollingLastOperation" "$(cond flaky Ready)"
expect_eq "... still polling the same operation" "true $OP_FLAKY" "$(sif flaky '"\(.status.asyncOpInProgress) \(.status.lastOperation)"')"
e2e_start_broker b2 --catalog "$E2E_TMP/b2.json" "${BARGS[@]}" || exit 1
eventually 20 cond_is flaky Ready "True ProvisionedSuccessfully"
expect_eq "broker back: flaky is provisioned" "True ProvisionedSuccessfully" "$(cond flaky Ready)"
expect_eq "... the broker holds it" 200 "$(osb b2 GET "/v2/service_instances/$X_FLAKY")"
eventually 20 gone plain
expect_ok "broker back: plain is gone" gone plain
expect_eq "... deprovisioned at the broker" "404 1" "$(osb b2 GET "/v2/service_instances/$X_PLAIN") $(blog b2 DELETE "/v2/service_instances/$X_PLAIN" 200)"
expect_match "... an Event Warning DeprovisionCallFailed, then Normal DeprovisionedSuccessfully" \
  '^Normal DeprovisionedSuccessfully' "$(ev "$E2E_NS" plain)"
expect_match "... (the Warning)" '^Warning DeprovisionCallFailed' "$(ev "$E2E_NS" plain)"

# --- the controller killed (SIGKILL) in the middle of an asynchronous provision --------------------
tick "the controller killed (SIGKILL) in the middle of an asynchronous provision"
expect_ok "create kill9 (asynchronous, 4 s)" kn apply -f - <<YAML
$(si_yaml kill9 "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: async-slow}")
YAML
eventually 15 in_async kill9
J=$(sij kill9); X_KILL=$(jq -r .spec.externalID <<<"$J")
expect_eq "in progress: Ready False Provisioning, currentOperation Provision, asyncOpInProgress" "False Provisioning Provision true" \
  "$(jq -r '"\([.status.conditions[]? | select(.type == "Ready") | .status, .reason] | join(" ")) \(.status.currentOperation) \(.status.asyncOpInProgress)"' <<<"$J")"
expect_match "... operationStartTime is set" "$RFC3339" "$(jq -r '.status.operationStartTime // ""' <<<"$J")"
expect_eq "... inProgressProperties name the plan" "async-slow $P_ASLOW" \
  "$(jq -r '.status.inProgressProperties | "\(.clusterServicePlanExternalName) \(.clusterServicePlanExternalID)"' <<<"$J")"
expect_match "... kubectl get shows Status Provisioning" "^kill9 +ClusterServiceClass/$CLS +async-slow +Provisioning +" "$(kn get serviceinstance kill9 2>&1)"
if [ $HAVE_SQLITE = 1 ]; then
  expect_eq "... status.lastOperation is the broker's operation" "$(jq -r .status.lastOperation <<<"$J")" \
    "$(bsql b1 "SELECT id FROM operations WHERE instance_id = '$X_KILL' AND kind = 'provision'")"
else
  e2e_skip "... status.lastOperation is the broker's operation" "no sqlite3"
fi
kill -KILL "$ctl_PID"
eventually 10 test -e "$E2E_TMP/ctl/rc"
expect_eq "the controller is killed (SIGKILL)" 137 "$(cat "$E2E_TMP/ctl/rc" 2>/dev/null)"
e2e_start_controller ctl "${CTL_ARGS[@]}" || exit 1
eventually 25 cond_is kill9 Ready "True ProvisionedSuccessfully"
expect_eq "a new controller takes over: kill9 Ready True ProvisionedSuccessfully" "True ProvisionedSuccessfully" "$(cond kill9 Ready)"
expect_eq "... the broker got exactly one provision request for it" 1 "$(blog b1 PUT "/v2/service_instances/$X_KILL")"
if [ $HAVE_SQLITE = 1 ]; then
  expect_eq "... and ran exactly one provision operation, which succeeded" "1 succeeded" \
    "$(bsql b1 "SELECT count(*), max(state) FROM operations WHERE instance_id = '$X_KILL' AND kind = 'provision'" | tr '|' ' ')"
else
  e2e_skip "... one provision operation in the broker's database" "no sqlite3"
fi

# --- deletion -------------------------------------------------------------------------------------
tick "deletion"
expect_ok "delete ext (kubectl waits for the finalizer, 30 s)" kn delete serviceinstance ext --timeout=30s
expect_fail_with "ext is gone" 'NotFound|not found' kn get serviceinstance ext
expect_eq "... the broker got the DELETE (200) and no longer has it" "1 404" \
  "$(blog b1 DELETE "/v2/service_instances/$X_EXT" 200) $(osb b1 GET "/v2/service_instances/$X_EXT")"
expect_match "... an Event Normal DeprovisionedSuccessfully" '^Normal DeprovisionedSuccessfully' "$(ev "$E2E_NS" ext)"

X_AB=$(extid abandon)
expect_eq "abandon is Ready" "True ProvisionedSuccessfully" "$(cond abandon Ready)"
expect_ok "annotate it bindery.dev/abandon=true" kn annotate serviceinstance abandon bindery.dev/abandon=true
expect_ok "delete it (30 s)" kn delete serviceinstance abandon --timeout=30s
expect_fail_with "abandon is gone" 'NotFound|not found' kn get serviceinstance abandon
expect_eq "... without a call to the broker, which still has it" "0 200" \
  "$(blog b1 DELETE "/v2/service_instances/$X_AB") $(osb b1 GET "/v2/service_instances/$X_AB")"
expect_match "... an Event Warning Abandoned" '^Warning Abandoned' "$(ev "$E2E_NS" abandon)"

# a namespace that holds an instance and a binding
NS2=e2e-instdel-$ID
e2e_cleanup_add "namespace $NS2 --wait=false"
E2E_SC_NAMESPACES+=("$NS2")
expect_ok "create namespace $NS2 with an instance and a binding" kc create namespace "$NS2"
expect_ok "... the instance and the binding" kc apply -n "$NS2" -f - <<YAML
$(si_yaml doomed "{clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: small}")
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBinding
metadata: {name: doomed-b}
spec: {instanceRef: {name: doomed}}
YAML
expect_ok "... both become Ready (30 s)" kc wait -n "$NS2" --for=condition=Ready serviceinstance/doomed servicebinding/doomed-b --timeout=30s
X_DOOMED=$(kc get serviceinstance doomed -n "$NS2" -o jsonpath='{.spec.externalID}' 2>/dev/null)
B_DOOMED=$(kc get servicebinding doomed-b -n "$NS2" -o jsonpath='{.spec.externalID}' 2>/dev/null)
expect_ok "kubectl delete namespace $NS2 completes (60 s)" kc delete namespace "$NS2" --timeout=60s
expect_fail_with "... the namespace is gone" 'NotFound|not found' kc get namespace "$NS2"
expect_eq "... the broker unbound and deprovisioned" "1 1 404" \
  "$(blog b1 DELETE "/v2/service_instances/$X_DOOMED/service_bindings/$B_DOOMED" 200) $(blog b1 DELETE "/v2/service_instances/$X_DOOMED" 200) $(osb b1 GET "/v2/service_instances/$X_DOOMED")"

# --- the end: everything left goes, failed and unresolved ones included ----------------------------
tick "the end: everything left goes, failed and unresolved ones included"
expect_eq "afail was never provisioned again (a Failed instance waits for a spec change)" 1 "$(blog b1 PUT "/v2/service_instances/$X_AFAIL")"
# poll's orphan mitigation cannot finish (its plan's deprovision outlasts maximum_polling_duration
# too): the way out is to abandon it
expect_ok "annotate poll bindery.dev/abandon=true" kn annotate serviceinstance poll bindery.dev/abandon=true
expect_ok "delete every remaining instance (60 s)" kn delete serviceinstances --all --timeout=60s
expect_eq "none is left" "" "$(kn get serviceinstances -o name 2>&1)"
if [ $HAVE_SQLITE = 1 ]; then
  expect_eq "broker b1 holds no instance but the abandoned one" "$X_AB" "$(bsql b1 "SELECT id FROM instances WHERE id != '$X_POLL'")"
else
  e2e_skip "broker b1 holds no instance but the abandoned one" "no sqlite3"
fi
expect_ok "the controller is still healthy" curl -sf --max-time 5 "$ctl_URL/healthz"
echo "# t-instance: journey took $((SECONDS - T0)) s"
e2e_done
