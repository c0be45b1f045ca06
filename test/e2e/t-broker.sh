#!/bin/bash
# J2, a cluster operator registers a broker (issue 4): real osb-broker processes on loopback and
# a catalog-controller pointed at the cluster. A ClusterServiceBroker with basic auth from a
# Secret becomes Ready and its catalog appears as ClusterServiceClasses/Plans (printer columns,
# names = escaped OSB ids, SHA-224 labels, owner references, catalog fields carried over);
# bearer auth with catalogRestrictions; a wrong password, a missing Secret and an unreachable
# URL give Ready=False ErrorFetchingCatalog with a clear message; a namespaced ServiceBroker
# makes ServiceClasses/Plans in its namespace; a catalog change is picked up on a relistRequests
# bump (new plan created, vanished class and plan marked removedFromBrokerCatalog) and on
# relistDuration, but not with relistBehavior Manual; Events; deleting brokers removes their
# classes and plans. Every observation is made with kubectl.
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$OSB_BROKER" osb-broker
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller
e2e_install_crds "$top_srcdir/deploy/crds"

ID=$E2E_ID
L=servicecatalog.k8s.io
T0=$SECONDS

# --- catalogs (OSB ids chosen to exercise the escaping of names: upper case, '_', 'z', > 63) ---
SVC_DB="e2e-$ID-svc-DB";       DB_NAME="e2e-db-$ID"
P_SMALL="e2e-$ID-db-small"
P_LARGE="e2e-$ID-db-Large_z"
P_OLD="e2e-$ID-db-old-plan-with-a-very-long-identifier-0123456789-abcdef"
P_NEW="e2e-$ID-db-new"
P_EXTRA="e2e-$ID-db-extra"
SVC_Q="e2e-$ID-svc-queue";     Q_NAME="e2e-queue-$ID"
P_STD="e2e-$ID-queue-std"

plan_json() { # ID NAME DESCRIPTION FREE [extra JSON members]
  printf '{"id":"%s","name":"%s","description":"%s","free":%s%s}' "$1" "$2" "$3" "$4" "${5:+,$5}"
}
large_extra='"metadata":{"displayName":"Large DB","bullets":["8 GB"]},"maintenance_info":{"version":"1.2.3"},"maximum_polling_duration":600,"schemas":{"service_instance":{"create":{"parameters":{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","properties":{"size":{"type":"integer","minimum":1}}}}}}'
db_service() { # PLANS-JSON
  printf '{"id":"%s","name":"%s","description":"E2E databases","bindable":true,"plan_updateable":true,"tags":["db","e2e"],"metadata":{"displayName":"E2E DB"},"plans":[%s]}' \
    "$SVC_DB" "$DB_NAME" "$1"
}
q_service() {
  printf '{"id":"%s","name":"%s","description":"E2E queues","bindable":false,"plans":[%s]}' \
    "$SVC_Q" "$Q_NAME" "$(plan_json "$P_STD" standard "A queue" true)"
}
# cat1: db {small, large, old}, queue {standard}
printf '{"services":[%s,%s]}\n' \
  "$(db_service "$(plan_json "$P_SMALL" small "One small database" true),$(plan_json "$P_LARGE" large "One large database" false "$large_extra"),$(plan_json "$P_OLD" old "An old plan" true)")" \
  "$(q_service)" >"$E2E_TMP/cat1.json"
# cat2: db {small (new description), large, new}; queue gone
printf '{"services":[%s]}\n' \
  "$(db_service "$(plan_json "$P_SMALL" small "One small database, now faster" true),$(plan_json "$P_LARGE" large "One large database" false "$large_extra"),$(plan_json "$P_NEW" new "A new plan" true)")" \
  >"$E2E_TMP/cat2.json"
# cat3: cat2 + plan extra + plan old back
printf '{"services":[%s]}\n' \
  "$(db_service "$(plan_json "$P_SMALL" small "One small database, now faster" true),$(plan_json "$P_LARGE" large "One large database" false "$large_extra"),$(plan_json "$P_NEW" new "A new plan" true),$(plan_json "$P_EXTRA" extra "An extra plan" true),$(plan_json "$P_OLD" old "An old plan" true)")" \
  >"$E2E_TMP/cat3.json"
# the bearer broker: keep {f1 free, p1 paid}, drop {d1}; v2 adds f2 to keep
B_KEEP="e2e-$ID-b-keep"; B_KEEP_NAME="e2e-keep-$ID"
B_DROP="e2e-$ID-b-drop"; B_DROP_NAME="e2e-drop-$ID"
B_F1="e2e-$ID-b-f1"; B_P1="e2e-$ID-b-p1"; B_D1="e2e-$ID-b-d1"; B_F2="e2e-$ID-b-f2"
bearer_cat() { # extra plans of keep
  printf '{"services":[{"id":"%s","name":"%s","description":"kept","bindable":true,"plans":[%s,%s%s]},{"id":"%s","name":"%s","description":"filtered out","bindable":true,"plans":[%s]}]}\n' \
    "$B_KEEP" "$B_KEEP_NAME" "$(plan_json "$B_F1" f1 "free one" true)" "$(plan_json "$B_P1" p1 "paid one" false)" "${1:+,$1}" \
    "$B_DROP" "$B_DROP_NAME" "$(plan_json "$B_D1" d1 "dropped" true)"
}
bearer_cat >"$E2E_TMP/bcat1.json"
bearer_cat "$(plan_json "$B_F2" f2 "free two" true)" >"$E2E_TMP/bcat2.json"

# Kubernetes names of the classes and plans
N_DB=$(osb_k8s_name "$SVC_DB"); N_Q=$(osb_k8s_name "$SVC_Q")
N_SMALL=$(osb_k8s_name "$P_SMALL"); N_LARGE=$(osb_k8s_name "$P_LARGE"); N_OLD=$(osb_k8s_name "$P_OLD")
N_NEW=$(osb_k8s_name "$P_NEW"); N_EXTRA=$(osb_k8s_name "$P_EXTRA"); N_STD=$(osb_k8s_name "$P_STD")
N_BKEEP=$(osb_k8s_name "$B_KEEP"); N_BDROP=$(osb_k8s_name "$B_DROP")
N_BF1=$(osb_k8s_name "$B_F1"); N_BP1=$(osb_k8s_name "$B_P1"); N_BF2=$(osb_k8s_name "$B_F2")
expect_eq "the escaped name of an id with upper case: z<hex>z" "e2e-$ID-svc-z44zz42z" "$N_DB"
expect_eq "the escaped name of an id over 63 characters: 30 characters, '-', MD5" 63 "${#N_OLD}"

# --- the daemons ---
PW=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
TOKEN=tok-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
e2e_start_broker b1 --catalog "$E2E_TMP/cat1.json" --username admin --password "$PW" || exit 1
e2e_start_broker b2 --catalog "$E2E_TMP/bcat1.json" --token "$TOKEN" || exit 1
# the controller creates default/cluster-info (the cluster's id) when it is missing: ours then
kc get configmap cluster-info -n default -o name >/dev/null 2>&1 || e2e_cleanup_add "configmap cluster-info -n default"
e2e_start_controller ctl || exit 1
expect_eq "controller /healthz answers 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$ctl_URL/healthz")"
eventually 15 curl -sf --max-time 2 -o /dev/null "$ctl_URL/readyz"
expect_eq "controller /readyz answers 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$ctl_URL/readyz")"

# --- ClusterServiceBroker with basic auth ---
BB=e2e-basic-$ID
e2e_cleanup_finalized "clusterservicebroker/$BB"
expect_ok "apply a Secret (username/password) and a ClusterServiceBroker with authInfo.basic" kc apply -f - <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: basic-auth
  namespace: $E2E_NS
type: Opaque
stringData:
  username: admin
  password: $PW
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServiceBroker
metadata:
  name: $BB
spec:
  url: $b1_URL
  authInfo:
    basic:
      secretRef:
        namespace: $E2E_NS
        name: basic-auth
YAML
t=$SECONDS
if ! expect_ok "the broker becomes Ready (kubectl wait, 30 s)" kc wait --for=condition=Ready "clusterservicebroker/$BB" --timeout=30s; then
  kc get clusterservicebroker "$BB" -o yaml 2>&1 | sed 's/^/#   /'
  echo "# the rest of this test needs a Ready broker: it ends here"
  exit 1
fi
echo "# $BB Ready after $((SECONDS - t)) s"
expect_ok "kubectl get clusterservicebrokers" kc get clusterservicebrokers "$BB"
printf '%s\n' "$OUT" | sed 's/^/#   /'
expect_match "get clusterservicebrokers: URL and Status (lastConditionState: Ready when True)" \
  "^$BB +${b1_URL//./\\.} +Ready +" "$OUT"
expect_eq "Ready condition: True, reason FetchedCatalog" "True FetchedCatalog" \
  "$(kc get clusterservicebroker "$BB" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason}' 2>&1)"
expect_eq "status.lastConditionState is Ready" Ready "$(kc get clusterservicebroker "$BB" -o jsonpath='{.status.lastConditionState}' 2>&1)"
gen=$(kc get clusterservicebroker "$BB" -o jsonpath='{.metadata.generation}' 2>&1)
expect_eq "status.reconciledGeneration = metadata.generation" "$gen" \
  "$(kc get clusterservicebroker "$BB" -o jsonpath='{.status.reconciledGeneration}' 2>&1)"
expect_match "status.lastCatalogRetrievalTime is set" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' \
  "$(kc get clusterservicebroker "$BB" -o jsonpath='{.status.lastCatalogRetrievalTime}' 2>&1)"
expect_match "the broker carries the finalizer kubernetes-incubator/service-catalog" 'kubernetes-incubator/service-catalog' \
  "$(kc get clusterservicebroker "$BB" -o jsonpath='{.metadata.finalizers}' 2>&1)"
BB_UID=$(kc get clusterservicebroker "$BB" -o jsonpath='{.metadata.uid}' 2>&1)

# the catalog as classes and plans
sel="$L/spec.clusterServiceBrokerName=$(sha224 "$BB")"
count_at_least() { [ "$(kc get "$1" "${@:3}" -o name 2>/dev/null | wc -l)" -ge "$2" ]; }
eventually 15 count_at_least clusterserviceplans 4 -l "$sel"
expect_ok "kubectl get clusterserviceclasses,clusterserviceplans" kc get clusterserviceclasses,clusterserviceplans
printf '%s\n' "$OUT" | grep -E "$ID|NAME" | sed 's/^/#   /'
P="(clusterservice(class|plan)\.servicecatalog\.k8s\.io/)?"
expect_match "class row: name (escaped id), External-Name, Broker" "^$P$N_DB +$DB_NAME +$BB +" "$OUT"
expect_match "class row of the second service" "^$P$N_Q +$Q_NAME +$BB +" "$OUT"
expect_match "plan row: name, External-Name, Broker, Class (small)" "^$P$N_SMALL +small +$BB +$N_DB +" "$OUT"
expect_match "plan row (large, id with upper case, '_' and 'z')" "^$P$N_LARGE +large +$BB +$N_DB +" "$OUT"
expect_match "plan row (old, id over 63 characters)" "^$P$N_OLD +old +$BB +$N_DB +" "$OUT"
expect_match "plan row (standard, of the second class)" "^$P$N_STD +standard +$BB +$N_Q +" "$OUT"
expect_eq "exactly the broker's classes carry its broker label" "$(printf '%s\n' "$N_DB" "$N_Q" | sort)" \
  "$(kc get clusterserviceclasses -l "$sel" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' 2>&1 | sort)"
expect_eq "exactly the broker's plans carry its broker label" "$(printf '%s\n' "$N_SMALL" "$N_LARGE" "$N_OLD" "$N_STD" | sort)" \
  "$(kc get clusterserviceplans -l "$sel" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' 2>&1 | sort)"

CLS_JSON=$(kc get clusterserviceclasses "$N_DB" "$N_Q" -o json 2>&1)
PLN_JSON=$(kc get clusterserviceplans "$N_SMALL" "$N_LARGE" "$N_OLD" "$N_STD" -o json 2>&1)
expect_eq "classes: spec.externalID, externalName, clusterServiceBrokerName" \
  "$(printf '%s\n' "$N_DB $SVC_DB $DB_NAME $BB" "$N_Q $SVC_Q $Q_NAME $BB" | sort)" \
  "$(jq -r '.items[] | "\(.metadata.name) \(.spec.externalID) \(.spec.externalName) \(.spec.clusterServiceBrokerName)"' <<<"$CLS_JSON" 2>&1 | sort)"
expect_eq "classes: labels spec.externalID, spec.externalName, spec.clusterServiceBrokerName = SHA-224" \
  "$(printf '%s\n' "$N_DB $(sha224 "$SVC_DB") $(sha224 "$DB_NAME") $(sha224 "$BB")" "$N_Q $(sha224 "$SVC_Q") $(sha224 "$Q_NAME") $(sha224 "$BB")" | sort)" \
  "$(jq -r --arg l "$L" '.items[] | .metadata.labels as $m | "\(.metadata.name) \($m[$l+"/spec.externalID"]) \($m[$l+"/spec.externalName"]) \($m[$l+"/spec.clusterServiceBrokerName"])"' <<<"$CLS_JSON" 2>&1 | sort)"
owner_lines() { jq -r '.items[] | "\(.metadata.name) \([.metadata.ownerReferences[]? | "\(.apiVersion) \(.kind) \(.name) \(.uid) controller=\(.controller)"] | join(";"))"' | sort; }
expect_eq "classes: a controller ownerReference to the ClusterServiceBroker" \
  "$(printf '%s\n' "$N_DB" "$N_Q" | sort | sed "s|\$| servicecatalog.k8s.io/v1beta1 ClusterServiceBroker $BB $BB_UID controller=true|")" \
  "$(owner_lines <<<"$CLS_JSON" 2>&1)"
expect_eq "plans: a controller ownerReference to the ClusterServiceBroker" \
  "$(printf '%s\n' "$N_SMALL" "$N_LARGE" "$N_OLD" "$N_STD" | sort | sed "s|\$| servicecatalog.k8s.io/v1beta1 ClusterServiceBroker $BB $BB_UID controller=true|")" \
  "$(owner_lines <<<"$PLN_JSON" 2>&1)"
expect_eq "plans: spec.externalID, externalName, clusterServiceBrokerName, clusterServiceClassRef.name" \
  "$(printf '%s\n' "$N_SMALL $P_SMALL small $BB $N_DB" "$N_LARGE $P_LARGE large $BB $N_DB" "$N_OLD $P_OLD old $BB $N_DB" "$N_STD $P_STD standard $BB $N_Q" | sort)" \
  "$(jq -r '.items[] | "\(.metadata.name) \(.spec.externalID) \(.spec.externalName) \(.spec.clusterServiceBrokerName) \(.spec.clusterServiceClassRef.name)"' <<<"$PLN_JSON" 2>&1 | sort)"
plan_labels() { echo "$1 $(sha224 "$2") $(sha224 "$3") $(sha224 "$BB") $(sha224 "$4")"; }
expect_eq "plans: labels spec.externalID, spec.externalName, spec.clusterServiceBrokerName, spec.clusterServiceClassRef.name = SHA-224" \
  "$(printf '%s\n' "$(plan_labels "$N_SMALL" "$P_SMALL" small "$N_DB")" "$(plan_labels "$N_LARGE" "$P_LARGE" large "$N_DB")" \
       "$(plan_labels "$N_OLD" "$P_OLD" old "$N_DB")" "$(plan_labels "$N_STD" "$P_STD" standard "$N_Q")" | sort)" \
  "$(jq -r --arg l "$L" '.items[] | .metadata.labels as $m | "\(.metadata.name) \($m[$l+"/spec.externalID"]) \($m[$l+"/spec.externalName"]) \($m[$l+"/spec.clusterServiceBrokerName"]) \($m[$l+"/spec.clusterServiceClassRef.name"])"' <<<"$PLN_JSON" 2>&1 | sort)"
expect_eq "a plan is found by the labels an instance resolves with (externalName + class + broker)" "clusterserviceplan.servicecatalog.k8s.io/$N_LARGE" \
  "$(kc get clusterserviceplans -l "$L/spec.externalName=$(sha224 large),$L/spec.clusterServiceClassRef.name=$(sha224 "$N_DB"),$sel" -o name 2>&1)"
expect_eq "class fields carried over: description, bindable, planUpdatable, tags, externalMetadata" \
  'E2E databases true true ["db","e2e"] E2E DB' \
  "$(jq -r --arg n "$N_DB" '.items[] | select(.metadata.name == $n) | .spec | "\(.description) \(.bindable) \(.planUpdatable) \(.tags | tojson) \(.externalMetadata.displayName)"' <<<"$CLS_JSON" 2>&1)"
expect_eq "plan fields carried over: description, free, externalMetadata, maintenanceInfo, maximumPollingDuration, create schema" \
  'One large database false Large DB 1.2.3 600 integer' \
  "$(jq -r --arg n "$N_LARGE" '.items[] | select(.metadata.name == $n) | .spec | "\(.description) \(.free) \(.externalMetadata.displayName) \(.maintenanceInfo.version) \(.maximumPollingDuration) \(.instanceCreateParameterSchema.properties.size.type)"' <<<"$PLN_JSON" 2>&1)"
expect_eq "no class or plan is marked removedFromBrokerCatalog" "" \
  "$(jq -r '.items[] | select(.status.removedFromBrokerCatalog == true) | .metadata.name' <<<"$CLS_JSON$PLN_JSON" 2>&1)"

events_of() { kc get events -A --field-selector "involvedObject.name=$1" -o jsonpath='{range .items[*]}{.involvedObject.kind} {.type} {.reason}: {.message}{"\n"}{end}'; }
eventually 10 count_at_least events 1 -A --field-selector "involvedObject.name=$BB"
expect_ok "kubectl get events --field-selector involvedObject.name=$BB" kc get events -A --field-selector "involvedObject.name=$BB"
printf '%s\n' "$OUT" | sed 's/^/#   /'
expect_match "an Event for the broker: Normal FetchedCatalog" '^ClusterServiceBroker Normal FetchedCatalog' "$(events_of "$BB" 2>&1)"
expect_num_gt "the controller's metrics count its catalog requests to this broker" \
  "$(metric_sum ctl catalog_controller_osb_requests_total "broker=\"([^\"]*/)?$BB\"")" 0

# --- bearer auth, catalog restrictions, relistBehavior Manual ---
BR=e2e-bearer-$ID
e2e_cleanup_finalized "clusterservicebroker/$BR"
expect_ok "apply a Secret (token) and a ClusterServiceBroker with authInfo.bearer, catalogRestrictions, relistBehavior Manual" kc apply -f - <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: bearer-auth
  namespace: $E2E_NS
type: Opaque
stringData:
  token: $TOKEN
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServiceBroker
metadata:
  name: $BR
spec:
  url: $b2_URL
  relistBehavior: Manual
  relistDuration: 3s
  catalogRestrictions:
    serviceClass:
    - spec.externalName in ($B_KEEP_NAME, e2e-other-$ID)
    servicePlan:
    - spec.free=true
  authInfo:
    bearer:
      secretRef:
        namespace: $E2E_NS
        name: bearer-auth
YAML
# --- and three brokers that cannot work ---
BW=e2e-badpw-$ID; BU=e2e-unreach-$ID; BS=e2e-nosecret-$ID
for b in "$BW" "$BU" "$BS"; do e2e_cleanup_finalized "clusterservicebroker/$b"; done
expect_ok "apply brokers with a wrong password, an unreachable URL, a missing Secret" kc apply -f - <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: wrong-auth
  namespace: $E2E_NS
type: Opaque
stringData:
  username: admin
  password: not-$PW
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServiceBroker
metadata:
  name: $BW
spec:
  url: $b1_URL
  authInfo:
    basic:
      secretRef:
        namespace: $E2E_NS
        name: wrong-auth
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServiceBroker
metadata:
  name: $BU
spec:
  url: http://127.0.0.1:1
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServiceBroker
metadata:
  name: $BS
spec:
  url: $b1_URL
  authInfo:
    basic:
      secretRef:
        namespace: $E2E_NS
        name: no-such-secret-$ID
YAML
selr="$L/spec.clusterServiceBrokerName=$(sha224 "$BR")"
expect_ok "the bearer broker becomes Ready (kubectl wait, 30 s)" kc wait --for=condition=Ready "clusterservicebroker/$BR" --timeout=30s &&
  eventually 10 count_at_least clusterserviceplans 1 -l "$selr"
expect_eq "catalogRestrictions serviceClass: only the class named in the predicate" "$N_BKEEP $B_KEEP_NAME" \
  "$(kc get clusterserviceclasses -l "$selr" -o jsonpath='{range .items[*]}{.metadata.name} {.spec.externalName}{"\n"}{end}' 2>&1)"
expect_eq "catalogRestrictions servicePlan spec.free=true: only the free plan" "$N_BF1 f1" \
  "$(kc get clusterserviceplans -l "$selr" -o jsonpath='{range .items[*]}{.metadata.name} {.spec.externalName}{"\n"}{end}' 2>&1)"
expect_fail_with "the filtered-out class was never created" 'NotFound|not found' kc get clusterserviceclass "$N_BDROP"
expect_fail_with "the filtered-out plan was never created" 'NotFound|not found' kc get clusterserviceplan "$N_BP1"

ready_of() { kc get clusterservicebroker "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason}' 2>&1; }
is_not_ready_with() { [ "$(ready_of "$1")" = "False $2" ]; }
msg_of() { kc get clusterservicebroker "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}' 2>&1; }
all_failing() { is_not_ready_with "$BW" ErrorFetchingCatalog && is_not_ready_with "$BU" ErrorFetchingCatalog && is_not_ready_with "$BS" ErrorFetchingCatalog; }
eventually 20 all_failing
expect_eq "wrong password: Ready False, reason ErrorFetchingCatalog" "False ErrorFetchingCatalog" "$(ready_of "$BW")"
expect_match "wrong password: the message says 401 / unauthorized" '401|[Uu]nauthori[sz]ed' "$(msg_of "$BW")"
expect_match "wrong password: kubectl get shows Status ErrorFetchingCatalog" "^$BW +[^ ]+ +ErrorFetchingCatalog +" \
  "$(kc get clusterservicebroker "$BW" 2>&1)"
expect_eq "unreachable URL: Ready False, reason ErrorFetchingCatalog" "False ErrorFetchingCatalog" "$(ready_of "$BU")"
expect_match "unreachable URL: the message names the URL or the connection failure" '127\.0\.0\.1:1|[Cc]onnect|refused' "$(msg_of "$BU")"
expect_eq "missing auth Secret: Ready False, reason ErrorFetchingCatalog" "False ErrorFetchingCatalog" "$(ready_of "$BS")"
expect_match "missing auth Secret: the message names the Secret" "no-such-secret-$ID" "$(msg_of "$BS")"
for b in "$BW" "$BU" "$BS"; do
  expect_eq "$b has no classes" "" \
    "$(kc get clusterserviceclasses -l "$L/spec.clusterServiceBrokerName=$(sha224 "$b")" -o name 2>&1)"
done
has_warning() { local ev; ev=$(events_of "$1" 2>/dev/null); grep -q Warning <<<"$ev"; }
eventually 10 has_warning "$BW"
expect_match "an Event for the failing broker: Warning ErrorFetchingCatalog" '^ClusterServiceBroker Warning ErrorFetchingCatalog' "$(events_of "$BW" 2>&1)"
expect_ok "kubectl get clusterservicebrokers (all of this test's)" kc get clusterservicebrokers "$BB" "$BR" "$BW" "$BU" "$BS"
printf '%s\n' "$OUT" | sed 's/^/#   /'

# the wrong password fixed: the broker's catalog now collides with the first broker's classes
expect_ok "fix the password in the Secret, bump relistRequests" kn patch secret wrong-auth --type=merge -p "{\"stringData\":{\"password\":\"$PW\"}}"
expect_ok "... bump relistRequests" kc patch clusterservicebroker "$BW" --type=merge -p '{"spec":{"relistRequests":1}}'
eventually 15 is_not_ready_with "$BW" ErrorSyncingCatalog
expect_eq "a catalog whose classes belong to another broker: Ready False, reason ErrorSyncingCatalog" "False ErrorSyncingCatalog" "$(ready_of "$BW")"
expect_match "... the message names the other broker or says the class exists" "$BB|already exists" "$(msg_of "$BW")"
expect_ok "delete the colliding broker (30 s)" kc delete clusterservicebroker "$BW" --timeout=30s
expect_eq "the first broker's classes and plans are untouched, still its own" \
  "$(printf '%s\n' "$N_DB" "$N_Q" "$N_SMALL" "$N_LARGE" "$N_OLD" "$N_STD" | sort | sed "s/\$/ $BB/")" \
  "$( { kc get clusterserviceclasses "$N_DB" "$N_Q" -o json; kc get clusterserviceplans "$N_SMALL" "$N_LARGE" "$N_OLD" "$N_STD" -o json; } 2>&1 | \
     jq -r '.items[] | "\(.metadata.name) \(.spec.clusterServiceBrokerName)"' 2>&1 | sort)"

# --- a namespaced ServiceBroker: ServiceClasses/ServicePlans in its namespace ---
NB=e2e-nsb
expect_ok "apply a namespaced ServiceBroker with authInfo.basic (secretRef by name)" kn apply -f - <<YAML
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBroker
metadata:
  name: $NB
spec:
  url: $b1_URL
  authInfo:
    basic:
      secretRef:
        name: basic-auth
YAML
e2e_cleanup_finalized "servicebroker/$NB -n $E2E_NS"
expect_ok "the ServiceBroker becomes Ready (kubectl wait, 30 s)" kn wait --for=condition=Ready "servicebroker/$NB" --timeout=30s &&
expect_eq "ServiceBroker Ready reason FetchedCatalog" "FetchedCatalog" \
  "$(kn get servicebroker "$NB" -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}' 2>&1)"
  eventually 15 count_at_least serviceplans 4 -n "$E2E_NS"
expect_ok "kubectl get serviceclasses,serviceplans -n NS" kn get serviceclasses,serviceplans
printf '%s\n' "$OUT" | sed 's/^/#   /'
P="(service(class|plan)\.servicecatalog\.k8s\.io/)?"
expect_match "ServiceClass row: name, External-Name, Broker" "^$P$N_DB +$DB_NAME +$NB +" "$OUT"
expect_match "ServicePlan row: name, External-Name, Broker, Class" "^$P$N_LARGE +large +$NB +$N_DB +" "$OUT"
expect_eq "ServicePlans in the namespace: every plan of the catalog" "$(printf '%s\n' "$N_SMALL" "$N_LARGE" "$N_OLD" "$N_STD" | sort)" \
  "$(kn get serviceplans -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' 2>&1 | sort)"
expect_eq "ServicePlan labels spec.serviceBrokerName, spec.serviceClassRef.name, spec.externalName = SHA-224" \
  "$(sha224 "$NB") $(sha224 "$N_DB") $(sha224 large)" \
  "$(kn get serviceplan "$N_LARGE" -o json 2>&1 | jq -r --arg l "$L" '.metadata.labels as $m | "\($m[$l+"/spec.serviceBrokerName"]) \($m[$l+"/spec.serviceClassRef.name"]) \($m[$l+"/spec.externalName"])"' 2>&1)"
expect_eq "ServiceClass spec.serviceBrokerName and label" "$NB $(sha224 "$NB")" \
  "$(kn get serviceclass "$N_DB" -o json 2>&1 | jq -r --arg l "$L" '"\(.spec.serviceBrokerName) \(.metadata.labels[$l+"/spec.serviceBrokerName"])"' 2>&1)"
expect_ok "delete the ServiceBroker (waits for its finalizer, 30 s)" kn delete servicebroker "$NB" --timeout=30s
no_ns_classes() { [ -z "$(kn get serviceclasses,serviceplans -o name 2>&1)" ]; }
eventually 15 no_ns_classes
expect_eq "its ServiceClasses and ServicePlans are gone" "" "$(kn get serviceclasses,serviceplans -o name 2>&1)"

# --- a catalog change, picked up on a relistRequests bump ---
e2e_restart_broker b1 --catalog "$E2E_TMP/cat2.json" --username admin --password "$PW" || exit 1
expect_ok "bump spec.relistRequests" kc patch clusterservicebroker "$BB" --type=merge -p '{"spec":{"relistRequests":1}}'
has_plan() { kc get clusterserviceplan "$1" -o name >/dev/null 2>&1; }
removed_of() { kc get "$1" -o jsonpath='{.status.removedFromBrokerCatalog}' 2>&1; }
is_removed() { [ "$(removed_of "$1")" = true ]; }
eventually 20 has_plan "$N_NEW"
expect_eq "the new plan appears, in its class" "new $N_DB $BB" \
  "$(kc get clusterserviceplan "$N_NEW" -o jsonpath='{.spec.externalName} {.spec.clusterServiceClassRef.name} {.spec.clusterServiceBrokerName}' 2>&1)"
eventually 10 is_removed "clusterserviceplan/$N_OLD"
expect_eq "the vanished plan: status.removedFromBrokerCatalog true" true "$(removed_of "clusterserviceplan/$N_OLD")"
eventually 10 is_removed "clusterserviceclass/$N_Q"
expect_eq "the vanished service's class: removedFromBrokerCatalog true" true "$(removed_of "clusterserviceclass/$N_Q")"
expect_eq "... and its plan: removedFromBrokerCatalog true" true "$(removed_of "clusterserviceplan/$N_STD")"
expect_eq "plans still listed are not marked removed" "false false false" \
  "$(kc get clusterserviceplans "$N_SMALL" "$N_LARGE" "$N_NEW" -o json 2>&1 | jq -r '[.items[] | .status.removedFromBrokerCatalog // false | tostring] | join(" ")' 2>&1)"
expect_eq "a changed plan description is updated" "One small database, now faster" \
  "$(kc get clusterserviceplan "$N_SMALL" -o jsonpath='{.spec.description}' 2>&1)"
expect_eq "the broker is still Ready, reconciledGeneration = generation" "True $(kc get clusterservicebroker "$BB" -o jsonpath='{.metadata.generation}')" \
  "$(kc get clusterservicebroker "$BB" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.reconciledGeneration}' 2>&1)"

# --- relistDuration (no bump) versus relistBehavior Manual (same duration, no bump) ---
expect_ok "set relistDuration 3s on the basic broker" kc patch clusterservicebroker "$BB" --type=merge -p '{"spec":{"relistDuration":"3s"}}'
reconciled() { [ "$(kc get clusterservicebroker "$1" -o jsonpath='{.metadata.generation}={.status.reconciledGeneration}' 2>&1)" = "$2=$2" ]; }
eventually 15 reconciled "$BB" 3
expect_eq "the spec change is reconciled (reconciledGeneration 3)" "3=3" \
  "$(kc get clusterservicebroker "$BB" -o jsonpath='{.metadata.generation}={.status.reconciledGeneration}' 2>&1)"
osb_b2_before=$(metric_sum ctl catalog_controller_osb_requests_total "broker=\"([^\"]*/)?$BR\"")
e2e_restart_broker b1 --catalog "$E2E_TMP/cat3.json" --username admin --password "$PW" || exit 1
e2e_restart_broker b2 --catalog "$E2E_TMP/bcat2.json" --token "$TOKEN" || exit 1
t=$SECONDS
eventually 20 has_plan "$N_EXTRA"
expect_ok "relistBehavior Duration: a plan added to the catalog appears without a bump" kc get clusterserviceplan "$N_EXTRA" -o name
echo "# relist by duration after $((SECONDS - t)) s"
not_removed() { [ "$(removed_of "$1")" != true ]; }
eventually 10 not_removed "clusterserviceplan/$N_OLD"
expect_eq "a plan back in the catalog: removedFromBrokerCatalog no longer true" "" \
  "$(removed_of "clusterserviceplan/$N_OLD" | sed 's/^false$//')"
rvs() { kc get clusterserviceclasses,clusterserviceplans -l "$sel" -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.resourceVersion}{"\n"}{end}' 2>&1 | sort; }
rv_before=$(rvs)
osb_bb_before=$(metric_sum ctl catalog_controller_osb_requests_total "broker=\"([^\"]*/)?$BB\"")
sleep $((t + 9 - SECONDS > 4 ? t + 9 - SECONDS : 4))
expect_num_gt "relistDuration 3s: the catalog is fetched again meanwhile (controller metrics)" \
  "$(metric_sum ctl catalog_controller_osb_requests_total "broker=\"([^\"]*/)?$BB\"")" "$osb_bb_before"
expect_eq "a relist of an unchanged catalog rewrites no class or plan (resourceVersions unchanged)" "$rv_before" "$(rvs)"
expect_fail_with "relistBehavior Manual: after 9 s (relistDuration 3s) the catalog change is not picked up" 'NotFound|not found' \
  kc get clusterserviceplan "$N_BF2"
expect_eq "relistBehavior Manual: no catalog request to that broker meanwhile (controller metrics)" "$osb_b2_before" \
  "$(metric_sum ctl catalog_controller_osb_requests_total "broker=\"([^\"]*/)?$BR\"")"
expect_ok "bump relistRequests of the Manual broker" kc patch clusterservicebroker "$BR" --type=merge -p '{"spec":{"relistRequests":1}}'
eventually 15 has_plan "$N_BF2"
expect_ok "relistBehavior Manual: after the bump the new plan appears" kc get clusterserviceplan "$N_BF2" -o name

# --- deleting brokers removes their classes and plans ---
expect_ok "delete the basic broker (waits for its finalizer, 30 s)" kc delete clusterservicebroker "$BB" --timeout=30s
no_objects() { [ -z "$(kc get clusterserviceclasses,clusterserviceplans -l "$1" -o name 2>&1)" ]; }
eventually 15 no_objects "$sel"
expect_eq "its classes and plans are gone (also those removed from the catalog)" "" \
  "$(kc get clusterserviceclasses,clusterserviceplans -l "$sel" -o name 2>&1)"
expect_fail_with "... by name too" 'NotFound|not found' kc get clusterserviceplan "$N_OLD"
expect_ok "delete the bearer broker and the failing ones (30 s)" kc delete clusterservicebroker "$BR" "$BU" "$BS" --timeout=30s
eventually 15 no_objects "$selr"
expect_eq "the bearer broker's classes and plans are gone" "" "$(kc get clusterserviceclasses,clusterserviceplans -l "$selr" -o name 2>&1)"
expect_ok "the controller is still healthy" curl -sf --max-time 5 "$ctl_URL/healthz"
echo "# t-broker: journey took $((SECONDS - T0)) s"
e2e_done
