#!/bin/bash
# Issue 22: the platform checks parameters before the broker does, and instances are upgraded
# when the broker's plans move on. Real osb-broker processes, a catalog-controller and the
# plugins (the build's plugins/ first on the PATH). The controller checks an instance's
# parameters (spec.parameters and parametersFrom) against the plan's create schema, an update's
# against the update schema and a binding's against the binding schema: a violation is Ready
# False ErrorWithParameters naming every JSON path and rule, never a value, and the broker never
# hears of it (its request log); a plan without a schema is not checked. "kubectl create
# serviceinstance/servicebinding" refuse such parameters before creating anything, listing every
# violation (also with --dry-run=client), and --validate=false skips the check. maintenance_info:
# the plan's version is sent and recorded; after the broker's catalog bumps it (the broker
# restarted with a changed catalog and relisted) UpgradeAvailable is True (and the -o wide column
# Upgrade); "kubectl svcat upgrade instance" sends the update with the new version; a version the
# broker does not have is its 422 MaintenanceInfoConflict, a condition, and a catalog read.
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$OSB_BROKER" osb-broker
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller
PLUGIN_DIR=$top_builddir/plugins
for p in kubectl-create-serviceinstance kubectl-create-servicebinding kubectl-svcat; do
  e2e_require_daemon "$PLUGIN_DIR/$p" "$p"
done
export PATH="$PLUGIN_DIR:$PATH"
export KUBECTL_ENABLE_CMD_SHADOW=true
e2e_install_crds "$top_srcdir/deploy/crds"

ID=$E2E_ID
T0=$SECONDS
tick() { echo "# t+$((SECONDS - T0)) s: $1"; }

# --- the catalog ---------------------------------------------------------------------------------
# strict: schemas for create, update and bind. mi: maintenance_info 1.0.0 (2.0.0 in the second
# catalog). free: no schema at all.
SVC=e2e-$ID-pa-svc; CLS=e2e-pa-$ID
P_STRICT=e2e-$ID-pa-strict; P_MI=e2e-$ID-pa-mi; P_FREE=e2e-$ID-pa-free
catalog() { # MI-VERSION
  cat <<JSON
{"services":[{"id":"$SVC","name":"$CLS","description":"E2E parameter checks","bindable":true,
 "instances_retrievable":true,"bindings_retrievable":true,"plan_updateable":true,"plans":[
 {"id":"$P_STRICT","name":"strict","description":"schemas for everything","schemas":{
   "service_instance":{
     "create":{"parameters":{"\$schema":"http://json-schema.org/draft-07/schema#","type":"object",
       "required":["name"],"additionalProperties":false,"properties":{
         "name":{"type":"string","maxLength":10},"size":{"type":"integer","minimum":1,"maximum":10},
         "tier":{"enum":["gold","silver"]}}}},
     "update":{"parameters":{"\$schema":"http://json-schema.org/draft-07/schema#","type":"object",
       "properties":{"size":{"type":"integer","maximum":20}}}}},
   "service_binding":{"create":{"parameters":{"\$schema":"http://json-schema.org/draft-07/schema#",
     "type":"object","additionalProperties":false,"properties":{"role":{"enum":["ro","rw"]}}}}}}},
 {"id":"$P_MI","name":"mi","description":"maintenance_info $1","maintenance_info":{"version":"$1","description":"release $1"}},
 {"id":"$P_FREE","name":"free","description":"no schema"}]}]}
JSON
}
catalog 1.0.0 >"$E2E_TMP/cat1.json"
catalog 2.0.0 >"$E2E_TMP/cat2.json"
for f in cat1 cat2; do jq -e . "$E2E_TMP/$f.json" >/dev/null || { echo "# bad catalog $f"; exit 1; }; done
N_STRICT=$(osb_k8s_name "$P_STRICT"); N_MI=$(osb_k8s_name "$P_MI")

# --- daemons and the broker ----------------------------------------------------------------------
PW=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
BARGS=(--username admin --password "$PW")
e2e_start_broker b1 --catalog "$E2E_TMP/cat1.json" "${BARGS[@]}" || exit 1
kc get configmap cluster-info -n default -o name >/dev/null 2>&1 || e2e_cleanup_add "configmap cluster-info -n default"
e2e_start_controller ctl --max-retry-interval 2s || exit 1
eventually 15 curl -sf --max-time 2 -o /dev/null "$ctl_URL/readyz"
B1=e2e-params-$ID
e2e_register_broker "$B1" "$b1_URL" "$PW" || exit 1
plan_listed() { kc get clusterserviceplan "$1" -o name >/dev/null 2>&1; }
eventually 15 plan_listed "$N_MI"
expect_ok "the plans are listed" kc get clusterserviceplan "$N_STRICT" "$N_MI" -o name

# --- helpers -------------------------------------------------------------------------------------
oj() { kn get "$1" "$2" -o json 2>/dev/null; }
of() { oj "$1" "$2" | jq -r "$3" 2>/dev/null; }
cond() { oj "$1" "$2" | jq -r --arg t "$3" '.status.conditions[]? | select(.type == $t) | "\(.status) \(.reason)"' 2>/dev/null; }
cmsg() { oj "$1" "$2" | jq -r --arg t "$3" '.status.conditions[]? | select(.type == $t) | .message' 2>/dev/null; }
cond_is() { [ "$(cond "$1" "$2" "$3")" = "$4" ]; }
extid() { of "$1" "$2" '.spec.externalID // ""'; }
gone() { local out; out=$(kn get "$1" "$2" 2>&1); grep -Eq 'NotFound|not found' <<<"$out"; }
osb() {
  local u="${1}_URL"
  curl -sS --max-time 10 -u "admin:$PW" -H 'X-Broker-API-Version: 2.17' -X "$2" -o "$E2E_TMP/osb.body" \
    -w '%{http_code}' "${!u}$3" 2>/dev/null
}
osb_body() { cat "$E2E_TMP/osb.body"; }
# blog PREFIX METHOD PATH [STATUS]: how many such requests the broker's log shows (all its runs)
blog() { grep -cF -- " method=$2 path=$3 ${4:+status=$4 }" "$E2E_TMP/$1/log" 2>/dev/null || true; }
blog_ge() { [ "$(blog "$1" "$2" "$3" ${4:+"$4"})" -ge "$5" ]; }
# kcreate NAME ARGS...: "kubectl create NAME" (the plugin), or the plugin binary where this
# kubectl does not run create plugins (before 1.30): RC, SOUT, SERR
KCREATE_DISPATCH=1
kcreate() {
  local name=$1; shift
  if [ "$KCREATE_DISPATCH" = 1 ]; then
    timeout -k 5 "$E2E_CMD_TIMEOUT" "$KUBECTL" create "$name" "$@" >"$E2E_TMP/p.out" 2>"$E2E_TMP/p.err"; RC=$?
  else
    timeout -k 5 "$E2E_CMD_TIMEOUT" "kubectl-create-$name" "$@" >"$E2E_TMP/p.out" 2>"$E2E_TMP/p.err"; RC=$?
  fi
  SOUT=$(cat "$E2E_TMP/p.out"); SERR=$(cat "$E2E_TMP/p.err")
}
kcreate serviceinstance --help
grep -q '^  kubectl create serviceinstance NAME' <<<"$SOUT" || KCREATE_DISPATCH=0
sv() { SV_OUT=$(timeout -k 5 "$E2E_CMD_TIMEOUT" "$KUBECTL" svcat "$@" -n "$E2E_NS" 2>"$E2E_TMP/sv.err"); SV_RC=$?; SV_ERR=$(cat "$E2E_TMP/sv.err"); }
e2e_sc_teardown

# --- the controller checks before the broker hears of it -------------------------------------------
tick "the controller checks parameters"
expect_ok "a Secret for parametersFrom (a value that breaks the schema, and a password)" kn apply -f - <<YAML
apiVersion: v1
kind: Secret
metadata: {name: pa-secret}
stringData: {p: '{"size":"SECRET-SIZE-$ID","pass":"SECRET-PASS-$ID"}'}
YAML
expect_ok "instances: bad parameters inline and from a Secret; good ones; a plan without schema" kn apply -f - <<YAML
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: bad}
spec:
  clusterServiceClassExternalName: $CLS
  clusterServicePlanExternalName: strict
  parameters: {size: 99, tier: "SECRET-TIER-$ID", colour: "SECRET-COLOUR-$ID"}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: badfrom}
spec:
  clusterServiceClassExternalName: $CLS
  clusterServicePlanExternalName: strict
  parameters: {name: ok}
  parametersFrom: [{secretKeyRef: {name: pa-secret, key: p}}]
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: good}
spec:
  clusterServiceClassExternalName: $CLS
  clusterServicePlanExternalName: strict
  parameters: {name: db, size: 5}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: noschema}
spec:
  clusterServiceClassExternalName: $CLS
  clusterServicePlanExternalName: free
  parameters: {anything: [1, 2, 3], goes: true}
YAML
eventually 20 cond_is serviceinstance bad Ready "False ErrorWithParameters"
expect_eq "bad parameters: Ready False ErrorWithParameters" "False ErrorWithParameters" "$(cond serviceinstance bad Ready)"
M=$(cmsg serviceinstance bad Ready)
expect_match "... the message counts the violations" "4 violations of the plan's parameter schema" "$M"
expect_match "... names a missing property" "parameters\.name: is required" "$M"
expect_match "... names a bound" "parameters\.size: must be at most 10" "$M"
expect_match "... names an enum" "parameters\.tier: must be one of the 2 values the plan's schema lists" "$M"
expect_match "... names an unknown property" "parameters\.colour: is not an allowed property" "$M"
expect_no_match "... and quotes no value" "SECRET-" "$M"
expect_eq "... the broker never got a provision for it (request log)" 0 "$(blog b1 PUT "/v2/service_instances/$(extid serviceinstance bad)")"
expect_eq "... nor holds it" 404 "$(osb b1 GET "/v2/service_instances/$(extid serviceinstance bad)")"
eventually 20 cond_is serviceinstance badfrom Ready "False ErrorWithParameters"
expect_eq "a value from a parametersFrom Secret breaks the schema: ErrorWithParameters" "False ErrorWithParameters" \
  "$(cond serviceinstance badfrom Ready)"
M=$(cmsg serviceinstance badfrom Ready)
expect_match "... names the paths" "parameters\.size: must be an integer, not a string.*parameters\.pass: is not an allowed property" "$M"
expect_no_match "... and quotes none of the Secret's values" "SECRET-" "$M"
expect_eq "... the broker never got it" 0 "$(blog b1 PUT "/v2/service_instances/$(extid serviceinstance badfrom)")"
eventually 20 cond_is serviceinstance good Ready "True ProvisionedSuccessfully"
expect_eq "parameters that match the schema: provisioned" "True ProvisionedSuccessfully" "$(cond serviceinstance good Ready)"
eventually 20 cond_is serviceinstance noschema Ready "True ProvisionedSuccessfully"
expect_eq "a plan without a schema is not checked: provisioned" "True ProvisionedSuccessfully" "$(cond serviceinstance noschema Ready)"
for n in bad badfrom good noschema; do
  expect_no_match "$n: no event or condition carries a parameter value" "SECRET-" \
    "$(kn get events --field-selector "involvedObject.name=$n" -o json 2>/dev/null | jq -r '.items[].message'; cmsg serviceinstance "$n" Ready)"
done
expect_no_match "the controller's log carries no parameter value" "SECRET-" "$(cat "$E2E_TMP/ctl/log")"
echo "# a rejected instance, as kubectl describe shows it:"
kn describe serviceinstance bad 2>&1 | sed -n '/Conditions:/,$p' | head -12 | sed 's/^/#   /'

expect_ok "fix the bad instance's parameters" kn patch serviceinstance bad --type=merge \
  -p '{"spec":{"parameters":{"name":"fixed","size":3,"tier":null,"colour":null}}}'
eventually 20 cond_is serviceinstance bad Ready "True ProvisionedSuccessfully"
expect_eq "... then it is provisioned" "True ProvisionedSuccessfully" "$(cond serviceinstance bad Ready)"
expect_eq "... with one provision request at the broker, carrying the fixed parameters" '1 {"name":"fixed","size":3}' \
  "$(blog b1 PUT "/v2/service_instances/$(extid serviceinstance bad)") $(osb b1 GET "/v2/service_instances/$(extid serviceinstance bad)" >/dev/null; osb_body | jq -cS .parameters)"

tick "an update against the update schema"
X_GOOD=$(extid serviceinstance good)
expect_ok "update good with size 50 (the update schema allows 20 at most)" kn patch serviceinstance good --type=merge -p '{"spec":{"parameters":{"size":50}}}'
eventually 20 cond_is serviceinstance good Ready "False ErrorWithParameters"
expect_eq "... Ready False ErrorWithParameters" "False ErrorWithParameters" "$(cond serviceinstance good Ready)"
expect_match "... naming the path and the update schema's rule" "parameters\.size: must be at most 20" "$(cmsg serviceinstance good Ready)"
expect_eq "... and no update reached the broker" 0 "$(blog b1 PATCH "/v2/service_instances/$X_GOOD")"
expect_ok "update good with size 15 (too big for create, fine for update)" kn patch serviceinstance good --type=merge -p '{"spec":{"parameters":{"size":15}}}'
eventually 20 cond_is serviceinstance good Ready "True InstanceUpdatedSuccessfully"
expect_eq "... updated, with one update at the broker" "True InstanceUpdatedSuccessfully 1" \
  "$(cond serviceinstance good Ready) $(blog b1 PATCH "/v2/service_instances/$X_GOOD" 200)"

tick "a binding against the binding schema"
expect_ok "bindings with a bad and a good role" kn apply -f - <<YAML
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBinding
metadata: {name: badbind}
spec: {instanceRef: {name: good}, parameters: {role: "SECRET-ROLE-$ID"}}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBinding
metadata: {name: goodbind}
spec: {instanceRef: {name: good}, parameters: {role: ro}}
YAML
eventually 20 cond_is servicebinding badbind Ready "False ErrorWithParameters"
expect_eq "a binding whose parameters break the binding schema: ErrorWithParameters" "False ErrorWithParameters" \
  "$(cond servicebinding badbind Ready)"
expect_match "... naming the path" "parameters\.role: must be one of the 2 values" "$(cmsg servicebinding badbind Ready)"
expect_no_match "... not the value" "SECRET-" "$(cmsg servicebinding badbind Ready)"
expect_eq "... no bind reached the broker" 0 \
  "$(blog b1 PUT "/v2/service_instances/$X_GOOD/service_bindings/$(extid servicebinding badbind)")"
eventually 20 cond_is servicebinding goodbind Ready "True InjectedBindResult"
expect_eq "a good binding is bound" "True InjectedBindResult" "$(cond servicebinding goodbind Ready)"

# --- kubectl svcat shows the schemas ---------------------------------------------------------------
tick "kubectl svcat describe plan, marketplace"
sv describe plan "$CLS/strict"
expect_eq "describe plan: exit 0" 0 "$SV_RC"
expect_match "... the provision schema as a table" '^  PARAMETER +TYPE +REQUIRED +RULES' "$SV_OUT"
expect_match "... a required string with its length" '^  name +string +yes +at most 10 characters' "$SV_OUT"
expect_match "... an integer's bounds" '^  size +integer +no +1 to 10' "$SV_OUT"
expect_match "... an enum's values" '^  tier +\(enum\) +no +one of gold, silver' "$SV_OUT"
expect_match "... whether other parameters are allowed" '^  No other parameters are allowed\.' "$SV_OUT"
expect_match "... the update schema's bound" '^  size +integer +no +at most 20' "$SV_OUT"
expect_match "... the binding schema" '^  role +\(enum\) +no +one of ro, rw' "$SV_OUT"
sv describe plan "$CLS/mi"
expect_match "describe plan of a plan with maintenance_info: its version" '^Maintenance Version: +1\.0\.0$' "$SV_OUT"
expect_match "... and no schema" '^Provision Schema: +<none>$' "$SV_OUT"
sv marketplace -o wide
expect_match "marketplace -o wide: a PARAMETERS column" '^CLASS +PLAN +FREE +DESCRIPTION +BROKER +CLASS DESCRIPTION +PARAMETERS$' "$SV_OUT"
expect_match "... which parameters a plan takes (required ones marked *)" "^$CLS +strict +no +schemas for everything +$B1 +E2E parameter checks +name\\*, size, tier$" "$SV_OUT"
expect_match "... none for a plan without schema" "^$CLS +free +no +no schema +$B1 +E2E parameter checks +-$" "$SV_OUT"
sv marketplace -o json
expect_eq "marketplace -o json: the parameters of each plan with a schema" "strict:name*, size, tier" \
  "$(jq -r --arg c "$CLS" '.[] | select(.class == $c) | .plans[] | select(.parameters) | "\(.plan):\(.parameters)"' <<<"$SV_OUT" 2>&1)"

# --- the plugins check before creating -------------------------------------------------------------
tick "kubectl create checks before creating"
kcreate serviceinstance cx -n "$E2E_NS" --class "$CLS" --plan strict --params-json '{"size":99,"colour":"SECRET-X"}' --param tier=bronze
expect_eq "kubectl create serviceinstance with bad parameters: exit 1" 1 "$RC"
expect_match "... says which plan's schema" "do not match the schema of plan '$N_STRICT' \(4 violations" "$SERR"
expect_eq "... and lists every violation, one a line" \
  "$(printf '  parameters.name: is required\n  parameters.tier: must be one of the 2 values the plan'"'"'s schema lists\n  parameters.size: must be at most 10\n  parameters.colour: is not an allowed property')" \
  "$(grep '^  parameters\.' <<<"$SERR")"
expect_no_match "... quoting no value" "SECRET-|bronze" "$SERR"
expect_ok "... and nothing was created" gone serviceinstance cx
echo "# a client-side rejection:"; printf '%s\n' "$SERR" | sed 's/^/#   /'
kcreate serviceinstance cx -n "$E2E_NS" --class "$CLS" --plan strict --params-json '{"size":99}' --dry-run=client -o yaml
expect_eq "--dry-run=client checks too: exit 1, two violations" "1 2" "$RC $(grep -c '^  parameters\.' <<<"$SERR")"
kcreate serviceinstance cx -n "$E2E_NS" --class "$CLS" --plan strict --param name=x --dry-run=client -o yaml
expect_eq "--dry-run=client with good parameters: exit 0, the object" "0 ServiceInstance" "$RC $(grep '^kind:' <<<"$SOUT" | cut -d' ' -f2)"
kcreate serviceinstance cv -n "$E2E_NS" --class "$CLS" --plan strict --params-json '{"size":99}' --validate=false
expect_eq "--validate=false skips the check: created" 0 "$RC"
eventually 20 cond_is serviceinstance cv Ready "False ErrorWithParameters"
expect_eq "... and the controller refuses it" "False ErrorWithParameters" "$(cond serviceinstance cv Ready)"
kcreate serviceinstance cf -n "$E2E_NS" --class "$CLS" --plan free --param whatever=1
expect_eq "a plan without a schema: created" 0 "$RC"
kcreate servicebinding bx -n "$E2E_NS" --instance good --param role=admin --param extra=1
expect_eq "kubectl create servicebinding with bad parameters: exit 1, both violations listed" \
  "1 $(printf '  parameters.role: must be one of the 2 values the plan'"'"'s schema lists\n  parameters.extra: is not an allowed property')" \
  "$RC $(grep '^  parameters\.' <<<"$SERR")"
expect_ok "... and nothing was created" gone servicebinding bx
kcreate servicebinding bx -n "$E2E_NS" --instance good --param role=rw
expect_eq "... good parameters: created" 0 "$RC"

# --- maintenance_info ------------------------------------------------------------------------------
tick "maintenance_info"
expect_ok "an instance of plan mi (maintenance_info 1.0.0)" kn apply -f - <<YAML
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: up}
spec: {clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: mi}
YAML
eventually 20 cond_is serviceinstance up Ready "True ProvisionedSuccessfully"
X_UP=$(extid serviceinstance up)
expect_eq "provisioned; the status records the version it runs" "True ProvisionedSuccessfully 1.0.0" \
  "$(cond serviceinstance up Ready) $(of serviceinstance up .status.externalProperties.maintenanceInfo.version)"
expect_eq "... the broker got it (maintenance_info 1.0.0)" "200 1.0.0" \
  "$(osb b1 GET "/v2/service_instances/$X_UP") $(osb_body | jq -r .maintenance_info.version)"
expect_eq "... UpgradeAvailable False UpToDate" "False UpToDate" "$(cond serviceinstance up UpgradeAvailable)"
expect_eq "... STATUS (lastConditionState) is still the Ready condition's" "Ready" "$(of serviceinstance up .status.lastConditionState)"

tick "the broker's catalog bumps maintenance_info"
e2e_restart_broker b1 --catalog "$E2E_TMP/cat2.json" "${BARGS[@]}" || exit 1
expect_ok "relist the broker (spec.relistRequests)" kc patch clusterservicebroker "$B1" --type=merge -p '{"spec":{"relistRequests":1}}'
plan_version_is() { [ "$(kc get clusterserviceplan "$N_MI" -o jsonpath='{.spec.maintenanceInfo.version}' 2>/dev/null)" = "$1" ]; }
eventually 20 plan_version_is 2.0.0
expect_ok "the plan's maintenanceInfo.version is 2.0.0" plan_version_is 2.0.0
eventually 20 cond_is serviceinstance up UpgradeAvailable "True UpgradeAvailable"
expect_eq "the instance: UpgradeAvailable True" "True UpgradeAvailable" "$(cond serviceinstance up UpgradeAvailable)"
expect_match "... the message names both versions and the command" "version is 2\.0\.0, the instance runs 1\.0\.0: kubectl svcat upgrade instance up" \
  "$(cmsg serviceinstance up UpgradeAvailable)"
OUT=$(kn get serviceinstance up -o wide 2>&1)
expect_match "kubectl get -o wide: the Upgrade column" '^NAME +CLASS +PLAN +STATUS +UPGRADE +AGE' "$OUT"
expect_match "... shows True" '^up +[^ ]+ +[^ ]+ +Ready +True +' "$OUT"
echo "# an upgrade available, as kubectl get shows it:"; printf '%s\n' "$OUT" | sed 's/^/#   /'
expect_eq "the broker got no update meanwhile" 0 "$(blog b1 PATCH "/v2/service_instances/$X_UP")"

sv upgrade instance up
expect_eq "kubectl svcat upgrade instance up: exit 0" 0 "$SV_RC"
expect_match "... says what it asked for" "maintenance_info version 1\.0\.0 -> 2\.0\.0" "$SV_OUT"
expect_eq "... spec.maintenanceInfo.version is the plan's" 2.0.0 "$(of serviceinstance up .spec.maintenanceInfo.version)"
upgraded() { [ "$(of serviceinstance up .status.externalProperties.maintenanceInfo.version)" = 2.0.0 ] && cond_is serviceinstance up Ready "True InstanceUpdatedSuccessfully"; }
eventually 20 upgraded
expect_eq "the instance runs 2.0.0, updated" "2.0.0 True InstanceUpdatedSuccessfully" \
  "$(of serviceinstance up .status.externalProperties.maintenanceInfo.version) $(cond serviceinstance up Ready)"
expect_eq "... UpgradeAvailable False" "False UpToDate" "$(cond serviceinstance up UpgradeAvailable)"
expect_eq "... the broker: one update, the instance at 2.0.0" "1 200 2.0.0" \
  "$(blog b1 PATCH "/v2/service_instances/$X_UP" 200) $(osb b1 GET "/v2/service_instances/$X_UP") $(osb_body | jq -r .maintenance_info.version)"
echo "# after the upgrade:"; kn get serviceinstance up -o wide 2>&1 | sed 's/^/#   /'
sv upgrade instance up
expect_eq "a second upgrade: nothing to do (exit 0)" "0 yes" "$SV_RC $(grep -q 'nothing to upgrade' <<<"$SV_OUT" && echo yes)"
sv upgrade instance noschema
expect_eq "upgrade of an instance whose plan has no maintenance_info: exit 1" "1 yes" "$SV_RC $(grep -q 'has no maintenance_info' <<<"$SV_ERR" && echo yes)"

tick "a conflict"
CAT_BEFORE=$(blog b1 GET /v2/catalog)
expect_ok "an instance asking for a version the plan does not have (spec.maintenanceInfo.version 9.9.9)" kn apply -f - <<YAML
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: conflict}
spec: {clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: mi, maintenanceInfo: {version: 9.9.9}}
YAML
eventually 20 cond_is serviceinstance conflict Ready "False MaintenanceInfoConflict"
expect_eq "the broker's 422: Ready False MaintenanceInfoConflict" "False MaintenanceInfoConflict" "$(cond serviceinstance conflict Ready)"
expect_match "... the message says what to do" "refused maintenance_info version 9\.9\.9.*reads ClusterServiceBroker $B1's catalog again.*spec\.maintenanceInfo\.version must be the plan's" \
  "$(cmsg serviceinstance conflict Ready)"
X_CONF=$(extid serviceinstance conflict)
expect_match "... the broker answered 422 and holds nothing" "^[1-9][0-9]* 404$" \
  "$(blog b1 PUT "/v2/service_instances/$X_CONF" 422) $(osb b1 GET "/v2/service_instances/$X_CONF")"
eventually 15 blog_ge b1 GET /v2/catalog "" $((CAT_BEFORE + 1))
expect_num_gt "... and the controller read the broker's catalog again" "$(blog b1 GET /v2/catalog)" "$CAT_BEFORE"
expect_ok "remove spec.maintenanceInfo" kn patch serviceinstance conflict --type=merge -p '{"spec":{"maintenanceInfo":null}}'
eventually 20 cond_is serviceinstance conflict Ready "True ProvisionedSuccessfully"
expect_eq "... then it is provisioned at the plan's version" "True ProvisionedSuccessfully 2.0.0" \
  "$(cond serviceinstance conflict Ready) $(of serviceinstance conflict .status.externalProperties.maintenanceInfo.version)"

expect_ok "the controller is still healthy" curl -sf --max-time 5 "$ctl_URL/healthz"
echo "# t-params: journey took $((SECONDS - T0)) s"
e2e_done
