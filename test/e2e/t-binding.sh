#!/bin/bash
# J4/J5, an app developer binds to a ServiceInstance and the app reads the credentials (issue 5):
# real osb-broker processes on loopback and a catalog-controller pointed at the cluster. A
# ServiceBinding makes a Secret holding the broker's credentials, byte for byte (strings as
# their bytes, other JSON values as compact JSON), owned by the binding; secretTransforms
# (renameKey, addKey with value, stringValue and jsonPathExpression, addKeysFrom, removeKey);
# a binding made before its instance is Ready waits (ErrorInstanceNotReady) and then binds; an
# asynchronous bind; a Secret of the same name that the binding does not own is refused and left
# untouched; a non-bindable class and a missing instance; deleting a binding removes its Secret
# and unbinds at the broker; the abandon annotation; deleting an instance deletes its bindings
# first, or with --cascade-delete-bindings=false waits for them
# (DeprovisionBlockedByExistingCredentials). There is no kubelet, so "the app reads it" is the
# Secret decoded the way a Pod's volume presents it (one file per key), compared byte for byte.
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$OSB_BROKER" osb-broker
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller
e2e_install_crds "$top_srcdir/deploy/crds"

ID=$E2E_ID
FIN=kubernetes-incubator/service-catalog
T0=$SECONDS
HAVE_SQLITE=0
command -v sqlite3 >/dev/null 2>&1 && HAVE_SQLITE=1
[ $HAVE_SQLITE = 1 ] || echo "# sqlite3 is not installed: the checks of the broker's database are skipped (apt-get install sqlite3)"

# --- catalog ---------------------------------------------------------------------------------------
SVC=e2e-$ID-b-db; CLS=e2e-bdb-$ID; SVCN=e2e-$ID-b-nb; CLSN=e2e-bnb-$ID
P_SMALL=e2e-$ID-b-small; P_ASYNC=e2e-$ID-b-async; P_BASYNC=e2e-$ID-b-basync; P_NB=e2e-$ID-b-nbp
# credentials of every kind of JSON value, and bytes that are not ASCII
CREDS='{"uri":"postgres://app@db.e2e.invalid:5432/{instance_id}","username":"app","password":"pw-{binding_id}","port":5432,"tls":true,"opts":{"a":1,"b":[1,"x"]},"note":"two\nlines, ünïcødé ✓"}'
cat >"$E2E_TMP/b1.json" <<JSON
{"services":[
 {"id":"$SVC","name":"$CLS","description":"E2E bindings","bindable":true,"instances_retrievable":true,
  "bindings_retrievable":true,"plans":[
  {"id":"$P_SMALL","name":"small","description":"synchronous","x-bindery-backend":{"type":"static","credentials":$CREDS}},
  {"id":"$P_ASYNC","name":"async","description":"provisioned in 10 s",
   "x-bindery-backend":{"type":"static","async":"optional","delay":"10s","retry_after":1,"credentials":$CREDS}},
  {"id":"$P_BASYNC","name":"bind-async","description":"bound in 5 s",
   "x-bindery-backend":{"type":"static","bind_async":"optional","delay":"5s","credentials":$CREDS}}]},
 {"id":"$SVCN","name":"$CLSN","description":"not bindable","bindable":false,"plans":[
  {"id":"$P_NB","name":"nb","description":"not bindable"}]}]}
JSON
jq -e . "$E2E_TMP/b1.json" >/dev/null || { echo "# bad catalog"; exit 1; }

# --- daemons and the broker ----------------------------------------------------------------------
PW=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
e2e_start_broker b1 --catalog "$E2E_TMP/b1.json" --username admin --password "$PW" || exit 1
kc get configmap cluster-info -n default -o name >/dev/null 2>&1 || e2e_cleanup_add "configmap cluster-info -n default"
CTL_ARGS=(--max-retry-interval 2s)
e2e_start_controller ctl "${CTL_ARGS[@]}" || exit 1
eventually 15 curl -sf --max-time 2 -o /dev/null "$ctl_URL/readyz"
B1=e2e-bind-$ID
e2e_register_broker "$B1" "$b1_URL" "$PW" || { echo "# the rest of this test needs a Ready broker: it ends here"; exit 1; }
n_plans() { kc get clusterserviceplans -l "servicecatalog.k8s.io/spec.clusterServiceBrokerName=$(sha224 "$B1")" -o name 2>/dev/null | wc -l; }
plans_listed() { [ "$(n_plans)" -ge 4 ]; }
eventually 15 plans_listed
expect_eq "the broker's plans are listed" 4 "$(n_plans)"

# --- helpers -------------------------------------------------------------------------------------
tick() { echo "# t+$((SECONDS - T0)) s: $1"; }   # where the time goes (shown with E2E_VERBOSE=1)
# objects: KIND NAME (serviceinstance or servicebinding)
oj() { kn get "$1" "$2" -o json 2>/dev/null; }
of() { oj "$1" "$2" | jq -r "$3" 2>/dev/null; }
cond() { oj "$1" "$2" | jq -r --arg t "$3" '.status.conditions[]? | select(.type == $t) | "\(.status) \(.reason)"' 2>/dev/null; }
cmsg() { oj "$1" "$2" | jq -r --arg t "$3" '.status.conditions[]? | select(.type == $t) | .message' 2>/dev/null; }
cond_is() { [ "$(cond "$1" "$2" "$3")" = "$4" ]; }
bready() { cond_is servicebinding "$1" Ready "$2"; }
iready() { cond_is serviceinstance "$1" Ready "$2"; }
# gone KIND NAME: kubectl says NotFound (the output is captured first: set -o pipefail)
gone() { local out; out=$(kn get "$1" "$2" 2>&1); grep -Eq 'NotFound|not found' <<<"$out"; }
extid() { of "$1" "$2" '.spec.externalID // ""'; }
# ev KIND NAME: Events about it, "Type Reason: message" per line (KIND as in involvedObject)
ev() { kn get events --field-selector "involvedObject.name=$2" -o json 2>/dev/null |
         jq -r --arg k "$1" '.items[] | select(.involvedObject.kind == $k) | "\(.type) \(.reason): \(.message)"'; }
has_ev() { grep -Eq -- "$3" <<<"$(ev "$1" "$2")"; }
osb() {
  curl -sS --max-time 10 -u "admin:$PW" -H 'X-Broker-API-Version: 2.17' -X "$1" -o "$E2E_TMP/osb.body" \
    -w '%{http_code}' "$b1_URL$2" 2>/dev/null
}
osb_body() { cat "$E2E_TMP/osb.body"; }
# blog METHOD PATH [STATUS]: how many such requests the broker's log shows
blog() { grep -cF -- " method=$1 path=$2 ${3:+status=$3 }" "$E2E_TMP/b1/log" 2>/dev/null || true; }
blog_line() { grep -nF -- " method=$1 path=$2 ${3:+status=$3 }" "$E2E_TMP/b1/log" 2>/dev/null | head -n 1 | cut -d: -f1; }
bsql() { sqlite3 -cmd '.timeout 3000' "$E2E_TMP/b1/broker.db" "$1" 2>&1; }
now_ms() { date +%s%3N; }
UUID='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
# secret_to_dir NAME DIR: the Secret's data as a Pod's volume shows it: one file per key
secret_to_dir() {
  local k v
  rm -rf "$2"; mkdir -p "$2"
  kn get secret "$1" -o json 2>/dev/null | jq -r '.data // {} | to_entries[] | "\(.key) \(.value)"' |
    while read -r k v; do printf '%s' "$v" | base64 -d >"$2/$k"; done
}
# expected_dir DIR KEY=VALUE...: the files a volume should show (printf %b: \n, \x00 understood)
expected_dir() {
  local d=$1 kv; shift
  rm -rf "$d"; mkdir -p "$d"
  for kv in "$@"; do printf '%b' "${kv#*=}" >"$d/${kv%%=*}"; done
}
# same_dir WHAT EXPECTED-DIR ACTUAL-DIR: the same files with the same bytes
same_dir() {
  local out
  if out=$(diff -r "$2" "$3" 2>&1); then e2e_ok "$1"
  else e2e_not_ok "$1" "the files of $2: $(cd "$2" && ls | tr '\n' ' ')" "$out
$(for f in "$3"/*; do [ -e "$f" ] && printf '%s: %s\n' "${f##*/}" "$(od -c "$f" | head -n 3 | tr -s ' ' | tr '\n' ' ')"; done)"; fi
}
secret_keys() { kn get secret "$1" -o json 2>/dev/null | jq -r '.data // {} | keys | join(" ")'; }

e2e_sc_teardown   # bindings and instances deleted before the harness's teardown (lib.sh)

# --- instances, Secrets, bindings ------------------------------------------------------------------
tick "instances, Secrets, bindings"
si_yaml() { # NAME PLAN [CLASS]
  printf -- '---\napiVersion: servicecatalog.k8s.io/v1beta1\nkind: ServiceInstance\nmetadata: {name: %s}\nspec: {clusterServiceClassExternalName: %s, clusterServicePlanExternalName: %s}\n' \
    "$1" "${3:-$CLS}" "$2"
}
sb_yaml() { # NAME INSTANCE [SPEC-EXTRA] [ANNOTATIONS]
  printf -- '---\napiVersion: servicecatalog.k8s.io/v1beta1\nkind: ServiceBinding\nmetadata: {name: %s%s}\nspec: {instanceRef: {name: %s}%s}\n' \
    "$1" "${4:+, annotations: $4}" "$2" "${3:+, $3}"
}
RAW_B64=$(printf '\x00\x01bin\xff' | base64 -w0)
expect_ok "create a Secret 'taken' (not a binding's) and the source of addKeysFrom" kn apply -f - <<YAML
apiVersion: v1
kind: Secret
metadata: {name: taken}
type: Opaque
stringData: {keep: mine}
---
apiVersion: v1
kind: Secret
metadata: {name: xform-src}
stringData: {extra1: v1, extra2: "second value"}
YAML
TAKEN_RV=$(kn get secret taken -o jsonpath='{.metadata.resourceVersion}')
expect_ok "create 5 instances (db, slowdb: 10 s, adb: asynchronous binds, nbi: not bindable, cas) and 10 bindings" kn apply -f - <<YAML
$(si_yaml db small)
$(si_yaml slowdb async)
$(si_yaml adb bind-async)
$(si_yaml nbi nb "$CLSN")
$(si_yaml cas small)
$(sb_yaml b-plain db)
$(sb_yaml b-early slowdb)
$(sb_yaml b-async adb)
$(sb_yaml b-taken db "secretName: taken")
$(sb_yaml b-nb nbi)
$(sb_yaml b-noinst "missing-$ID")
$(sb_yaml b-abandon db)
$(sb_yaml b-cas1 cas)
$(sb_yaml b-cas2 cas)
$(sb_yaml b-xform db "secretName: xform-secret, secretTransforms: [{renameKey: {from: username, to: user}}, {renameKey: {from: absent, to: other}}, {addKey: {key: raw, value: '$RAW_B64'}}, {addKey: {key: greeting, stringValue: 'hello, world'}}, {addKey: {key: dsn, jsonPathExpression: '{.uri}'}}, {addKeysFrom: {secretRef: {namespace: $E2E_NS, name: xform-src}}}, {removeKey: {key: password}}]")
YAML

# --- an asynchronous bind, in progress (its end is checked further down) ---------------------------
tick "an asynchronous bind, in progress (its end is checked further down)"
bind_in_async() { [ "$(of servicebinding b-async '"\(.status.asyncOpInProgress) \(.status.currentOperation)"')" = "true Bind" ]; }
eventually 10 bind_in_async
expect_eq "b-async (bind_async, 5 s): asyncOpInProgress, currentOperation Bind, Ready False Binding" "true Bind False Binding" \
  "$(of servicebinding b-async '"\(.status.asyncOpInProgress) \(.status.currentOperation)"') $(cond servicebinding b-async Ready)"
expect_eq "... no Secret yet" "" "$(kn get secret b-async -o name 2>/dev/null)"

# --- a binding made before its instance is Ready -------------------------------------------------
tick "a binding made before its instance is Ready"
# (the controller gives a binding created with its instance a few seconds' grace before it says
# ErrorInstanceNotReady: slowdb takes 10 s, so the binding says it well before the instance is
# Ready, and "no Secret yet" holds however loaded the machine)
eventually 10 bready b-early "False ErrorInstanceNotReady"
expect_eq "b-early (instance still provisioning): Ready False ErrorInstanceNotReady" "False ErrorInstanceNotReady" "$(cond servicebinding b-early Ready)"
expect_eq "... no Secret yet" "" "$(kn get secret b-early -o name 2>/dev/null)"

# --- the binding made early, once its instance is Ready ------------------------------------------
tick "the binding made early, once its instance is Ready"
eventually 20 iready slowdb "True ProvisionedSuccessfully"
T_IREADY=$(now_ms)
eventually 10 bready b-early "True InjectedBindResult"
T_BREADY=$(now_ms)
expect_eq "... once the instance is Ready, the binding is (InjectedBindResult)" "True InjectedBindResult" "$(cond servicebinding b-early Ready)"
lag=$((T_BREADY - T_IREADY))
echo "# figure: binding Ready $lag ms after its instance was seen Ready"
if [ $lag -le 3000 ]; then e2e_ok "... within 3 s of the instance (woken, not polled: ${lag} ms)"
else e2e_not_ok "... within 3 s of the instance (woken, not polled)" "<= 3000 ms" "$lag ms"; fi
expect_eq "... its Secret exists" "secret/b-early" "$(kn get secret b-early -o name 2>&1)"

# --- a synchronous bind: the Secret, byte for byte ---------------------------------------------
tick "a synchronous bind: the Secret, byte for byte"
if ! expect_ok "b-plain becomes Ready (kubectl wait, 30 s)" kn wait --for=condition=Ready servicebinding/b-plain --timeout=30s; then
  kn get servicebindings -o yaml 2>&1 | grep -E '^  name:|reason|message' | sed 's/^/#   /' | head -40
fi
expect_ok "kubectl get servicebindings" kn get servicebindings b-plain b-early
printf '%s\n' "$OUT" | sed 's/^/#   /'
expect_match "printer columns: NAME SERVICE-INSTANCE SECRET-NAME STATUS AGE" '^NAME +SERVICE-INSTANCE +SECRET-NAME +STATUS +AGE$' "$OUT"
expect_match "b-plain: instance db, Secret b-plain (defaulted to the binding's name), Ready" '^b-plain +db +b-plain +Ready +' "$OUT"
J=$(oj servicebinding b-plain); X_DB=$(extid serviceinstance db); X_PLAIN=$(jq -r '.spec.externalID // ""' <<<"$J")
expect_match "spec.externalID is set to a UUID" "$UUID" "$X_PLAIN"
expect_eq "spec.secretName is defaulted to metadata.name" b-plain "$(jq -r '.spec.secretName' <<<"$J")"
expect_match "the finalizer $FIN" "\"$FIN\"" "$(jq -c '.metadata.finalizers' <<<"$J")"
expect_eq "status: Ready True InjectedBindResult (no other condition)" "Ready True InjectedBindResult" \
  "$(jq -r '[.status.conditions[]? | "\(.type) \(.status) \(.reason)"] | join(";")' <<<"$J")"
expect_eq "status: unbindStatus Required, lastConditionState Ready, no operation in progress" "Required Ready false " \
  "$(jq -r '.status | "\(.unbindStatus) \(.lastConditionState) \(.asyncOpInProgress // false) \(.currentOperation // "")"' <<<"$J")"
BUID=$(jq -r .metadata.uid <<<"$J")
S=$(kn get secret b-plain -o json 2>&1)
expect_eq "the Secret: type Opaque" Opaque "$(jq -r .type <<<"$S")"
expect_eq "the Secret: one ownerReference, the binding, controller and blockOwnerDeletion" \
  "servicecatalog.k8s.io/v1beta1 ServiceBinding b-plain $BUID true true" \
  "$(jq -r '[.metadata.ownerReferences[]? | "\(.apiVersion) \(.kind) \(.name) \(.uid) \(.controller) \(.blockOwnerDeletion)"] | join(";")' <<<"$S")"
expect_eq "the Secret: one key per credential" "note opts password port tls uri username" "$(secret_keys b-plain)"
expected_dir "$E2E_TMP/want-plain" "uri=postgres://app@db.e2e.invalid:5432/$X_DB" username=app "password=pw-$X_PLAIN" \
  port=5432 tls=true 'opts={"a":1,"b":[1,"x"]}' 'note=two\nlines, ünïcødé ✓'
secret_to_dir b-plain "$E2E_TMP/vol-plain"
same_dir "the app reads every key as a file, byte for byte (strings as bytes, numbers, booleans, objects as compact JSON)" \
  "$E2E_TMP/want-plain" "$E2E_TMP/vol-plain"
eventually 10 has_ev ServiceBinding b-plain '^Normal InjectedBindResult'
expect_match "an Event Normal InjectedBindResult" '^Normal InjectedBindResult' "$(ev ServiceBinding b-plain)"
expect_ok "kubectl describe servicebinding b-plain" kn describe servicebinding b-plain
expect_match "describe shows the Event" 'InjectedBindResult' "$OUT"
BPATH_PLAIN="/v2/service_instances/$X_DB/service_bindings/$X_PLAIN"
expect_eq "broker: one bind request (PUT, 201)" 1 "$(blog PUT "$BPATH_PLAIN" 201)"
expect_eq "broker: GET the binding: the same credentials" "200 pw-$X_PLAIN 5432" \
  "$(osb GET "$BPATH_PLAIN") $(osb_body | jq -r '"\(.credentials.password) \(.credentials.port)"')"
if [ $HAVE_SQLITE = 1 ]; then
  NS_UID=$(kc get namespace "$E2E_NS" -o jsonpath='{.metadata.uid}')
  expect_eq "broker DB: the binding's app_guid is the namespace uid" "$NS_UID" \
    "$(bsql "SELECT app_guid FROM bindings WHERE id = '$X_PLAIN'")"
else
  e2e_skip "broker DB: the binding's app_guid is the namespace uid" "no sqlite3"
fi

# --- secretTransforms ----------------------------------------------------------------------------
tick "secretTransforms"
eventually 20 bready b-xform "True InjectedBindResult"
expect_eq "b-xform: Ready True InjectedBindResult" "True InjectedBindResult" "$(cond servicebinding b-xform Ready)"
X_XFORM=$(extid servicebinding b-xform)
expect_eq "its Secret (spec.secretName xform-secret) has the transformed keys" "dsn extra1 extra2 greeting note opts port raw tls uri user" \
  "$(secret_keys xform-secret)"
expected_dir "$E2E_TMP/want-xform" "uri=postgres://app@db.e2e.invalid:5432/$X_DB" "dsn=postgres://app@db.e2e.invalid:5432/$X_DB" \
  user=app port=5432 tls=true 'opts={"a":1,"b":[1,"x"]}' 'note=two\nlines, ünïcødé ✓' 'raw=\x00\x01bin\xff' \
  'greeting=hello, world' extra1=v1 'extra2=second value'
secret_to_dir xform-secret "$E2E_TMP/vol-xform"
same_dir "renameKey, addKey (value, stringValue, jsonPathExpression), addKeysFrom, removeKey: byte for byte" \
  "$E2E_TMP/want-xform" "$E2E_TMP/vol-xform"
expect_eq "... a renameKey of a key that is absent does nothing; removeKey removed the password" "" \
  "$(kn get secret xform-secret -o json | jq -r '.data | (.other // ""), (.password // "")' | tr -d '\n')"
expect_eq "... owned by b-xform" "ServiceBinding b-xform" \
  "$(kn get secret xform-secret -o json | jq -r '.metadata.ownerReferences[]? | "\(.kind) \(.name)"')"

# --- the asynchronous bind, done ------------------------------------------------------------------
tick "the asynchronous bind, done"
eventually 20 bready b-async "True InjectedBindResult"
expect_eq "... then Ready True InjectedBindResult" "True InjectedBindResult" "$(cond servicebinding b-async Ready)"
X_ADB=$(extid serviceinstance adb); X_BASYNC=$(extid servicebinding b-async)
BPATH_ASYNC="/v2/service_instances/$X_ADB/service_bindings/$X_BASYNC"
expect_eq "... its Secret holds the credentials" "pw-$X_BASYNC postgres://app@db.e2e.invalid:5432/$X_ADB" \
  "$(kn get secret b-async -o json | jq -r '.data | "\(.password | @base64d) \(.uri | @base64d)"' 2>&1)"
expect_eq "broker: the bind was accepted asynchronously (202), polled, then fetched" "1 yes yes" \
  "$(blog PUT "$BPATH_ASYNC" 202) $([ "$(blog GET "$BPATH_ASYNC/last_operation")" -ge 1 ] && echo yes || echo no) $([ "$(blog GET "$BPATH_ASYNC" 200)" -ge 1 ] && echo yes || echo no)"

# --- a Secret that is not the binding's ------------------------------------------------------------
tick "a Secret that is not the binding's"
eventually 15 bready b-taken "False ErrorInjectingBindResult"
expect_eq "b-taken (secretName taken, an existing Secret): Ready False ErrorInjectingBindResult" "False ErrorInjectingBindResult" \
  "$(cond servicebinding b-taken Ready)"
expect_match "... the message says whose Secret it is not" "Secret $E2E_NS/taken exists and is not owned by ServiceBinding $E2E_NS/b-taken" \
  "$(cmsg servicebinding b-taken Ready)"
sleep 2   # a retry or two later
expect_eq "... the Secret is untouched (resourceVersion, data, no owner)" "$TAKEN_RV {\"keep\":\"bWluZQ==\"} []" \
  "$(kn get secret taken -o json | jq -c -r '"\(.metadata.resourceVersion) \(.data | tojson) \(.metadata.ownerReferences // [] | tojson)"')"

# --- what cannot be bound ------------------------------------------------------------------------
tick "what cannot be bound"
eventually 15 cond_is servicebinding b-nb Failed "True ErrorNonbindableServiceClass"
expect_eq "a binding to an instance of a non-bindable class: Failed True ErrorNonbindableServiceClass" "True ErrorNonbindableServiceClass" \
  "$(cond servicebinding b-nb Failed)"
expect_eq "... nothing was sent to the broker" 0 "$(grep -c "service_instances/$(extid serviceinstance nbi)/service_bindings" "$E2E_TMP/b1/log")"
eventually 15 bready b-noinst "False ReferencesNonexistentInstance"
expect_eq "a binding to a missing instance: Ready False ReferencesNonexistentInstance" "False ReferencesNonexistentInstance" \
  "$(cond servicebinding b-noinst Ready)"
expect_match "... the message names the instance" "missing-$ID" "$(cmsg servicebinding b-noinst Ready)"

# --- deleting bindings ---------------------------------------------------------------------------
tick "deleting bindings"
expect_ok "delete b-plain (waits for the finalizer, 30 s)" kn delete servicebinding b-plain --timeout=30s
expect_ok "b-plain is gone" gone servicebinding b-plain
expect_ok "... its Secret is gone" gone secret b-plain
expect_eq "... the broker got the unbind (DELETE, 200) and no longer has the binding" "1 404" \
  "$(blog DELETE "$BPATH_PLAIN" 200) $(osb GET "$BPATH_PLAIN")"
expect_match "... an Event Normal UnboundSuccessfully" '^Normal UnboundSuccessfully' "$(ev ServiceBinding b-plain)"
expect_ok "delete b-taken (30 s)" kn delete servicebinding b-taken --timeout=30s
expect_eq "... the Secret it did not own is still there, untouched" "$TAKEN_RV" "$(kn get secret taken -o jsonpath='{.metadata.resourceVersion}' 2>&1)"
X_AB=$(extid servicebinding b-abandon)
expect_eq "b-abandon is Ready with its Secret" "True InjectedBindResult secret/b-abandon" \
  "$(cond servicebinding b-abandon Ready) $(kn get secret b-abandon -o name 2>&1)"
expect_ok "annotate b-abandon bindery.dev/abandon=true and delete it (30 s)" kn annotate servicebinding b-abandon bindery.dev/abandon=true
expect_ok "... delete it (30 s)" kn delete servicebinding b-abandon --timeout=30s
expect_ok "... it is gone" gone servicebinding b-abandon
expect_ok "... its Secret is gone too" gone secret b-abandon
expect_eq "... the broker was not called and still has the binding" "0 200" \
  "$(blog DELETE "/v2/service_instances/$X_DB/service_bindings/$X_AB") $(osb GET "/v2/service_instances/$X_DB/service_bindings/$X_AB")"
expect_match "... an Event Warning Abandoned" '^Warning Abandoned' "$(ev ServiceBinding b-abandon)"

# --- deleting an instance deletes its bindings first ---------------------------------------------
tick "deleting an instance deletes its bindings first"
expect_eq "cas has two Ready bindings" "True InjectedBindResult True InjectedBindResult" \
  "$(cond servicebinding b-cas1 Ready) $(cond servicebinding b-cas2 Ready)"
X_CAS=$(extid serviceinstance cas); X_C1=$(extid servicebinding b-cas1); X_C2=$(extid servicebinding b-cas2)
expect_ok "delete instance cas (30 s)" kn delete serviceinstance cas --timeout=30s
expect_ok "... cas is gone" gone serviceinstance cas
expect_ok "... so are its bindings" gone servicebinding b-cas1
expect_ok "... (both)" gone servicebinding b-cas2
expect_eq "... and their Secrets" "" "$(kn get secret b-cas1 b-cas2 -o name 2>/dev/null)"
l1=$(blog_line DELETE "/v2/service_instances/$X_CAS/service_bindings/$X_C1" 200)
l2=$(blog_line DELETE "/v2/service_instances/$X_CAS/service_bindings/$X_C2" 200)
li=$(blog_line DELETE "/v2/service_instances/$X_CAS" 200)
expect_eq "... the broker got both unbinds before the deprovision" yes \
  "$([ -n "$l1" ] && [ -n "$l2" ] && [ -n "$li" ] && [ "$l1" -lt "$li" ] && [ "$l2" -lt "$li" ] && echo yes || echo "no: unbind lines '$l1' '$l2', deprovision line '$li'")"

# --- --cascade-delete-bindings=false: the instance waits for its bindings ----------------------
tick "--cascade-delete-bindings=false: the instance waits for its bindings"
e2e_stop_daemon ctl
e2e_start_controller ctl "${CTL_ARGS[@]}" --cascade-delete-bindings=false || exit 1
expect_ok "create instance blk and binding b-blk" kn apply -f - <<YAML
$(si_yaml blk small)
$(sb_yaml b-blk blk)
YAML
expect_ok "... both Ready (30 s)" kn wait --for=condition=Ready serviceinstance/blk servicebinding/b-blk --timeout=30s
X_BLK=$(extid serviceinstance blk)
expect_ok "delete blk, not waiting" kn delete serviceinstance blk --wait=false
eventually 15 iready blk "False DeprovisionBlockedByExistingCredentials"
expect_eq "blk: Ready False DeprovisionBlockedByExistingCredentials" "False DeprovisionBlockedByExistingCredentials" "$(cond serviceinstance blk Ready)"
sleep 1
expect_eq "... the binding and its Secret stay, the broker still has the instance" "True InjectedBindResult secret/b-blk 200 0" \
  "$(cond servicebinding b-blk Ready) $(kn get secret b-blk -o name 2>&1) $(osb GET "/v2/service_instances/$X_BLK") $(blog DELETE "/v2/service_instances/$X_BLK")"
expect_ok "delete b-blk (30 s)" kn delete servicebinding b-blk --timeout=30s
eventually 20 gone serviceinstance blk
expect_ok "... then blk is deprovisioned and gone" gone serviceinstance blk
expect_eq "... at the broker too" "1 404" "$(blog DELETE "/v2/service_instances/$X_BLK" 200) $(osb GET "/v2/service_instances/$X_BLK")"

# --- the end ---------------------------------------------------------------------------------------
tick "the end"
expect_ok "delete every remaining binding (30 s)" kn delete servicebindings --all --timeout=30s
expect_ok "delete every remaining instance (30 s)" kn delete serviceinstances --all --timeout=30s
expect_eq "none is left" "" "$(kn get servicebindings,serviceinstances -o name 2>&1)"
expect_eq "the bindings' Secrets are gone; the others stay" "broker-auth taken xform-src" \
  "$(kn get secrets -o json | jq -r '[.items[] | select(.type != "kubernetes.io/service-account-token") | .metadata.name] | sort | join(" ")')"
expect_ok "the controller is still healthy" curl -sf --max-time 5 "$ctl_URL/healthz"
echo "# t-binding: journey took $((SECONDS - T0)) s"
e2e_done
