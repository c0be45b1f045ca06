#!/bin/bash
# Issue 21, adoption, orphaning and sharing, with a real osb-broker on loopback and a
# catalog-controller: spec.deletionPolicy Orphan releases an instance and a binding without a
# deprovision or an unbind (Event Orphaned; the broker still answers GET for both); the
# annotation bindery.dev/adopt with spec.externalID takes them over again (GET at the broker,
# Ready with no provision and no bind, the Secret byte for byte the one of before); adoption
# refused where the broker cannot confirm it (unknown id, a service that is not
# instances_retrievable, no externalID), and such an object deleted sends nothing; a binding in
# another namespace bound to an instance that lists that namespace (the Secret in the binding's
# namespace), refused for one that does not (the same words as for a missing instance), and
# bound once the instance allows it. The broker's request log is the proof of what was sent.
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$OSB_BROKER" osb-broker
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller
e2e_install_crds "$top_srcdir/deploy/crds"

ID=$E2E_ID
SVC=e2e-$ID-a-db; CLS=e2e-adb-$ID; SVCN=e2e-$ID-a-nr; CLSN=e2e-anr-$ID
P_SMALL=e2e-$ID-a-small; P_NR=e2e-$ID-a-nrp
CREDS='{"uri":"postgres://app@db.e2e.invalid:5432/{instance_id}","password":"pw-{binding_id}","port":5432}'
cat >"$E2E_TMP/a1.json" <<JSON
{"services":[
 {"id":"$SVC","name":"$CLS","description":"E2E adoption","bindable":true,"instances_retrievable":true,
  "bindings_retrievable":true,"plans":[
  {"id":"$P_SMALL","name":"small","description":"synchronous","x-bindery-backend":{"type":"static","credentials":$CREDS}},
  {"id":"$P_SMALL-l","name":"large","description":"synchronous","x-bindery-backend":{"type":"static","credentials":$CREDS}}]},
 {"id":"$SVCN","name":"$CLSN","description":"not retrievable","bindable":true,"plans":[
  {"id":"$P_NR","name":"nr","description":"synchronous","x-bindery-backend":{"type":"static","credentials":$CREDS}}]}]}
JSON
jq -e . "$E2E_TMP/a1.json" >/dev/null || { echo "# bad catalog"; exit 1; }

PW=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
e2e_start_broker a1 --catalog "$E2E_TMP/a1.json" --username admin --password "$PW" || exit 1
kc get configmap cluster-info -n default -o name >/dev/null 2>&1 || e2e_cleanup_add "configmap cluster-info -n default"
e2e_start_controller ctl --max-retry-interval 2s || exit 1
eventually 15 curl -sf --max-time 2 -o /dev/null "$ctl_URL/readyz"
B1=e2e-adopt-$ID
e2e_register_broker "$B1" "$a1_URL" "$PW" || { echo "# the rest of this test needs a Ready broker: it ends here"; exit 1; }
n_plans() { kc get clusterserviceplans -l "servicecatalog.k8s.io/spec.clusterServiceBrokerName=$(sha224 "$B1")" -o name 2>/dev/null | wc -l; }
plans_listed() { [ "$(n_plans)" -ge 3 ]; }
eventually 15 plans_listed

NS2=e2e-adopt2-$ID
e2e_cleanup_add "namespace $NS2 --wait=false"
e2e_sc_teardown
E2E_SC_NAMESPACES=("$NS2" "$E2E_NS")   # the other namespace's bindings first
expect_ok "create namespace $NS2" kc create namespace "$NS2"

# --- helpers -------------------------------------------------------------------------------------
oj() { kc -n "${NSX:-$E2E_NS}" get "$1" "$2" -o json 2>/dev/null; }
of() { oj "$1" "$2" | jq -r "$3" 2>/dev/null; }
cond() { oj "$1" "$2" | jq -r --arg t "$3" '.status.conditions[]? | select(.type == $t) | "\(.status) \(.reason)"' 2>/dev/null; }
cmsg() { oj "$1" "$2" | jq -r --arg t "$3" '.status.conditions[]? | select(.type == $t) | .message' 2>/dev/null; }
cond_is() { [ "$(cond "$1" "$2" "$3")" = "$4" ]; }
gone() { local out; out=$(kc -n "${NSX:-$E2E_NS}" get "$1" "$2" 2>&1); grep -Eq 'NotFound|not found' <<<"$out"; }
ev() { kc -n "${NSX:-$E2E_NS}" get events --field-selector "involvedObject.name=$2" -o json 2>/dev/null |
         jq -r --arg k "$1" '.items[] | select(.involvedObject.kind == $k) | "\(.type) \(.reason): \(.message)"'; }
has_ev() { grep -Eq -- "$3" <<<"$(ev "$1" "$2")"; }
osb() {
  curl -sS --max-time 10 -u "admin:$PW" -H 'X-Broker-API-Version: 2.17' -X "$1" -o "$E2E_TMP/osb.body" \
    -w '%{http_code}' "$a1_URL$2" 2>/dev/null
}
# blog METHOD PATH [STATUS]: how many such requests the broker's log shows
blog() { grep -cF -- " method=$1 path=$2 ${3:+status=$3 }" "$E2E_TMP/a1/log" 2>/dev/null || true; }
# changes METHOD-less: every provision, update, deprovision, bind, unbind the broker got so far
changes() { grep -cE ' method=(PUT|PATCH|DELETE) path=/v2/service_instances/' "$E2E_TMP/a1/log" 2>/dev/null || true; }
secret_json() { kc -n "${NSX:-$E2E_NS}" get secret "$1" -o json 2>/dev/null | jq -cS '{type, data}'; }
si_yaml() { # NAME CLASS PLAN [SPEC-EXTRA] [ANNOTATIONS]
  printf -- '---\napiVersion: servicecatalog.k8s.io/v1beta1\nkind: ServiceInstance\nmetadata: {name: %s%s}\nspec: {clusterServiceClassExternalName: %s, clusterServicePlanExternalName: %s%s}\n' \
    "$1" "${5:+, annotations: $5}" "$2" "$3" "${4:+, $4}"
}
sb_yaml() { # NAME INSTANCE [SPEC-EXTRA] [ANNOTATIONS]
  printf -- '---\napiVersion: servicecatalog.k8s.io/v1beta1\nkind: ServiceBinding\nmetadata: {name: %s%s}\nspec: {instanceRef: {name: %s}%s}\n' \
    "$1" "${4:+, annotations: $4}" "$2" "${3:+, $3}"
}

# --- the schema --------------------------------------------------------------------------------
expect_fail_with "deletionPolicy must be Delete or Orphan (the CRD's enum)" 'Unsupported value|deletionPolicy' \
  kc -n "$E2E_NS" apply -f - <<<"$(si_yaml badpol "$CLS" small 'deletionPolicy: Keep')"

# --- orphaning -----------------------------------------------------------------------------------
expect_ok "create instance orph and binding orphb, both with deletionPolicy Orphan" kc -n "$E2E_NS" apply -f - <<YAML
$(si_yaml orph "$CLS" small 'deletionPolicy: Orphan')
$(sb_yaml orphb orph 'deletionPolicy: Orphan')
YAML
eventually 30 cond_is servicebinding orphb Ready "True InjectedBindResult"
expect_eq "orphb is Ready" "True InjectedBindResult" "$(cond servicebinding orphb Ready)"
IID=$(of serviceinstance orph .spec.externalID)
BID=$(of servicebinding orphb .spec.externalID)
IPATH=/v2/service_instances/$IID
BPATH=$IPATH/service_bindings/$BID
SECRET_BEFORE=$(secret_json orphb)
expect_match "orphb's Secret has the broker's credentials" '"password"' "$SECRET_BEFORE"
expect_eq "the broker got one provision and one bind" "1 1" "$(blog PUT "$IPATH") $(blog PUT "$BPATH")"

expect_ok "delete binding orphb (kubectl delete waits for it to go)" kc -n "$E2E_NS" delete servicebinding orphb --timeout=30s
expect_eq "no unbind was sent; the broker still holds the binding (GET 200)" "0 200" "$(blog DELETE "$BPATH") $(osb GET "$BPATH")"
eventually 10 has_ev ServiceBinding orphb 'Normal Orphaned'
expect_match "Event Orphaned on the binding, naming its id" "Normal Orphaned: .*spec.deletionPolicy: Orphan.*$BID" "$(ev ServiceBinding orphb)"
eventually 10 gone secret orphb
expect_ok "the binding's Secret went with it" gone secret orphb

expect_ok "delete instance orph" kc -n "$E2E_NS" delete serviceinstance orph --timeout=30s
expect_eq "no deprovision was sent; the broker still holds the instance (GET 200)" "0 200" "$(blog DELETE "$IPATH") $(osb GET "$IPATH")"
eventually 10 has_ev ServiceInstance orph 'Normal Orphaned'
expect_match "Event Orphaned on the instance, naming its id" "Normal Orphaned: .*$IID" "$(ev ServiceInstance orph)"

# --- adoption ------------------------------------------------------------------------------------
N0=$(changes)
expect_ok "adopt the orphaned instance and binding (annotation bindery.dev/adopt, spec.externalID)" kc -n "$E2E_NS" apply -f - <<YAML
$(si_yaml adopted "$CLS" small "externalID: $IID" '{bindery.dev/adopt: "true"}')
$(sb_yaml adoptedb adopted "externalID: $BID, secretName: orphb" '{bindery.dev/adopt: "true"}')
YAML
eventually 30 cond_is servicebinding adoptedb Ready "True InjectedBindResult"
expect_eq "the instance is Ready, adopted" "True InstanceAdopted" "$(cond serviceinstance adopted Ready)"
expect_eq "its status: provisioned, deprovision required, the plan recorded" "Provisioned Required $P_SMALL" \
  "$(of serviceinstance adopted '"\(.status.provisionStatus) \(.status.deprovisionStatus) \(.status.externalProperties.clusterServicePlanExternalID)"')"
expect_eq "the binding is Ready" "True InjectedBindResult" "$(cond servicebinding adoptedb Ready)"
expect_eq "the Secret is byte for byte the one of before" "$SECRET_BEFORE" "$(secret_json orphb)"
expect_eq "nothing was provisioned, updated, deprovisioned, bound or unbound" "$N0" "$(changes)"
expect_eq "the broker was asked for the instance and the binding (GET 200)" "yes yes" \
  "$([ "$(blog GET "$IPATH" 200)" -ge 1 ] && echo yes || echo no) $([ "$(blog GET "$BPATH" 200)" -ge 1 ] && echo yes || echo no)"
expect_ok "delete the adopted binding (deletionPolicy Delete by default)" kc -n "$E2E_NS" delete servicebinding adoptedb --timeout=30s
expect_eq "now the binding is ours: it was unbound" "1 404" "$(blog DELETE "$BPATH" 200) $(osb GET "$BPATH")"

# --- adoption refused ------------------------------------------------------------------------------
NOSUCH=00000000-0000-4000-8000-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
N0=$(changes)
expect_ok "adopt an id the broker does not hold, one of a service that is not instances_retrievable, none, another plan" \
  kc -n "$E2E_NS" apply -f - <<YAML
$(si_yaml ad-unknown "$CLS" small "externalID: $NOSUCH" '{bindery.dev/adopt: "true"}')
$(si_yaml ad-nr "$CLSN" nr "externalID: $IID" '{bindery.dev/adopt: "true"}')
$(si_yaml ad-noid "$CLS" small "" '{bindery.dev/adopt: "true"}')
$(si_yaml ad-plan "$CLS" large "externalID: $IID" '{bindery.dev/adopt: "true"}')
YAML
eventually 20 cond_is serviceinstance ad-plan Failed "True ErrorAdoptingInstance"
expect_match "an instance the broker holds with another plan: refused" \
  "Cannot adopt instance $IID: the broker holds it with another service or plan than ClusterServiceClass .* and ClusterServicePlan" \
  "$(cmsg serviceinstance ad-plan Ready)"
eventually 20 cond_is serviceinstance ad-noid Failed "True ErrorAdoptingInstance"
eventually 20 cond_is serviceinstance ad-nr Failed "True ErrorAdoptingInstance"
eventually 20 cond_is serviceinstance ad-unknown Failed "True ErrorAdoptingInstance"
expect_eq "an unknown id: Failed, Ready False" "True ErrorAdoptingInstance|False ErrorAdoptingInstance" \
  "$(cond serviceinstance ad-unknown Failed)|$(cond serviceinstance ad-unknown Ready)"
expect_match "... saying the broker does not hold it" "Cannot adopt instance $NOSUCH: the broker does not hold it \(HTTP 404\)" \
  "$(cmsg serviceinstance ad-unknown Ready)"
expect_match "not instances_retrievable: refused without asking the broker" \
  "Cannot adopt instance $IID: ClusterServiceClass .* does not let its instances be fetched \(instances_retrievable is false\)" \
  "$(cmsg serviceinstance ad-nr Ready)"
expect_match "no externalID: refused" "spec.externalID must name the broker's instance" "$(cmsg serviceinstance ad-noid Ready)"
expect_eq "ad-noid was given no externalID" "" "$(of serviceinstance ad-noid '.spec.externalID // ""')"
expect_ok "delete the four" kc -n "$E2E_NS" delete serviceinstance ad-unknown ad-nr ad-noid ad-plan --timeout=30s
expect_eq "nothing was provisioned or deprovisioned for them" "$N0 0" "$(changes) $(blog DELETE "/v2/service_instances/$NOSUCH")"
expect_eq "the instance named by ad-nr is still held by the broker" "200" "$(osb GET "$IPATH")"

N0=$(changes)
expect_ok "adopt a binding the broker does not hold" kc -n "$E2E_NS" apply -f - <<<"$(sb_yaml ad-b-unknown adopted "externalID: $NOSUCH" '{bindery.dev/adopt: "true"}')"
eventually 20 cond_is servicebinding ad-b-unknown Failed "True ErrorAdoptingBinding"
expect_match "refused: the broker does not hold it" "Cannot adopt binding $NOSUCH: the broker does not hold it" \
  "$(cmsg servicebinding ad-b-unknown Ready)"
expect_ok "no Secret was written" gone secret ad-b-unknown
expect_ok "delete it" kc -n "$E2E_NS" delete servicebinding ad-b-unknown --timeout=30s
expect_eq "no bind and no unbind were sent" "$N0" "$(changes)"
expect_ok "an instance of the service that is not retrievable" kc -n "$E2E_NS" apply -f - <<<"$(si_yaml nr-db "$CLSN" nr)"
eventually 30 cond_is serviceinstance nr-db Ready "True ProvisionedSuccessfully"
N0=$(changes)
expect_ok "adopt a binding of it (bindings_retrievable is false)" \
  kc -n "$E2E_NS" apply -f - <<<"$(sb_yaml ad-b-nr nr-db "externalID: $BID" '{bindery.dev/adopt: "true"}')"
eventually 20 cond_is servicebinding ad-b-nr Failed "True ErrorAdoptingBinding"
expect_match "refused without asking the broker" \
  "Cannot adopt binding $BID: ClusterServiceClass .* does not let its bindings be fetched \(bindings_retrievable is false\)" \
  "$(cmsg servicebinding ad-b-nr Ready)"
expect_ok "delete it" kc -n "$E2E_NS" delete servicebinding ad-b-nr --timeout=30s
expect_eq "nothing was bound or unbound for it" "$N0" "$(changes)"

# --- sharing across namespaces -------------------------------------------------------------------
expect_ok "instance shared (allowedNamespacesForBinding: other,$NS2) and private (no annotation)" kc -n "$E2E_NS" apply -f - <<YAML
$(si_yaml shared "$CLS" small "" "{bindery.dev/allowedNamespacesForBinding: \"other,$NS2\"}")
$(si_yaml private "$CLS" small)
YAML
eventually 30 cond_is serviceinstance private Ready "True ProvisionedSuccessfully"
eventually 30 cond_is serviceinstance shared Ready "True ProvisionedSuccessfully"
PRIV_ID=$(of serviceinstance private .spec.externalID)
expect_ok "in $NS2: bindings to shared, private and nosuch of $E2E_NS" kc -n "$NS2" apply -f - <<YAML
$(sb_yaml x-shared "shared, namespace: $E2E_NS")
$(sb_yaml x-private "private, namespace: $E2E_NS")
$(sb_yaml x-nosuch "nosuch, namespace: $E2E_NS")
YAML
NSX=$NS2 eventually 30 cond_is servicebinding x-shared Ready "True InjectedBindResult"
expect_eq "the binding to the shared instance is Ready" "True InjectedBindResult" "$(NSX=$NS2 cond servicebinding x-shared Ready)"
expect_match "its Secret is in the binding's namespace $NS2" '"password"' "$(NSX=$NS2 secret_json x-shared)"
expect_ok "and not in the instance's namespace" gone secret x-shared
NSX=$NS2 eventually 20 cond_is servicebinding x-private Ready "False CrossNamespaceBindingNotAllowed"
expect_eq "the binding to the private instance is refused" "False CrossNamespaceBindingNotAllowed" \
  "$(NSX=$NS2 cond servicebinding x-private Ready)"
expect_match "... saying why" "ServiceInstance $E2E_NS/private does not exist or does not allow bindings from namespace $NS2" \
  "$(NSX=$NS2 cmsg servicebinding x-private Ready)"
NSX=$NS2 eventually 20 cond_is servicebinding x-nosuch Ready "False CrossNamespaceBindingNotAllowed"
expect_eq "a missing instance reads the same (whether another namespace's instance exists is not shown)" \
  "$(NSX=$NS2 cmsg servicebinding x-private Ready | sed 's/private/X/; s/; will retry.*//')" \
  "$(NSX=$NS2 cmsg servicebinding x-nosuch Ready | sed 's/nosuch/X/; s/; will retry.*//')"
expect_eq "no bind was sent for the private instance" "0" "$(grep -cF " method=PUT path=/v2/service_instances/$PRIV_ID/" "$E2E_TMP/a1/log")"
expect_ok "no Secret for the refused binding" eval 'NSX=$NS2 gone secret x-private'
expect_ok "annotate the private instance allowCrossNamespaceBinding=true" \
  kc -n "$E2E_NS" annotate serviceinstance private bindery.dev/allowCrossNamespaceBinding=true
NSX=$NS2 eventually 20 cond_is servicebinding x-private Ready "True InjectedBindResult"
expect_eq "the binding is then made (retried)" "True InjectedBindResult" "$(NSX=$NS2 cond servicebinding x-private Ready)"
expect_ok "delete the shared instance: its binding in $NS2 goes first" kc -n "$E2E_NS" delete serviceinstance shared --timeout=30s
expect_ok "x-shared is gone" eval 'NSX=$NS2 gone servicebinding x-shared'
expect_ok "the controller is still healthy" curl -sf --max-time 5 "$ctl_URL/healthz"
e2e_done
