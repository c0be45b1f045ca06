#!/bin/bash
# Issue 19, a ServiceBinding's credentials rotated: real osb-broker processes on loopback and a
# catalog-controller. Scheduled rotation (spec.credentialsRotationPolicy with a short
# rotationFrequency): the Secret keeps its name and its bytes change, the broker saw
# predecessor_binding_id, the old binding is unbound after rotatedBindingTTL; a forced rotation
# (the annotation services.cloud.sap.com/forceRotate, then `kubectl svcat rotate binding`) keeps
# the old credentials in a Secret of their own while the TTL runs, and the opted-in Deployments,
# StatefulSets and DaemonSets that use the Secret get the rotation time on their pod template; a
# plan that is not binding_rotatable gets a fresh bind; the broker's metadata.renew_before drives a
# rotation without any policy; a failing new bind keeps the old credentials and Ready, with a condition
# and an Event; the controller killed (SIGKILL) mid-rotation carries on with the same new id, so
# the broker holds no binding twice and none is lost; a spec change while the broker holds the
# pending id with the old request (409) replaces that id, unbound, by a new one; deleting a
# rotated binding unbinds every binding it made. The broker's database (sqlite3) shows what it holds.
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$OSB_BROKER" osb-broker
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller
e2e_install_crds "$top_srcdir/deploy/crds"

ID=$E2E_ID
T0=$SECONDS
HAVE_SQLITE=0
command -v sqlite3 >/dev/null 2>&1 && HAVE_SQLITE=1
[ $HAVE_SQLITE = 1 ] || echo "# sqlite3 is not installed: the checks of the broker's database are skipped (apt-get install sqlite3)"

# --- catalog ---------------------------------------------------------------------------------------
SVC=e2e-$ID-r-svc; CLS=e2e-rot-$ID
P_ROT=e2e-$ID-r-rot; P_FRESH=e2e-$ID-r-fresh; P_EXP=e2e-$ID-r-exp; P_SLOW=e2e-$ID-r-slow; P_FLAKY=e2e-$ID-r-flaky
CREDS='{"user":"app","password":"pw-{binding_id}"}'
# catalog FILE FLAKY-EXTRA: the flaky plan fails its binds when FLAKY-EXTRA says so
catalog() {
  cat >"$1" <<JSON
{"services":[
 {"id":"$SVC","name":"$CLS","description":"E2E rotation","bindable":true,"plans":[
  {"id":"$P_ROT","name":"rot","description":"rotatable","binding_rotatable":true,
   "x-bindery-backend":{"type":"static","credentials":$CREDS}},
  {"id":"$P_FRESH","name":"fresh","description":"not rotatable",
   "x-bindery-backend":{"type":"static","credentials":$CREDS}},
  {"id":"$P_EXP","name":"exp","description":"bindings expire","binding_rotatable":true,
   "x-bindery-backend":{"type":"static","binding_ttl":"16s","credentials":$CREDS}},
  {"id":"$P_SLOW","name":"slow","description":"binds take 4 s","binding_rotatable":true,
   "x-bindery-backend":{"type":"static","sync_delay":"4s","credentials":$CREDS}},
  {"id":"$P_FLAKY","name":"flaky","description":"binds may fail","binding_rotatable":true,
   "x-bindery-backend":{"type":"static","credentials":$CREDS$2}}]}]}
JSON
  jq -e . "$1" >/dev/null || { echo "# bad catalog $1"; exit 1; }
}
catalog "$E2E_TMP/ok.json" ''
catalog "$E2E_TMP/fail.json" ',"fail":["bind"],"fail_message":"secret-broker-words-'"$ID"'"'

# --- daemons and the broker ----------------------------------------------------------------------
PW=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
e2e_start_broker b1 --catalog "$E2E_TMP/ok.json" --username admin --password "$PW" || exit 1
kc get configmap cluster-info -n default -o name >/dev/null 2>&1 || e2e_cleanup_add "configmap cluster-info -n default"
CTL_ARGS=(--max-retry-interval 2s)
e2e_start_controller ctl "${CTL_ARGS[@]}" || exit 1
eventually 15 curl -sf --max-time 2 -o /dev/null "$ctl_URL/readyz"
B1=e2e-rot-$ID
e2e_register_broker "$B1" "$b1_URL" "$PW" || { echo "# the rest of this test needs a Ready broker: it ends here"; exit 1; }
n_plans() { kc get clusterserviceplans -l "servicecatalog.k8s.io/spec.clusterServiceBrokerName=$(sha224 "$B1")" -o name 2>/dev/null | wc -l; }
plans_listed() { [ "$(n_plans)" -ge 5 ]; }
eventually 15 plans_listed
expect_eq "the broker's plans are listed" 5 "$(n_plans)"

# --- helpers -------------------------------------------------------------------------------------
tick() { echo "# t+$((SECONDS - T0)) s: $1"; }
oj() { kn get "$1" "$2" -o json 2>/dev/null; }
of() { local k=$1 n=$2; shift 2; oj "$k" "$n" | jq -r "$@" 2>/dev/null; }
cond() { oj "$1" "$2" | jq -r --arg t "$3" '.status.conditions[]? | select(.type == $t) | "\(.status) \(.reason)"' 2>/dev/null; }
cmsg() { oj "$1" "$2" | jq -r --arg t "$3" '.status.conditions[]? | select(.type == $t) | .message' 2>/dev/null; }
cond_is() { [ "$(cond "$1" "$2" "$3")" = "$4" ]; }
gone() { local out; out=$(kn get "$1" "$2" 2>&1); grep -Eq 'NotFound|not found' <<<"$out"; }
ev() { kn get events --field-selector "involvedObject.name=$2" -o json 2>/dev/null |
         jq -r --arg k "$1" '.items[] | select(.involvedObject.kind == $k) | "\(.type) \(.reason): \(.message)"'; }
has_ev() { grep -Eq -- "$3" <<<"$(ev "$1" "$2")"; }
bsql() { sqlite3 -cmd '.timeout 3000' "$E2E_TMP/b1/broker.db" "$1" 2>&1; }
# the password key of a Secret, decoded
spw() { kn get secret "$1" -o jsonpath='{.data.password}' 2>/dev/null | base64 -d 2>/dev/null; }
# cur NAME: the binding id whose credentials the binding's Secret holds
cur() { of servicebinding "$1" '.status.credentialsRotation.currentExternalID // .spec.externalID // ""'; }
rotated_from() { local c; c=$(cur "$1"); [ -n "$c" ] && [ "$c" != "$2" ] && [ -z "$(of servicebinding "$1" '.status.credentialsRotation.pending.externalID // ""')" ]; }
nhist() { of servicebinding "$1" '.status.credentialsRotation.history // [] | length'; }
in_history() { [ -n "$2" ] && of servicebinding "$1" '.status.credentialsRotation.history[]?.toExternalID' | grep -qxF -- "$2"; }
hist_ge() { [ "$(nhist "$1")" -ge "$2" ]; }
bready() { cond_is servicebinding "$1" Ready "True InjectedBindResult"; }
# at the broker: the bindings of instance X (ids, sorted), a binding's predecessor
b_ids() { bsql "SELECT id FROM bindings WHERE instance_id = '$1' ORDER BY id" | tr '\n' ' ' | sed 's/ $//'; }
b_pred() { bsql "SELECT coalesce(predecessor_id, '-') FROM bindings WHERE id = '$1'"; }
b_has() { [ "$(bsql "SELECT count(*) FROM bindings WHERE id = '$1'")" = "$2" ]; }
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
db_check() { # WHAT EXPECTED SQL-RESULT-CMD...
  if [ $HAVE_SQLITE = 1 ]; then local what=$1 want=$2; shift 2; expect_eq "$what" "$want" "$("$@")"
  else e2e_skip "$1" "no sqlite3"; fi
}
si_yaml() { # NAME PLAN
  printf -- '---\napiVersion: servicecatalog.k8s.io/v1beta1\nkind: ServiceInstance\nmetadata: {name: %s}\nspec: {clusterServiceClassExternalName: %s, clusterServicePlanExternalName: %s}\n' "$1" "$CLS" "$2"
}
sb_yaml() { # NAME INSTANCE [SPEC-EXTRA]
  printf -- '---\napiVersion: servicecatalog.k8s.io/v1beta1\nkind: ServiceBinding\nmetadata: {name: %s}\nspec: {instanceRef: {name: %s}%s}\n' "$1" "$2" "${3:+, $3}"
}
iready() { cond_is serviceinstance "$1" Ready "True ProvisionedSuccessfully"; }
iid() { of serviceinstance "$1" '.spec.externalID'; }

e2e_sc_teardown

tick "instances"
expect_ok "create one instance per plan" kn apply -f - <<YAML
$(si_yaml i-rot rot)
$(si_yaml i-fresh fresh)
$(si_yaml i-exp exp)
$(si_yaml i-slow slow)
$(si_yaml i-flaky flaky)
YAML
for i in i-rot i-fresh i-exp i-slow i-flaky; do eventually 30 iready $i; done
expect_eq "they are Ready" "5" "$(for i in i-rot i-fresh i-exp i-slow i-flaky; do iready $i && echo y; done | wc -l)"

# --- scheduled rotation -----------------------------------------------------------------------------
tick "scheduled rotation"
expect_ok "create b-sched: rotationFrequency 6s, rotatedBindingTTL 3s" kn apply -f - <<YAML
$(sb_yaml b-sched i-rot "credentialsRotationPolicy: {enabled: true, rotationFrequency: 8s, rotatedBindingTTL: 3s}")
YAML
eventually 20 bready b-sched
E0=$(of servicebinding b-sched .spec.externalID)
SEC_UID0=$(kn get secret b-sched -o jsonpath='{.metadata.uid}' 2>/dev/null)
expect_eq "b-sched Ready; its Secret holds the first binding's credentials" "pw-$E0" "$(spw b-sched)"
expect_match "... status.lastCredentialsRotationTime is set at the first bind" "^[0-9-]+T[0-9:]+Z$" \
  "$(of servicebinding b-sched '.status.lastCredentialsRotationTime // ""')"
expect_match "... status.credentialsRotation.nextRotationTime is set" "^[0-9-]+T[0-9:]+Z$" \
  "$(of servicebinding b-sched '.status.credentialsRotation.nextRotationTime // ""')"
eventually 40 rotated_from b-sched "$E0"
# it goes on rotating every 8 s: what follows reads the rotation that replaced $E0, by its entry
H=$(of servicebinding b-sched --arg e "$E0" '.status.credentialsRotation.history[]? | select(.fromExternalID == $e) | "\(.reason) \(.method) \(.toExternalID)"')
E1=${H##* }
expect_match "after rotationFrequency: a new binding replaced $E0 (Scheduled, PredecessorBindingID)" \
  '^Scheduled PredecessorBindingID [0-9a-f-]{36}$' "$H"
expect_ok "... not the first one" test "$E1" != "$E0"
PWNOW=$(spw b-sched)
expect_eq "... the Secret is the same object" "$SEC_UID0" "$(kn get secret b-sched -o jsonpath='{.metadata.uid}' 2>/dev/null)"
expect_ok "... with new bytes: a rotated binding's credentials ($PWNOW)" in_history b-sched "${PWNOW#pw-}"
expect_eq "... Ready stays True" "True InjectedBindResult" "$(cond servicebinding b-sched Ready)"
expect_ok "... an Event CredentialsRotated" has_ev ServiceBinding b-sched "^Normal CredentialsRotated: .*$E1 replaces binding $E0"
db_check "the broker got predecessor_binding_id $E0 for $E1" "$E0" b_pred "$E1"
if [ $HAVE_SQLITE = 1 ]; then
  eventually 30 b_has "$E0" 0
  expect_ok "after rotatedBindingTTL the old binding is unbound at the broker" b_has "$E0" 0
else
  e2e_skip "after rotatedBindingTTL the old binding is unbound at the broker" "no sqlite3"
fi
eventually 20 has_ev ServiceBinding b-sched "^Normal RetiredBindingUnbound: Unbound the retired binding $E0 "
expect_ok "... an Event RetiredBindingUnbound" has_ev ServiceBinding b-sched "^Normal RetiredBindingUnbound: Unbound the retired binding $E0 "
expect_match "... the broker's log shows the DELETE of $E0 answered 200" "1" \
  "$(grep -cF " method=DELETE path=/v2/service_instances/$(iid i-rot)/service_bindings/$E0 " "$E2E_TMP/b1/log")"
expect_ok "kubectl get -o wide shows Last-Rotation, Next-Rotation and Binding-ID" \
  grep -Eq '^NAME +SERVICE-INSTANCE +SECRET-NAME +STATUS +AGE +LAST-ROTATION +NEXT-ROTATION +BINDING-ID' \
  <<<"$(kn get servicebinding b-sched -o wide 2>&1)"
expect_ok "delete b-sched (30 s)" kn delete servicebinding b-sched --timeout=30s
db_check "... the broker holds no binding of i-rot any more (none lost, none left)" "" b_ids "$(iid i-rot)"
expect_ok "... no Secret of it is left" eval '[ -z "$(kn get secrets -l bindery.dev/retired-credentials-of=b-sched -o name 2>/dev/null)" ] && gone secret b-sched'

# --- forced rotation: the annotation, then kubectl svcat rotate --------------------------------------
tick "forced rotation"
expect_ok "create b-force: policy enabled, 720h, rotatedBindingTTL 1h" kn apply -f - <<YAML
$(sb_yaml b-force i-rot "credentialsRotationPolicy: {enabled: true, rotationFrequency: 720h, rotatedBindingTTL: 1h}")
YAML
eventually 20 bready b-force
F0=$(of servicebinding b-force .spec.externalID)
# workloads: dep NAME ANNOTATED(true|-) POD-SPEC-JSON
dep() {
  printf -- '---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: %s%s}\nspec: {replicas: 0, selector: {matchLabels: {app: %s}}, template: {metadata: {labels: {app: %s}}, spec: %s}}\n' \
    "$1" "$([ "$2" = true ] && echo ', annotations: {bindery.dev/restart-on-rotation: "true"}')" "$1" "$1" "$3"
}
# sts / ds NAME ANNOTATED POD-SPEC-JSON: a StatefulSet (with a serviceName, which older API
# servers' schemas require; no Service is needed while nothing runs) and a DaemonSet
sts() {
  printf -- '---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: %s%s}\nspec: {replicas: 0, serviceName: %s, selector: {matchLabels: {app: %s}}, template: {metadata: {labels: {app: %s}}, spec: %s}}\n' \
    "$1" "$([ "$2" = true ] && echo ', annotations: {bindery.dev/restart-on-rotation: "true"}')" "$1" "$1" "$1" "$3"
}
ds() {
  printf -- '---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: %s%s}\nspec: {selector: {matchLabels: {app: %s}}, template: {metadata: {labels: {app: %s}}, spec: %s}}\n' \
    "$1" "$([ "$2" = true ] && echo ', annotations: {bindery.dev/restart-on-rotation: "true"}')" "$1" "$1" "$3"
}
C='{name: app, image: "registry.invalid/app:1"'
expect_ok "Deployments: two opted in that use Secret b-force (envFrom, a volume), one not opted in, one using another Secret" \
  kn apply -f - <<YAML
$(dep app-env true "{containers: [$C, envFrom: [{secretRef: {name: b-force}}]}]}")
$(dep app-vol true "{containers: [$C}], volumes: [{name: creds, secret: {secretName: b-force}}]}")
$(dep app-plain - "{containers: [$C, env: [{name: PW, valueFrom: {secretKeyRef: {name: b-force, key: password}}}]}]}")
$(dep app-other true "{containers: [$C, envFrom: [{secretRef: {name: other}}]}]}")
YAML
expect_ok "StatefulSets: one opted in that loads Secret b-force (env), one not opted in that mounts it" kn apply -f - <<YAML
$(sts sts-env true "{containers: [$C, env: [{name: PW, valueFrom: {secretKeyRef: {name: b-force, key: password}}}]}]}")
$(sts sts-plain - "{containers: [$C}], volumes: [{name: creds, secret: {secretName: b-force}}]}")
YAML
expect_ok "DaemonSets: one opted in that mounts Secret b-force (projected volume), one opted in using another Secret" \
  kn apply -f - <<YAML
$(ds ds-vol true "{containers: [$C}], volumes: [{name: creds, projected: {sources: [{secret: {name: b-force}}]}}]}")
$(ds ds-other true "{containers: [$C, envFrom: [{secretRef: {name: other}}]}]}")
YAML
# stamp NAME [KIND]: the rotation time on the pod template, - for none
stamp() { kn get "${2:-deployment}" "$1" -o json 2>/dev/null | jq -r '.spec.template.metadata.annotations["bindery.dev/credentials-rotated-at"] // "-"'; }
expect_ok "annotate it services.cloud.sap.com/forceRotate=true" kn annotate servicebinding b-force services.cloud.sap.com/forceRotate=true
eventually 20 rotated_from b-force "$F0"
F1=$(cur b-force)
expect_eq "a new binding, its credentials in the Secret" "pw-$F1" "$(spw b-force)"
expect_ok "... not the old one" test "$F1" != "$F0"
no_ann() { [ -z "$(of servicebinding b-force '.metadata.annotations["services.cloud.sap.com/forceRotate"] // ""')" ]; }
eventually 10 no_ann
expect_ok "... the annotation is removed" no_ann
RS=$(of servicebinding b-force '.status.credentialsRotation.retired[0].secretName // ""')
expect_match "... status lists the retired binding with its Secret and unbindAfter" "^$F0 b-force-[0-9a-f]{10} [0-9-]+T[0-9:]+Z$" \
  "$(of servicebinding b-force '.status.credentialsRotation.retired[0] | "\(.externalID) \(.secretName) \(.unbindAfter)"')"
expect_eq "... the retired Secret keeps the old credentials" "pw-$F0" "$(spw "$RS")"
expect_eq "... owned by the binding" "ServiceBinding b-force" \
  "$(kn get secret "$RS" -o json 2>/dev/null | jq -r '.metadata.ownerReferences[0] | "\(.kind) \(.name)"')"
db_check "... the broker still holds both bindings while the TTL runs" "$(sorted "$F0" "$F1")" b_ids "$(iid i-rot)"
expect_eq "... the history says Forced" "Forced" "$(of servicebinding b-force '.status.credentialsRotation.history[-1].reason')"
RT=$(of servicebinding b-force '.status.credentialsRotation.history[-1].time')
stamped() { [ "$(stamp app-env) $(stamp app-vol) $(stamp sts-env statefulset) $(stamp ds-vol daemonset)" = "$RT $RT $RT $RT" ]; }
eventually 15 stamped
expect_eq "the opted-in Deployments that use the Secret get the rotation time on their pod template" "$RT $RT" \
  "$(stamp app-env) $(stamp app-vol)"
expect_eq "... the one not opted in and the one using another Secret are untouched" "- -" "$(stamp app-plain) $(stamp app-other)"
expect_eq "... so does the opted-in StatefulSet that uses it; the one not opted in is untouched" "$RT -" \
  "$(stamp sts-env statefulset) $(stamp sts-plain statefulset)"
expect_eq "... so does the opted-in DaemonSet that uses it; the one using another Secret is untouched" "$RT -" \
  "$(stamp ds-vol daemonset) $(stamp ds-other daemonset)"
expect_ok "... an Event WorkloadsRestarted names them" has_ev ServiceBinding b-force \
  "^Normal WorkloadsRestarted: Annotated the pod template of Deployment/app-env, Deployment/app-vol, StatefulSet/sts-env, DaemonSet/ds-vol "
OUT=$(PATH="$top_builddir/plugins:$PATH" timeout 20 "$KUBECTL" svcat rotate binding b-force -n "$E2E_NS" 2>&1)
expect_match "kubectl svcat rotate binding b-force" "^Rotation requested for binding $E2E_NS/b-force" "$OUT"
eventually 20 rotated_from b-force "$F1"
F2=$(cur b-force)
expect_eq "... a third binding's credentials in the Secret" "pw-$F2" "$(spw b-force)"
expect_eq "... two rotations in the history" "2" "$(nhist b-force)"
db_check "... the broker holds all three (two retired for an hour)" "$(sorted "$F0" "$F1" "$F2")" b_ids "$(iid i-rot)"
OUT=$(PATH="$top_builddir/plugins:$PATH" timeout 20 "$KUBECTL" svcat describe binding b-force -n "$E2E_NS" 2>&1)
expect_match "kubectl svcat describe binding shows the policy" "^Rotation Policy: +enabled, every 720h, old credentials kept 1h$" "$OUT"
expect_match "... the current binding id" "^Current Binding ID: +$F2$" "$OUT"
expect_match "... the retired bindings" "^  $F0 +b-force-[0-9a-f]{10} " "$OUT"
expect_match "... and the history" "^  [0-9-]+T[0-9:]+Z +Forced +PredecessorBindingID +$F1 +$F2 +-$" "$OUT"
OUT=$(PATH="$top_builddir/plugins:$PATH" timeout 20 "$KUBECTL" svcat rotate --help 2>&1)
expect_match "kubectl svcat rotate --help" "rotate binding NAME" "$OUT"
expect_ok "delete b-force (30 s)" kn delete servicebinding b-force --timeout=30s
db_check "... every binding it made is unbound at the broker" "" b_ids "$(iid i-rot)"
expect_ok "... its Secrets are gone" eval 'gone secret b-force && gone secret "$RS"'

# --- a plan that is not binding_rotatable: a fresh bind --------------------------------------------------
tick "not binding_rotatable"
expect_ok "create b-fresh (no policy) on plan fresh" kn apply -f - <<YAML
$(sb_yaml b-fresh i-fresh)
YAML
eventually 20 bready b-fresh
N0=$(of servicebinding b-fresh .spec.externalID)
expect_ok "annotate it services.cloud.sap.com/forceRotate=now" kn annotate servicebinding b-fresh services.cloud.sap.com/forceRotate=now
eventually 20 rotated_from b-fresh "$N0"
N1=$(cur b-fresh)
expect_eq "a rotation without a policy: the new credentials" "pw-$N1" "$(spw b-fresh)"
expect_eq "... by a fresh bind" "FreshBind" "$(of servicebinding b-fresh '.status.credentialsRotation.history[0].method')"
db_check "... the broker got no predecessor_binding_id" "-" b_pred "$N1"
expect_ok "a spec change of the rotated b-fresh (new parameters)" \
  kn patch servicebinding b-fresh --type merge -p '{"spec":{"parameters":{"tier":"gold"}}}'
eventually 20 rotated_from b-fresh "$N1"
N2=$(cur b-fresh)
expect_eq "... is carried out by a rotation (SpecChanged), the new binding's credentials in the Secret" "SpecChanged pw-$N2" \
  "$(of servicebinding b-fresh '.status.credentialsRotation.history[-1].reason') $(spw b-fresh)"
expect_eq "... reconciledGeneration and observedGeneration are the new generation" "true" \
  "$(of servicebinding b-fresh '.metadata.generation == .status.reconciledGeneration and .metadata.generation == .status.observedGeneration')"
db_check "... the broker got the new parameters with it" '{"tier":"gold"}' bsql "SELECT parameters FROM bindings WHERE id = '$N2'"

# --- policies the API server or the controller refuses ----------------------------------------------------
tick "bad policies"
expect_fail_with "a rotationFrequency that is not a duration is refused by the API server (CRD schema)" \
  'should match|Invalid value' kn apply -f - <<YAML
$(sb_yaml b-bad i-fresh "credentialsRotationPolicy: {enabled: true, rotationFrequency: soon}")
YAML
expect_ok "... nothing was created" gone servicebinding b-bad
expect_ok "create b-nofreq: enabled without a rotationFrequency" kn apply -f - <<YAML
$(sb_yaml b-nofreq i-fresh "credentialsRotationPolicy: {enabled: true}")
YAML
eventually 20 cond_is servicebinding b-nofreq CredRotationInProgress "False InvalidRotationPolicy"
expect_eq "... Ready True, CredRotationInProgress False InvalidRotationPolicy" "True InjectedBindResult|False InvalidRotationPolicy" \
  "$(cond servicebinding b-nofreq Ready)|$(cond servicebinding b-nofreq CredRotationInProgress)"
expect_eq "... naming the field" "spec.credentialsRotationPolicy.rotationFrequency: required when enabled" \
  "$(cmsg servicebinding b-nofreq CredRotationInProgress)"

# --- expiry-driven -------------------------------------------------------------------------------------
tick "expiry"
expect_ok "create b-exp (no policy) on plan exp: bindings expire in 16 s, renew after 8 s" kn apply -f - <<YAML
$(sb_yaml b-exp i-exp)
YAML
eventually 20 bready b-exp
X0=$(of servicebinding b-exp .spec.externalID)
expect_match "the broker's expires_at and renew_before are in the status" "^[0-9-]+T[0-9:]+Z [0-9-]+T[0-9:]+Z$" \
  "$(of servicebinding b-exp '.status.credentialsRotation | "\(.expiresAt) \(.renewBefore)"')"
expect_eq "... the next rotation is at renew_before" "$(of servicebinding b-exp .status.credentialsRotation.renewBefore)" \
  "$(of servicebinding b-exp .status.credentialsRotation.nextRotationTime)"
eventually 40 rotated_from b-exp "$X0"
H=$(of servicebinding b-exp --arg e "$X0" '.status.credentialsRotation.history[]? | select(.fromExternalID == $e) | "\(.reason) \(.toExternalID)"')
expect_match "before expiry: rotated, reason Expiry" '^Expiry [0-9a-f-]{36}$' "$H"
PWNOW=$(spw b-exp)
expect_ok "... a rotated binding's credentials in the Secret ($PWNOW)" in_history b-exp "${PWNOW#pw-}"

# --- a failing new bind ---------------------------------------------------------------------------------
tick "a failing new bind"
expect_ok "create b-flaky" kn apply -f - <<YAML
$(sb_yaml b-flaky i-flaky "credentialsRotationPolicy: {enabled: true, rotationFrequency: 720h, rotatedBindingTTL: 1h}")
YAML
eventually 20 bready b-flaky
L0=$(of servicebinding b-flaky .spec.externalID)
expect_ok "b-flaky opts in for every workload that uses its Secret (bindery.dev/restart-on-rotation on the binding)" \
  kn annotate servicebinding b-flaky bindery.dev/restart-on-rotation=true
expect_ok "a Deployment that uses Secret b-flaky, not annotated itself" kn apply -f - <<YAML
$(dep app-flaky - "{containers: [$C, envFrom: [{secretRef: {name: b-flaky}}]}]}")
YAML
e2e_restart_broker b1 --catalog "$E2E_TMP/fail.json" --username admin --password "$PW" || exit 1
expect_ok "the broker now fails binds of plan flaky; force a rotation" \
  kn annotate servicebinding b-flaky services.cloud.sap.com/forceRotate=true
rot_failed() { cond_is servicebinding b-flaky CredRotationInProgress "True CredentialsRotationFailed"; }
eventually 20 rot_failed
expect_eq "CredRotationInProgress True CredentialsRotationFailed" "True CredentialsRotationFailed" \
  "$(cond servicebinding b-flaky CredRotationInProgress)"
expect_match "... saying what failed and when it is retried" \
  "^Error binding the new credentials \(binding [0-9a-f-]+\): the broker answered HTTP 500; the current credentials stay in place; will retry at [0-9-]+T[0-9:]+Z$" \
  "$(cmsg servicebinding b-flaky CredRotationInProgress)"
expect_eq "... Ready stays True, the old credentials in the Secret" "True InjectedBindResult pw-$L0" \
  "$(cond servicebinding b-flaky Ready) $(spw b-flaky)"
expect_ok "... an Event CredentialsRotationFailed" has_ev ServiceBinding b-flaky "^Warning CredentialsRotationFailed: .*will retry at"
expect_no_match "... the broker's words are in no condition or Event" "secret-broker-words-$ID" \
  "$(oj servicebinding b-flaky) $(ev ServiceBinding b-flaky)"
LP=$(of servicebinding b-flaky '.status.credentialsRotation.pending.externalID // ""')
e2e_restart_broker b1 --catalog "$E2E_TMP/ok.json" --username admin --password "$PW" || exit 1
eventually 30 rotated_from b-flaky "$L0"
expect_eq "the broker binds again: the rotation completes with the pending id" "$LP pw-$LP" "$(cur b-flaky) $(spw b-flaky)"
expect_eq "... the condition is gone" "" "$(cond servicebinding b-flaky CredRotationInProgress)"
LT=$(of servicebinding b-flaky '.status.credentialsRotation.history[-1].time')
flaky_stamped() { [ "$(stamp app-flaky)" = "$LT" ]; }
eventually 15 flaky_stamped
expect_eq "... and the Deployment's pod template has the rotation time (the binding opted in)" "$LT" "$(stamp app-flaky)"

# --- the controller killed (SIGKILL) mid-rotation -------------------------------------------------------
tick "the controller killed (SIGKILL) mid-rotation"
expect_ok "create b-kill on plan slow (binds take 4 s)" kn apply -f - <<YAML
$(sb_yaml b-kill i-slow "credentialsRotationPolicy: {enabled: true, rotationFrequency: 720h, rotatedBindingTTL: 1h}")
YAML
eventually 30 bready b-kill
K0=$(of servicebinding b-kill .spec.externalID)
expect_ok "force a rotation" kn annotate servicebinding b-kill services.cloud.sap.com/forceRotate=true
has_pending() { [ -n "$(of servicebinding b-kill '.status.credentialsRotation.pending.externalID // ""')" ]; }
eventually 20 has_pending
KP=$(of servicebinding b-kill '.status.credentialsRotation.pending.externalID // ""')
expect_match "the new id is in the status before the broker answers" '^[0-9a-f-]{36}$' "$KP"
kill -KILL "$ctl_PID"
eventually 10 test -e "$E2E_TMP/ctl/rc"
expect_eq "the controller is killed (SIGKILL)" 137 "$(cat "$E2E_TMP/ctl/rc" 2>/dev/null)"
e2e_start_controller ctl "${CTL_ARGS[@]}" || exit 1
eventually 40 rotated_from b-kill "$K0"
expect_eq "a new controller completes the rotation with the recorded id" "$KP pw-$KP" "$(cur b-kill) $(spw b-kill)"
db_check "... the broker holds exactly the old and the new binding" "$(sorted "$K0" "$KP")" b_ids "$(iid i-slow)"
expect_eq "... one rotation in the history" "1" "$(nhist b-kill)"
expect_ok "delete b-kill (40 s)" kn delete servicebinding b-kill --timeout=40s
db_check "... both are unbound at the broker" "" b_ids "$(iid i-slow)"

# --- the spec changed while the broker holds the pending id with the old request --------------------
tick "a spec change while the pending id is at the broker"
if [ $HAVE_SQLITE = 1 ]; then
  expect_ok "create b-conf on plan slow" kn apply -f - <<YAML
$(sb_yaml b-conf i-slow "credentialsRotationPolicy: {enabled: true, rotationFrequency: 720h, rotatedBindingTTL: 1h}")
YAML
  eventually 30 bready b-conf
  C0=$(of servicebinding b-conf .spec.externalID)
  expect_ok "force a rotation" kn annotate servicebinding b-conf services.cloud.sap.com/forceRotate=true
  conf_pending() { [ -n "$(of servicebinding b-conf '.status.credentialsRotation.pending.externalID // ""')" ]; }
  eventually 20 conf_pending
  CP=$(of servicebinding b-conf '.status.credentialsRotation.pending.externalID // ""')
  kill -KILL "$ctl_PID"
  eventually 10 test -e "$E2E_TMP/ctl/rc"
  expect_eq "the controller is killed (SIGKILL) while the broker binds $CP" 137 "$(cat "$E2E_TMP/ctl/rc" 2>/dev/null)"
  eventually 20 b_has "$CP" 1
  expect_ok "the broker holds the pending id, made with the old request" b_has "$CP" 1
  expect_ok "the binding's parameters change meanwhile" \
    kn patch servicebinding b-conf --type merge -p '{"spec":{"parameters":{"size":"2"}}}'
  e2e_start_controller ctl "${CTL_ARGS[@]}" || exit 1
  eventually 60 rotated_from b-conf "$C0"
  CN=$(cur b-conf)
  expect_ok "the broker refused the pending id with the new request (409): a new id replaces it" \
    test -n "$CN" -a "$CN" != "$CP"
  expect_eq "... the new credentials in the Secret" "pw-$CN" "$(spw b-conf)"
  db_check "... the broker holds exactly the old and the new binding (the refused one unbound)" \
    "$(sorted "$C0" "$CN")" b_ids "$(iid i-slow)"
  expect_eq "... made with the new parameters" '{"size":"2"}' \
    "$(bsql "SELECT parameters FROM bindings WHERE id = '$CN'" | jq -c . 2>/dev/null)"
  expect_eq "... the spec is reconciled by that rotation: one rotation in the history" \
    "1 $(of servicebinding b-conf .metadata.generation)" \
    "$(nhist b-conf) $(of servicebinding b-conf .status.reconciledGeneration)"
  expect_ok "delete b-conf (40 s)" kn delete servicebinding b-conf --timeout=40s
  db_check "... both are unbound at the broker" "" b_ids "$(iid i-slow)"
else
  e2e_skip "a spec change while the pending id is at the broker" "no sqlite3"
fi

tick "done"
e2e_done
