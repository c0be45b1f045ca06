#!/bin/bash
# Issue 8: "kubectl svcat", run as kubectl runs a plugin (kubectl-svcat first on the PATH), with
# real osb-brokers and a catalog-controller: marketplace; get of every kind (tables, -A, NAME,
# -o json|yaml|name, not found, nothing found); describe of an instance (conditions, last
# operation, parametersFrom with the Secret's values redacted, bindings, Events), a binding (its
# Secret's keys, no values), a broker, a class and a plan; sync broker (relistRequests + 1 and a
# catalog fetch); touch instance (updateRequests + 1 and an update at the broker); unbind;
# deprovision --wait; abandon (answered no: exit 5 and nothing changed; --yes on an instance
# whose broker is stopped: gone); version; completion (the bash script, and kubectl's own
# completion through kubectl_complete-svcat); usage errors (exit 2) and an unreachable cluster
# (exit 1, naming the server).
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$OSB_BROKER" osb-broker
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller
if [ ! -x "$top_builddir/plugins/kubectl-svcat" ]; then
  e2e_not_ok "setup: kubectl-svcat is built" "an executable $top_builddir/plugins/kubectl-svcat (make)" "missing"
  exit 1
fi
export PATH="$top_builddir/plugins:$PATH"
e2e_install_crds "$top_srcdir/deploy/crds"

ID=$E2E_ID
T0=$SECONDS
tick() { echo "# t+$((SECONDS - T0)) s: $1"; }

# sv ARGS...: kubectl svcat ARGS -n $E2E_NS; sets SV_OUT (stdout), SV_ERR (stderr), SV_RC. With
# $E2E_SVCAT_TRANSCRIPT set, the command and its output are appended to that file (how
# docs/kubectl-plugins.md got its examples).
sv() {
  SV_OUT=$(timeout -k 5 "$E2E_CMD_TIMEOUT" "$KUBECTL" svcat "$@" 2>"$E2E_TMP/sv.err"); SV_RC=$?
  SV_ERR=$(cat "$E2E_TMP/sv.err")
  if [ -n "${E2E_SVCAT_TRANSCRIPT:-}" ]; then
    { printf '$ kubectl svcat %s\n' "$*"; [ -n "$SV_OUT" ] && printf '%s\n' "$SV_OUT"
      [ -n "$SV_ERR" ] && printf '%s\n' "$SV_ERR"; [ "$SV_RC" = 0 ] || echo "(exit $SV_RC)"; echo; } >>"$E2E_SVCAT_TRANSCRIPT"
  fi
}
svn() { sv "$@" -n "$E2E_NS"; }
expect_rc() { expect_eq "$1" "$2" "$SV_RC"; }
# YAML to JSON, sorted (timestamps stay strings, as in the JSON)
HAVE_PYYAML=0
python3 -c 'import yaml' >/dev/null 2>&1 && HAVE_PYYAML=1
y2j() {
  python3 -c '
import json, sys, yaml
class L(yaml.SafeLoader): pass
L.yaml_implicit_resolvers = {k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"] for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
print(json.dumps(yaml.load(sys.stdin, Loader=L)))' | jq -cS .
}
same_yaml_json() { # WHAT YAML JSON
  if [ $HAVE_PYYAML = 0 ]; then e2e_skip "$1" "python3-yaml is not installed"; return; fi
  expect_eq "$1" "$(jq -cS . <<<"$3" 2>&1)" "$(y2j <<<"$2" 2>&1)"
}

# --- brokers, catalog, instances, bindings ---------------------------------------------------------
tick "brokers, catalog, instances, bindings"
SVC=e2e-$ID-sv-db; CLS=e2e-svdb-$ID; P_SMALL=e2e-$ID-sv-small; P_LARGE=e2e-$ID-sv-large
SVC2=e2e-$ID-sv-gone; CLS2=e2e-svgone-$ID; P_ONE=e2e-$ID-sv-one
CREDS='{"uri":"postgres://db.e2e.invalid/{instance_id}","username":"app","password":"pw-'$ID'-{binding_id}"}'
cat >"$E2E_TMP/b1.json" <<JSON
{"services":[{"id":"$SVC","name":"$CLS","description":"E2E svcat database","bindable":true,
  "bindings_retrievable":true,"instances_retrievable":true,"plan_updateable":true,"plans":[
  {"id":"$P_SMALL","name":"small","description":"Small plan","free":true,
   "x-bindery-backend":{"type":"static","dashboard_url":"https://dash.e2e.invalid/{instance_id}","credentials":$CREDS}},
  {"id":"$P_LARGE","name":"large","description":"Large plan","free":false,
   "x-bindery-backend":{"type":"static","credentials":$CREDS}}]}]}
JSON
cat >"$E2E_TMP/b2.json" <<JSON
{"services":[{"id":"$SVC2","name":"$CLS2","description":"E2E svcat, a broker that goes away","bindable":true,
  "plans":[{"id":"$P_ONE","name":"one","description":"The only plan","x-bindery-backend":{"type":"static"}}]}]}
JSON
PW=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
e2e_start_broker b1 --catalog "$E2E_TMP/b1.json" --username admin --password "$PW" || exit 1
e2e_start_broker b2 --catalog "$E2E_TMP/b2.json" --username admin --password "$PW" || exit 1
kc get configmap cluster-info -n default -o name >/dev/null 2>&1 || e2e_cleanup_add "configmap cluster-info -n default"
e2e_start_controller ctl --max-retry-interval 2s || exit 1
B1=e2e-svcat-$ID; B2=e2e-svgone-$ID
e2e_cleanup_finalized "clusterservicebroker/$B1"
e2e_cleanup_finalized "clusterservicebroker/$B2"
SECRET_VALUE="s3cret-$ID"
expect_ok "apply the brokers, their Secret, and the Secret parametersFrom names" kc apply -f - <<YAML
apiVersion: v1
kind: Secret
metadata: {name: broker-auth, namespace: $E2E_NS}
stringData: {username: admin, password: "$PW"}
---
apiVersion: v1
kind: Secret
metadata: {name: inst-params, namespace: $E2E_NS}
stringData:
  creds: '{"password":"$SECRET_VALUE","region":"eu-$ID"}'
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
YAML
for b in "$B1" "$B2"; do
  if ! expect_ok "broker $b becomes Ready (kubectl wait, 30 s)" kc wait --for=condition=Ready "clusterservicebroker/$b" --timeout=30s; then
    echo "# the rest of this test needs Ready brokers: it ends here"; exit 1
  fi
done
n_plans() { kc get clusterserviceplans -o json 2>/dev/null | jq --arg a "$P_SMALL" --arg b "$P_LARGE" --arg c "$P_ONE" \
              '[.items[] | select(.spec.externalID == $a or .spec.externalID == $b or .spec.externalID == $c)] | length'; }
plans_listed() { [ "$(n_plans)" = 3 ]; }
eventually 15 plans_listed

# teardown before lib.sh's: instances and bindings deleted while the controller runs; leftovers
# lose their finalizers (a failure), so the namespace never stays stuck
_sc_teardown() {
  local rc=$? kind left o
  if kc get namespace "$E2E_NS" -o name >/dev/null 2>&1; then
    for kind in servicebindings serviceinstances; do
      kn annotate "$kind" --all bindery.dev/abandon=true --overwrite >/dev/null 2>&1
      kc delete "$kind" --all -n "$E2E_NS" --timeout=30s >/dev/null 2>&1 && continue
      left=$(kn get "$kind" -o name 2>/dev/null)
      [ -n "$left" ] || continue
      for o in $left; do kn patch "$o" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1; done
      e2e_not_ok "teardown: delete the $kind" "deleted (the controller releases its finalizer)" "$left"
    done
  fi
  (exit $rc); e2e_teardown
}
trap _sc_teardown EXIT

expect_ok "create instances db (parameters and parametersFrom), big, orphan (on the broker that goes away) and bindings b-one, b-two of db" kn apply -f - <<YAML
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: db}
spec:
  clusterServiceClassExternalName: $CLS
  clusterServicePlanExternalName: small
  parameters: {size: 3}
  parametersFrom: [{secretKeyRef: {name: inst-params, key: creds}}]
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: big}
spec: {clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: large}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: orphan}
spec: {clusterServiceClassExternalName: $CLS2, clusterServicePlanExternalName: one}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBinding
metadata: {name: b-one}
spec: {instanceRef: {name: db}}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBinding
metadata: {name: b-two}
spec: {instanceRef: {name: db}, secretName: b-two-secret}
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBinding
metadata: {name: b-big}
spec: {instanceRef: {name: big}}
YAML
cond() { kn get "$1" "$2" -o json 2>/dev/null | jq -r '.status.conditions[]? | select(.type == "Ready") | "\(.status) \(.reason)"'; }
ready() { [ "$(cond "$1" "$2" | cut -d' ' -f1)" = True ]; }
for o in "serviceinstance db" "serviceinstance big" "serviceinstance orphan" "servicebinding b-one" "servicebinding b-two" "servicebinding b-big"; do
  # shellcheck disable=SC2086
  eventually 30 ready $o
  # shellcheck disable=SC2086
  expect_match "$o is Ready" '^True ' "$(cond $o)"
done
gone() { local out; out=$(kn get "$1" "$2" 2>&1); grep -Eq 'NotFound|not found' <<<"$out"; }
blog() { grep -cF -- " method=$1 path=$2 " "$E2E_TMP/$3/log" 2>/dev/null || true; }

# --- marketplace -----------------------------------------------------------------------------------
tick "marketplace"
svn marketplace
expect_rc "marketplace: exit 0" 0
expect_match "marketplace: header CLASS PLAN FREE DESCRIPTION" '^CLASS +PLAN +FREE +DESCRIPTION$' "$SV_OUT"
expect_match "marketplace: a row per plan: the free one" "^$CLS +small +yes +Small plan$" "$SV_OUT"
expect_match "marketplace: ... the paid one" "^$CLS +large +no +Large plan$" "$SV_OUT"
sv mp -o wide -n "$E2E_NS"
expect_match "mp -o wide: the broker, the class's description and the parameters (none: no schema) too" "^$CLS +small +yes +Small plan +$B1 +E2E svcat database +-$" "$SV_OUT"
svn marketplace -o json
MP_JSON=$SV_OUT
expect_eq "marketplace -o json: the class, its description, broker and plans (free or not)" \
  "E2E svcat database $B1 large:false,small:true" \
  "$(jq -r --arg c "$CLS" '.[] | select(.class == $c) | "\(.description) \(.broker) \(.plans | map("\(.plan):\(.free)") | sort | join(","))"' <<<"$MP_JSON" 2>&1)"
svn marketplace -o yaml
same_yaml_json "marketplace -o yaml: the same as -o json" "$SV_OUT" "$MP_JSON"

# --- get -----------------------------------------------------------------------------------------
tick "get"
sv get brokers
expect_match "get brokers: header NAME URL STATUS AGE" '^NAME +URL +STATUS +AGE$' "$SV_OUT"
expect_match "get brokers: the broker, its URL, Ready" "^$B1 +$b1_URL +Ready +[0-9]+[smhd]" "$SV_OUT"
sv get classes
expect_match "get classes: header NAME DESCRIPTION" '^NAME +DESCRIPTION$' "$SV_OUT"
expect_match "get classes: the class by its external name" "^$CLS +E2E svcat database$" "$SV_OUT"
sv get plans
expect_match "get plans: header NAME CLASS DESCRIPTION" '^NAME +CLASS +DESCRIPTION$' "$SV_OUT"
expect_match "get plans: small of its class" "^small +$CLS +Small plan$" "$SV_OUT"
expect_match "get plans: large of its class" "^large +$CLS +Large plan$" "$SV_OUT"
svn get instances
expect_eq "get instances: header and rows, exactly (ages aside)" \
  "NAME CLASS PLAN STATUS
big $CLS large Ready
db $CLS small Ready
orphan $CLS2 one Ready" "$(awk '{print $1, $2, $3, $4}' <<<"$SV_OUT")"
expect_match "get instances: AGE" '^db +.* +Ready +[0-9]+s$' "$SV_OUT"
svn get inst db
expect_eq "get inst db: the header and one row" 2 "$(wc -l <<<"$SV_OUT")"
sv get instances -A
expect_match "get instances -A: NAMESPACE first" '^NAMESPACE +NAME +CLASS +PLAN +STATUS +AGE$' "$SV_OUT"
expect_match "get instances -A: the namespace's instances" "^$E2E_NS +db +$CLS +small +Ready " "$SV_OUT"
svn get bindings
expect_match "get bindings: header NAME INSTANCE SECRET STATUS AGE" '^NAME +INSTANCE +SECRET +STATUS +AGE$' "$SV_OUT"
expect_match "get bindings: b-one (Secret named after it)" '^b-one +db +b-one +Ready +[0-9]+s$' "$SV_OUT"
expect_match "get bindings: b-two (spec.secretName)" '^b-two +db +b-two-secret +Ready ' "$SV_OUT"
svn get instance db -o json
DB_JSON=$SV_OUT
expect_eq "get instance db -o json: the object" "ServiceInstance db $E2E_NS small" \
  "$(jq -r '"\(.kind) \(.metadata.name) \(.metadata.namespace) \(.spec.clusterServicePlanExternalName)"' <<<"$DB_JSON" 2>&1)"
svn get instance db -o yaml
same_yaml_json "get instance db -o yaml: the same object as -o json" "$SV_OUT" "$DB_JSON"
svn get instances -o json
expect_eq "get instances -o json: a List of the three" "List big,db,orphan" "$(jq -r '"\(.kind) \([.items[].metadata.name] | join(","))"' <<<"$SV_OUT" 2>&1)"
svn get bindings -o name
expect_eq "get bindings -o name" "servicebinding.servicecatalog.k8s.io/b-big
servicebinding.servicecatalog.k8s.io/b-one
servicebinding.servicecatalog.k8s.io/b-two" "$SV_OUT"
sv get class "$CLS" -o json
expect_eq "get class EXTERNAL-NAME -o json: found by its external name" "$SVC" "$(jq -r '.spec.externalID' <<<"$SV_OUT" 2>&1)"
sv get plan "$CLS/large" -o json
expect_eq "get plan CLASS/PLAN: that one plan" "$P_LARGE" "$(jq -r '.spec.externalID' <<<"$SV_OUT" 2>&1)"
sv get broker "$B1" -o yaml
expect_match "get broker NAME -o yaml" "^  url: $b1_URL\$" "$SV_OUT"
svn get instance nope-$ID
expect_rc "get instance NAME that does not exist: exit 1" 1
expect_match "... kubectl's message" "^Error from server \(NotFound\): serviceinstances.servicecatalog.k8s.io \"nope-$ID\" not found$" "$SV_ERR"
sv get plan "nope-$ID"
expect_rc "get plan NAME that does not exist: exit 1" 1
sv get instances -n "$E2E_NS-empty"
expect_eq "get instances in an empty namespace: exit 0, nothing on stdout" "0 ''" "$SV_RC '$SV_OUT'"
expect_eq "... \"No resources found in NS namespace.\" on stderr" "No resources found in $E2E_NS-empty namespace." "$SV_ERR"
svn get widgets
expect_rc "get an unknown kind: exit 2" 2

# --- describe ------------------------------------------------------------------------------------
tick "describe"
svn describe instance db
D=$SV_OUT
expect_rc "describe instance db: exit 0" 0
expect_match "describe instance: Name" '^Name: +db$' "$D"
expect_match "describe instance: Namespace" "^Namespace: +$E2E_NS\$" "$D"
expect_match "describe instance: Class (external name and Kubernetes name)" "^Class: +$CLS \\(ClusterServiceClass [a-z0-9.-]+\\)$" "$D"
expect_match "describe instance: Plan" '^Plan: +small \(ClusterServicePlan ' "$D"
expect_match "describe instance: Dashboard URL" "^Dashboard URL: +https://dash.e2e.invalid/$(jq -r .spec.externalID <<<"$DB_JSON")\$" "$D"
expect_match "describe instance: Status" '^Status: +Ready$' "$D"
expect_match "describe instance: Last Operation" '^Last Operation: ' "$D"
expect_match "describe instance: Current Operation" '^Current Operation: ' "$D"
expect_match "describe instance: the conditions table" '^  TYPE +STATUS +REASON +MESSAGE +LAST TRANSITION$' "$D"
expect_match "describe instance: condition Ready True ProvisionedSuccessfully" '^  Ready +True +ProvisionedSuccessfully +.* [0-9]{4}-[0-9]{2}-[0-9]{2}T' "$D"
expect_match "describe instance: spec.parameters" '^  size: 3$' "$D"
expect_match "describe instance: parametersFrom: the Secret and its key" '^  Secret inst-params, key creds:$' "$D"
expect_match "describe instance: ... its parameters, values redacted" '^    password: <REDACTED>$' "$D"
expect_match "describe instance: ... (both)" '^    region: <REDACTED>$' "$D"
expect_no_match "describe instance: the Secret's values appear nowhere" "$SECRET_VALUE|eu-$ID" "$D"
expect_match "describe instance: its bindings" '^  b-two +b-two-secret +Ready$' "$D"
expect_match "describe instance: its Events" '^  Normal +ProvisionedSuccessfully +[0-9]+s +' "$D"
svn describe binding b-one
D=$SV_OUT
expect_match "describe binding: Instance" '^Instance: +db$' "$D"
expect_match "describe binding: Secret" '^Secret: +b-one$' "$D"
expect_eq "describe binding: the Secret's keys" "$(kn get secret b-one -o json | jq -r '.data | keys | join(",")')" \
  "$(sed -n 's/^Secret Keys: *//p' <<<"$D" | tr -d ' ' | tr ',' '\n' | sort | paste -sd,)"
expect_no_match "describe binding: no credential value" "pw-$ID|db.e2e.invalid" "$D"
expect_match "describe binding: condition Ready True InjectedBindResult" '^  Ready +True +InjectedBindResult ' "$D"
expect_match "describe binding: its Events" '^  Normal +InjectedBindResult ' "$D"
sv describe broker "$B1"
expect_match "describe broker: URL" "^URL: +$b1_URL\$" "$SV_OUT"
expect_match "describe broker: condition Ready True FetchedCatalog" '^  Ready +True +FetchedCatalog ' "$SV_OUT"
expect_match "describe broker: its classes" "^  $CLS +E2E svcat database$" "$SV_OUT"
sv describe class "$CLS"
expect_match "describe class: External ID" "^External ID: +$SVC\$" "$SV_OUT"
expect_match "describe class: its plans" '^  small +yes +Small plan$' "$SV_OUT"
sv describe plan "$CLS/large"
expect_match "describe plan: Class" "^Class: +$CLS \\(ClusterServiceClass " "$SV_OUT"
expect_match "describe plan: Free" '^Free: +false$' "$SV_OUT"
svn describe instance nope-$ID
expect_rc "describe instance NAME that does not exist: exit 1" 1

# --- sync broker, touch instance ------------------------------------------------------------------
tick "sync broker, touch instance"
relist() { kc get clusterservicebroker "$B1" -o jsonpath='{.spec.relistRequests}'; }
R0=$(relist); R0=${R0:-0}
CAT0=$(blog GET /v2/catalog b1)
sv sync broker "$B1"
expect_rc "sync broker: exit 0" 0
expect_match "sync broker: says so" "^Synchronization requested for broker: $B1" "$SV_OUT"
expect_eq "sync broker: relistRequests + 1" "$((R0 + 1))" "$(relist)"
fetched() { [ "$(blog GET /v2/catalog b1)" -gt "$CAT0" ]; }
eventually 15 fetched
expect_num_gt "sync broker: the controller fetches the catalog again" "$(blog GET /v2/catalog b1)" "$CAT0"
sv sync broker "nope-$ID"
expect_rc "sync broker NAME that does not exist: exit 1" 1
X_DB=$(jq -r .spec.externalID <<<"$DB_JSON")
U0=$(kn get serviceinstance db -o jsonpath='{.spec.updateRequests}'); U0=${U0:-0}
P0=$(blog PATCH "/v2/service_instances/$X_DB" b1)
svn touch instance db
expect_rc "touch instance: exit 0" 0
expect_eq "touch instance: updateRequests + 1" "$((U0 + 1))" "$(kn get serviceinstance db -o jsonpath='{.spec.updateRequests}')"
patched() { [ "$(blog PATCH "/v2/service_instances/$X_DB" b1)" -gt "$P0" ]; }
eventually 15 patched
expect_num_gt "touch instance: the broker gets an update" "$(blog PATCH "/v2/service_instances/$X_DB" b1)" "$P0"

# --- unbind, deprovision ---------------------------------------------------------------------------
tick "unbind, deprovision"
svn unbind db --name b-two --wait --timeout 30s
expect_rc "unbind db --name b-two --wait: exit 0" 0
expect_eq "... b-two and its Secret are gone, b-one is not" "gone gone there" \
  "$(gone servicebinding b-two && echo gone) $(gone secret b-two-secret && echo gone) $(kn get servicebinding b-one -o name >/dev/null 2>&1 && echo there)"
svn unbind db --wait --timeout 30s
expect_rc "unbind db --wait: exit 0" 0
expect_match "... says which" '^Unbind requested for binding .*/b-one$' "$SV_OUT"
expect_eq "... b-one and its Secret are gone" "gone gone" "$(gone servicebinding b-one && echo gone) $(gone secret b-one && echo gone)"
svn unbind db --name nope
expect_rc "unbind --name of a binding the instance does not have: exit 1" 1
svn deprovision db --wait --timeout 45s
expect_rc "deprovision db --wait: exit 0" 0
expect_match "... waited until it was gone" 'ServiceInstance .*/db is gone' "$SV_OUT"
expect_ok "... db is gone" gone serviceinstance db
expect_eq "... deprovisioned at the broker" 1 "$(blog DELETE "/v2/service_instances/$X_DB" b1)"
svn deprovision "nope-$ID"
expect_rc "deprovision NAME that does not exist: exit 1" 1

# --- abandon ---------------------------------------------------------------------------------------
tick "abandon"
e2e_stop_daemon b2
RV0=$(kn get serviceinstance orphan -o jsonpath='{.metadata.resourceVersion}')
svn abandon instance orphan <<<"n"
expect_rc "abandon answered n: exit 5" 5
expect_match "... the question on stderr" "^This removes ServiceInstance $E2E_NS/orphan without calling the broker: resources at the broker may be left behind. Continue\\? \\[y/N\\]" "$SV_ERR"
expect_eq "... nothing changed (same resourceVersion, no annotation, no deletion)" "$RV0  " \
  "$(kn get serviceinstance orphan -o json | jq -r '"\(.metadata.resourceVersion) \(.metadata.annotations["bindery.dev/abandon"] // "") \(.metadata.deletionTimestamp // "")"')"
svn abandon instance orphan --yes
expect_rc "abandon --yes (its broker stopped): exit 0" 0
expect_match "... says so" "ServiceInstance $E2E_NS/orphan abandoned" "$SV_OUT"
eventually 20 gone serviceinstance orphan
expect_ok "... orphan is gone" gone serviceinstance orphan
ev_abandoned() { kn get events --field-selector involvedObject.name=orphan -o json | jq -e '[.items[] | select(.reason == "Abandoned")] | length > 0'; }
expect_ok "... a Warning Event Abandoned (the controller saw the annotation)" ev_abandoned
svn abandon binding b-big -y
expect_rc "abandon binding -y: exit 0" 0
eventually 20 gone servicebinding b-big
expect_eq "... the binding and its Secret are gone" "gone gone" "$(gone servicebinding b-big && echo gone) $(gone secret b-big && echo gone)"

# --- version, completion, usage errors, an unreachable cluster -----------------------------------
tick "version, completion, errors"
sv version
VER=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac" | head -n 1)
expect_match "version: the client's version" "^Client Version: v${VER:-[0-9.]+}\$" "$SV_OUT"
expect_eq "version: the server's gitVersion" "Server Version: $(kc version -o json 2>/dev/null | jq -r .serverVersion.gitVersion)" \
  "$(grep '^Server Version:' <<<"$SV_OUT")"
sv version --client
expect_eq "version --client: one line, the client's" "1 0" "$(wc -l <<<"$SV_OUT") $SV_RC"
sv completion bash
expect_num_gt "completion bash: a script" "$(wc -l <<<"$SV_OUT")" 10
expect_ok "completion bash: bash -n accepts it" bash -n <(printf '%s\n' "$SV_OUT")
expect_eq "kubectl_complete-svcat (run directly): the commands" "marketplace get describe sync touch upgrade rotate deprovision unbind abandon migrate version completion help :4" \
  "$(kubectl_complete-svcat "" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
expect_eq "kubectl_complete-svcat migrate \"\": its steps" "plan export run verify :4" \
  "$(kubectl_complete-svcat migrate "" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
expect_eq "kubectl_complete-svcat get \"\": the kinds" "brokers classes plans instances bindings :4" \
  "$(kubectl_complete-svcat get "" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
expect_eq "kubectl_complete-svcat -n NS describe instance \"\": names from the cluster" "big :4" \
  "$(kubectl_complete-svcat -n "$E2E_NS" describe instance "" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
if [ "$E2E_KUBECTL_MINOR" -ge 26 ]; then
  expect_match "kubectl __complete svcat de: kubectl asks the plugin" '^describe$' "$(timeout 20 "$KUBECTL" __complete svcat de 2>&1)"
  expect_match "kubectl __complete svcat get \"\": the kinds" '^instances$' "$(timeout 20 "$KUBECTL" __complete svcat get "" 2>&1)"
else
  e2e_skip "kubectl __complete svcat" "kubectl 1.$E2E_KUBECTL_MINOR runs no kubectl_complete-* (1.26 and later do)"
fi
COMPL=$(bash -c 'source <(kubectl-svcat completion bash); COMP_WORDS=(kubectl-svcat get in); COMP_CWORD=2; _kubectl_svcat; printf "%s\n" "${COMPREPLY[@]}"' 2>&1)
expect_eq "the bash completion function: kubectl-svcat get in<TAB>" "instances" "$COMPL"
sv frobnicate
expect_rc "an unknown command: exit 2" 2
expect_match "... names it and points to --help" "unknown command \"frobnicate\".*|--help" "$SV_ERR"
svn get instances --frob
expect_rc "an unknown flag: exit 2" 2
expect_match "... names it" 'unknown flag: --frob' "$SV_ERR"
for c in marketplace get describe sync touch upgrade rotate deprovision unbind abandon migrate version completion; do
  sv "$c" --help
  expect_match "$c --help: usage, exit 0" "^  kubectl svcat $c" "$SV_OUT$([ "$SV_RC" = 0 ] || echo " (exit $SV_RC)")"
done
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
e2e_write_kubeconfig "$E2E_TMP/closed.kubeconfig" "https://127.0.0.1:$PORT"
sv get instances --kubeconfig "$E2E_TMP/closed.kubeconfig"
expect_rc "an unreachable cluster: exit 1" 1
expect_match "... names the server" "cannot reach the Kubernetes API server at https://127.0.0.1:$PORT" "$SV_ERR"
sv version --kubeconfig "$E2E_TMP/closed.kubeconfig"
expect_eq "version, cluster unreachable: the client's version, then exit 1" "Client Version: v${VER} 1" "$SV_OUT $SV_RC"
expect_match "... naming the server" "https://127.0.0.1:$PORT" "$SV_ERR"
echo "# t+$((SECONDS - T0)) s: done"
e2e_done
