#!/bin/bash
# Issue 8: "kubectl create serviceinstance" and "kubectl create servicebinding", the kubectl
# plugins plugins/kubectl-create-serviceinstance and plugins/kubectl-create-servicebinding, run
# through the real kubectl (the build's plugins/ first on the PATH) against real osb-broker
# processes and a catalog-controller. The spec fields --class/--plan (external and Kubernetes
# names, cluster and namespaced classes), --param, --params-json, --secret-param and
# --external-id write; --dry-run=client (parseable, nothing created, no cluster needed); -o name;
# --wait to Ready (a synchronous and an asynchronous plan), to Failed (exit 3 with the broker's
# message) and past --timeout (exit 4 with the conditions); an unknown class or plan (exit 1, the
# existing ones listed); a bad command line (exit 2); an unreachable API server (exit 1, its
# address named); a binding's --wait showing the Secret's name and keys, and its values only with
# --show-secret; a binding to a missing instance.
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$OSB_BROKER" osb-broker
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller
PLUGIN_DIR=$top_builddir/plugins
for p in kubectl-create-serviceinstance kubectl-create-servicebinding; do
  e2e_require_daemon "$PLUGIN_DIR/$p" "$p"
done
export PATH="$PLUGIN_DIR:$PATH"
# kubectl 1.30 and later run kubectl-create-NAME for "kubectl create NAME"; some earlier ones
# only with this set.
export KUBECTL_ENABLE_CMD_SHADOW=true
e2e_install_crds "$top_srcdir/deploy/crds"

ID=$E2E_ID
T0=$SECONDS
tick() { echo "# t+$((SECONDS - T0)) s: $1"; }

# --- catalogs --------------------------------------------------------------------------------------
# b1 (ClusterServiceBroker): class CLS with plans of every behaviour, and CLS2. b2 (a namespaced
# ServiceBroker): class CLSN.
SVC=e2e-$ID-pc-db; CLS=e2e-pcdb-$ID; SVC2=e2e-$ID-pc-mq; CLS2=e2e-pcmq-$ID; SVCN=e2e-$ID-pc-ns; CLSN=e2e-pcns-$ID
P_SMALL=e2e-$ID-pc-small; P_ASYNC=e2e-$ID-pc-async; P_AFAIL=e2e-$ID-pc-afail; P_SLOW=e2e-$ID-pc-slow
AFAIL_MSG="e2e plugin provision fails on purpose"
CREDS='{"uri":"amqp://app@mq.e2e.invalid/{instance_id}","username":"app","password":"pw-{binding_id}"}'
cat >"$E2E_TMP/b1.json" <<JSON
{"services":[
 {"id":"$SVC","name":"$CLS","description":"E2E plugin","bindable":true,"instances_retrievable":true,
  "bindings_retrievable":true,"plans":[
  {"id":"$P_SMALL","name":"small","description":"synchronous","x-bindery-backend":{"type":"static","credentials":$CREDS}},
  {"id":"$P_ASYNC","name":"async","description":"asynchronous, 1 s",
   "x-bindery-backend":{"type":"static","async":"optional","delay":"1s","retry_after":1}},
  {"id":"$P_AFAIL","name":"afail","description":"asynchronous provisions fail",
   "x-bindery-backend":{"type":"static","async":"optional","delay":"300ms","fail":["provision"],"fail_message":"$AFAIL_MSG"}},
  {"id":"$P_SLOW","name":"slow","description":"asynchronous, 6 s",
   "x-bindery-backend":{"type":"static","async":"optional","delay":"6s","retry_after":1}}]},
 {"id":"$SVC2","name":"$CLS2","description":"another class","bindable":true,"plans":[
  {"id":"e2e-$ID-pc-other","name":"other","description":"the other class's plan"}]}]}
JSON
cat >"$E2E_TMP/b2.json" <<JSON
{"services":[{"id":"$SVCN","name":"$CLSN","description":"a namespaced class","bindable":true,"plans":[
  {"id":"e2e-$ID-pc-nsplan","name":"nsplan","description":"synchronous"}]}]}
JSON
for f in b1 b2; do jq -e . "$E2E_TMP/$f.json" >/dev/null || { echo "# bad catalog $f"; exit 1; }; done
N_CLS=$(osb_k8s_name "$SVC"); N_SMALL=$(osb_k8s_name "$P_SMALL")

# --- daemons and brokers -------------------------------------------------------------------------
PW=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
e2e_start_broker b1 --catalog "$E2E_TMP/b1.json" --username admin --password "$PW" || exit 1
e2e_start_broker b2 --catalog "$E2E_TMP/b2.json" --username admin --password "$PW" || exit 1
kc get configmap cluster-info -n default -o name >/dev/null 2>&1 || e2e_cleanup_add "configmap cluster-info -n default"
e2e_start_controller ctl --max-retry-interval 2s || exit 1
eventually 15 curl -sf --max-time 2 -o /dev/null "$ctl_URL/readyz"
B1=e2e-pcreate-$ID; NB=e2e-pcreate-ns
e2e_cleanup_finalized "clusterservicebroker/$B1"
e2e_cleanup_finalized "servicebroker/$NB -n $E2E_NS"
expect_ok "apply the brokers' Secret, a ClusterServiceBroker and a namespaced ServiceBroker" kc apply -f - <<YAML
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
kind: ServiceBroker
metadata: {name: $NB, namespace: $E2E_NS}
spec: {url: "$b2_URL", authInfo: {basic: {secretRef: {name: broker-auth}}}}
YAML
if ! expect_ok "the ClusterServiceBroker becomes Ready (kubectl wait, 30 s)" kc wait --for=condition=Ready \
     "clusterservicebroker/$B1" --timeout=30s ||
   ! expect_ok "the ServiceBroker becomes Ready (kubectl wait, 30 s)" kn wait --for=condition=Ready "servicebroker/$NB" --timeout=30s; then
  echo "# the rest of this test needs Ready brokers: it ends here"; exit 1
fi
n_plans() { kc get clusterserviceplans -l "servicecatalog.k8s.io/spec.clusterServiceBrokerName=$(sha224 "$B1")" -o name 2>/dev/null | wc -l; }
plans_listed() { [ "$(n_plans)" -ge 5 ] && [ "$(kn get serviceplans -o name 2>/dev/null | wc -l)" -ge 1 ]; }
eventually 15 plans_listed
expect_eq "the plans are listed (5 cluster plans, 1 in the namespace)" "5 1" "$(n_plans) $(kn get serviceplans -o name 2>/dev/null | wc -l)"

# --- helpers -------------------------------------------------------------------------------------
# kcreate NAME ARGS...: "kubectl create NAME ARGS" (the plugins); sets RC, SOUT (stdout) and
# SERR (stderr). Flags for the plugin follow its name: kubectl does not hand over those before
# "create". Where this kubectl does not dispatch "create" plugins (before 1.30; Debian 12's is
# 1.20), the plugin binary kubectl-create-NAME is run directly with the same arguments: that is
# what kubectl would have run, and what users of such a kubectl run (docs/kubectl-plugins.md).
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
show() { { printf '$ kubectl create %s\n' "$*"; [ -z "$SOUT" ] || printf '%s\n' "$SOUT"; [ -z "$SERR" ] || printf '%s\n' "$SERR"; echo "(exit $RC)"; } | sed 's/^/#   /'; }
oj() { kn get "$1" "$2" -o json 2>/dev/null; }
of() { oj "$1" "$2" | jq -cS "$3" 2>/dev/null; }
cond() { oj "$1" "$2" | jq -r --arg t "$3" '.status.conditions[]? | select(.type == $t) | "\(.status) \(.reason)"' 2>/dev/null; }
gone() { local out; out=$(kn get "$1" "$2" 2>&1); grep -Eq 'NotFound|not found' <<<"$out"; }
SPEC_KEYS='{clusterServiceClassExternalName, clusterServicePlanExternalName, clusterServiceClassName, clusterServicePlanName, serviceClassExternalName, servicePlanExternalName, serviceClassName, servicePlanName, externalID, parameters, parametersFrom} | with_entries(select(.value != null))'
SI=serviceinstance.servicecatalog.k8s.io
SB=servicebinding.servicecatalog.k8s.io

e2e_sc_teardown   # bindings and instances deleted before the harness's teardown (lib.sh)

# --- kubectl finds the plugins -------------------------------------------------------------------
tick "kubectl finds the plugins"
kcreate serviceinstance --help
if [ "$RC $(grep -q '^  kubectl create serviceinstance NAME --class CLASS --plan PLAN' <<<"$SOUT" && echo yes)" = "0 yes" ]; then
  e2e_ok "kubectl create serviceinstance --help runs the plugin (exit 0, its usage)"
else
  why="kubectl $("$KUBECTL" version --client -o json 2>/dev/null | jq -r .clientVersion.gitVersion) does not run kubectl-create-* plugins (1.30 and later do); the plugin binaries are run directly instead"
  e2e_skip "kubectl create serviceinstance --help runs the plugin" "$why"
  e2e_skip "kubectl create servicebinding -h runs the plugin" "$why"
  KCREATE_DISPATCH=0
  kcreate serviceinstance --help
  expect_eq "kubectl-create-serviceinstance --help prints its usage (exit 0)" "0 yes" \
    "$RC $(grep -q '^  kubectl create serviceinstance NAME --class CLASS --plan PLAN' <<<"$SOUT" && echo yes)"
fi
expect_match "... the usage lists the exit codes" '^  4  --wait: neither Ready nor Failed after --timeout' "$SOUT"
kcreate servicebinding -h
expect_eq "kubectl create servicebinding -h runs the plugin$([ "$KCREATE_DISPATCH" = 1 ] || echo ' (run directly)')" "0 yes" \
  "$RC $(grep -q '^  kubectl create servicebinding NAME --instance INSTANCE' <<<"$SOUT" && echo yes)"

# --- --wait past --timeout (first: its instance must finish before the teardown) -----------------
tick "--wait past --timeout"
kcreate serviceinstance inst-slow -n "$E2E_NS" --class "$CLS" --plan slow --wait --timeout 1s
show serviceinstance inst-slow -n NS --class CLS --plan slow --wait --timeout 1s
expect_eq "--wait --timeout 1s on a 6 s provision: exit 4" 4 "$RC"
expect_match "... stderr says it is not Ready after 1s" "serviceinstance 'inst-slow' is not Ready after 1s \(--timeout\)" "$SERR"
expect_match "... and shows the conditions as they are" '^  Ready=False [A-Za-z]+: ' "$SERR"
expect_eq "... stdout has the created line only" "$SI/inst-slow created" "$SOUT"

# --- bad command lines: exit 2 -------------------------------------------------------------------
tick "bad command lines"
kcreate serviceinstance x -n "$E2E_NS" --class "$CLS" --plan small --bogus
expect_eq "an unknown flag: exit 2" 2 "$RC"
expect_match "... the message names it and points to --help" 'unknown flag: --bogus; see --help' "$SERR"
kcreate serviceinstance x -n "$E2E_NS" --plan small
expect_eq "no --class: exit 2" "2 yes" "$RC $(grep -q -- '--class and --plan are required' <<<"$SERR" && echo yes)"
kcreate serviceinstance x -n "$E2E_NS" --class "$CLS" --plan small --param a=1 --param a=2
expect_eq "--param with a key given twice: exit 2" "2 yes" "$RC $(grep -q "key 'a' is given twice" <<<"$SERR" && echo yes)"
kcreate serviceinstance x -n "$E2E_NS" --class "$CLS" --plan small --param a=1 --params-json '{"a":2}'
expect_eq "--params-json with a key --param gives too: exit 2" "2 yes" "$RC $(grep -q "key 'a' is also given by --param" <<<"$SERR" && echo yes)"
kcreate serviceinstance x -n "$E2E_NS" --class "$CLS" --plan small --params-json '[1]'
expect_eq "--params-json that is not an object: exit 2" 2 "$RC"
kcreate serviceinstance x -n "$E2E_NS" --class "$CLS" --plan small --timeout soon
expect_eq "--timeout that is not a duration: exit 2" 2 "$RC"
kcreate servicebinding x -n "$E2E_NS" --instance i --frobnicate=1
expect_eq "servicebinding: an unknown flag: exit 2" "2 yes" "$RC $(grep -q 'unknown flag: --frobnicate; see --help' <<<"$SERR" && echo yes)"
expect_eq "... none of them created anything" "" "$(kn get serviceinstances,servicebindings -o name 2>/dev/null | grep -v inst-slow)"

# --- no API server -------------------------------------------------------------------------------
tick "no API server"
e2e_write_kubeconfig "$E2E_TMP/closed.kubeconfig" "https://127.0.0.1:1"
kcreate serviceinstance x --kubeconfig "$E2E_TMP/closed.kubeconfig" --class "$CLS" --plan small
expect_eq "an API server on a closed port: exit 1" 1 "$RC"
expect_match "... the message names the server's address" 'cannot reach the Kubernetes API server at https://127\.0\.0\.1:1' "$SERR"
kcreate servicebinding x --kubeconfig="$E2E_TMP/closed.kubeconfig" --instance i
expect_eq "servicebinding too: exit 1, the address named" "1 yes" "$RC $(grep -q 'https://127\.0\.0\.1:1' <<<"$SERR" && echo yes)"
kcreate serviceinstance x --kubeconfig "$E2E_TMP/closed.kubeconfig" --class "$CLS" --plan small --dry-run=client
expect_eq "--dry-run=client needs no API server: exit 0" 0 "$RC"

# --- unknown class, unknown plan: exit 1 with the list -------------------------------------------
tick "unknown class or plan"
kcreate serviceinstance x -n "$E2E_NS" --class "nope-$ID" --plan small
show serviceinstance x -n NS --class "nope-$ID" --plan small
expect_eq "an unknown class: exit 1" 1 "$RC"
expect_match "... 'no service class named' and the classes that exist, this test's among them" \
  "no service class named 'nope-$ID'\. Classes: (.*, )?$CLS, (.*, )?$CLS2(, |\$)" "$SERR"
expect_match "... the namespace's ServiceClasses listed too" "Classes: .*$CLSN" "$SERR"
kcreate serviceinstance x -n "$E2E_NS" --class "$CLS" --plan nope
show serviceinstance x -n NS --class CLS --plan nope
expect_eq "an unknown plan: exit 1" 1 "$RC"
expect_match "... the class's plans, and only those" "class '$CLS' has no plan named 'nope'\. Plans: afail, async, slow, small\$" "$SERR"
kcreate serviceinstance x -n "$E2E_NS" --class "$CLS" --plan other
expect_eq "a plan of another class: exit 1" "1 yes" "$RC $(grep -q "has no plan named 'other'" <<<"$SERR" && echo yes)"
kcreate serviceinstance x -n "$E2E_NS" --class "$CLS" --plan small --kubernetes-name
expect_eq "--kubernetes-name with an external name: exit 1, Kubernetes names listed" "1 yes" \
  "$RC $(grep -q "no service class named '$CLS' (Kubernetes name)\. Classes: .*$N_CLS" <<<"$SERR" && echo yes)"
expect_ok "... nothing created" gone serviceinstance x

# --- --dry-run=client ----------------------------------------------------------------------------
tick "--dry-run=client"
kcreate serviceinstance dry -n "$E2E_NS" --class "$CLS" --plan small --param a=b --secret-param s --dry-run=client -o yaml
expect_eq "--dry-run=client -o yaml: exit 0" 0 "$RC"
printf '%s\n' "$SOUT" >"$E2E_TMP/dry.yaml"
expect_ok "... the YAML is a valid ServiceInstance (kubectl create --dry-run=client -f reads it)" \
  kc create --dry-run=client -f "$E2E_TMP/dry.yaml" -o json
expect_eq "... with the fields given" \
  "{\"apiVersion\":\"servicecatalog.k8s.io/v1beta1\",\"kind\":\"ServiceInstance\",\"metadata\":{\"name\":\"dry\",\"namespace\":\"$E2E_NS\"},\"spec\":{\"clusterServiceClassExternalName\":\"$CLS\",\"clusterServicePlanExternalName\":\"small\",\"parameters\":{\"a\":\"b\"},\"parametersFrom\":[{\"secretKeyRef\":{\"key\":\"parameters\",\"name\":\"s\"}}]}}" \
  "$(jq -cS '{apiVersion, kind, metadata: {name: .metadata.name, namespace: .metadata.namespace}, spec}' <<<"$OUT")"
expect_ok "... nothing created" gone serviceinstance dry
kcreate serviceinstance dry -n "$E2E_NS" --class "$CLS" --plan small --dry-run=client
expect_eq "--dry-run=client without -o prints YAML too" "0 kind: ServiceInstance" "$RC $(grep '^kind:' <<<"$SOUT")"
kcreate servicebinding dryb -n "$E2E_NS" --instance whatever --secret-name s1 --dry-run=client -o json
expect_eq "servicebinding --dry-run=client -o json: the object (JSON), exit 0" \
  "0 {\"apiVersion\":\"servicecatalog.k8s.io/v1beta1\",\"kind\":\"ServiceBinding\",\"metadata\":{\"name\":\"dryb\",\"namespace\":\"$E2E_NS\"},\"spec\":{\"instanceRef\":{\"name\":\"whatever\"},\"secretName\":\"s1\"}}" \
  "$RC $(jq -cS . <<<"$SOUT" 2>&1)"
expect_ok "... nothing created" gone servicebinding dryb

# --- create with parameters ----------------------------------------------------------------------
tick "create with parameters"
expect_ok "create the Secrets that --secret-param names" kn apply -f - <<YAML
apiVersion: v1
kind: Secret
metadata: {name: p-default}
stringData: {parameters: '{"password":"s3cret"}'}
---
apiVersion: v1
kind: Secret
metadata: {name: p-keyed}
stringData: {cfg: '{"zone":"b"}'}
YAML
kcreate serviceinstance inst-p -n "$E2E_NS" --class "$CLS" --plan small --param region=eu --param size=10 \
  --params-json '{"replicas":2,"tags":["a","b"]}' --secret-param p-default --secret-param=p-keyed:cfg --external-id "ext-$ID"
show serviceinstance inst-p -n NS --class CLS --plan small --param region=eu --param size=10 --params-json '{"replicas":2,"tags":["a","b"]}' --secret-param p-default --secret-param=p-keyed:cfg --external-id "ext-ID"
expect_eq "create with --param, --params-json, --secret-param, --external-id: exit 0, kubectl's line" \
  "0 $SI/inst-p created" "$RC $SOUT"
expect_eq "... spec: the class and plan by external name, externalID, parameters (strings and JSON), parametersFrom" \
  "{\"clusterServiceClassExternalName\":\"$CLS\",\"clusterServicePlanExternalName\":\"small\",\"externalID\":\"ext-$ID\",\"parameters\":{\"region\":\"eu\",\"replicas\":2,\"size\":\"10\",\"tags\":[\"a\",\"b\"]},\"parametersFrom\":[{\"secretKeyRef\":{\"key\":\"parameters\",\"name\":\"p-default\"}},{\"secretKeyRef\":{\"key\":\"cfg\",\"name\":\"p-keyed\"}}]}" \
  "$(of serviceinstance inst-p ".spec | $SPEC_KEYS")"
kcreate serviceinstance inst-p -n "$E2E_NS" --class "$CLS" --plan small
expect_eq "the same name again: exit 1, AlreadyExists" "1 yes" "$RC $(grep -Eq 'already exists|409' <<<"$SERR" && echo yes)"
kcreate serviceinstance inst-n -n "$E2E_NS" --class "$CLS" --plan small -o name
expect_eq "-o name: only the name" "0 $SI/inst-n" "$RC $SOUT"
kcreate serviceinstance inst-k -n "$E2E_NS" --class "$N_CLS" --plan "$N_SMALL" --kubernetes-name -o json
expect_eq "--kubernetes-name -o json: the created object, by Kubernetes names" \
  "0 {\"clusterServiceClassName\":\"$N_CLS\",\"clusterServicePlanName\":\"$N_SMALL\"}" \
  "$RC $(jq -cS ".spec | $SPEC_KEYS" <<<"$SOUT" 2>&1)"

# --- --wait: Ready, Failed ------------------------------------------------------------------------
tick "--wait: Ready, Failed"
kcreate serviceinstance inst-w -n "$E2E_NS" --class "$CLS" --plan small --wait --timeout 30s
show serviceinstance inst-w -n NS --class CLS --plan small --wait --timeout 30s
expect_eq "--wait on a synchronous plan: exit 0, created, then Ready with the condition's message" \
  "0|$SI/inst-w created|serviceinstance inst-w is Ready: The instance was provisioned successfully" \
  "$RC|$(paste -sd'|' <<<"$SOUT")"
expect_eq "... it is Ready indeed" "True ProvisionedSuccessfully" "$(cond serviceinstance inst-w Ready)"
kcreate serviceinstance inst-a -n "$E2E_NS" --class "$CLS" --plan async --wait --timeout 30s
show serviceinstance inst-a -n NS --class CLS --plan async --wait --timeout 30s
expect_eq "--wait on an asynchronous plan (1 s): exit 0, Ready" \
  "0|serviceinstance inst-a is Ready: The instance was provisioned successfully" "$RC|$(sed -n 2p <<<"$SOUT")"
expect_eq "... Ready True, no operation in progress" "True ProvisionedSuccessfully false" \
  "$(cond serviceinstance inst-a Ready) $(of serviceinstance inst-a '.status.asyncOpInProgress // false')"
kcreate serviceinstance inst-f -n "$E2E_NS" --class "$CLS" --plan afail --wait --timeout 30s
show serviceinstance inst-f -n NS --class CLS --plan afail --wait --timeout 30s
expect_eq "--wait on a provision that fails: exit 3" 3 "$RC"
expect_match "... stderr: failed, the reason and the broker's message" \
  "serviceinstance 'inst-f' failed: ProvisionCallFailed: .*$AFAIL_MSG" "$SERR"
kcreate serviceinstance inst-ns -n "$E2E_NS" --class "$CLSN" --plan nsplan --wait --timeout 30s -o name
expect_eq "a namespaced ServiceClass, --wait -o name: exit 0, the name on stdout, Ready on stderr" \
  "0|$SI/inst-ns|serviceinstance inst-ns is Ready: The instance was provisioned successfully" "$RC|$SOUT|$SERR"
expect_eq "... spec: serviceClassExternalName and servicePlanExternalName (externalID: the controller's)" \
  "{\"serviceClassExternalName\":\"$CLSN\",\"servicePlanExternalName\":\"nsplan\"}" \
  "$(of serviceinstance inst-ns ".spec | $SPEC_KEYS | del(.externalID)")"

# --- servicebinding -------------------------------------------------------------------------------
tick "servicebinding"
kcreate servicebinding b-x -n "$E2E_NS" --instance nope
show servicebinding b-x -n NS --instance nope
expect_eq "a binding to a missing instance: exit 1" 1 "$RC"
expect_match "... the message names the namespace and lists the instances there" \
  "no serviceinstance 'nope' in namespace '$E2E_NS'\. Instances there: .*inst-w" "$SERR"
expect_ok "... nothing created" gone servicebinding b-x
kcreate servicebinding b-w -n "$E2E_NS" --instance inst-w --secret-name creds-w --param role=ro --wait --timeout 30s
show servicebinding b-w -n NS --instance inst-w --secret-name creds-w --param role=ro --wait --timeout 30s
XB=$(of servicebinding b-w '.spec.externalID' | tr -d '"')
expect_eq "--wait: exit 0; created, Ready, the Secret's name and its keys, one per line" \
  "0|$SB/b-w created|servicebinding b-w is Ready: Injected bind result|Secret: creds-w|Keys:|  password|  uri|  username" \
  "$RC|$(paste -sd'|' <<<"$SOUT")"
expect_no_match "... and no value" "pw-|amqp:|app$" "$SOUT"
expect_eq "... spec: instanceRef, secretName, parameters" \
  '{"instanceRef":{"name":"inst-w"},"parameters":{"role":"ro"},"secretName":"creds-w"}' \
  "$(of servicebinding b-w '.spec | {instanceRef, secretName, parameters}')"
expect_eq "... the Secret holds those keys" '["password","uri","username"]' "$(kn get secret creds-w -o json 2>/dev/null | jq -c '.data | keys')"
kcreate servicebinding b-s -n "$E2E_NS" --instance inst-w --wait --show-secret
show servicebinding b-s -n NS --instance inst-w --wait --show-secret
XS=$(of servicebinding b-s '.spec.externalID' | tr -d '"')
XI=$(of serviceinstance inst-w '.spec.externalID' | tr -d '"')
expect_eq "--show-secret: KEY=VALUE, decoded, in Secret b-s (the binding's name)" \
  "0|Secret: b-s|Keys:|  password=pw-$XS|  uri=amqp://app@mq.e2e.invalid/$XI|  username=app" \
  "$RC|$(sed -n '3,$p' <<<"$SOUT" | paste -sd'|')"
kcreate servicebinding b-n -n "$E2E_NS" --instance inst-w -o name
expect_eq "servicebinding -o name: only the name" "0 $SB/b-n" "$RC $SOUT"
[ -n "$XB" ] || e2e_not_ok "b-w has an externalID" "a UUID" "''"
tick "done"

e2e_done
