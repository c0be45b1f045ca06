#!/bin/bash
# Issue 6, done when: `kubectl apply -k deploy/` applies cleanly (and a second time changes
# nothing), and a catalog-controller started with the deployed ServiceAccount's token, with the
# Deployment's own arguments, completes the instances journey using only the RBAC deploy/
# grants: a broker Ready, an instance Ready, a binding Ready with its Secret, an update, the
# binding and the instance deleted; no request of the controller is forbidden (its log, and the
# API server's log on the harness), while what deploy/ does not grant is refused (kubectl auth
# can-i --as, and a 403 Status in kube-apiserver's words). On the harness the ServiceAccount's
# token is a line of the test server's token file (a second server is started with it); on a
# real cluster it comes from `kubectl create token`, the Deployment is applied with 0 replicas
# (through an overlay) so that only this test's controller runs, and a cluster that already has
# bindery-system is left alone (skipped).
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$OSB_BROKER" osb-broker
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller

ID=$E2E_ID
SYS=bindery-system
SA=catalog-controller
SA_USER=system:serviceaccount:$SYS:$SA
DEPLOY=$top_srcdir/deploy
T0=$SECONDS
tick() { echo "# t+$((SECONDS - T0)) s: $1"; }

if [ ! -e "$DEPLOY/kustomization.yaml" ]; then
  e2e_not_ok "deploy/kustomization.yaml exists" "a file" "missing"; exit 1
fi
if [ "$E2E_REAL" = 1 ] && kc get namespace "$SYS" -o name >/dev/null 2>&1; then
  e2e_skip "kubectl apply -k deploy/ and the journey with the ServiceAccount's rights" \
    "namespace $SYS exists: Bindery is installed on this cluster and is left alone"
  e2e_done
  exit 0
fi

# --- the cluster, with the ServiceAccount's token -------------------------------------------------
if [ "$E2E_REAL" = 0 ]; then
  # kube-apiserver's token file gets a line for the ServiceAccount; the test server reads it at
  # start, so a second one serves this test.
  SA_TOKEN=e2e-sa-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  echo "$SA_TOKEN,$SA_USER,e2e-sa-uid,\"system:serviceaccounts,system:serviceaccounts:$SYS\"" >>"$E2E_TMP/tokens.csv"
  e2e_start_server rbac tls || exit 1
  e2e_write_kubeconfig "$KUBECONFIG" "$rbac_URL" "$E2E_TMP/tls/cert.pem" "$E2E_TOKEN"
  _e2e_raw_credentials
  expect_ok "create namespace $E2E_NS on the server that knows the ServiceAccount's token" kc create namespace "$E2E_NS" || exit 1
else
  # what this test installs goes at the end (the CRDs only when the cluster lacked them)
  kc kustomize "$DEPLOY" | kc get -f - -o name >"$E2E_TMP/had" 2>/dev/null
  while read -r n; do echo "# already installed, left as is: $n"; done <"$E2E_TMP/had"
fi

tick "kubectl apply -k deploy/"
KDIR=$DEPLOY WITH=
if [ "$E2E_REAL" = 1 ]; then
  # 0 replicas: the image must not run next to this test's controller (both would reconcile)
  # (bases and patchesStrategicMerge: the kustomize of kubectl 1.20 knows no 'replicas' and
  # takes only files as 'resources'; later ones still read both fields, with a warning)
  KDIR=$E2E_TMP/overlay WITH=" (with replicas 0)"
  mkdir -p "$KDIR"
  printf 'bases: [%s]\npatchesStrategicMerge: [replicas.yaml]\n' \
    "$(realpath --relative-to="$KDIR" "$DEPLOY")" >"$KDIR/kustomization.yaml"
  printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: catalog-controller, namespace: %s}\nspec: {replicas: 0}\n' \
    "$SYS" >"$KDIR/replicas.yaml"
fi
expect_ok "kubectl apply -k deploy/ applies cleanly$WITH" kc apply -k "$KDIR"
OUT=$(kc apply -k "$KDIR" 2>&1)
expect_no_match "... and a second time changes nothing (every object unchanged)" ' (created|configured)$' "$OUT"
if [ "$E2E_REAL" = 1 ]; then
  for n in $(kc kustomize "$DEPLOY" | kc get -f - -o name 2>/dev/null); do
    grep -qxF "$n" "$E2E_TMP/had" || case $n in
      namespace/*|customresourcedefinition*|clusterrole*) e2e_cleanup_add "$n --timeout=60s" ;;
    esac
  done
fi
expect_eq "the Deployment runs as the ServiceAccount" "$SA" \
  "$(kc get deployment catalog-controller -n "$SYS" -o jsonpath='{.spec.template.spec.serviceAccountName}' 2>&1)"
expect_eq "the Service is there, with a cluster IP" "ClusterIP yes" \
  "$(kc get service -n "$SYS" -o json 2>&1 | jq -r '.items[0] | "\(.spec.type) \(if (.spec.clusterIP // "") != "" then "yes" else "no" end)"')"
if [ "$E2E_REAL" = 0 ]; then   # (on a real cluster this would start Pods)
  expect_ok "kubectl scale the Deployment (its scale subresource)" \
    kc scale deployment/catalog-controller -n "$SYS" --replicas=2
  expect_eq "... spec.replicas 2, a new generation" "2 2" \
    "$(kc get deployment catalog-controller -n "$SYS" -o jsonpath='{.spec.replicas} {.metadata.generation}' 2>&1)"
  expect_ok "... and back to 1" kc scale deployment/catalog-controller -n "$SYS" --replicas=1
fi
# --validate=false: kubectl's default, --validate=strict, "will perform server side validation
# if ServerSideFieldValidation is enabled on the api-server, but will fall back to less reliable
# client-side validation if not" (kubectl create --help); kube-apiserver v1.24 does not have it
# on (beta, on by default, from 1.25), so a newer kubectl refuses the object itself ('missing
# required field "selector"') and the server never sees it. "false" or "ignore" "will not perform
# any schema validation": the server answers, 422 Invalid from ValidateDeploymentSpec.
expect_fail_with "a Deployment without selector or containers is refused: 422 Invalid" \
  'spec\.selector: Required value' kn create --validate=false -f - <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: no-selector}
spec: {template: {metadata: {labels: {app: x}}}}
YAML
expect_match "... in the server's words (422 Invalid, not a kubectl validation error)" 'The Deployment "no-selector" is invalid' "$OUT"

# A token of the ServiceAccount, 30 minutes: 'kubectl create token' from kubectl 1.24 on, the
# TokenRequest it makes (POST .../serviceaccounts/NAME/token) with older ones.
sa_token() {
  if [ "$E2E_KUBECTL_MINOR" -ge 24 ]; then
    kc create token "$SA" -n "$SYS" --duration=30m
  else
    printf '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":1800}}' |
      kc create --raw "/api/v1/namespaces/$SYS/serviceaccounts/$SA/token" -f - | jq -er .status.token
  fi
}
if [ "$E2E_REAL" = 0 ]; then
  SA_KUBECONFIG=$E2E_TMP/sa.kubeconfig
  e2e_write_kubeconfig "$SA_KUBECONFIG" "$rbac_URL" "$E2E_TMP/tls/cert.pem" "$SA_TOKEN"
elif SA_TOKEN=$(sa_token 2>"$E2E_TMP/token.err") && [ -n "$SA_TOKEN" ]; then
  e2e_ok "a token for $SA (TokenRequest)"
  SA_KUBECONFIG=$E2E_TMP/sa.kubeconfig
  e2e_write_kubeconfig "$SA_KUBECONFIG" "$E2E_SERVER" "$([ -s "$E2E_TMP/ca.pem" ] && echo "$E2E_TMP/ca.pem")" "$SA_TOKEN"
else
  e2e_not_ok "a token for $SA (TokenRequest)" "a token" "$(cat "$E2E_TMP/token.err")"; exit 1
fi
ksa() { kc --kubeconfig "$SA_KUBECONFIG" "$@"; }

# --- what the ServiceAccount may not do -------------------------------------------------------------
tick "authorization"
can_i() { kc auth can-i --as="$SA_USER" "$@" 2>/dev/null; }
expect_eq "can-i --as the ServiceAccount: delete namespaces: no" no "$(can_i delete namespaces)"
expect_eq "can-i: get pods: no" no "$(can_i get pods -n "$E2E_NS")"
expect_eq "can-i: create deployments.apps: no" no "$(can_i create deployments.apps -n "$SYS")"
expect_eq "can-i: create serviceinstances: no (the controller only updates them)" no \
  "$(can_i create serviceinstances.servicecatalog.k8s.io -n "$E2E_NS")"
expect_eq "can-i: create leases outside $SYS: no" no "$(can_i create leases.coordination.k8s.io -n "$E2E_NS")"
expect_eq "can-i: list secrets in every namespace: yes" yes "$(can_i list secrets -A)"
expect_eq "can-i: update serviceinstances/status: yes" yes \
  "$(can_i update serviceinstances.servicecatalog.k8s.io --subresource=status -n "$E2E_NS")"
expect_eq "can-i: create leases in $SYS: yes" yes "$(can_i create leases.coordination.k8s.io -n "$SYS")"
expect_eq "the ServiceAccount itself: can-i create events: yes" yes "$(ksa auth can-i create events -n "$E2E_NS" 2>/dev/null)"
expect_fail_with "the ServiceAccount cannot list pods: Forbidden, in kube-apiserver's words" \
  "pods is forbidden: User \"$SA_USER\" cannot list resource \"pods\" in API group \"\" in the namespace \"$E2E_NS\"" \
  ksa get pods -n "$E2E_NS"
if raw_usable; then
  E2E_RAW_AUTH="Bearer $SA_TOKEN" raw DELETE "/api/v1/namespaces/$E2E_NS"
  expect_status "the ServiceAccount cannot delete a namespace: 403" 403 Forbidden
  expect_eq "... a Status naming the object, the user, the verb and the scope" \
    "namespaces \"$E2E_NS\" is forbidden: User \"$SA_USER\" cannot delete resource \"namespaces\" in API group \"\" in the namespace \"$E2E_NS\" namespaces $E2E_NS" \
    "$(jq -r '"\(.message) \(.details.kind) \(.details.name)"' <<<"$E2E_BODY")"
fi
expect_ok "... and the namespace is still there" kc get namespace "$E2E_NS" -o name

# --- the broker (registered by the admin) -------------------------------------------------------------
SVC=e2e-$ID-d-db; CLS=e2e-ddb-$ID; P_SMALL=e2e-$ID-d-small; P_LARGE=e2e-$ID-d-large
CREDS='{"uri":"postgres://app@db.e2e.invalid:5432/{instance_id}","username":"app","password":"pw-{binding_id}"}'
cat >"$E2E_TMP/b1.json" <<JSON
{"services":[{"id":"$SVC","name":"$CLS","description":"E2E deploy","bindable":true,"instances_retrievable":true,
 "bindings_retrievable":true,"plan_updateable":true,"plans":[
  {"id":"$P_SMALL","name":"small","description":"synchronous","x-bindery-backend":{"type":"static","credentials":$CREDS}},
  {"id":"$P_LARGE","name":"large","description":"the other plan","x-bindery-backend":{"type":"static","credentials":$CREDS}}]}]}
JSON
PW=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
e2e_start_broker b1 --catalog "$E2E_TMP/b1.json" --username admin --password "$PW" || exit 1

# --- the controller, as the ServiceAccount, with the Deployment's arguments ----------------------------
tick "the controller"
mapfile -t DARGS < <(kc get deployment catalog-controller -n "$SYS" -o json |
                       jq -r '.spec.template.spec.containers[0].args[]' | grep -Ev '^--(listen|port|log-level)(=|$)')
echo "# the Deployment's arguments: ${DARGS[*]}"
[ "$E2E_REAL" = 0 ] && SRV_LINES=$(wc -l <"$E2E_TMP/rbac/server.log")
KUBECONFIG=$SA_KUBECONFIG e2e_start_controller ctl "${DARGS[@]}" --max-retry-interval 2s || exit 1
leads() { [ "$(metric_sum ctl catalog_controller_leader)" = 1 ]; }
eventually 20 leads
expect_eq "it takes the Lease in $SYS and leads" 1 "$(metric_sum ctl catalog_controller_leader)"

# objects: KIND NAME
oj() { kn get "$1" "$2" -o json 2>/dev/null; }
cond() { oj "$1" "$2" | jq -r --arg t "$3" '.status.conditions[]? | select(.type == $t) | "\(.status) \(.reason)"' 2>/dev/null; }
ready() { [ "$(cond "$1" "$2" Ready | cut -d' ' -f1)" = True ]; }
gone() { local out; out=$(kn get "$1" "$2" 2>&1); grep -Eq 'NotFound|not found' <<<"$out"; }
_deploy_teardown() {
  local rc=$? kind
  if daemon_alive ctl && kc get namespace "$E2E_NS" -o name >/dev/null 2>&1; then
    for kind in servicebindings serviceinstances; do kc delete "$kind" --all -n "$E2E_NS" --timeout=20s >/dev/null 2>&1; done
  fi
  (exit $rc); e2e_teardown
}
trap _deploy_teardown EXIT

B1=e2e-deploy-$ID
e2e_register_broker "$B1" "$b1_URL" "$PW" || { echo "# the rest of this test needs a Ready broker: it ends here"; exit 1; }
expect_ok "the controller made the cluster-info ConfigMap in $SYS (its Role)" kc get configmap cluster-info -n "$SYS" -o name

# --- the journey ---------------------------------------------------------------------------------------
tick "instance, binding, update, delete"
expect_ok "create a ServiceInstance" kn apply -f - <<YAML
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: db}
spec: {clusterServiceClassExternalName: $CLS, clusterServicePlanExternalName: small}
YAML
eventually 20 ready serviceinstance db
expect_eq "the instance is Ready" "True ProvisionedSuccessfully" "$(cond serviceinstance db Ready)"
expect_ok "create a ServiceBinding" kn apply -f - <<YAML
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBinding
metadata: {name: app}
spec: {instanceRef: {name: db}}
YAML
eventually 20 ready servicebinding app
expect_eq "the binding is Ready" "True InjectedBindResult" "$(cond servicebinding app Ready)"
expect_eq "its Secret holds the credentials, owned by the binding" "app password uri username ServiceBinding/app" \
  "$(kn get secret app -o json 2>&1 | jq -r '"\(.data.username | @base64d) \(.data | keys | join(" ")) \(.metadata.ownerReferences[0].kind)/\(.metadata.ownerReferences[0].name)"')"
expect_ok "update the instance to plan large" kn patch serviceinstance db --type=merge \
  -p '{"spec":{"clusterServicePlanExternalName":"large"}}'
updated() { [ "$(oj serviceinstance db | jq -r '.status.externalProperties.clusterServicePlanExternalName')" = large ] && ready serviceinstance db; }
eventually 20 updated
expect_eq "the instance is on plan large, Ready" "large True" \
  "$(oj serviceinstance db | jq -r '"\(.status.externalProperties.clusterServicePlanExternalName) \(.status.conditions[]? | select(.type == "Ready") | .status)"')"
expect_ok "delete the binding (kubectl waits for the controller's finalizer)" kn delete servicebinding app --timeout=20s
expect_ok "... its Secret is gone" gone secret app
expect_ok "delete the instance" kn delete serviceinstance db --timeout=20s
expect_ok "... it is gone" gone serviceinstance db
expect_ok "the admin deletes the broker" kc delete clusterservicebroker "$B1" --timeout=20s

# --- nothing the controller did was refused ---------------------------------------------------------------
tick "forbidden requests"
expect_eq "the controller's log has no 403 and no 'forbidden'" "" \
  "$(grep -Ei 'forbidden|status=403|code=403|HTTP 403' "$E2E_TMP/ctl/log" | head -n 5)"
expect_eq "its metrics count no 403 from the API server" none \
  "$(metric_sum ctl catalog_controller_kube_requests_total 'code="403"')"
expect_num_gt "... among its requests to the API server" "$(metric_sum ctl catalog_controller_kube_requests_total)" 10
if [ "$E2E_REAL" = 0 ]; then
  expect_eq "the API server refused none of the ServiceAccount's requests since the controller started" "" \
    "$(tail -n "+$((SRV_LINES + 1))" "$E2E_TMP/rbac/server.log" | grep -aF "user=$SA_USER " | grep -a 'status=403' | head -n 5)"
fi
tick "done"
e2e_done
